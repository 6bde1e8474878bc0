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
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_bad_string_csv(edit, needle: str, suffix: str, churn_model: tuple[Path, Path], tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    model, rows = churn_model
    bad = tmp_path / f"bad{suffix}"
    frame = edit(pd.read_csv(rows))
    frame.to_csv(bad, index=False) if suffix == ".csv" else frame.to_parquet(bad, index=False)
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


def test_skops_column_transformer_with_make_column_selector_exports(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """make_column_selector (with the np.number / object dtype filters users write) is kept in a ColumnTransformer's
    `transformers`; its .skops file must load (reviewed: an inert object, only called by fit) and export exactly."""
    import json

    from sklearn.compose import make_column_selector

    frame = pd.read_csv(Path(__file__).parent / "data" / "credit_card_applications_slice.csv")
    X, y = frame.drop(columns="card"), frame["card"]  # labels "no" / "yes"; owner, selfemp: "yes"/"no" strings
    columns = ColumnTransformer([
        ("strings", OneHotEncoder(handle_unknown="ignore", drop="if_binary"),
         make_column_selector(dtype_exclude=np.number)),
        ("numbers", StandardScaler(), make_column_selector(dtype_include=np.number))])
    model = Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=2000))]).fit(X, y)
    dump_skops(model, tmp_path / "card.skops")
    X.to_parquet(tmp_path / "rows.parquet", index=False)
    assert main(["export", str(tmp_path / "card.skops"), "--out", str(tmp_path / "out"), "--data",
                 str(tmp_path / "rows.parquet"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["parity"] == "passed"
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["signature"]["class_labels"] == ["no", "yes"]


def _hgb_native() -> object:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=15, random_state=0)  # categorical_features="from_dtype"


def _ordinal_boosting() -> object:
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.preprocessing import OrdinalEncoder

    columns = ColumnTransformer([
        ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2),
         STRINGS), ("num", SimpleImputer(), NUMBERS)])
    return Pipeline([("columns", columns), ("model", GradientBoostingClassifier(n_estimators=15, random_state=0))])


def _target_mlp() -> object:
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import TargetEncoder

    columns = ColumnTransformer([("cat", TargetEncoder(random_state=0), STRINGS),
                                 ("num", make_pipeline(SimpleImputer(), StandardScaler()), NUMBERS)])
    return Pipeline([("columns", columns), ("model", MLPClassifier(hidden_layer_sizes=(8,), max_iter=300,
                                                                   random_state=0))])


def _imputed_one_hot_svc() -> object:
    from sklearn.svm import SVC

    columns = ColumnTransformer([
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
         STRINGS), ("num", make_pipeline(SimpleImputer(), StandardScaler()), NUMBERS)])
    return Pipeline([("columns", columns), ("model", SVC(probability=True, random_state=0))])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(("build", "suffix", "category"), [
    (_hgb_native, ".parquet", True), (_ordinal_boosting, ".parquet", False), (_target_mlp, ".csv", False),
    (_imputed_one_hot_svc, ".csv", False)], ids=["hgb-native-category", "ordinal-gradient-boosting",
                                                   "target-encoder-mlp", "imputer-one-hot-svc"])
def test_cli_exports_real_dataframe_pipelines_with_string_labels(
        build, suffix: str, category: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`mlexport export MODEL.skops --data rows.{csv,parquet}` on real churn rows (string labels No/Yes), the held-out
    rows carrying missing strings and an unseen category: parity passes (exit 0), and the ONNX artifact's labels
    through `mlexport predict` are scikit-learn's own."""
    import json

    frame = pd.read_csv(DATA)
    X, y = frame[STRINGS + NUMBERS], frame["churn"]
    if category:
        X = X.astype({c: "category" for c in STRINGS})
    model = build().fit(X.iloc[:180], y.iloc[:180])
    held_out = X.iloc[180:].reset_index(drop=True)
    if not category:
        held_out.loc[:3, "payment_method"] = np.nan
        held_out.loc[4:6, "internet_service"] = "Satellite"  # never seen in training
    dump_skops(model, tmp_path / "model.skops")
    rows = tmp_path / f"rows{suffix}"
    held_out.to_csv(rows, index=False) if suffix == ".csv" else held_out.to_parquet(rows, index=False)
    assert main(["export", str(tmp_path / "model.skops"), "--out", str(tmp_path / "out"), "--data", str(rows),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["parity"] == "passed"
    assert main(["predict", str(tmp_path / "out" / "model.onnx"), "--data", str(rows), "--json"]) == 0
    expected = model.predict(pd.read_parquet(rows) if suffix == ".parquet" else pd.read_csv(rows))
    assert json.loads(capsys.readouterr().out)["classLabel"] == expected.tolist()
CARDS = Path(__file__).parent / "data" / "credit_card_applications_slice.csv"
CARD_NUMBERS = ["age", "income", "share", "reports"]


@pytest.fixture(scope="module")
def by_name_regressor(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An all-numeric DataFrame model whose ColumnTransformer selects columns by name: scikit-learn refuses numpy
    rows for it ("Specifying the columns using strings is only supported for dataframes")."""
    from sklearn.ensemble import RandomForestRegressor

    frame = pd.read_csv(CARDS)
    X, y = frame[CARD_NUMBERS].astype(float), frame["expenditure"]
    columns = ColumnTransformer([("num", StandardScaler(), ["age", "income"]), ("keep", "passthrough", ["share"])])
    model = Pipeline([("columns", columns),
                      ("model", RandomForestRegressor(n_estimators=4, max_depth=4, random_state=0))]).fit(X, y)
    directory = tmp_path_factory.mktemp("cli_by_name")
    dump_skops(model, directory / "cards.skops")
    X.head(60).to_csv(directory / "rows.csv", index=False)
    return directory / "cards.skops", directory / "rows.csv"


def test_numeric_frame_model_selecting_columns_by_name_is_checked_on_dataframes(
        by_name_regressor: tuple[Path, Path], tmp_path: Path) -> None:
    """Regression: parity fed numpy probes, scikit-learn refused every set, and golden.json's writer raised
    StopIteration. The reference now gets DataFrames with the trained names; every probe set is checked."""
    import json

    from export.loading import load_model

    model_path, rows = by_name_regressor
    out = tmp_path / "out"
    assert main(["export", str(model_path), "--out", str(out), "--data", str(rows)]) == 0
    report = json.loads((out / "parity.json").read_text())
    assert report["verdict"] == "passed"
    probes = {p["name"] for p in report["probes"]}
    assert {"user-data", "nan"} <= probes and len(probes) >= 3, probes
    assert not [n for n in report["notes"] if "scikit-learn refuses" in n], report["notes"]
    golden = json.loads((out / "golden.json").read_text())
    user = [r for r in golden["rows"] if r["probe"] == "user-data"]
    frame = pd.DataFrame([r["inputs"] for r in user], columns=CARD_NUMBERS)
    expected = load_model(model_path).predict(frame)  # scikit-learn's own predictions, on the golden inputs
    np.testing.assert_array_equal([r["expected"]["prediction"] for r in user], expected)
    assert golden["input"]["kind"] in ("multiarray", "named_doubles")


def test_golden_without_any_checked_probe_set_is_a_parity_error(
        by_name_regressor: tuple[Path, Path], tmp_path: Path) -> None:
    import parity
    from export.loading import load_model
    from parity.errors import ParityError

    model_path, rows = by_name_regressor
    estimator = load_model(model_path)
    assert main(["export", str(model_path), "--out", str(tmp_path / "out"), "--formats", "coreml",
                 "--no-parity"]) == 0
    report = parity.check(estimator, [tmp_path / "out" / "cards.mlmodel"], inputs=pd.read_csv(rows))
    report.probe_data.clear()  # as when scikit-learn refuses every probe set
    with pytest.raises(ParityError, match="refused every probe set"):
        parity.write_golden(report, tmp_path / "out" / "cards.mlmodel", tmp_path / "golden.json")
