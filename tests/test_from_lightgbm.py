"""LightGBM text models -> Core ML and ONNX, checked against LightGBM's own predictions on real rows (telco churn
with missing total_charges and 0/1 columns, whose splits sit at LightGBM's zero band ±1e-35; Sacramento homes) and
at, next to and inside the zero band around every split threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from export.cli import main
from export.exporter import ExportOptions, export_model
from tests.boosting_data import (
    CHURN_STRINGS,
    as_categories,
    at_thresholds,
    churn_categories,
    homes_xy,
    run_artifact,
    run_artifact_frame,
    string_probe_frame,
    telco_xy,
)
from tests.test_cli_bad_input import _assert_refused, _nothing_written

lgb = pytest.importorskip("lightgbm")
K_ZERO = float(np.float32(1e-35))


def _train(objective: str, extra: dict | None = None) -> tuple[object, np.ndarray]:
    X, churn, contract = telco_xy()
    Xh, price = homes_xy()
    params = {"objective": objective, "num_leaves": 6, "min_data_in_leaf": 5, "verbose": -1, "seed": 0,
              **(extra or {})}
    if objective == "multiclass":
        X, y = X, contract
        params["num_class"] = 3
    elif objective == "binary":
        X, y = X, churn
    elif objective == "cross_entropy":
        X, y = Xh, (price - price.min()) / np.ptp(price)
    elif objective == "poisson":
        X, y = Xh, Xh[:, 0]
    else:
        X, y = Xh, price
    return lgb.train(params, lgb.Dataset(X, y), num_boost_round=5), X


def _probe_rows(booster: object, X: np.ndarray) -> np.ndarray:
    """Real rows, rows at every split threshold (from LightGBM's own dump) and its double neighbours, and rows
    with values inside and at the edges of the zero band."""
    features, thresholds = [], []
    stack = [info["tree_structure"] for info in booster.dump_model()["tree_info"]]  # type: ignore[attr-defined]
    while stack:
        node = stack.pop()
        if "split_index" in node:
            features.append(node["split_feature"])
            thresholds.append(node["threshold"])
            stack += [node["left_child"], node["right_child"]]
    features_array = np.asarray(features)
    band = np.array([0.0, -0.0, K_ZERO, -K_ZERO, np.nextafter(K_ZERO, 1), np.nextafter(-K_ZERO, -1), 1e-36])
    band_rows = np.repeat(np.nan_to_num(X[:1]), len(band) * X.shape[1], axis=0)
    band_rows[np.arange(len(band_rows)), np.tile(np.arange(X.shape[1]), len(band))] = np.repeat(band, X.shape[1])
    return np.vstack([X, at_thresholds(np.nan_to_num(X), features_array, np.asarray(thresholds), float32=False),
                      band_rows])


CASES = [("binary", {}), ("binary", {"sigmoid": 0.7}), ("multiclass", {}), ("regression", {}),
         ("regression_l1", {}), ("huber", {}), ("quantile", {"alpha": 0.3}), ("poisson", {}), ("gamma", {}),
         ("tweedie", {}), ("cross_entropy", {}), ("regression", {"boosting": "dart", "drop_rate": 0.5})]


@pytest.mark.parametrize(("objective", "extra"), CASES, ids=[f"{o}-{len(e)}" for o, e in CASES])
def test_export_matches_lightgbm(tmp_path: Path, objective: str, extra: dict) -> None:
    booster, X = _train(objective, extra)
    booster.save_model(str(tmp_path / "model.txt"))  # type: ignore[attr-defined]
    with_parity = objective in ("binary", "multiclass", "poisson") and not extra
    result = export_model(tmp_path / "model.txt", tmp_path / "out", ExportOptions(run_parity=with_parity), data=X)
    assert result.parity_verdict == ("passed" if with_parity else "skipped"), result.parity_summary
    rows = _probe_rows(booster, X)
    expected = np.asarray(booster.predict(rows), dtype=np.float64)  # type: ignore[attr-defined]
    for kind in ("coreml", "onnx"):
        got = run_artifact(result.artifacts[kind], rows)
        if objective == "binary":
            np.testing.assert_array_equal(got["label"], (expected > 0.5).astype(np.int64))
            np.testing.assert_allclose(got["probabilities"][:, 1], expected, rtol=1e-12, atol=1e-15)
        elif objective == "multiclass":
            np.testing.assert_array_equal(got["label"], np.argmax(expected, axis=1))
            np.testing.assert_allclose(got["probabilities"], expected, rtol=1e-12, atol=1e-15)
        elif objective in ("poisson", "gamma", "tweedie") and kind == "coreml":
            # Core ML applies exp in its float32 neural-network stage
            np.testing.assert_allclose(got["prediction"].reshape(-1), expected, rtol=5e-6)
        else:
            np.testing.assert_allclose(got["prediction"].reshape(-1), expected, rtol=1e-12, atol=1e-13)


def test_classifier_wrapper_with_string_labels(tmp_path: Path) -> None:
    X, churn, _ = telco_xy()
    labels = np.where(churn == 1, "churned", "stayed")
    model = lgb.LGBMClassifier(n_estimators=4, num_leaves=6, verbose=-1).fit(X, labels)
    result = export_model(model, tmp_path / "out", ExportOptions(), data=X)
    assert result.parity_verdict == "passed", result.parity_summary
    for kind in ("coreml", "onnx"):
        got = run_artifact(result.artifacts[kind], X)
        np.testing.assert_array_equal(got["label"], model.predict(X))
        np.testing.assert_allclose(got["probabilities"], model.predict_proba(X), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("params", "needle"), [
    ({"objective": "regression", "linear_tree": True}, "linear tree"),
    ({"objective": "regression", "boosting": "rf", "bagging_freq": 1, "bagging_fraction": 0.5}, "boosting='rf'"),
    ({"objective": "multiclassova", "num_class": 3}, "objective 'multiclassova' is not supported"),
    ({"objective": "regression", "reg_sqrt": True}, "reg_sqrt"),
], ids=["linear", "rf", "ova", "sqrt"])
def test_refused_lightgbm_models(tmp_path: Path, capsys: pytest.CaptureFixture[str], params: dict,
                                 needle: str) -> None:
    X, _, contract = telco_xy()
    y = contract if params["objective"] == "multiclassova" else np.nan_to_num(X[:, 1])
    booster = lgb.train({**params, "verbose": -1, "num_leaves": 4}, lgb.Dataset(np.nan_to_num(X), y),
                        num_boost_round=2)
    booster.save_model(str(tmp_path / "model.txt"))
    code = main(["export", str(tmp_path / "model.txt"), "--out", str(tmp_path / "out")])
    _assert_refused(code, capsys.readouterr().err, "model.txt", needle)
    _nothing_written(tmp_path)


def test_truncated_and_edited_lightgbm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    booster, _ = _train("regression")
    text = booster.model_to_string()  # type: ignore[attr-defined]
    cases = [(text[: len(text) // 2], "truncated"),
             (text.replace("left_child=", "left_child=7 ", 1), "left_child"),
             (text.replace("objective=regression", "objective=lambdarank", 1), "objective 'lambdarank'"),
             (text.replace("split_feature=", "split_feature=9", 1), "feature 9")]
    for payload, needle in cases:
        (tmp_path / "model.txt").write_text(payload)
        code = main(["export", str(tmp_path / "model.txt"), "--out", str(tmp_path / "out")])
        _assert_refused(code, capsys.readouterr().err, "model.txt", needle)
    _nothing_written(tmp_path)


# ----------------------------------------------------------------------------------------------------------------
# Categorical splits (bitsets), pandas category columns (string inputs) and integer codes


_CATEGORICAL = {"num_leaves": 7, "min_data_in_leaf": 5, "min_data_per_group": 5, "cat_smooth": 1.0,
                "verbose": -1, "seed": 0, "num_threads": 1}


def _train_categorical(task: str) -> tuple[object, pd.DataFrame, list[str]]:
    """A Booster trained on real telco rows with pandas category columns (missing strings and numbers included)."""
    X, churn = churn_categories()
    strings = list(CHURN_STRINGS)
    if task == "binary":
        params, y = {"objective": "binary"}, (churn == "Yes").to_numpy().astype(int)
    elif task == "multiclass":  # internet service (3 classes) from the rest
        y = X.pop("internet_service").cat.codes.to_numpy()
        strings.remove("internet_service")
        params = {"objective": "multiclass", "num_class": 3}
    else:
        y = X.pop("monthly_charges").to_numpy()
        params = {"objective": "regression"}
    booster = lgb.train({**_CATEGORICAL, **params}, lgb.Dataset(X, y), num_boost_round=8)
    return booster, X, strings


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_pandas_categories_export_string_inputs_matching_lightgbm(tmp_path: Path, task: str) -> None:
    booster, X, strings = _train_categorical(task)
    text = booster.model_to_string()  # type: ignore[attr-defined]
    assert "pandas_categorical:[[" in text and "num_cat=0" not in text.split("Tree=0")[1].split("Tree=1")[0]
    (tmp_path / "model.txt").write_text(text)
    result = export_model(tmp_path / "model.txt", tmp_path / "out", ExportOptions(), data=X)
    assert result.parity_verdict == "passed", result.parity_summary
    rows = string_probe_frame(X, strings)
    expected = np.asarray(booster.predict(as_categories(rows, strings)), dtype=np.float64)  # type: ignore[attr-defined]
    # LightGBM's own rule for an unseen category: pandas maps it to NaN, the same as a missing value
    unseen, missing = rows[strings[0]] == "never seen in training", rows[strings[0]].isna()
    np.testing.assert_array_equal(expected[unseen.to_numpy()], expected[missing.to_numpy()])
    for kind in ("coreml", "onnx"):
        got = run_artifact_frame(result.artifacts[kind], rows, strings)
        assert [i for i in ("contract", "payment_method") if i in strings]
        if task == "binary":
            np.testing.assert_allclose(got["probabilities"][:, 1], expected, rtol=1e-12, atol=1e-15)
        elif task == "multiclass":
            np.testing.assert_allclose(got["probabilities"], expected, rtol=1e-12, atol=1e-15)
        else:
            np.testing.assert_allclose(got["prediction"].reshape(-1), expected, rtol=1e-12, atol=1e-13)


def test_classifier_wrapper_on_category_columns_with_string_labels(tmp_path: Path) -> None:
    X, churn = churn_categories()
    model = lgb.LGBMClassifier(n_estimators=6, **_CATEGORICAL).fit(X, churn)
    result = export_model(model, tmp_path / "out", ExportOptions(), data=X)
    assert result.parity_verdict == "passed", result.parity_summary
    rows = string_probe_frame(X, CHURN_STRINGS)
    for kind in ("coreml", "onnx"):
        got = run_artifact_frame(result.artifacts[kind], rows, CHURN_STRINGS)
        np.testing.assert_array_equal(got["label"], model.predict(as_categories(rows, CHURN_STRINGS)))


# Odd codes: LightGBM truncates toward 0 (-0.5 and 0.99 are code 0), sends NaN, negative, unseen and huge codes right
ODD_CODES = np.array([np.nan, -np.inf, -2.0, -1.0, np.nextafter(-1.0, 0), -0.5, -1e-40, -0.0, 0.0, 1e-40, 0.5,
                      np.nextafter(1.0, 0), 1.0, 1.5, 2.0, 2.99, 3.0, 3.7, 31.0, 32.0, 33.5, 40.0, 63.0, 64.0, 71.0,
                      72.0, 73.0, 1000.0, 2.0**31 - 1, 2.0**31 + 5, 1e300, np.inf])


@pytest.mark.parametrize("objective", ["binary", "regression"])
def test_integer_coded_categoricals_keep_a_numeric_input(tmp_path: Path, objective: str) -> None:
    """categorical_feature on a numpy array: tenure (0..72, bitsets over three 32-bit words) and contract codes,
    next to senior_citizen/partner/dependents; the target churn, or monthly charges."""
    features, churn, contract = telco_xy()
    X = np.column_stack([features[:, [0, 3, 4, 5]], contract.astype(np.float64)])
    y = churn if objective == "binary" else features[:, 1]
    params = {**_CATEGORICAL, "objective": objective, "max_cat_to_onehot": 2, "max_cat_threshold": 64}
    booster = lgb.train(params, lgb.Dataset(X, y, categorical_feature=[0, 4]), num_boost_round=8)
    dump = booster.dump_model()
    sets = [n["threshold"] for info in dump["tree_info"] for n in _nodes(info["tree_structure"])
            if n.get("decision_type") == "=="]
    assert any(max(int(c) for c in s.split("||")) >= 32 for s in sets)  # a bitset of more than one word
    booster.save_model(str(tmp_path / "model.txt"))
    result = export_model(tmp_path / "model.txt", tmp_path / "out", ExportOptions(), data=X)
    assert result.parity_verdict == "passed", result.parity_summary
    rows = np.repeat(X[:6], len(ODD_CODES) * 2, axis=0)
    column = np.tile(np.repeat([0, 4], len(ODD_CODES)), 6)
    rows[np.arange(len(rows)), column] = np.tile(ODD_CODES, 12)
    rows = np.vstack([X, rows])
    expected = np.asarray(booster.predict(rows), dtype=np.float64)
    for kind in ("coreml", "onnx"):
        got = run_artifact(result.artifacts[kind], rows)
        values = got["probabilities"][:, 1] if objective == "binary" else got["prediction"].reshape(-1)
        np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-15)


def _nodes(tree: dict) -> list[dict]:
    out, stack = [], [tree]
    while stack:
        node = stack.pop()
        if "split_index" in node:
            out.append(node)
            stack += [node["left_child"], node["right_child"]]
    return out


def test_cli_exports_categorical_text_model_with_string_csv(tmp_path: Path) -> None:
    booster, X, _ = _train_categorical("binary")
    booster.save_model(str(tmp_path / "model.txt"))  # type: ignore[attr-defined]
    X.to_csv(tmp_path / "rows.csv", index=False)  # strings in the CSV, empty cells for missing values
    code = main(["export", str(tmp_path / "model.txt"), "--out", str(tmp_path / "out"), "--data",
                 str(tmp_path / "rows.csv")])
    assert code == 0
    assert '"verdict": "passed"' in (tmp_path / "out" / "parity.json").read_text()


@pytest.mark.parametrize("kind", ["ordered", "integer-categories", "empty-string"])
def test_refused_pandas_categorical_models(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    X, churn = churn_categories()
    X = X[["contract", "tenure"]].copy()
    needle = {"ordered": "ordered categories", "integer-categories": "non-string categories",
              "empty-string": "empty string"}[kind]
    if kind == "ordered":
        X["contract"] = X["contract"].cat.as_ordered()
    elif kind == "integer-categories":
        X["contract"] = X["contract"].cat.codes.astype("category")
    else:
        X["contract"] = X["contract"].cat.rename_categories({"One year": ""})
    booster = lgb.train({**_CATEGORICAL, "objective": "binary"}, lgb.Dataset(X, (churn == "Yes").astype(int)),
                        num_boost_round=2)
    booster.save_model(str(tmp_path / "model.txt"))
    code = main(["export", str(tmp_path / "model.txt"), "--out", str(tmp_path / "out")])
    _assert_refused(code, capsys.readouterr().err, "model.txt", needle)
    _nothing_written(tmp_path)


def test_edited_categorical_lightgbm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    booster, _, _ = _train_categorical("binary")
    text = booster.model_to_string()  # type: ignore[attr-defined]
    first = text.index("Tree=0")
    tree0 = text[first:text.index("Tree=1")]
    cases = [(tree0.replace("cat_boundaries=0 1 2", "cat_boundaries=0 3 2"), "cat_boundaries"),
             (tree0.replace("cat_threshold=1 2", "cat_threshold=1 x"), "cat_threshold"),
             (tree0.replace("cat_threshold=1 2", "cat_threshold=1 4294967296"), "32-bit word"),
             (tree0.replace("threshold=0 ", "threshold=7 ", 1), "cat_boundaries index")]
    for edited, needle in cases:
        assert edited != tree0
        (tmp_path / "model.txt").write_text(text[:first] + edited + text[first + len(tree0):])
        code = main(["export", str(tmp_path / "model.txt"), "--out", str(tmp_path / "out")])
        _assert_refused(code, capsys.readouterr().err, "model.txt", needle)
    (tmp_path / "model.txt").write_text(text.replace("pandas_categorical:[[", "pandas_categorical:[{", 1))
    code = main(["export", str(tmp_path / "model.txt"), "--out", str(tmp_path / "out")])
    _assert_refused(code, capsys.readouterr().err, "model.txt", "pandas_categorical")
    _nothing_written(tmp_path)
