"""Builds one product of the ios_stub Swift package for a test (skips when swift is not installed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ios_stub"


def swift_product(product: str, why: str) -> Path:
    """The debug binary of `product`, built now; `why` says what cannot run without swift."""
    swift = shutil.which("swift") or ("/opt/swift/usr/bin/swift" if Path("/opt/swift/usr/bin/swift").exists() else None)
    if swift is None:
        pytest.skip(f"swift is not installed: {why} cannot run here (CI installs it)")
    proc = subprocess.run([swift, "build", "--package-path", str(PACKAGE), "--product", product],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    binary = PACKAGE / ".build" / "debug" / product
    assert binary.exists()
    return binary
