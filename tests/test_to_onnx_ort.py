"""Tests for export/to_onnx/ort.py: .ort conversion output files, loadability and identical outputs to the .onnx."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from export.errors import InputFileError
from export.frontends import to_ir
from export.to_onnx import OnnxOptions, save_onnx, to_onnx, to_ort

IRIS_X, IRIS_Y = load_iris(return_X_y=True)


def outputs(path: Path, X: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return list(session.run(None, {session.get_inputs()[0].name: X}))


@pytest.mark.parametrize(("route", "dtype"), [("ir", "float64"), ("ir", "float32"), ("skl2onnx", "float32")])
def test_ort_files_load_and_match_onnx(tmp_path: Path, route: str, dtype: str) -> None:
    if route == "ir":
        est = GradientBoostingClassifier(n_estimators=10, random_state=0).fit(IRIS_X, IRIS_Y)
        node = to_ir(est)
    else:
        est, node = LogisticRegression(max_iter=1000).fit(IRIS_X, IRIS_Y), None
    result = to_onnx(est, node, OnnxOptions(input_dtype=dtype))  # type: ignore[arg-type]
    assert result.route == route
    onnx_path = save_onnx(result.model, tmp_path / "iris.onnx")
    out_dir = tmp_path / "out"
    ort_path, config_path = to_ort(onnx_path, out_dir)
    assert ort_path == out_dir / "iris.ort" and config_path == out_dir / "required_operators.config"
    assert sorted(p.name for p in out_dir.iterdir()) == ["iris.ort", "required_operators.config"]
    assert ort_path.read_bytes()[4:8] == b"ORTM"  # flatbuffer file identifier of the ORT format
    config = config_path.read_text()
    assert "/tmp" not in config and "# - iris.ort" in config
    if route == "ir":
        assert "ai.onnx.ml;5;TreeEnsemble" in config
    X = IRIS_X.astype(dtype)
    for from_onnx, from_ort in zip(outputs(onnx_path, X), outputs(ort_path, X), strict=True):
        np.testing.assert_array_equal(from_onnx, from_ort)
    labels = outputs(ort_path, X)[0]
    np.testing.assert_array_equal(labels, est.predict(X.astype(np.float64)))


def test_missing_onnx_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="does not exist"):
        to_ort(tmp_path / "nope.onnx", tmp_path)


def _setarch_works() -> bool:
    import platform
    import shutil
    import subprocess
    import sys

    tool = shutil.which("setarch")
    return bool(sys.platform == "linux" and tool and subprocess.run(
        [tool, platform.machine(), "-R", "true"], capture_output=True, check=False).returncode == 0)


def test_ort_bytes_are_reproducible(tmp_path: Path) -> None:
    if not _setarch_works():
        pytest.skip("needs Linux `setarch -R` (ASLR off): ORT's flatbuffer layout follows heap addresses")
    est = GradientBoostingClassifier(n_estimators=10, random_state=0).fit(IRIS_X, IRIS_Y)
    onnx_path = save_onnx(to_onnx(est, to_ir(est), OnnxOptions()).model, tmp_path / "m.onnx")
    first, first_config = (p.read_bytes() for p in to_ort(onnx_path, tmp_path / "one"))
    second, second_config = (p.read_bytes() for p in to_ort(onnx_path, tmp_path / "two"))
    assert first == second and first_config == second_config
