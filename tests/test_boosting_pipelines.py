"""The boosting libraries' sklearn-API wrappers as the final step of a scikit-learn Pipeline saved with skops
(issue 12 item 3): loaded against the reviewed allowlist (export/loading.py BOOSTING_SKOPS_TYPES, each embedded
model checked by our own reader first), exported through the CLI, and checked against the Pipeline's own
predictions on real rows."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from export.cli import main
from export.loading import load_model
from tests.boosting_data import HOMES_NUMERIC, TELCO_NUMERIC, homes, run_artifact, telco
from tests.test_cli_bad_input import _assert_refused, _nothing_written

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")
cb = pytest.importorskip("catboost")


def _case(kind: str) -> tuple[Any, pd.DataFrame]:
    if kind == "xgboost-classifier":  # NaN in total_charges passes the scaler and XGBoost routes it
        X = telco()[TELCO_NUMERIC]
        model = make_pipeline(StandardScaler(), xgb.XGBClassifier(n_estimators=20, max_depth=3, n_jobs=1))
        return model.fit(X, telco()["churn"] == "Yes"), X
    if kind == "lightgbm-regressor":
        X = homes()[HOMES_NUMERIC]
        scale = ColumnTransformer([("scaled", MinMaxScaler(), [2, 3, 4])], remainder="passthrough")
        model = make_pipeline(scale, lgb.LGBMRegressor(n_estimators=20, num_leaves=8, verbose=-1, n_jobs=1))
        return model.fit(X, homes()["price"] / 1e5), X
    X = telco()[TELCO_NUMERIC]
    model = make_pipeline(StandardScaler(), cb.CatBoostClassifier(iterations=20, depth=3, verbose=0,
                                                                  thread_count=1, allow_writing_files=False))
    return model.fit(X, telco()["contract"]), X  # three classes


@pytest.mark.parametrize("kind", ["xgboost-classifier", "lightgbm-regressor", "catboost-classifier"])
def test_wrapper_pipeline_from_skops(tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    model, X = _case(kind)
    sio.dump(model, tmp_path / "model.skops")
    X.to_csv(tmp_path / "rows.csv", index=False)
    out = tmp_path / "out"
    code = main(["export", str(tmp_path / "model.skops"), "--out", str(out), "--data", str(tmp_path / "rows.csv")])
    assert code == 0, capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parity"]["verdict"] == "passed"
    library = kind.split("-")[0]  # the embedded model's own record of its training version (LightGBM has none)
    recorded = {"xgboost": xgb.__version__, "lightgbm": None, "catboost": cb.__version__}[library]
    assert manifest["trained_with"]["trained"][library] == recorded
    assert manifest["trained_with"]["mismatch"] is None
    loaded = load_model(tmp_path / "model.skops")  # what the export read, through the allowlist
    for artifact in ("coreml", "onnx"):
        got = run_artifact(out / f"model.{'mlmodel' if artifact == 'coreml' else 'onnx'}", X.to_numpy())
        if kind == "lightgbm-regressor":
            np.testing.assert_allclose(got["prediction"].reshape(-1), model.predict(X), rtol=1e-12, atol=1e-12)
            np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
        else:
            # XGBoost sums float32 leaves, the artifacts sum in double: bounded well below 1e-6 at 20 trees
            atol = 1e-6 if kind.startswith("xgboost") else 1e-15
            np.testing.assert_allclose(got["probabilities"], model.predict_proba(X), rtol=0, atol=atol)
            np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def _edit_schema(path: Path, edit: Any) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    schema = json.loads(members["schema.json"])
    edit(schema)
    members["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _booster_state(schema: dict[str, Any]) -> dict[str, Any]:
    wrapper = schema["content"]["content"]["steps"]["content"][1]["content"][1]
    return wrapper["content"]["content"]["_Booster"]["content"]["content"]  # type: ignore[no-any-return]


def test_edited_embedded_models_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, _ = _case("lightgbm-regressor")
    sio.dump(model, tmp_path / "lgbm.skops")

    def cut_text(schema: dict[str, Any]) -> None:  # a truncated LightGBM text model inside the archive
        state = _booster_state(schema)
        text = json.loads(state["_handle"]["content"])
        state["_handle"]["content"] = json.dumps(text[: len(text) // 2])

    _edit_schema(tmp_path / "lgbm.skops", cut_text)
    code = main(["export", str(tmp_path / "lgbm.skops"), "--out", str(tmp_path / "out")])
    _assert_refused(code, capsys.readouterr().err, "lgbm.skops", "_Booster")
    model, _ = _case("xgboost-classifier")
    sio.dump(model, tmp_path / "xgb.skops")
    with zipfile.ZipFile(tmp_path / "xgb.skops") as archive:
        name = _booster_state(json.loads(archive.read("schema.json")))["handle"]["file"]
        members = {n: archive.read(n) for n in archive.namelist()}
    members[name] = members[name][: len(members[name]) // 2]  # a truncated XGBoost buffer
    with zipfile.ZipFile(tmp_path / "xgb.skops", "w") as archive:
        for n, data in members.items():
            archive.writestr(n, data)
    code = main(["export", str(tmp_path / "xgb.skops"), "--out", str(tmp_path / "out")])
    _assert_refused(code, capsys.readouterr().err, "xgb.skops", "XGBoost Booster")
    _nothing_written(tmp_path)


def test_categorical_catboost_in_a_pipeline_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    X = telco()[["tenure", "contract"]]
    scale = ColumnTransformer([("scaled", StandardScaler(), [0])], remainder="passthrough")
    model = make_pipeline(scale, cb.CatBoostClassifier(iterations=3, depth=2, verbose=0, allow_writing_files=False,
                                                       cat_features=[1], thread_count=1))
    model.fit(X, telco()["churn"])
    sio.dump(model, tmp_path / "model.skops")
    code = main(["export", str(tmp_path / "model.skops"), "--out", str(tmp_path / "out")])
    _assert_refused(code, capsys.readouterr().err, "model.skops", "categorical features")
    _nothing_written(tmp_path)


def test_xgboost_missing_parameter_in_a_pipeline_is_refused(tmp_path: Path) -> None:
    """A wrapper's missing=-999 whose splits route -999 away from their default child: no exact double test."""
    from export.errors import UsageError
    from export.exporter import ExportOptions, export_model

    X = telco()[TELCO_NUMERIC].fillna(-999.0)
    model = make_pipeline(StandardScaler(with_mean=False, with_std=False),
                          xgb.XGBClassifier(n_estimators=5, max_depth=3, n_jobs=1, missing=-999.0))
    model.fit(X, telco()["churn"] == "Yes")
    with pytest.raises(UsageError, match="inside a Pipeline"):
        export_model(model, tmp_path / "out", ExportOptions(), data=X)
    assert not (tmp_path / "out").exists()
