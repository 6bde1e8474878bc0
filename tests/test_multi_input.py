"""Multi-input models end to end: a hand-built IR with one string and two double columns (the schema the DataFrame
front-ends will produce) through BOTH writers and `parity.check`, against the scikit-learn pipeline it was read from.

The pipeline is fitted on real rows (tests/data/telco_churn_slice.csv); the IR is built here from its fitted
attributes (`categories_`, `statistics_`, `mean_`, `scale_`, `coef_`), not by a front-end, so this tests the schema,
the named-vector body and the writers' per-column inputs. Truth is scikit-learn's own predict/predict_proba on the
DataFrame.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import pytest
from string_artifacts import DATA

import parity
from export import ir
from export.to_coreml import CoreMLInterface, save_spec, to_spec
from export.to_onnx import OnnxOptions, save_onnx, to_onnx
from parity.coreml_reference import predict as coreml_predict

COLUMNS = ["contract", "tenure", "monthly_charges"]  # one string column, two double columns


@pytest.fixture(scope="module")
def churn() -> tuple[pd.DataFrame, Any]:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    table = pd.read_csv(DATA)
    frame = table[COLUMNS]
    columns = ColumnTransformer([
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["contract"]),
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["tenure", "monthly_charges"]),
    ])
    pipeline = Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=1000))])
    return frame, pipeline.fit(frame, table["churn"])


def churn_ir(pipeline: Any) -> ir.Model:
    """The pipeline as the IR states it: schema of three typed columns, a body of named vectors, a logistic head."""
    columns = pipeline.named_steps["columns"]
    encoder = columns.named_transformers_["cat"]
    imputer, scaler = (step for _, step in columns.named_transformers_["num"].steps)
    model = pipeline.named_steps["model"]
    schema = ir.Schema((
        ir.Column("contract", "string", "contract"),
        ir.Column("tenure", "double", "tenure", missing="nan"),
        ir.Column("monthly_charges", "double", "monthly_charges", missing="nan"),
    ))
    body = (
        ir.Step("contract_one_hot", ir.OneHotEncoder((np.asarray(encoder.categories_[0], dtype=object),)),
                ("contract",)),
        ir.Step("numeric", ir.Pipeline((ir.Imputer(np.nan, imputer.statistics_),
                                        ir.Scaler(scaler.mean_, scaler.scale_, divide=True))),
                ("tenure", "monthly_charges")),
        ir.Step("scores", ir.LinearModel(model.coef_, model.intercept_), ("contract_one_hot", "numeric")),
    )
    return ir.Model(schema, body, ir.Classification(model.classes_, "logistic", True))


@pytest.fixture(scope="module")
def artifacts(churn: tuple[pd.DataFrame, Any], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    _, pipeline = churn
    directory = tmp_path_factory.mktemp("multi_input")
    model = churn_ir(pipeline)
    coreml = directory / "churn.mlmodel"
    save_spec(to_spec(model, CoreMLInterface()), coreml)
    onnx_path = directory / "churn.onnx"
    save_onnx(to_onnx(None, model, OnnxOptions()).model, onnx_path)
    return coreml, onnx_path


def test_coreml_inputs_are_one_typed_feature_per_column(artifacts: tuple[Path, Path]) -> None:
    from coremltools.models.utils import load_spec

    spec = load_spec(str(artifacts[0]))
    assert [(f.name, f.type.WhichOneof("Type")) for f in spec.description.input] == [
        ("contract", "stringType"), ("tenure", "doubleType"), ("monthly_charges", "doubleType")]
    kinds = [m.WhichOneof("Type") for m in spec.pipelineClassifier.pipeline.models]
    # the String column goes through Core ML's own oneHotEncoder; the doubles are vectorised, imputed, scaled
    assert kinds[0] == "oneHotEncoder" and kinds[-1] == "glmClassifier" and "featureVectorizer" in kinds
    assert list(spec.pipelineClassifier.pipeline.models[0].oneHotEncoder.stringCategories.vector) == [
        "Month-to-month", "One year", "Two year"]


def test_onnx_inputs_are_one_tensor_per_column(artifacts: tuple[Path, Path]) -> None:
    model = onnx.load(str(artifacts[1]))
    inputs = [(i.name, i.type.tensor_type.elem_type, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim])
              for i in model.graph.input]
    assert inputs == [("contract", onnx.TensorProto.STRING, ["N", 1]), ("tenure", onnx.TensorProto.DOUBLE, ["N", 1]),
                      ("monthly_charges", onnx.TensorProto.DOUBLE, ["N", 1])]


def test_both_artifacts_predict_like_scikit_learn_on_real_and_unseen_rows(
        churn: tuple[pd.DataFrame, Any], artifacts: tuple[Path, Path]) -> None:
    frame, pipeline = churn
    rows = pd.concat([frame, pd.DataFrame({"contract": ["Weekly", ""], "tenure": [3.0, 80.0],
                                           "monthly_charges": [20.0, 110.5]})], ignore_index=True)
    expected_label, expected_proba = pipeline.predict(rows), pipeline.predict_proba(rows)
    contract = rows["contract"].to_numpy(dtype=object)
    tenure, charges = (rows[c].to_numpy(dtype=np.float64) for c in ("tenure", "monthly_charges"))
    session = ort.InferenceSession(str(artifacts[1]), providers=["CPUExecutionProvider"])
    feeds = {"contract": contract, "tenure": tenure, "monthly_charges": charges}
    label, proba = session.run(["classLabel", "classProbability"], {k: v.reshape(-1, 1) for k, v in feeds.items()})
    np.testing.assert_array_equal(label, expected_label)
    np.testing.assert_allclose(proba, expected_proba, rtol=1e-12, atol=1e-15)
    out = coreml_predict(str(artifacts[0]), {"contract": contract, "tenure": tenure, "monthly_charges": charges})
    np.testing.assert_array_equal(out["classLabel"], expected_label)
    np.testing.assert_allclose(out["classProbability"], expected_proba, rtol=1e-12, atol=1e-15)


def test_parity_check_passes_on_both_artifacts(churn: tuple[pd.DataFrame, Any],
                                               artifacts: tuple[Path, Path]) -> None:
    frame, pipeline = churn
    report = parity.check(pipeline, list(artifacts), inputs=frame)
    assert report.verdict == "passed", parity.to_markdown(report)
    assert {a.kind for a in report.artifacts} == {"coreml", "onnx"}
    assert "string-categories" in {p.name for p in report.probes}


def test_a_wrong_category_order_fails_parity(churn: tuple[pd.DataFrame, Any], tmp_path: Path) -> None:
    """The check above can fail: the same IR with the string categories in another order is caught."""
    frame, pipeline = churn
    model = churn_ir(pipeline)
    step = model.body[0]
    assert isinstance(step.node, ir.OneHotEncoder)
    swapped = ir.OneHotEncoder((step.node.categories[0][[1, 0, 2]],))
    broken = ir.Model(model.inputs, (ir.Step(step.name, swapped, step.inputs), *model.body[1:]), model.head)
    path = save_onnx(to_onnx(None, broken, OnnxOptions()).model, tmp_path / "broken.onnx")
    report = parity.check(pipeline, [path], inputs=frame.head(60))
    assert report.verdict == "failed"


def test_string_columns_must_be_read_by_an_encoder() -> None:
    schema = ir.Schema((ir.Column("city", "string", "city"), ir.Column("x", "double", "x")))
    with pytest.raises(ir.IRError, match="reads string columns"):
        ir.Model(schema, (ir.Step("scores", ir.LinearModel(np.ones((1, 2)), np.zeros(1)), ("city", "x")),),
                 ir.Regression())
    with pytest.raises(ir.IRError, match="differ in kind"):
        ir.Model(schema, (ir.Step("one_hot", ir.OneHotEncoder((np.array([1, 2]), np.array([0, 1]))),
                                  ("city", "x")),), ir.Transformed())


def test_stacked_producers_reading_named_vectors_side_by_side() -> None:
    """A body graph beyond a chain: a producer's raw scores (`first`) read again, next to the input block, by a second
    producer (stacking's shape). Both writers against the same arithmetic done by hand in numpy."""
    first = ir.LinearModel(coef=np.array([[1.0, -2.0, 0.5], [0.25, 0.0, 3.0]]), intercept=np.array([0.5, -1.0]))
    final = ir.LinearModel(coef=np.array([[2.0, -1.0, 0.5, 0.0, 1.0]]), intercept=np.array([0.125]))
    model = ir.Model(ir.Schema.block(3), (ir.Step("first", first, ("input",)),
                                          ir.Step("scores", final, ("first", "input"))), ir.Regression())
    X = np.array([[1.0, 2.0, 3.0], [-0.5, 0.25, 8.0], [0.0, 0.0, 0.0]])
    stacked = np.hstack([X @ first.coef.T + first.intercept, X])
    expected = (stacked @ final.coef.T + final.intercept)[:, 0]
    onnx_model = to_onnx(None, model, OnnxOptions()).model
    session = ort.InferenceSession(onnx_model.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(["prediction"], {"input": X})[0][:, 0], expected, rtol=1e-15)
    spec = to_spec(model, CoreMLInterface())
    np.testing.assert_allclose(coreml_predict(spec, X)["prediction"], expected, rtol=1e-15)
