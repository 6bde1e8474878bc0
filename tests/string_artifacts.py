"""Hand-built multi-input artifacts (one input per DataFrame column, String/string-tensor inputs for string columns)
for a scikit-learn churn pipeline on real rows (tests/data/telco_churn_slice.csv), built from the fitted pipeline's
attributes with onnx.helper and coremltools.proto only — no mlexport writer involved, so parity's multi-input
feeding is tested before export's writers exist.

Pipeline: ColumnTransformer(OneHotEncoder(handle_unknown="ignore") on the string columns; SimpleImputer(mean) +
StandardScaler on the numeric ones) -> LogisticRegression with string labels "No"/"Yes".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from coreml_spec_parts import add_classifier_outputs

DATA = Path(__file__).parent / "data" / "telco_churn_slice.csv"
STRING_COLUMNS = ["contract", "internet_service", "payment_method"]
NUMERIC_COLUMNS = ["tenure", "monthly_charges", "total_charges"]
COLUMNS = STRING_COLUMNS + NUMERIC_COLUMNS


def churn_frame() -> tuple[pd.DataFrame, pd.Series]:
    frame = pd.read_csv(DATA)
    return frame[COLUMNS], frame["churn"]


def fit_churn_pipeline(frame: pd.DataFrame, labels: pd.Series) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    columns = ColumnTransformer([
        ("cat", OneHotEncoder(handle_unknown="ignore"), STRING_COLUMNS),
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), NUMERIC_COLUMNS),
    ])
    return Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=1000))]).fit(frame, labels)


def _parts(pipeline: Any) -> tuple[list[list[str]], np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    columns = pipeline.named_steps["columns"]
    encoder = columns.named_transformers_["cat"]
    imputer, scaler = columns.named_transformers_["num"].steps[0][1], columns.named_transformers_["num"].steps[1][1]
    model = pipeline.named_steps["model"]
    categories = [[str(c) for c in cats] for cats in encoder.categories_]
    return (categories, np.asarray(imputer.statistics_, dtype=np.float64), scaler.mean_, scaler.scale_,
            model.coef_[0].astype(np.float64), float(model.intercept_[0]))


def write_onnx(pipeline: Any, path: Path) -> Path:
    """string [N,1] inputs -> ai.onnx.ml OneHotEncoder (zeros=1: unknown -> all zeros, as handle_unknown='ignore')
    -> Reshape [N,K]; double [N,1] inputs -> Where(IsNaN, mean) -> (x-mean)/scale; Concat -> MatMul + Add ->
    Sigmoid -> [1-p, p]; label: z > 0 -> LabelEncoder int64 -> string."""
    from onnx import TensorProto, helper, numpy_helper

    categories, fill, mean, scale, coef, intercept = _parts(pipeline)
    nodes, inits, pieces = [], [], []

    def const(name: str, value: Any, dtype: Any = np.float64) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    for column, cats in zip(STRING_COLUMNS, categories, strict=True):
        nodes.append(helper.make_node("OneHotEncoder", [column], [f"{column}_1hot"], domain="ai.onnx.ml",
                                      cats_strings=cats, zeros=1))
        nodes.append(helper.make_node("Reshape", [f"{column}_1hot", const(f"{column}_shape", [-1, len(cats)],
                                                                          np.int64)], [f"{column}_2d"]))
        nodes.append(helper.make_node("Cast", [f"{column}_2d"], [f"{column}_d"], to=TensorProto.DOUBLE))
        pieces.append(f"{column}_d")
    for k, column in enumerate(NUMERIC_COLUMNS):
        nodes.append(helper.make_node("IsNaN", [column], [f"{column}_nan"]))
        nodes.append(helper.make_node("Where", [f"{column}_nan", const(f"{column}_fill", [fill[k]]), column],
                                      [f"{column}_filled"]))
        nodes.append(helper.make_node("Sub", [f"{column}_filled", const(f"{column}_mean", [mean[k]])],
                                      [f"{column}_centred"]))
        nodes.append(helper.make_node("Div", [f"{column}_centred", const(f"{column}_scale", [scale[k]])],
                                      [f"{column}_scaled"]))
        pieces.append(f"{column}_scaled")
    nodes += [
        helper.make_node("Concat", pieces, ["features"], axis=1),
        helper.make_node("MatMul", ["features", const("coef", coef.reshape(-1, 1))], ["z0"]),
        helper.make_node("Add", ["z0", const("intercept", [intercept])], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["p1"]),
        helper.make_node("Sub", [const("one", [1.0]), "p1"], ["p0"]),
        helper.make_node("Concat", ["p0", "p1"], ["probabilities"], axis=1),
        helper.make_node("Greater", ["z", const("zero", [0.0])], ["positive"]),
        helper.make_node("Cast", ["positive"], ["index2d"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["index2d", const("flat", [-1], np.int64)], ["index"]),
        helper.make_node("LabelEncoder", ["index"], ["label"], domain="ai.onnx.ml", keys_int64s=[0, 1],
                         values_strings=[str(c) for c in pipeline.classes_], default_string="?"),
    ]
    inputs = ([helper.make_tensor_value_info(c, TensorProto.STRING, ["N", 1]) for c in STRING_COLUMNS]
              + [helper.make_tensor_value_info(c, TensorProto.DOUBLE, ["N", 1]) for c in NUMERIC_COLUMNS])
    outputs = [helper.make_tensor_value_info("label", TensorProto.STRING, ["N"]),
               helper.make_tensor_value_info("probabilities", TensorProto.DOUBLE, ["N", 2])]
    graph = helper.make_graph(nodes, "churn", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
    model.ir_version = 8
    helper.set_model_props(model, {"mlexport.output_roles": json.dumps({"label": "label",
                                                                         "probabilities": "probabilities"}),
                                   "mlexport.class_labels": json.dumps([str(c) for c in pipeline.classes_])})
    path.write_bytes(model.SerializeToString())
    return path


def write_coreml(pipeline: Any, path: Path) -> Path:
    """pipelineClassifier: String inputs -> OneHotEncoder (stringCategories, IgnoreUnknown) -> MultiArray [K];
    Double inputs -> Imputer(NaN -> mean); FeatureVectorizer over all -> Scaler ((x - mean) * 1/scale on the
    numeric slots) -> GLMClassifier (Logit, stringClassLabels)."""
    from coremltools.proto import FeatureTypes_pb2, Model_pb2

    categories, fill, mean, scale, coef, intercept = _parts(pipeline)
    spec = Model_pb2.Model()
    spec.specificationVersion = 4
    labels = [str(c) for c in pipeline.classes_]

    def feature(description: Any, name: str, kind: str, width: int = 0) -> None:
        item = description.add()
        item.name = name
        if kind == "string":
            item.type.stringType.SetInParent()
        elif kind == "double":
            item.type.doubleType.SetInParent()
        else:
            item.type.multiArrayType.shape.append(width)
            item.type.multiArrayType.dataType = FeatureTypes_pb2.ArrayFeatureType.DOUBLE

    for column in STRING_COLUMNS:
        feature(spec.description.input, column, "string")
    for column in NUMERIC_COLUMNS:
        feature(spec.description.input, column, "double")
    add_classifier_outputs(spec, string_labels=True)
    models = spec.pipelineClassifier.pipeline.models
    for column, cats in zip(STRING_COLUMNS, categories, strict=True):
        model = models.add()
        model.specificationVersion = 4
        feature(model.description.input, column, "string")
        feature(model.description.output, f"{column}_1hot", "array", len(cats))
        model.oneHotEncoder.stringCategories.vector.extend(cats)
        model.oneHotEncoder.outputSparse = False
        model.oneHotEncoder.handleUnknown = Model_pb2.OneHotEncoder.IgnoreUnknown  # type: ignore[attr-defined]
    for k, column in enumerate(NUMERIC_COLUMNS):
        model = models.add()
        model.specificationVersion = 4
        feature(model.description.input, column, "double")
        feature(model.description.output, f"{column}_filled", "double")
        model.imputer.imputedDoubleValue = float(fill[k])
        model.imputer.replaceDoubleValue = float("nan")
    width = sum(len(c) for c in categories) + len(NUMERIC_COLUMNS)
    vectorizer = models.add()
    vectorizer.specificationVersion = 4
    for column, cats in zip(STRING_COLUMNS, categories, strict=True):
        feature(vectorizer.description.input, f"{column}_1hot", "array", len(cats))
        entry = vectorizer.featureVectorizer.inputList.add()
        entry.inputColumn, entry.inputDimensions = f"{column}_1hot", len(cats)
    for column in NUMERIC_COLUMNS:
        feature(vectorizer.description.input, f"{column}_filled", "double")
        entry = vectorizer.featureVectorizer.inputList.add()
        entry.inputColumn, entry.inputDimensions = f"{column}_filled", 1
    feature(vectorizer.description.output, "vector", "array", width)
    n_onehot = width - len(NUMERIC_COLUMNS)
    scaler = models.add()
    scaler.specificationVersion = 4
    feature(scaler.description.input, "vector", "array", width)
    feature(scaler.description.output, "scaled", "array", width)
    scaler.scaler.shiftValue.extend([0.0] * n_onehot + [-m for m in mean])
    scaler.scaler.scaleValue.extend([1.0] * n_onehot + [1.0 / s for s in scale])
    glm = models.add()
    glm.specificationVersion = 4
    feature(glm.description.input, "scaled", "array", width)
    add_classifier_outputs(glm, string_labels=True)
    glm.glmClassifier.weights.add().value.extend(coef.tolist())
    glm.glmClassifier.offset.append(intercept)
    glm.glmClassifier.postEvaluationTransform = Model_pb2.GLMClassifier.Logit  # type: ignore[attr-defined]
    glm.glmClassifier.classEncoding = Model_pb2.GLMClassifier.OneVsRest  # type: ignore[attr-defined]
    glm.glmClassifier.stringClassLabels.vector.extend(labels)
    path.write_bytes(spec.SerializeToString())
    return path


SWIFT_FIXTURE = Path(__file__).parent.parent / "ios_stub/Tests/ModelParityTests/Fixtures/churn_golden.json"


def write_churn_golden(path: Path = SWIFT_FIXTURE, rows: int = 40) -> Path:
    """The string-input golden.json the Swift tests decode (ios_stub/Tests/ModelParityTests/Fixtures), written by
    parity from the hand-built Core ML artifact: `python -c "import sys; sys.path.insert(0, 'tests');
    import string_artifacts as s; s.write_churn_golden()"`."""
    import tempfile

    import parity

    frame, labels = churn_frame()
    pipeline = fit_churn_pipeline(frame, labels)
    with tempfile.TemporaryDirectory() as directory:
        coreml = write_coreml(pipeline, Path(directory) / "churn.mlmodel")
        report = parity.check(pipeline, [coreml], inputs=frame.head(rows))
        return parity.write_golden(report, coreml, path)
