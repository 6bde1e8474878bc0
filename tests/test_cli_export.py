"""`mlexport export` end to end: artifacts that onnxruntime and the Core ML evaluator run like scikit-learn, a manifest
that verifies, byte-reproducible output, atomic writes, and the installed console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from export.cli import main
from export.loading import dump_skops
from parity.coreml_reference import predict as coreml_predict


@pytest.fixture(scope="module")
def classifier_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RandomForestClassifier, np.ndarray]:
    iris = load_iris(as_frame=True)
    frame = iris.data.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    labels = np.asarray(iris.target_names)[iris.target]
    model = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(frame, labels)
    path = tmp_path_factory.mktemp("models") / "iris_forest.skops"
    dump_skops(model, path)
    return path, model, frame.to_numpy(dtype=np.float64)


@pytest.fixture(scope="module")
def regressor_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, np.ndarray]:
    X, y = load_diabetes(return_X_y=True)
    model = make_pipeline(StandardScaler(), Ridge(alpha=0.5)).fit(X, y)
    path = tmp_path_factory.mktemp("models") / "diabetes_ridge.skops"
    dump_skops(model, path)
    return path, model, X


def test_export_classifier_matches_sklearn_in_every_runtime(tmp_path: Path, classifier_file, capsys) -> None:  # type: ignore[no-untyped-def]
    path, model, X = classifier_file
    out = tmp_path / "out"
    assert main(["export", str(path), "--out", str(out), "--formats", "coreml,onnx,ort", "--author", "Ada",
                 "--license", "MIT", "--version", "2.0.1", "--description", "Iris species"]) == 0
    names = sorted(p.name for p in out.iterdir())
    for expected in ("iris_forest.mlmodel", "iris_forest.onnx", "iris_forest.ort", "iris_forest.skops",
                     "manifest.json", "parity.json", "parity.md", "parity.html", "golden.json"):
        assert expected in names
    # ONNX and .ort through onnxruntime: labels exact, probabilities to double precision.
    for artifact in ("iris_forest.onnx", "iris_forest.ort"):
        session = ort.InferenceSession(str(out / artifact), providers=["CPUExecutionProvider"])
        label, proba = session.run(["classLabel", "classProbability"], {"input": X})
        np.testing.assert_array_equal(label, model.predict(pd.DataFrame(X, columns=model.feature_names_in_)))
        np.testing.assert_allclose(proba, model.predict_proba(pd.DataFrame(X, columns=model.feature_names_in_)),
                                   rtol=0, atol=1e-12)
    # Core ML through the reference evaluator (named Double inputs, in feature order).
    outputs = coreml_predict(out / "iris_forest.mlmodel", X)
    frame = pd.DataFrame(X, columns=model.feature_names_in_)
    np.testing.assert_array_equal(outputs["classLabel"], model.predict(frame))
    np.testing.assert_allclose(outputs["classProbability"], model.predict_proba(frame), rtol=0, atol=1e-12)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parity"]["verdict"] == "passed"
    assert manifest["signature"]["class_labels"] == ["setosa", "versicolor", "virginica"]
    assert manifest["created_by"]["scikit-learn"]
    assert manifest["routes"]["onnx"] == "ir"
    assert main(["verify", str(out)]) == 0


def test_export_regressor_pipeline(tmp_path: Path, regressor_file) -> None:  # type: ignore[no-untyped-def]
    path, model, X = regressor_file
    out = tmp_path / "reg"
    assert main(["export", str(path), "--out", str(out)]) == 0
    session = ort.InferenceSession(str(out / "diabetes_ridge.onnx"), providers=["CPUExecutionProvider"])
    (prediction,) = session.run(["prediction"], {"input": X})
    np.testing.assert_allclose(np.asarray(prediction).reshape(-1), model.predict(X), rtol=1e-10, atol=1e-9)
    coreml = coreml_predict(out / "diabetes_ridge.mlmodel", X)["prediction"]
    np.testing.assert_allclose(np.asarray(coreml).reshape(-1), model.predict(X), rtol=1e-10, atol=1e-9)


def test_exports_are_byte_reproducible(tmp_path: Path, classifier_file) -> None:  # type: ignore[no-untyped-def]
    path = classifier_file[0]
    for out in ("a", "b"):
        assert main(["export", str(path), "--out", str(tmp_path / out), "--formats", "coreml,onnx",
                     "--reproducible"]) == 0
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_force_replaces_and_failure_midway_leaves_nothing(tmp_path: Path, classifier_file,  # type: ignore[no-untyped-def]
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = classifier_file[0]
    out = tmp_path / "out"
    assert main(["export", str(path), "--out", str(out), "--no-parity"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    import export.to_onnx as to_onnx_module

    def explode(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(to_onnx_module, "save_onnx", explode)
    assert main(["export", str(path), "--out", str(out), "--force"]) == 2
    # The old export is untouched and no partial directory is left beside it.
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_killed_export_leaves_no_output_dir(tmp_path: Path, classifier_file) -> None:  # type: ignore[no-untyped-def]
    path = classifier_file[0]
    out = tmp_path / "killed"
    script = (
        "import os, signal, export.to_onnx as m\n"
        "def die(*a, **k): os.kill(os.getpid(), signal.SIGKILL)\n"
        "m.save_onnx = die\n"
        "from export.cli import main\n"
        f"main(['export', {str(path)!r}, '--out', {str(out)!r}])\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9
    assert not out.exists()  # killed before the rename: only a hidden .partial sibling may remain
    assert all(p.name.startswith(".killed.partial-") for p in tmp_path.iterdir())


def test_installed_console_script_runs(tmp_path: Path, classifier_file) -> None:  # type: ignore[no-untyped-def]
    script = shutil.which("mlexport", path=os.path.dirname(sys.executable))
    assert script, "the mlexport console script is not installed next to this Python"
    out = tmp_path / "cli"
    proc = subprocess.run([script, "export", str(classifier_file[0]), "--out", str(out), "--json"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["parity"] == "passed"
    proc = subprocess.run([script, "inspect", str(out / "iris_forest.mlmodel"), "--json"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert [i["name"] for i in info["inputs"]] == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert info["class_labels"] == ["setosa", "versicolor", "virginica"]
    assert info["metadata"]["user_defined"]["mlexport.input_dtype"] == "float64"
    proc = subprocess.run([sys.executable, "-m", "export", "verify", str(out)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    (out / "iris_forest.onnx").write_bytes(b"tampered")
    proc = subprocess.run([script, "verify", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "changed: iris_forest.onnx" in proc.stderr


def test_assert_parity_on_an_export_dir_uses_its_recorded_contract(tmp_path: Path, regressor_file) -> None:  # type: ignore[no-untyped-def]
    from parity.pytest_plugin import assert_parity

    path, model, X = regressor_file
    out = tmp_path / "f32"
    assert main(["export", str(path), "--out", str(out), "--input-dtype", "float32", "--no-parity"]) == 0
    report = assert_parity(model, out, inputs=X[:50])
    assert report.contract == "float32"
    assert {Path(a.path).suffix for a in report.artifacts} == {".mlmodel", ".onnx"}
