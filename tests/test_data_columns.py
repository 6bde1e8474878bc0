"""Data is matched to a model by column name everywhere (issue 9 items 1, 3, 10, 15): `mlexport predict` on .onnx and
.mlmodel, `parity.coreml_reference.predict` on DataFrames, `export_model(data=...)`; probabilities are named by class.

The truth is scikit-learn itself: its predictions on the columns in training order, and its own refusal of renamed
columns and headerless files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

from export import ExportOptions, export_model
from export.cli import main
from export.errors import DataError
from parity.coreml_reference import predict as coreml_predict
from parity.errors import EvaluatorInputError

COLUMNS = ["age", "income", "score"]
REORDERED = ["income", "age", "score"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"age": rng.uniform(18, 80, 120), "income": rng.uniform(1e4, 1e5, 120),
                         "score": rng.uniform(0, 1, 120)})


@pytest.fixture(scope="module")
def model(frame: pd.DataFrame) -> RandomForestClassifier:
    y = np.where(frame["income"] > 5e4, "yes", "no")
    return RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0).fit(frame, y)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, model: RandomForestClassifier) -> Path:
    out = tmp_path_factory.mktemp("export") / "out"
    export_model(model, out, ExportOptions(name="m", run_parity=False))
    return out


def _csv(tmp_path: Path, frame: pd.DataFrame, name: str, **kwargs: object) -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False, **kwargs)  # type: ignore[arg-type]
    return path


@pytest.mark.parametrize("artifact", ["m.onnx", "m.mlmodel"])
def test_predict_reorders_columns_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str], exported: Path,
                                          model: RandomForestClassifier, frame: pd.DataFrame, artifact: str) -> None:
    data = _csv(tmp_path, frame[REORDERED], "reordered.csv")
    assert main(["predict", str(exported / artifact), "--data", str(data), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    expected = model.predict(frame)  # scikit-learn on the columns in training order
    assert (expected == "yes").sum() > 10  # the check is not vacuous: both labels occur
    assert result["classLabel"] == expected.tolist()
    # Probabilities are keyed by class label, in classes_ order, with scikit-learn's values.
    proba = model.predict_proba(frame)
    assert [list(row) for row in result["classProbability"]] == [list(model.classes_)] * len(frame)
    np.testing.assert_allclose([[row[c] for c in model.classes_] for row in result["classProbability"]], proba,
                               rtol=0, atol=1e-12)


def test_predict_csv_names_probability_columns_by_class(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        exported: Path, model: RandomForestClassifier,
                                                        frame: pd.DataFrame) -> None:
    data = _csv(tmp_path, frame.head(20), "rows.csv")
    assert main(["predict", str(exported / "m.mlmodel"), "--data", str(data), "--csv"]) == 0
    printed = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert list(printed.columns) == ["classLabel", "classProbability[no]", "classProbability[yes]"]
    assert printed["classLabel"].tolist() == model.predict(frame.head(20)).tolist()
    np.testing.assert_allclose(printed[["classProbability[no]", "classProbability[yes]"]].to_numpy(),
                               model.predict_proba(frame.head(20)), rtol=0, atol=1e-12)


@pytest.mark.parametrize("artifact", ["m.onnx", "m.mlmodel"])
def test_predict_refuses_renamed_missing_extra_and_headerless(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              exported: Path, model: RandomForestClassifier,
                                                              frame: pd.DataFrame, artifact: str) -> None:
    renamed = frame.rename(columns={"income": "Income"})
    with pytest.raises(ValueError, match="feature names"):
        model.predict(renamed)  # scikit-learn refuses it too
    cases = [
        (_csv(tmp_path, renamed, "renamed.csv"), ["'Income' (did you mean 'income'?)", "missing columns ['income']"]),
        (_csv(tmp_path, frame[["age", "score"]], "missing.csv"), ["missing columns ['income']"]),
        (_csv(tmp_path, frame.assign(extra=1.0), "extra.csv"), ["unexpected columns ['extra']"]),
        (_csv(tmp_path, frame, "headerless.csv", header=False), ["looks like data, not a header", "age, income"]),
    ]
    for path, needles in cases:
        capsys.readouterr()
        assert main(["predict", str(exported / artifact), "--data", str(path)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        (line,) = captured.err.strip().splitlines()
        assert line.startswith("mlexport: error: ") and path.name in line
        for needle in needles:
            assert needle in line, (needle, line)


def test_coreml_reference_predict_matches_dataframe_columns_by_name(exported: Path, model: RandomForestClassifier,
                                                                    frame: pd.DataFrame) -> None:
    outputs = coreml_predict(exported / "m.mlmodel", frame[REORDERED])
    np.testing.assert_array_equal(outputs["classLabel"], model.predict(frame))
    np.testing.assert_allclose(outputs["classProbability"], model.predict_proba(frame), rtol=0, atol=1e-12)
    with pytest.raises(EvaluatorInputError, match=r"did you mean 'income'"):
        coreml_predict(exported / "m.mlmodel", frame.rename(columns={"income": "Income"}))
    # A frame with positional (non-string) column names is a matrix in input order, as scikit-learn treats it.
    positional = pd.DataFrame(frame.to_numpy())
    np.testing.assert_array_equal(coreml_predict(exported / "m.mlmodel", positional)["classLabel"],
                                  model.predict(frame))


@pytest.mark.parametrize("kind", ["frame", "reordered frame", "ndarray", "csv path"])
def test_export_model_accepts_dataframes_arrays_and_paths(tmp_path: Path, model: RandomForestClassifier,
                                                          frame: pd.DataFrame, kind: str) -> None:
    data: object = {"frame": frame, "reordered frame": frame[REORDERED], "ndarray": frame.to_numpy(),
                    "csv path": _csv(tmp_path, frame[REORDERED], "rows.csv")}[kind]
    result = export_model(model, tmp_path / "out", ExportOptions(name="m", formats=("onnx",)), data=data)
    assert result.parity_verdict == "passed", result.parity_summary
    parity = json.loads((tmp_path / "out" / "parity.json").read_text())
    user = [p for p in parity["probes"] if p["name"] == "user-data"]
    assert user and user[0]["n_rows"] == len(frame)


def test_export_model_refuses_bad_in_memory_data(tmp_path: Path, model: RandomForestClassifier,
                                                 frame: pd.DataFrame) -> None:
    for data, needle in [(frame["age"], "Series is ambiguous"), (frame.head(0), "data has no rows"),
                         (frame.rename(columns={"age": "Age"}), "did you mean 'age'"),
                         (frame.to_numpy()[:, :2], "expected shape (n, 3)")]:
        with pytest.raises(DataError, match=re.escape(needle)):
            export_model(model, tmp_path / "out", ExportOptions(name="m"), data=data)
        assert not any(tmp_path.iterdir())
