"""The CLI on a DataFrame model with string columns: export with a CSV holding strings, and the three bad-input
cases (a column missing, strings in a numeric column, numbers in a string column) — exit 2, one line naming the
column, nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from export.cli import main
from export.loading import dump_skops

DATA = Path(__file__).parent / "data" / "telco_churn_slice.csv"
STRINGS = ["contract", "internet_service", "payment_method"]
NUMBERS = ["tenure", "monthly_charges", "total_charges"]


@pytest.fixture(scope="module")
def churn_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    frame = pd.read_csv(DATA)
    X, y = frame[STRINGS + NUMBERS], frame["churn"]
    columns = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), STRINGS),
                                 ("num", make_pipeline(SimpleImputer(), StandardScaler()), NUMBERS)])
    model = Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=1000))]).fit(X, y)
    directory = tmp_path_factory.mktemp("cli_frame")
    dump_skops(model, directory / "churn.skops")
    X.head(40).to_csv(directory / "rows.csv", index=False)
    return directory / "churn.skops", directory / "rows.csv"


def test_export_with_string_csv_passes_parity_and_predict_reads_strings(
        churn_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from export.loading import load_model

    model, rows = churn_model
    assert main(["export", str(model), "--out", str(tmp_path / "out"), "--data", str(rows)]) == 0
    expected = load_model(model).predict_proba(pd.read_csv(rows))
    for artifact in ("churn.onnx", "churn.mlmodel"):
        capsys.readouterr()
        assert main(["predict", str(tmp_path / "out" / artifact), "--data", str(rows), "--json"]) == 0
        outputs = json.loads(capsys.readouterr().out)
        probabilities = outputs["classProbability"]  # ONNX: rows of K values; Core ML: {label: p} per row
        if isinstance(probabilities[0], dict):
            probabilities = [[row["No"], row["Yes"]] for row in probabilities]
        np.testing.assert_allclose(probabilities, expected, rtol=1e-12, atol=1e-15)
        assert set(outputs["classLabel"]) <= {"No", "Yes"}


@pytest.mark.parametrize(("edit", "needle"), [
    (lambda f: f.drop(columns="contract"), "contract"),
    (lambda f: f.assign(tenure=["many"] * len(f)), "tenure"),
    (lambda f: f.assign(contract=np.arange(len(f))), "contract"),
], ids=["missing-column", "strings-in-numeric", "numbers-in-string"])
def test_bad_string_csv(edit, needle: str, churn_model: tuple[Path, Path], tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    model, rows = churn_model
    bad = tmp_path / "bad.csv"
    edit(pd.read_csv(rows)).to_csv(bad, index=False)
    code = main(["export", str(model), "--out", str(tmp_path / "out"), "--data", str(bad)])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("mlexport: error: ")]
    assert code == 2, err
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


def test_parity_dir_rechecks_string_rows_from_the_file_then_from_its_parquet_copy(
        churn_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json
    import shutil

    model, rows = churn_model
    data = tmp_path / "rows.csv"
    shutil.copyfile(rows, data)
    out = tmp_path / "out"
    assert main(["export", str(model), "--out", str(out), "--data", str(data), "--data-copy-rows", "25"]) == 0
    record = json.loads((out / "manifest.json").read_text())["data"]
    assert record["copy"] == "parity_data.parquet" and record["copy_rows"] == 25 and record["rows"] == 40
    copy = pd.read_parquet(out / "parity_data.parquet")
    original = pd.read_csv(data)
    assert [str(copy[c].dtype) for c in STRINGS] == ["str"] * 3  # typed strings, not numbers or pickled objects
    def keys(frame: pd.DataFrame) -> list[tuple[object, ...]]:
        return list(zip(*(frame[c].astype(float) if c in NUMBERS else frame[c] for c in STRINGS + NUMBERS),
                        strict=True))

    positions = [keys(original).index(key) for key in keys(copy)]  # every copied row is a file row, in file order
    assert positions == sorted(positions) and len(set(positions)) == 25

    for expected_source, rows_checked in (("the data file recorded in manifest.json", 40),
                                          ("the copy inside the export (parity_data.parquet", 25)):
        capsys.readouterr()
        assert main(["parity", str(out), "--json"]) == 0
        document = json.loads(capsys.readouterr().out)
        assert document["user_data"]["source"].startswith(expected_source), document["user_data"]
        assert document["user_data"]["rows_checked"] == rows_checked
        user_checks = [c for c in document["checks"] if c["probe"] == "user-data"]
        assert {c["artifact"] for c in user_checks} == {"churn.mlmodel", "churn.onnx"}
        assert all(c["n_rows"] == rows_checked for c in user_checks)
        data.unlink(missing_ok=True)  # second round: the original is gone, the copy is used


def test_frame_copy_keeps_object_columns_and_none(tmp_path: Path) -> None:
    """Parquet reads an object column back as `str` and None as NaN; scikit-learn treats None and NaN as two
    categories, so the copy records and restores both (export.exporter.frame_dtypes / restore_frame_dtypes)."""
    from export.exporter import frame_dtypes, restore_frame_dtypes

    frame = pd.DataFrame({"plan": pd.Series(["a", None, "b"], dtype=object),
                          "city": pd.Series(["x", np.nan, "y"], dtype=object),
                          "tier": pd.Categorical(["p", "q", None]), "n": [1.0, np.nan, 3.0]})
    frame.to_parquet(tmp_path / "copy.parquet", index=False)
    restored = restore_frame_dtypes(pd.read_parquet(tmp_path / "copy.parquet"), frame_dtypes(frame))
    pd.testing.assert_frame_equal(restored, frame)
    assert restored["plan"].tolist()[1] is None and np.isnan(restored["city"].tolist()[1])
