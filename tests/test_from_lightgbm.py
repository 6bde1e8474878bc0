"""LightGBM text models -> Core ML and ONNX, checked against LightGBM's own predictions on real rows (telco churn
with missing total_charges and 0/1 columns, whose splits sit at LightGBM's zero band ±1e-35; Sacramento homes) and
at, next to and inside the zero band around every split threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from export.cli import main
from export.exporter import ExportOptions, export_model
from tests.boosting_data import at_thresholds, homes_xy, run_artifact, telco_xy
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
