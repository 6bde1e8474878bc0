"""Public API of the Core ML reference evaluator: model and input forms, errors, roles, caching, native, bench."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from parity.coreml_reference import class_labels, compile_model, output_kinds, predict
from parity.coreml_reference.native import native_available
from parity.coreml_reference.spec_loading import FeatureTypes_pb2, Model_pb2
from parity.errors import CoreMLSpecError, EvaluatorInputError


def three_input_glm() -> Model_pb2.Model:
    """y = 1*a + 10*b0 + 100*b1 + 1000*c over inputs a (Double), b (MultiArray [2]), c (Int64)."""
    spec = Model_pb2.Model()
    spec.specificationVersion = 1
    a = spec.description.input.add()
    a.name = "a"
    a.type.doubleType.SetInParent()
    b = spec.description.input.add()
    b.name = "b"
    b.type.multiArrayType.shape.append(2)
    b.type.multiArrayType.dataType = FeatureTypes_pb2.ArrayFeatureType.DOUBLE
    c = spec.description.input.add()
    c.name = "c"
    c.type.int64Type.SetInParent()
    y = spec.description.output.add()
    y.name = "y"
    y.type.doubleType.SetInParent()
    spec.description.predictedFeatureName = "y"
    spec.glmRegressor.weights.add().value.extend([1.0, 10.0, 100.0, 1000.0])
    spec.glmRegressor.offset.append(0.0)
    return spec


def test_inputs_vectorize_in_description_order_for_dict_and_matrix_forms(tmp_path: Path) -> None:
    spec = three_input_glm()
    expected = np.array([1 + 20 + 300 + 4000, 5 + 60 + 700 + 8000], dtype=float)
    by_name = {"a": [1.0, 5.0], "b": [[2.0, 3.0], [6.0, 7.0]], "c": [4, 8]}
    matrix = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])
    path = tmp_path / "glm.mlmodel"
    path.write_bytes(spec.SerializeToString())
    for model in (spec, path, str(path), spec.SerializeToString()):
        np.testing.assert_array_equal(predict(model, by_name)["y"], expected)
        np.testing.assert_array_equal(predict(model, matrix)["y"], expected)
    assert output_kinds(path) == {"y": "prediction"}
    assert class_labels(path) == []


@pytest.mark.parametrize(
    ("inputs", "fragment"),
    [
        (np.zeros((2, 3)), "3 columns but the model's inputs take 4"),
        ({"a": [1.0], "b": [[1.0, 2.0]]}, "missing input 'c'"),
        ({"a": [1.0], "b": [[1.0, 2.0]], "c": [1], "d": [1]}, "unknown input name"),
        ({"a": [1.0, 2.0], "b": [[1.0, 2.0]], "c": [1, 2]}, "'b' has 1 rows"),
        ({"a": [1.0], "b": [[1.0, 2.0, 3.0]], "c": [1]}, "'b'"),
        ({"a": [1.0], "b": [[1.0, 2.0]], "c": [1.5]}, "'c' is Int64"),
        (np.zeros(4), "2-D array"),
    ],
)
def test_bad_inputs_raise_evaluator_input_error_naming_the_input(inputs: object, fragment: str) -> None:
    with pytest.raises(EvaluatorInputError, match=fragment):
        predict(three_input_glm(), inputs)


def test_string_inputs_need_the_dict_form() -> None:
    spec = Model_pb2.Model()
    spec.specificationVersion = 1
    source = spec.description.input.add()
    source.name = "s"
    source.type.stringType.SetInParent()
    target = spec.description.output.add()
    target.name = "i"
    target.type.int64Type.SetInParent()
    spec.categoricalMapping.stringToInt64Map.map["x"] = 3
    with pytest.raises(EvaluatorInputError, match="'s' is stringType"):
        predict(spec, np.zeros((1, 1)))
    np.testing.assert_array_equal(predict(spec, {"s": ["x"]})["i"], [3])


def test_unsupported_unknown_and_empty_specs_raise_spec_error(tmp_path: Path) -> None:
    spec = three_input_glm()
    spec.wordTagger.SetInParent()
    with pytest.raises(CoreMLSpecError, match=r"'wordTagger' is not supported.*supported: arrayFeatureExtractor"):
        predict(spec, np.zeros((1, 4)))
    with pytest.raises(CoreMLSpecError, match="no model type is set"):
        predict(Model_pb2.Model(specificationVersion=1), np.zeros((1, 4)))
    old = three_input_glm()
    old.specificationVersion = 0
    with pytest.raises(CoreMLSpecError, match="specificationVersion 0"):
        predict(old, np.zeros((1, 4)))
    truncated = tmp_path / "truncated.mlmodel"
    truncated.write_bytes(three_input_glm().SerializeToString()[:-7])
    with pytest.raises(CoreMLSpecError):
        predict(truncated, np.zeros((1, 4)))
    with pytest.raises(CoreMLSpecError, match="cannot read"):
        predict(tmp_path / "missing.mlmodel", np.zeros((1, 4)))
    with pytest.raises(CoreMLSpecError, match="directory"):
        predict(tmp_path, np.zeros((1, 4)))
    with pytest.raises(CoreMLSpecError, match="model must be"):
        predict(42, np.zeros((1, 4)))


def test_compiled_models_are_reused_but_never_stale_after_mutation() -> None:
    spec = three_input_glm()
    assert compile_model(spec) is compile_model(spec)
    first = predict(spec, np.ones((1, 4)))["y"]
    spec.glmRegressor.offset[0] = 0.5
    np.testing.assert_array_equal(predict(spec, np.ones((1, 4)))["y"], first + 0.5)


def test_import_prints_nothing() -> None:
    result = subprocess.run([sys.executable, "-c", "import parity.coreml_reference"], capture_output=True, text=True,
                            check=True)
    assert result.stdout == ""
    assert result.stderr == ""


@pytest.mark.skipif(platform.system() == "Darwin", reason="checks the non-macOS answer")
def test_native_core_ml_is_reported_unavailable_off_macos() -> None:
    available, reason = native_available()
    assert available is False
    assert reason.startswith("unavailable on this platform: ")


def test_bench_random_forest_runs_and_agrees_with_sklearn() -> None:
    from parity.coreml_reference.bench import bench_random_forest

    result = bench_random_forest(n_rows=2000, n_estimators=5, max_depth=4)
    assert result["max_abs_probability_difference"] < 1e-12
    assert result["evaluator_predict_seconds"] > 0 and result["sklearn_predict_proba_seconds"] > 0
    assert result["ratio"] == result["evaluator_predict_seconds"] / result["sklearn_predict_proba_seconds"]
