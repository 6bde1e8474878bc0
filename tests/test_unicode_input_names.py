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
