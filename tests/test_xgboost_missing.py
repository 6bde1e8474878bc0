"""XGBoost's call-time `missing` value (issue 12 item 2): not in the model file, so given as `--missing VALUE` /
`export_model(..., missing=)` or read from an in-memory wrapper's own parameter. Checked against XGBoost predicting
with that `missing` on real rows (telco churn with its NaNs written as the sentinel -999)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from export.cli import main
from export.exporter import ExportOptions, export_model
from tests.boosting_data import run_artifact, telco_xy
from tests.test_cli_bad_input import _assert_refused, _nothing_written

xgb = pytest.importorskip("xgboost")
SENTINEL = -999.0


def _sentinel_rows() -> tuple[np.ndarray, np.ndarray]:
    X, churn, _ = telco_xy()
    return np.where(np.isnan(X), SENTINEL, X), churn


@pytest.fixture(scope="module")
def sentinel_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, np.ndarray]:
    X, churn = _sentinel_rows()
    X = X.copy()
    X[::9, 3] = SENTINEL  # the sentinel in a second column too
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "nthread": 1, "seed": 0},
                        xgb.DMatrix(X, label=churn, missing=SENTINEL), num_boost_round=20)
    folder = tmp_path_factory.mktemp("missing")
    booster.save_model(str(folder / "model.json"))
    np.save(folder / "rows.npy", X)
    return folder, booster, X


def _probe_rows(X: np.ndarray) -> np.ndarray:
    """X plus each column set to the sentinel, to NaN and to a double that rounds to float32(sentinel)."""
    near = float(np.nextafter(SENTINEL, 0.0))  # float32(near) == -999: missing to XGBoost, a number to a double test
    blocks = [X]
    for j in range(X.shape[1]):
        for value in (SENTINEL, np.nan, near):
            block = X[:40].copy()
            block[:, j] = value
            blocks.append(block)
    return np.vstack(blocks)


def test_missing_value_matches_xgboost(sentinel_model: tuple[Path, object, np.ndarray],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    folder, booster, X = sentinel_model
    out = folder / "out"
    code = main(["export", str(folder / "model.json"), "--out", str(out), "--data", str(folder / "rows.npy"),
                 "--missing", "-999", "--input-dtype", "float32"])
    assert code == 0, capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["missing"] == SENTINEL and manifest["parity"]["verdict"] == "passed"
    assert "missing-value" in {p["name"] for p in json.loads((out / "parity.json").read_text())["probes"]}
    rows = _probe_rows(X).astype(np.float32).astype(np.float64)  # the float32 contract
    expected = booster.predict(xgb.DMatrix(rows, missing=SENTINEL))  # type: ignore[attr-defined]
    as_numbers = booster.predict(xgb.DMatrix(rows, missing=np.nan))  # type: ignore[attr-defined]
    assert np.abs(expected - as_numbers).max() > 0.05  # the sentinel matters: treating it as a number is wrong
    for artifact in ("model.mlmodel", "model.onnx"):
        got = run_artifact(out / artifact, rows)["probabilities"][:, 1]
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)  # float32 sums of 20 trees vs double
    assert main(["parity", str(out)]) == 0  # the re-check predicts with the recorded missing value


def test_float64_contract_with_a_routing_sentinel_is_refused(sentinel_model: tuple[Path, object, np.ndarray],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    folder, _, _ = sentinel_model
    code = main(["export", str(folder / "model.json"), "--out", str(folder / "f64"), "--missing", "-999"])
    _assert_refused(code, capsys.readouterr().err, "model.json", "float32(-999.0)", "--input-dtype float32")
    code = main(["export", str(folder / "model.json"), "--out", str(folder / "f64"), "--missing", "abc"])
    assert code == 2 and "'abc' is not a number" in capsys.readouterr().err
    _nothing_written(folder, "f64")


def test_missing_for_another_library_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import lightgbm

    X, churn = _sentinel_rows()
    booster = lightgbm.train({"verbose": -1, "num_iterations": 3}, lightgbm.Dataset(X, churn))
    booster.save_model(str(tmp_path / "model.txt"))
    code = main(["export", str(tmp_path / "model.txt"), "--out", str(tmp_path / "out"), "--missing", "-999"])
    _assert_refused(code, capsys.readouterr().err, "model.txt", "--missing is XGBoost's")
    _nothing_written(tmp_path)


def test_wrapper_missing_parameter(tmp_path: Path) -> None:
    X, churn = _sentinel_rows()
    model = xgb.XGBClassifier(n_estimators=10, max_depth=3, missing=SENTINEL, n_jobs=1).fit(X, churn)
    result = export_model(model, tmp_path / "out", ExportOptions(input_dtype="float32"), data=X)
    assert result.parity_verdict == "passed", result.parity_summary
    assert result.manifest["options"]["missing"] == SENTINEL  # the wrapper's own, recorded for `parity DIR`
    rows = _probe_rows(X).astype(np.float32).astype(np.float64)
    got = run_artifact(result.artifacts["onnx"], rows)["probabilities"]
    np.testing.assert_allclose(got, model.predict_proba(rows), rtol=0, atol=1e-6)
    with pytest.raises(Exception, match="differs from the wrapper's own missing"):
        export_model(model, tmp_path / "other", ExportOptions(input_dtype="float32"), missing=-1.0)
