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
    contract: str = "float64",
    feature_names: Sequence[str] | None = None,
) -> Any:
    """Run the parity suite; raise AssertionError carrying the Markdown summary when any check fails.

    Returns the ParityReport when parity holds (so a test can also look at the numbers).
    """
    import parity
    from parity.report import to_markdown

    report = parity.check(estimator, _artifact_paths(artifact_dir_or_paths), inputs=inputs, contract=contract,
                          feature_names=feature_names)
    if not report.passed:
        raise AssertionError("exported model does not match scikit-learn\n\n" + to_markdown(report))
    return report


@pytest.fixture(name="assert_parity")
def assert_parity_fixture() -> Callable[..., Any]:
    """Fixture form: `def test_export(assert_parity): assert_parity(model, "build/export", X_holdout)`."""
    return assert_parity
