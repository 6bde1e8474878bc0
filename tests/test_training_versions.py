"""The scikit-learn version a model file was saved with is recorded, a mismatch is shown prominently, and
`--strict-versions` refuses it (issue 9 item 19). The saved version is produced the way scikit-learn itself writes it:
`BaseEstimator.__getstate__` stores `sklearn.base.__version__` as `_sklearn_version`."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import sklearn
import sklearn.base
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from export.cli import main
from export.loading import dump_skops, load_model_with_versions, sha256_file

X, Y = load_iris(return_X_y=True)
OLD = "1.5.0"


@pytest.fixture(scope="module")
def old_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    model = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0))
    model.fit(X, Y)
    folder = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sklearn.base, "__version__", OLD)  # what a scikit-learn 1.5.0 session writes
        dump_skops(model, folder / "old.skops")
        (folder / "old.pkl").write_bytes(pickle.dumps(model))
    dump_skops(model, folder / "current.skops")
    return {"skops": folder / "old.skops", "pickle": folder / "old.pkl", "current": folder / "current.skops"}


def test_saved_versions_are_read_from_the_file(old_files: dict[str, Path]) -> None:
    _, versions = load_model_with_versions(old_files["skops"])
    assert versions.trained == {"scikit-learn": OLD}
    assert versions.running == {"scikit-learn": sklearn.__version__} and sklearn.__version__ != OLD
    assert set(versions.estimators) == {"Pipeline", "StandardScaler", "RandomForestClassifier",
                                        "DecisionTreeClassifier"}
    assert versions.mismatch and OLD in versions.mismatch
    _, versions = load_model_with_versions(old_files["pickle"], trust_pickle=sha256_file(old_files["pickle"]))
    assert versions.trained == {"scikit-learn": OLD}
    _, versions = load_model_with_versions(old_files["current"])
    assert versions.trained == {"scikit-learn": sklearn.__version__} and versions.mismatch is None


def test_a_mismatch_is_recorded_and_shown(tmp_path: Path, old_files: dict[str, Path],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["export", str(old_files["skops"]), "--out", str(out), "--formats", "onnx"]) == 0
    captured = capsys.readouterr()
    assert f"VERSION MISMATCH: the model was saved by scikit-learn {OLD}" in captured.err
    assert captured.out.splitlines()[0].strip().startswith("versions: MISMATCH")  # first line of the summary
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["trained_with"]["trained"] == {"scikit-learn": OLD}
    assert manifest["trained_with"]["running"] == {"scikit-learn": sklearn.__version__}
    assert OLD in manifest["trained_with"]["mismatch"]
    for report in ("parity.md", "parity.html"):
        assert f"VERSION MISMATCH: the model was saved by scikit-learn {OLD}" in (out / report).read_text()
    assert json.loads((out / "parity.json").read_text())["notes"][0].startswith("VERSION MISMATCH")
    # `mlexport parity DIR` re-checks with the export's copy of the file, which still says 1.5.0.
    assert main(["parity", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["notes"][0].startswith("VERSION MISMATCH")


def test_same_versions_record_no_mismatch(tmp_path: Path, old_files: dict[str, Path],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["export", str(old_files["current"]), "--out", str(out), "--formats", "onnx", "--no-parity",
                 "--strict-versions"]) == 0
    assert "MISMATCH" not in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["trained_with"]["trained"] == {"scikit-learn": sklearn.__version__}
    assert manifest["trained_with"]["mismatch"] is None


def test_strict_versions_refuses_a_mismatch(tmp_path: Path, old_files: dict[str, Path],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(old_files["skops"]), "--out", str(tmp_path / "out"), "--strict-versions"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("mlexport: error: ")]
    assert len(lines) == 1 and "old.skops" in lines[0] and OLD in lines[0] and "--strict-versions" in lines[0]
    assert "Traceback" not in err and list(tmp_path.iterdir()) == []
    sha = sha256_file(old_files["pickle"])
    assert main(["export", str(old_files["pickle"]), "--out", str(tmp_path / "out"), "--trust-pickle", sha,
                 "--strict-versions"]) == 2
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------------------------------------------
# The boosting libraries' own files (issue 12 item 4): XGBoost's JSON "version", CatBoost's model_info; LightGBM's
# text model records only its format version (`version=v4`), so its training version is recorded as unknown.


def _xgboost_json(tmp_path: Path, version: list[int] | None) -> Path:
    import numpy as np
    import xgboost

    booster = xgboost.train({"max_depth": 2, "nthread": 1}, xgboost.DMatrix(X[:, :2], label=Y == 1),
                            num_boost_round=2)
    document = json.loads(bytes(booster.save_raw(raw_format="json")))
    assert document["version"] == [int(v) for v in xgboost.__version__.split(".")[:3]]  # XGBoost writes its own
    if version is not None:
        document["version"] = version  # what an XGBoost 2.1.0 session writes (the format is unchanged)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(document))
    np.testing.assert_array_equal(xgboost.Booster(model_file=str(path)).predict(xgboost.DMatrix(X[:, :2])),
                                  booster.predict(xgboost.DMatrix(X[:, :2])))
    return path


def test_xgboost_training_version_is_recorded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import xgboost

    _, versions = load_model_with_versions(_xgboost_json(tmp_path, None))
    assert versions.trained == {"xgboost": xgboost.__version__} and versions.mismatch is None
    path = _xgboost_json(tmp_path, [2, 1, 0])
    _, versions = load_model_with_versions(path)
    assert versions.trained == {"xgboost": "2.1.0"} and versions.mismatch and "xgboost 2.1.0" in versions.mismatch
    out = tmp_path / "out"
    assert main(["export", str(path), "--out", str(out), "--formats", "onnx", "--no-parity"]) == 0
    assert "VERSION MISMATCH: the model was saved by xgboost 2.1.0" in capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["trained_with"]["trained"] == {"xgboost": "2.1.0"}
    assert manifest["trained_with"]["running"] == {"xgboost": xgboost.__version__}


def test_catboost_and_lightgbm_training_versions(tmp_path: Path) -> None:
    import catboost
    import lightgbm

    model = catboost.CatBoostClassifier(iterations=2, depth=2, verbose=0, thread_count=1, allow_writing_files=False)
    model.fit(X[:, :2], Y == 1)
    model.save_model(str(tmp_path / "model.cbm"))
    _, versions = load_model_with_versions(tmp_path / "model.cbm")
    assert versions.trained == {"catboost": catboost.__version__} and versions.mismatch is None
    booster = lightgbm.train({"verbose": -1, "num_iterations": 2}, lightgbm.Dataset(X[:, :2], Y == 1))
    booster.save_model(str(tmp_path / "model.txt"))
    _, versions = load_model_with_versions(tmp_path / "model.txt")
    assert versions.trained == {"lightgbm": None} and versions.mismatch is None  # not recorded: nothing compared
    assert versions.to_json()["trained"] == {"lightgbm": None}
