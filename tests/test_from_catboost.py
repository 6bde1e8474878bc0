"""CatBoost .cbm models -> Core ML and ONNX, checked against CatBoost's own predictions on real rows (telco churn with
missing total_charges under nan_mode Min and Max, Sacramento homes) and at, next to and between the float32
neighbours of every border."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from export.cli import main
from export.exporter import ExportOptions, export_model
from tests.boosting_data import DATA, at_thresholds, homes_xy, run_artifact, telco, telco_xy
from tests.test_cli_bad_input import _assert_refused, _nothing_written

cb = pytest.importorskip("catboost")

CASES = [("Logloss", "Min"), ("Logloss", "Max"), ("MultiClass", "Min"), ("RMSE", "Min"), ("MAE", "Min"),
         ("Quantile:alpha=0.3", "Min"), ("Poisson", "Min"), ("Tweedie:variance_power=1.5", "Min")]


def _train(loss: str, nan_mode: str) -> tuple[object, np.ndarray]:
    X, churn, contract = telco_xy()
    Xh, price = homes_xy()
    kind = loss.split(":")[0]
    classifier = kind in ("Logloss", "MultiClass")
    y = {"Logloss": churn, "MultiClass": contract, "Poisson": Xh[:, 0]}.get(kind, price)
    data = X if classifier else Xh
    model = (cb.CatBoostClassifier if classifier else cb.CatBoostRegressor)(
        iterations=6, depth=3, loss_function=loss, nan_mode=nan_mode, random_seed=0, verbose=0,
        allow_writing_files=False)
    return model.fit(data, y), data


@pytest.mark.parametrize(("loss", "nan_mode"), CASES, ids=[f"{loss}-{mode}" for loss, mode in CASES])
def test_export_matches_catboost(tmp_path: Path, loss: str, nan_mode: str) -> None:
    model, X = _train(loss, nan_mode)
    model.save_model(str(tmp_path / "model.cbm"))  # type: ignore[attr-defined]
    with_parity = loss in ("Logloss", "MultiClass", "Poisson") and nan_mode == "Min"
    result = export_model(tmp_path / "model.cbm", tmp_path / "out", ExportOptions(run_parity=with_parity), data=X)
    assert result.parity_verdict == ("passed" if with_parity else "skipped"), result.parity_summary
    borders = model.get_borders()  # type: ignore[attr-defined]
    features = np.array([j for j, values in borders.items() for _ in values])
    thresholds = np.array([v for values in borders.values() for v in values], dtype=np.float32).astype(np.float64)
    rows = np.vstack([X, at_thresholds(np.nan_to_num(X), features, thresholds, float32=True)])
    kind = loss.split(":")[0]
    for artifact in ("coreml", "onnx"):
        got = run_artifact(result.artifacts[artifact], rows)
        if kind in ("Logloss", "MultiClass"):
            expected = model.predict_proba(rows)  # type: ignore[attr-defined]
            np.testing.assert_allclose(got["probabilities"], expected, rtol=1e-12, atol=1e-15)
            np.testing.assert_array_equal(got["label"], model.predict(rows).reshape(-1))  # type: ignore[attr-defined]
        else:
            expected = model.predict(rows)  # type: ignore[attr-defined]
            rtol = 5e-6 if kind in ("Poisson", "Tweedie") and artifact == "coreml" else 1e-12  # float32 exp stage
            np.testing.assert_allclose(got["prediction"].reshape(-1), expected, rtol=rtol, atol=1e-13)


def test_string_class_names_and_feature_names(tmp_path: Path) -> None:
    X = telco_xy()[0]
    frame = pd.DataFrame(X, columns=["tenure", "monthly", "total", "senior", "partner", "dependents"])
    labels = telco()["churn"].to_numpy()
    model = cb.CatBoostClassifier(iterations=4, depth=2, verbose=0, allow_writing_files=False).fit(frame, labels)
    result = export_model(model, tmp_path / "out", ExportOptions(), data=X)
    assert result.parity_verdict == "passed", result.parity_summary
    assert result.signature.class_labels == ("No", "Yes")
    assert result.signature.feature_names == tuple(frame.columns)
    got = run_artifact(result.artifacts["coreml"], X)
    np.testing.assert_array_equal(got["label"], model.predict(frame).reshape(-1))


def test_truncated_catboost_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = telco()[["tenure", "monthly_charges"]]
    model = cb.CatBoostClassifier(iterations=3, depth=2, verbose=0, allow_writing_files=False)
    model.fit(frame, telco()["churn"])
    model.save_model(str(tmp_path / "model.cbm"))
    payload = (tmp_path / "model.cbm").read_bytes()
    (tmp_path / "cut.cbm").write_bytes(payload[: len(payload) // 2])
    code = main(["export", str(tmp_path / "cut.cbm"), "--out", str(tmp_path / "out")])
    _assert_refused(code, capsys.readouterr().err, "cut.cbm", "CatBoost cannot load it")
    _nothing_written(tmp_path)


# ----------------------------------------------------------------------------------------------------------------
# Categorical features: one-hot (one_hot_max_size) and single-feature CTRs, strings in, against CatBoost itself

TELCO_CATS = ["contract", "internet_service", "payment_method", "multiple_lines"]
HOMES_CATS = ["city", "zip", "type"]
UNSEEN = ["", "mlexport-unseen", "one year", "Sacramento", "z0"]  # near-misses of real categories, "" included


def _categorical_case(kind: str) -> tuple[object, pd.DataFrame]:
    common = {"iterations": 25, "depth": 4, "verbose": 0, "random_seed": 0, "allow_writing_files": False,
              "thread_count": 1, "max_ctr_complexity": 1}
    if kind == "homes-rmse":  # Borders + Counter CTRs on city and zip, one-hot on type
        frame = pd.read_csv(DATA / "sacramento_homes_boosting.csv")
        X = frame[["city", "zip", "beds", "baths", "sqft", "type"]]
        model = cb.CatBoostRegressor(cat_features=HOMES_CATS, one_hot_max_size=3, **common)
        return model.fit(X, frame["price"] / 1e5), X
    frame = telco()
    if kind == "telco-logloss":  # one-hot contract/internet_service/multiple_lines, CTRs on payment_method
        X = frame[["tenure", "monthly_charges", "total_charges", *TELCO_CATS]]
        model = cb.CatBoostClassifier(cat_features=TELCO_CATS, one_hot_max_size=3, **common)
        return model.fit(X, frame["churn"]), X
    if kind == "telco-buckets":  # MultiClass with Buckets CTRs (a count per class)
        X = frame[["tenure", "monthly_charges", "payment_method", "internet_service", "online_security"]]
        model = cb.CatBoostClassifier(cat_features=["payment_method", "internet_service", "online_security"],
                                      one_hot_max_size=3, loss_function="MultiClass", simple_ctr=["Buckets"],
                                      **common)
        return model.fit(X, frame["contract"]), X
    # MultiClass: Borders CTRs per class border (target_border_idx 0..2) and Counter CTRs
    X = frame[["tenure", "monthly_charges", "total_charges", "payment_method", "internet_service", "multiple_lines"]]
    model = cb.CatBoostClassifier(cat_features=["payment_method", "internet_service", "multiple_lines"],
                                  one_hot_max_size=3, loss_function="MultiClass", **common)
    return model.fit(X, frame["contract"]), X


def _with_unseen(X: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """X, plus for every categorical column rows holding each unseen near-miss string."""
    parts = [X]
    for column in columns:
        block = X.iloc[np.arange(len(UNSEEN)) * 7].copy()
        block[column] = UNSEEN
        parts.append(block)
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("kind", ["telco-logloss", "telco-multiclass", "telco-buckets", "homes-rmse"])
def test_categorical_features_match_catboost(tmp_path: Path, kind: str) -> None:
    model, X = _categorical_case(kind)
    splits = {s["split_type"] for t in _json(model)["oblivious_trees"] for s in t["splits"]}
    assert {"OneHotFeature", "OnlineCtr"} <= splits  # both kinds of categorical split are exercised
    model.save_model(str(tmp_path / "model.cbm"))  # type: ignore[attr-defined]
    source = model if kind == "telco-buckets" else tmp_path / "model.cbm"  # the in-memory wrapper, or its file
    result = export_model(source, tmp_path / "out", ExportOptions(), data=X)
    assert result.parity_verdict == "passed", result.parity_summary
    if kind == "homes-rmse":
        assert main(["parity", str(tmp_path / "out")]) == 0  # re-checked from the export's own .cbm copy
    columns = [c for c in X.columns if X[c].dtype == object or str(X[c].dtype) in ("str", "string")]
    rows = _with_unseen(X, columns)
    for artifact in ("coreml", "onnx"):
        got = _run_frame(result.artifacts[artifact], rows, columns)
        if kind == "homes-rmse":
            np.testing.assert_allclose(got["prediction"].reshape(-1), model.predict(rows),  # type: ignore[attr-defined]
                                       rtol=1e-12, atol=1e-13)
        else:
            np.testing.assert_allclose(got["probabilities"], model.predict_proba(rows),  # type: ignore[attr-defined]
                                       rtol=1e-12, atol=1e-15)
            np.testing.assert_array_equal(got["label"], model.predict(rows).reshape(-1))  # type: ignore[attr-defined]


def _json(model: object) -> dict:
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        model.save_model(f"{tmp}/m.json", format="json")  # type: ignore[attr-defined]
        return json.loads(Path(f"{tmp}/m.json").read_text())


def _run_frame(path: Path, rows: pd.DataFrame, strings: list[str]) -> dict[str, np.ndarray]:
    """An artifact's outputs on a DataFrame with string columns, fed as an app feeds them (parity's schema)."""
    from parity.columns import InputColumn, InputSchema
    from parity.runtimes import open_artifact

    schema = InputSchema([InputColumn(c, "string" if c in strings else "double",
                                      "str" if c in strings else "float64") for c in rows.columns])
    X = schema.encode_frame(rows, "rows")
    artifact = open_artifact(path)
    artifact.bind(list(rows.columns), len(rows.columns), schema)
    return artifact.predict(X)


def test_categorical_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = telco()
    cats = ["contract", "payment_method", "internet_service", "tech_support"]
    combos = cb.CatBoostClassifier(iterations=10, depth=4, verbose=0, allow_writing_files=False, random_seed=0,
                                   cat_features=cats, one_hot_max_size=1, max_ctr_complexity=2,
                                   thread_count=1).fit(frame[["tenure", *cats]], frame["churn"])
    assert any(len(c["elements"]) > 1 for c in _json(combos)["features_info"]["ctrs"])
    combos.save_model(str(tmp_path / "combo.cbm"))
    frame[["tenure", *cats]].to_csv(tmp_path / "rows.csv", index=False)
    code = main(["export", str(tmp_path / "combo.cbm"), "--out", str(tmp_path / "out"), "--data",
                 str(tmp_path / "rows.csv")])
    _assert_refused(code, capsys.readouterr().err, "combo.cbm", "CTR over the feature combination")
    X = frame[["tenure", "contract", "payment_method"]]
    single = cb.CatBoostClassifier(iterations=8, depth=3, verbose=0, allow_writing_files=False, random_seed=0,
                                   cat_features=["contract", "payment_method"], one_hot_max_size=3,
                                   max_ctr_complexity=1).fit(X, frame["churn"])
    single.save_model(str(tmp_path / "single.cbm"))
    code = main(["export", str(tmp_path / "single.cbm"), "--out", str(tmp_path / "out")])  # no rows: no strings
    _assert_refused(code, capsys.readouterr().err, "single.cbm", "stores only hashes")
    # Rows missing a training category the splits read: its row would silently be the default, so refused.
    partial = X[X["payment_method"] != "Electronic check"]
    partial.to_csv(tmp_path / "partial.csv", index=False)
    code = main(["export", str(tmp_path / "single.cbm"), "--out", str(tmp_path / "out"), "--data",
                 str(tmp_path / "partial.csv")])
    _assert_refused(code, capsys.readouterr().err, "single.cbm", "payment_method")
    _nothing_written(tmp_path)
