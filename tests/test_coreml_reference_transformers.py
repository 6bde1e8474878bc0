"""Hand-computed checks of the Core ML reference evaluator on transformer specs (scaler ... identity)."""

from __future__ import annotations

import numpy as np
import pytest

from parity.coreml_reference import output_kinds, predict
from parity.coreml_reference.spec_loading import FeatureTypes_pb2, Model_pb2
from parity.errors import CoreMLSpecError, EvaluatorInputError

DOUBLE = FeatureTypes_pb2.ArrayFeatureType.DOUBLE


def add_feature(features: object, name: str, kind: str | int) -> None:
    """kind: 'double' | 'int64' | 'string' | 'dict_int' | 'dict_str' | an int width (rank-1 DOUBLE MultiArray)."""
    feature = features.add()  # type: ignore[attr-defined]
    feature.name = name
    if isinstance(kind, int):
        feature.type.multiArrayType.shape.append(kind)
        feature.type.multiArrayType.dataType = DOUBLE
    elif kind == "double":
        feature.type.doubleType.SetInParent()
    elif kind == "int64":
        feature.type.int64Type.SetInParent()
    elif kind == "string":
        feature.type.stringType.SetInParent()
    elif kind == "dict_int":
        feature.type.dictionaryType.int64KeyType.SetInParent()
    else:
        feature.type.dictionaryType.stringKeyType.SetInParent()


def model(inputs: list[tuple[str, str | int]], outputs: list[tuple[str, str | int]]) -> Model_pb2.Model:
    spec = Model_pb2.Model()
    spec.specificationVersion = 1
    for name, kind in inputs:
        add_feature(spec.description.input, name, kind)
    for name, kind in outputs:
        add_feature(spec.description.output, name, kind)
    return spec


# --- scaler ------------------------------------------------------------------------------------------------------

def test_scaler_shifts_then_scales() -> None:
    spec = model([("x", 3)], [("y", 3)])
    spec.scaler.shiftValue.extend([1.0, 2.0, 3.0])
    spec.scaler.scaleValue.extend([2.0, 0.5, -1.0])
    x = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 4.0]])
    np.testing.assert_array_equal(predict(spec, {"x": x})["y"], [[2.0, 1.0, -3.0], [4.0, 0.0, -7.0]])
    assert output_kinds(spec) == {"y": "array"}


def test_scaler_length_one_values_broadcast_and_missing_scale_is_one() -> None:
    spec = model([("x", 3)], [("y", 3)])
    spec.scaler.shiftValue.append(-1.0)
    spec.scaler.scaleValue.append(10.0)
    np.testing.assert_array_equal(predict(spec, np.array([[1.0, 2.0, 3.0]]))["y"], [[0.0, 10.0, 20.0]])
    shift_only = model([("x", "double")], [("y", "double")])
    shift_only.scaler.shiftValue.append(0.5)
    np.testing.assert_array_equal(predict(shift_only, {"x": [1.0, -0.5]})["y"], [1.5, 0.0])


def test_scaler_int64_output_refuses_lossy_cast() -> None:
    spec = model([("n", "int64")], [("m", "int64")])
    spec.scaler.scaleValue.append(0.5)
    np.testing.assert_array_equal(predict(spec, {"n": [4, -2]})["m"], [2, -1])
    with pytest.raises(EvaluatorInputError, match="'n'"):
        predict(spec, {"n": [3]})


def test_scaler_wrong_parameter_length_is_a_spec_error() -> None:
    spec = model([("x", 3)], [("y", 3)])
    spec.scaler.shiftValue.extend([1.0, 2.0])
    with pytest.raises(CoreMLSpecError, match="shiftValue has 2 values"):
        predict(spec, np.zeros((1, 3)))


# --- normalizer --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("norm_type", "norm"),
    [(0, lambda x: x.max(axis=1)), (1, lambda x: np.abs(x).sum(axis=1)), (2, lambda x: np.sqrt((x**2).sum(axis=1)))],
)
def test_normalizer_divides_by_norm(norm_type: int, norm: object) -> None:
    spec = model([("x", 3)], [("y", 3)])
    spec.normalizer.normType = norm_type
    x = np.array([[1.0, 2.0, 2.0], [0.5, 0.25, 4.0]])
    np.testing.assert_allclose(predict(spec, x)["y"], x / norm(x)[:, None], rtol=1e-15)  # type: ignore[operator]


def test_normalizer_leaves_zero_rows_and_uses_signed_max_for_lmax() -> None:
    spec = model([("x", 2)], [("y", 2)])
    spec.normalizer.normType = 0
    out = predict(spec, np.array([[0.0, 0.0], [-4.0, 2.0]]))["y"]
    np.testing.assert_array_equal(out, [[0.0, 0.0], [-2.0, 1.0]])  # proto: max(x_i) = 2, not max|x_i| = 4


# --- imputer -----------------------------------------------------------------------------------------------------

def test_imputer_replaces_nan_elementwise_from_array() -> None:
    spec = model([("x", 3)], [("y", 3)])
    spec.imputer.imputedDoubleArray.vector.extend([10.0, 20.0, 30.0])
    spec.imputer.replaceDoubleValue = float("nan")
    x = np.array([[np.nan, 1.0, np.nan], [2.0, np.nan, 3.0]])
    np.testing.assert_array_equal(predict(spec, x)["y"], [[10.0, 1.0, 30.0], [2.0, 20.0, 3.0]])


def test_imputer_replaces_a_sentinel_value() -> None:
    spec = model([("x", "double")], [("y", "double")])
    spec.imputer.imputedDoubleValue = 0.5
    spec.imputer.replaceDoubleValue = -1.0
    np.testing.assert_array_equal(predict(spec, {"x": [-1.0, 3.0, np.nan]})["y"], [0.5, 3.0, np.nan])
    ints = model([("n", "int64")], [("m", "int64")])
    ints.imputer.imputedInt64Value = 7
    ints.imputer.replaceInt64Value = -1
    np.testing.assert_array_equal(predict(ints, {"n": [-1, 2]})["m"], [7, 2])


def test_imputer_array_length_mismatch_is_a_spec_error() -> None:
    spec = model([("x", 3)], [("y", 3)])
    spec.imputer.imputedDoubleArray.vector.extend([1.0, 2.0])
    with pytest.raises(CoreMLSpecError, match="imputed array"):
        predict(spec, np.zeros((1, 3)))


# --- one-hot encoder ---------------------------------------------------------------------------------------------

def test_one_hot_encoder_int_categories_sparse_output_with_ignore_unknown() -> None:
    spec = model([("c", "int64")], [("v", "dict_int")])
    spec.oneHotEncoder.int64Categories.vector.extend([5, 2, 9])
    spec.oneHotEncoder.outputSparse = True
    spec.oneHotEncoder.handleUnknown = 1
    out = predict(spec, {"c": [2, 9, 5, 7]})["v"]
    np.testing.assert_array_equal(out, [[0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 0, 0]])


def test_one_hot_encoder_string_categories_dense_and_error_on_unknown() -> None:
    spec = model([("c", "string")], [("v", 2)])
    spec.oneHotEncoder.stringCategories.vector.extend(["red", "blue"])
    np.testing.assert_array_equal(predict(spec, {"c": ["blue", "red"]})["v"], [[0, 1], [1, 0]])
    with pytest.raises(EvaluatorInputError, match="'c'.*green"):
        predict(spec, {"c": ["green"]})


# --- array feature extractor -------------------------------------------------------------------------------------

def test_array_feature_extractor_picks_indices_in_order() -> None:
    spec = model([("x", 4)], [("y", 2)])
    spec.arrayFeatureExtractor.extractIndex.extend([3, 0])
    np.testing.assert_array_equal(predict(spec, np.array([[1.0, 2.0, 3.0, 4.0]]))["y"], [[4.0, 1.0]])
    single = model([("x", 4)], [("y", "double")])
    single.arrayFeatureExtractor.extractIndex.append(2)
    np.testing.assert_array_equal(predict(single, np.array([[1.0, 2.0, 3.0, 4.0]]))["y"], [3.0])
    as_int = model([("x", 2)], [("k", "int64")])
    as_int.arrayFeatureExtractor.extractIndex.append(1)
    np.testing.assert_array_equal(predict(as_int, np.array([[0.0, 2.7], [0.0, -2.7]]))["k"], [2, -2])
    out_of_range = model([("x", 2)], [("y", "double")])
    out_of_range.arrayFeatureExtractor.extractIndex.append(2)
    with pytest.raises(CoreMLSpecError, match="extractIndex"):
        predict(out_of_range, np.zeros((1, 2)))


# --- feature vectorizer ------------------------------------------------------------------------------------------

def test_feature_vectorizer_concatenates_in_input_list_order() -> None:
    spec = model([("a", "double"), ("b", 2), ("c", "int64"), ("d", "dict_int")], [("v", 8)])
    for name, width in [("c", 1), ("b", 2), ("d", 4), ("a", 1)]:
        spec.featureVectorizer.inputList.add(inputColumn=name, inputDimensions=width)
    out = predict(spec, {"a": [1.5], "b": [[2.0, 3.0]], "c": [7], "d": [{2: 9.0, 0: 1.0}]})["v"]
    np.testing.assert_array_equal(out, [[7.0, 2.0, 3.0, 1.0, 0.0, 9.0, 0.0, 1.5]])


# --- dict vectorizer ---------------------------------------------------------------------------------------------

def test_dict_vectorizer_places_values_by_mapping_position() -> None:
    spec = model([("d", "dict_str")], [("v", "dict_int")])
    spec.dictVectorizer.stringToIndex.vector.extend(["a", "c", "b", "z"])
    out = predict(spec, {"d": [{"a": 4.0, "c": 8.0}, {"z": 1.0}]})["v"]
    np.testing.assert_array_equal(out, [[4.0, 8.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])  # the proto's own example
    with pytest.raises(EvaluatorInputError, match="'d'.*'q'"):
        predict(spec, {"d": [{"q": 1.0}]})


# --- categorical mapping -----------------------------------------------------------------------------------------

def test_categorical_mapping_both_directions_and_unknowns() -> None:
    to_int = model([("s", "string")], [("i", "int64")])
    to_int.categoricalMapping.stringToInt64Map.map.update({"cat": 1, "dog": 2})
    to_int.categoricalMapping.int64Value = -1
    np.testing.assert_array_equal(predict(to_int, {"s": ["dog", "cat", "eel"]})["i"], [2, 1, -1])
    to_str = model([("i", "int64")], [("s", "string")])
    to_str.categoricalMapping.int64ToStringMap.map.update({0: "zero", 1: "one"})
    assert predict(to_str, {"i": [1, 0]})["s"].tolist() == ["one", "zero"]
    with pytest.raises(EvaluatorInputError, match="'i'"):
        predict(to_str, {"i": [5]})


# --- identity ----------------------------------------------------------------------------------------------------

def test_identity_passes_values_through() -> None:
    spec = model([("x", 2), ("s", "string")], [("x", 2), ("s", "string")])
    spec.identity.SetInParent()
    out = predict(spec, {"x": [[1.0, 2.0]], "s": ["hi"]})
    np.testing.assert_array_equal(out["x"], [[1.0, 2.0]])
    assert out["s"].tolist() == ["hi"]


# --- string inputs end to end --------------------------------------------------------------------------------------

def _string_lowering_pipeline(categories: list[str], fill: str) -> Model_pb2.Model:
    """String input -> Imputer("" -> fill) -> CategoricalMapping(string -> position, unknown -> -1) -> OneHotEncoder
    (int64Categories 0..K-1, IgnoreUnknown) -> FeatureVectorizer with a Double input (the §3.3 OneHotEncoder
    lowering of categorical-semantics.md)."""
    spec = model([("city", "string"), ("x", "double")], [("vector", len(categories) + 1)])
    stages = spec.pipeline.models
    imputer = stages.add()
    imputer.CopyFrom(model([("city", "string")], [("city_filled", "string")]))
    imputer.imputer.imputedStringValue = fill
    imputer.imputer.replaceStringValue = ""
    mapping = stages.add()
    mapping.CopyFrom(model([("city_filled", "string")], [("city_code", "int64")]))
    mapping.categoricalMapping.stringToInt64Map.map.update({c: k for k, c in enumerate(categories)})
    mapping.categoricalMapping.int64Value = -1
    encoder = stages.add()
    encoder.CopyFrom(model([("city_code", "int64")], [("city_1hot", len(categories))]))
    encoder.oneHotEncoder.int64Categories.vector.extend(range(len(categories)))
    encoder.oneHotEncoder.handleUnknown = Model_pb2.OneHotEncoder.IgnoreUnknown  # type: ignore[attr-defined]
    vectorizer = stages.add()
    vectorizer.CopyFrom(model([("city_1hot", len(categories)), ("x", "double")], [("vector", len(categories) + 1)]))
    for name, width in (("city_1hot", len(categories)), ("x", 1)):
        entry = vectorizer.featureVectorizer.inputList.add()
        entry.inputColumn, entry.inputDimensions = name, width
    return spec


def test_string_pipeline_matches_scikit_learn_one_hot_with_imputed_missing() -> None:
    import pandas as pd
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    train = pd.DataFrame({"city": ["Zürich", "Bern", "Basel", "Bern", None]})  # pandas 3 `str`: None -> NaN
    encoder = make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore"))
    encoder.fit(train)
    categories = [str(c) for c in encoder[-1].categories_[0]]
    spec = _string_lowering_pipeline(categories, str(encoder[0].statistics_[0]))
    query = pd.DataFrame({"city": ["Basel", "Zürich", None, "Genève", "Bern"]})
    expected = encoder.transform(query).toarray()
    x = [0.5, -1.0, 2.0, 3.0, np.nan]
    # The contract's encoding: a missing string is fed as "".
    fed = ["" if v is None or v != v else v for v in query["city"].tolist()]
    out = predict(spec, {"city": fed, "x": x})["vector"]
    np.testing.assert_array_equal(out[:, :-1], expected)
    np.testing.assert_array_equal(out[:, -1], x)


def test_string_input_refuses_non_string_values() -> None:
    spec = _string_lowering_pipeline(["a", "b"], "a")
    for bad in ([None], [float("nan")], [3]):
        with pytest.raises(EvaluatorInputError, match="'city' is String"):
            predict(spec, {"city": bad, "x": [1.0]})


def test_optional_inputs_only_where_apple_allows_them() -> None:
    encoder = model([("c", "string")], [("v", 2)])
    encoder.oneHotEncoder.stringCategories.vector.extend(["a", "b"])
    encoder.description.input[0].type.isOptional = True
    with pytest.raises(CoreMLSpecError, match="input 'c' is optional; features cannot be optional"):
        predict(encoder, {"c": ["a"]})
    mapping = model([("s", "string")], [("i", "int64")])
    mapping.categoricalMapping.stringToInt64Map.map.update({"a": 0})
    mapping.description.input[0].type.isOptional = True
    with pytest.raises(CoreMLSpecError, match="features cannot be optional"):
        predict(mapping, {"s": ["a"]})
    imputer = model([("s", "string")], [("t", "string")])
    imputer.imputer.imputedStringValue = "a"
    imputer.imputer.replaceStringValue = ""
    imputer.description.input[0].type.isOptional = True
    assert predict(imputer, {"s": ["", "b"]})["t"].tolist() == ["a", "b"]
    imputer.description.output[0].type.isOptional = True
    with pytest.raises(CoreMLSpecError, match="outputs cannot be optional"):
        predict(imputer, {"s": [""]})


def test_one_hot_encoder_handle_unknown_on_strings() -> None:
    spec = model([("c", "string")], [("v", 3)])
    spec.oneHotEncoder.stringCategories.vector.extend(["b", "a", "é"])
    spec.oneHotEncoder.handleUnknown = Model_pb2.OneHotEncoder.IgnoreUnknown  # type: ignore[attr-defined]
    out = predict(spec, {"c": ["a", "é", "", "z", "b"]})["v"]
    np.testing.assert_array_equal(out, [[0, 1, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0], [1, 0, 0]])
    spec.oneHotEncoder.handleUnknown = Model_pb2.OneHotEncoder.ErrorOnUnknown  # type: ignore[attr-defined]
    with pytest.raises(EvaluatorInputError, match="'' is not a category"):
        predict(spec, {"c": ["a", ""]})
