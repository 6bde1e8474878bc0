"""Boolean class labels (`y == "yes"`) export as Int64 labels 0 = False, 1 = True, with the mapping recorded
(issue 9 item 2). Truth: scikit-learn's own predictions, cast as numpy casts booleans (`int(True) == 1`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from export import ExportOptions, export_model
from parity.coreml_reference import class_labels, predict
from parity.coreml_reference.spec_loading import load_model

ENCODING = "Int64 labels for boolean classes: 0 = False, 1 = True"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"age": rng.uniform(18, 80, 150), "income": rng.uniform(1e4, 1e5, 150)})


@pytest.mark.parametrize("estimator", [RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0),
                                       LogisticRegression(max_iter=1000)], ids=lambda e: type(e).__name__)
def test_boolean_labels_export_as_int64_with_the_mapping_recorded(tmp_path: Path, frame: pd.DataFrame,
                                                                  estimator: object) -> None:
    y = np.where(frame["income"] > 5e4, "yes", "no") == "yes"
    model = estimator.fit(frame, y)  # type: ignore[attr-defined]
    assert model.classes_.dtype == bool
    result = export_model(model, tmp_path / "out", ExportOptions(name="m"), data=frame)
    assert result.parity_verdict == "passed", result.parity_summary
    expected = model.predict(frame).astype(np.int64)  # numpy's bool -> int cast: False -> 0, True -> 1
    assert 0 < expected.sum() < len(expected)
    spec = load_model(tmp_path / "out" / "m.mlmodel")
    assert class_labels(spec) == [0, 1]
    label_output = next(o for o in spec.description.output if o.name == spec.description.predictedFeatureName)
    assert label_output.type.WhichOneof("Type") == "int64Type" and ENCODING in label_output.shortDescription
    assert spec.description.metadata.userDefined["mlexport.class_label_encoding"] == ENCODING
    assert json.loads(spec.description.metadata.userDefined["mlexport.trained_class_labels"]) == [False, True]
    np.testing.assert_array_equal(predict(spec, frame)["classLabel"], expected)
    session = ort.InferenceSession(str(tmp_path / "out" / "m.onnx"), providers=["CPUExecutionProvider"])
    label, proba = session.run(None, {session.get_inputs()[0].name: frame.to_numpy()})
    np.testing.assert_array_equal(label, expected)
    np.testing.assert_allclose(proba, model.predict_proba(frame), rtol=1e-9, atol=1e-12)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["signature"]["class_labels"] == [False, True]
    assert manifest["signature"]["exported_class_labels"] == [0, 1]
    assert manifest["signature"]["class_label_encoding"] == ENCODING
    golden = json.loads((tmp_path / "out" / "golden.json").read_text())
    assert golden["class_labels"] == [0, 1]
    user_rows = [r for r in golden["rows"] if r["probe"] == "user-data"]
    assert user_rows
    got = {tuple(r["inputs"]): r["expected"]["classLabel"] for r in user_rows}
    truth = dict(zip(map(tuple, frame.to_numpy().tolist()), expected.tolist(), strict=True))
    assert all(type(v) is int and v == truth[k] for k, v in got.items())
