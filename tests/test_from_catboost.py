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
from tests.boosting_data import at_thresholds, homes_xy, run_artifact, telco, telco_xy
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


def test_categorical_and_truncated_catboost_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = telco()[["tenure", "contract", "payment_method"]].copy()
    model = cb.CatBoostClassifier(iterations=3, depth=2, verbose=0, allow_writing_files=False,
                                  cat_features=["contract", "payment_method"], one_hot_max_size=3)
    model.fit(frame, telco()["churn"])
    model.save_model(str(tmp_path / "cat.cbm"))
    code = main(["export", str(tmp_path / "cat.cbm"), "--out", str(tmp_path / "out")])
    _assert_refused(code, capsys.readouterr().err, "cat.cbm", "categorical (one-hot or CTR)")
    payload = (tmp_path / "cat.cbm").read_bytes()
    (tmp_path / "cut.cbm").write_bytes(payload[: len(payload) // 2])
    code = main(["export", str(tmp_path / "cut.cbm"), "--out", str(tmp_path / "out")])
    _assert_refused(code, capsys.readouterr().err, "cut.cbm", "CatBoost cannot load it")
    _nothing_written(tmp_path)
