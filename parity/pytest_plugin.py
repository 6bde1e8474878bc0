"""pytest plugin (entry point `mlexport_parity`): `assert_parity` for users' CI, as a function and a fixture.

Loaded in every pytest run of any project that installs mlexport, so it imports nothing heavy at import time:
numpy, scikit-learn, onnxruntime and coremltools are imported only when `assert_parity` is called.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

ARTIFACT_SUFFIXES = (".mlmodel", ".onnx", ".ort")


def _artifact_paths(artifact_dir_or_paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[Path]:
    if isinstance(artifact_dir_or_paths, str | os.PathLike):
        root = Path(artifact_dir_or_paths)
        if root.is_dir():
            paths = sorted(p for p in root.iterdir() if p.suffix.lower() in ARTIFACT_SUFFIXES)
            if not paths:
                raise FileNotFoundError(f"{root}: no {', '.join(ARTIFACT_SUFFIXES)} artifacts in this directory")
            return paths
        return [root]
    return [Path(p) for p in artifact_dir_or_paths]


def assert_parity(
    estimator: Any,
    artifact_dir_or_paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    inputs: Any = None,
    contract: str | None = None,
    feature_names: Sequence[str] | None = None,
) -> Any:
    """Run the parity suite; raise AssertionError carrying the Markdown summary when any check fails.

    `contract` defaults to the input dtype recorded in an export directory's manifest.json, else "float64".
    Returns the ParityReport when parity holds (so a test can also look at the numbers).
    """
    import parity
    from parity.report import to_markdown

    if contract is None:
        contract = _recorded_contract(artifact_dir_or_paths) or "float64"
    report = parity.check(estimator, _artifact_paths(artifact_dir_or_paths), inputs=inputs, contract=contract,
                          feature_names=feature_names)
    if not report.passed:
        raise AssertionError("exported model does not match scikit-learn\n\n" + to_markdown(report))
    return report


def _recorded_contract(artifact_dir_or_paths: Any) -> str | None:
    if not isinstance(artifact_dir_or_paths, str | os.PathLike):
        return None
    manifest = Path(artifact_dir_or_paths) / "manifest.json"
    if not manifest.is_file():
        return None
    import json

    try:
        recorded = json.loads(manifest.read_text(encoding="utf-8")).get("input_dtype")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return None
    return recorded if recorded in ("float32", "float64") else None


@pytest.fixture(name="assert_parity")
def assert_parity_fixture() -> Callable[..., Any]:
    """Fixture form: `def test_export(assert_parity): assert_parity(model, "build/export", X_holdout)`."""
    return assert_parity
