"""`mlexport demo`: the committed artifacts/demo/ is exactly what the demo regenerates, and it works end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from export.cli import main
from export.manifest import package_versions

DEMO = Path(__file__).resolve().parents[1] / "artifacts" / "demo"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    return out


def test_demo_export_passes_parity_and_verifies(regenerated: Path) -> None:
    manifest = json.loads((regenerated / "manifest.json").read_text())
    assert manifest["parity"]["verdict"] == "passed"
    assert manifest["signature"]["class_labels"] == ["setosa", "versicolor", "virginica"]
    assert main(["verify", str(regenerated)]) == 0
    assert main(["verify", str(DEMO)]) == 0


def test_committed_demo_is_what_the_demo_regenerates(regenerated: Path) -> None:
    committed = json.loads((DEMO / "manifest.json").read_text())
    files = sorted(p.name for p in DEMO.iterdir())
    assert files == sorted(p.name for p in regenerated.iterdir())
    if committed["created_by"] != package_versions():
        # Other library versions legitimately give other bytes (a new scikit-learn may fit another forest); the
        # export above still had to pass parity. Regenerate with `mlexport demo --out artifacts/demo`.
        pytest.skip(f"installed versions differ from the ones artifacts/demo was made with: {committed['created_by']}")
    for name in files:
        assert (DEMO / name).read_bytes() == (regenerated / name).read_bytes(), name


def test_ios_stub_target_from_the_demo(regenerated: Path, tmp_path: Path) -> None:
    target = tmp_path / "IrisParityTests"
    assert main(["ios-stub", str(regenerated), "--out", str(target)]) == 0
    names = {p.name for p in target.iterdir()}
    assert {"iris_classifier.mlmodel", "golden.json", "README.txt"} <= names
    assert any(name.endswith("ParityTests.swift") for name in names)
