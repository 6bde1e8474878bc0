"""Core ML input names keep Unicode letters, are readable and unique, and the training column -> Core ML input mapping
is shown in `inspect`, the export summary and golden.json (issue 9 item 14). Truth: scikit-learn's predictions on the
training columns, and Swift's identifier grammar (checked in test_signature.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeRegressor

from export.cli import main
from export.loading import dump_skops
from parity.coreml_reference import predict

COLUMNS = ["tenure months", "âge", "収入", "a-b", "a b"]
EXPECTED = ["tenure_months", "âge", "収入", "a_b", "a_b_2"]


def test_unicode_names_survive_and_the_mapping_is_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.normal(size=(80, len(COLUMNS))), columns=COLUMNS)
    model = DecisionTreeRegressor(max_depth=4, random_state=0).fit(frame, frame["âge"] * 2 + frame["収入"])
    model_file = tmp_path / "m.skops"
    dump_skops(model, model_file)
    data = tmp_path / "rows.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "out"
    assert main(["export", str(model_file), "--out", str(out), "--data", str(data)]) == 0
    summary = capsys.readouterr().out
    assert "'tenure months' -> tenure_months" in summary and "'a b' -> a_b_2" in summary
    assert "'âge'" not in summary  # kept unchanged, so not listed as renamed
    outputs = predict(out / "m.mlmodel", {name: frame[col].to_numpy() for col, name in zip(COLUMNS, EXPECTED,
                                                                                          strict=True)})
    np.testing.assert_allclose(outputs["prediction"], model.predict(frame), rtol=0, atol=1e-12)
    golden = json.loads((out / "golden.json").read_text(encoding="utf-8"))
    assert [(f["name"], f["coreml_name"]) for f in golden["input"]["features"]] == list(zip(COLUMNS, EXPECTED,
                                                                                             strict=True))
    assert main(["inspect", str(out / "m.mlmodel")]) == 0
    text = capsys.readouterr().out
    assert "    'tenure months' -> tenure_months" in text and "    âge: Double" in text
    assert main(["inspect", str(out / "m.mlmodel"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [i["name"] for i in info["inputs"]] == EXPECTED
    assert info["input_name_mapping"] == {"tenure months": "tenure_months", "a-b": "a_b", "a b": "a_b_2"}
    # A data file may name the columns either way; both predict what scikit-learn predicts.
    frame.rename(columns=dict(zip(COLUMNS, EXPECTED, strict=True))).to_csv(tmp_path / "coreml_names.csv", index=False)
    for path in (data, tmp_path / "coreml_names.csv"):
        assert main(["predict", str(out / "m.mlmodel"), "--data", str(path), "--json"]) == 0
        np.testing.assert_allclose(json.loads(capsys.readouterr().out)["prediction"], model.predict(frame),
                                   rtol=0, atol=1e-12)


def test_string_columns_with_non_identifier_names_show_both_names_in_every_artifact(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A DataFrame model with string columns has one input per column in ONNX (and .ort) as in Core ML, under the
    same sanitised names: `inspect` shows training column -> input for each format."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = pd.read_csv(Path(__file__).parent / "data" / "telco_churn_slice.csv")
    names = {"contract": "contract type", "payment_method": "Class", "tenure": "tenure (months)",
             "monthly_charges": "2nd.charge"}
    X = frame[list(names)].rename(columns=names)
    columns = ColumnTransformer([("s", OneHotEncoder(handle_unknown="ignore"), ["contract type", "Class"]),
                                 ("n", StandardScaler(), ["tenure (months)", "2nd.charge"])])
    model = Pipeline([("c", columns), ("m", LogisticRegression(max_iter=1000))]).fit(X, frame["churn"])
    dump_skops(model, tmp_path / "m.skops")
    X.head(30).to_csv(tmp_path / "rows.csv", index=False)
    out = tmp_path / "out"
    assert main(["export", str(tmp_path / "m.skops"), "--out", str(out), "--data", str(tmp_path / "rows.csv"),
                 "--formats", "coreml,onnx,ort"]) == 0
    expected = {"contract type": "contract_type", "Class": "Class_", "tenure (months)": "tenure_months",
                "2nd.charge": "_2nd_charge"}
    for artifact in ("m.mlmodel", "m.onnx", "m.ort"):
        capsys.readouterr()
        assert main(["inspect", str(out / artifact), "--json"]) == 0
        info = json.loads(capsys.readouterr().out)
        assert info["input_name_mapping"] == expected, artifact
        assert main(["inspect", str(out / artifact)]) == 0
        assert "    'tenure (months)' -> tenure_months" in capsys.readouterr().out, artifact
    assert main(["predict", str(out / "m.onnx"), "--data", str(tmp_path / "rows.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["classLabel"] == model.predict(X.head(30)).tolist()
