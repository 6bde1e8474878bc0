"""Bad boosting model files: one-line errors, exit 2, nothing written (truncated, edited, not-a-model JSON, unknown
objective, unsupported booster or tree kind, missing library)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from export.cli import main
from tests.boosting_data import telco_xy
from tests.test_cli_bad_input import _assert_refused, _nothing_written, _run

xgb = pytest.importorskip("xgboost")


@pytest.fixture(scope="module")
def xgb_json(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    X, churn, _ = telco_xy()
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2}, xgb.DMatrix(X, label=churn),
                        num_boost_round=2)
    return bytes(booster.save_raw(raw_format="json"))


def _export(tmp_path: Path, name: str, payload: bytes, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / name
    path.write_bytes(payload)
    return _run(["export", str(path), "--out", str(tmp_path / "out")], capsys)


def _edited(payload: bytes, edit: object) -> bytes:
    document = json.loads(payload)
    edit(document)  # type: ignore[operator]
    return json.dumps(document).encode()


def _tree(document: dict) -> dict:
    return document["learner"]["gradient_booster"]["model"]["trees"][0]


def test_truncated_xgboost_json_and_ubj(tmp_path: Path, xgb_json: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _export(tmp_path, "model.json", xgb_json[: len(xgb_json) // 2], capsys)
    _assert_refused(code, err, "model.json", "not readable JSON")
    booster = xgb.Booster()
    booster.load_model(bytearray(xgb_json))
    ubj = bytes(booster.save_raw(raw_format="ubj"))
    code, err = _export(tmp_path, "model.ubj", ubj[:-40], capsys)
    _assert_refused(code, err, "model.ubj", "not readable UBJSON", "truncated")
    _nothing_written(tmp_path)


@pytest.mark.parametrize(("edit", "needle"), [
    (lambda d: _tree(d)["left_children"].__setitem__(0, 99), "child index is out of range"),
    (lambda d: _tree(d)["left_children"].__setitem__(1, 0), "reached twice"),
    (lambda d: _tree(d)["split_indices"].__setitem__(0, 40), "uses feature 40"),
    (lambda d: _tree(d)["split_conditions"].pop(), "different lengths"),
    (lambda d: d["learner"]["objective"].__setitem__("name", "rank:pairwise"), "objective 'rank:pairwise' is not "
                                                                                "supported; supported: binary:log"),
    (lambda d: d["learner"]["gradient_booster"].__setitem__("name", "gblinear"), "booster 'gblinear'"),
    (lambda d: d["learner"]["learner_model_param"].__setitem__("base_score", "[oops]"), "base_score"),
], ids=["child-range", "cycle", "feature", "lengths", "objective", "gblinear", "base-score"])
def test_edited_xgboost_json(tmp_path: Path, xgb_json: bytes, capsys: pytest.CaptureFixture[str], edit: object,
                             needle: str) -> None:
    code, err = _export(tmp_path, "model.json", _edited(xgb_json, edit), capsys)
    _assert_refused(code, err, "model.json", needle)
    _nothing_written(tmp_path)


def test_json_that_is_not_an_xgboost_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _export(tmp_path, "config.json", b'{"learning_rate": 0.1}', capsys)
    _assert_refused(code, err, "config.json", "not an XGBoost model", "allowed: XGBoost .json")
    code, err = _export(tmp_path, "model.txt", b"hello\n", capsys)
    _assert_refused(code, err, "model.txt", "not a LightGBM text model")
    _nothing_written(tmp_path)


def test_detected_by_content_not_suffix(tmp_path: Path, xgb_json: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(xgb_json)
    assert main(["export", str(path), "--out", str(tmp_path / "out"), "--no-parity"]) == 0
    assert (tmp_path / "out" / "model.json").read_bytes() == xgb_json


def test_missing_library_names_the_extra(tmp_path: Path, xgb_json: bytes, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "xgboost", None)  # `import xgboost` now raises ImportError
    code, err = _export(tmp_path, "model.json", xgb_json, capsys)
    _assert_refused(code, err, "pip install 'mlexport[xgboost]'")
    _nothing_written(tmp_path)


def test_early_stopped_xgboost_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    X, churn, _ = telco_xy()
    model = xgb.XGBClassifier(n_estimators=20, max_depth=2, early_stopping_rounds=2, eval_metric="logloss")
    model.fit(X[:300], churn[:300], eval_set=[(X[300:], churn[300:])], verbose=False)
    model.save_model(str(tmp_path / "early.json"))
    code = main(["export", str(tmp_path / "early.json"), "--out", str(tmp_path / "out")])
    _assert_refused(code, capsys.readouterr().err, "early.json", "early stopping (best_iteration=")
    _nothing_written(tmp_path)


def test_unregistered_boosting_type_is_refused_by_the_registry(tmp_path: Path) -> None:
    """The registry decides which of a library's types are supported: XGBRanker (ranking, no exported contract)
    is refused in one line listing the supported types, nothing written."""
    import numpy as np
    import xgboost

    from export.errors import UnsupportedEstimatorError
    from export.exporter import export_model

    X = np.random.default_rng(0).random((20, 3))
    ranker = xgboost.XGBRanker(n_estimators=2).fit(X, np.arange(20) % 3, qid=np.repeat([0, 1], 10))
    with pytest.raises(UnsupportedEstimatorError, match=r"XGBRanker is not supported; supported: .*"
                                                        r"xgboost\.sklearn\.XGBClassifier"):
        export_model(ranker, tmp_path / "out")
    assert not (tmp_path / "out").exists()
