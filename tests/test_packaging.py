"""Packaging: every Python package is listed in pyproject.toml, and the wheel carries the Swift harness."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for top in ("export", "parity")
               for p in (ROOT / top).rglob("__init__.py")}
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"
    assert config["package-dir"]["export._ios_stub"] == "ios_stub"


def test_packaged_swift_globs_match_the_harness_sources() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    patterns = config["package-data"]["export._ios_stub"]
    shipped = {p for pattern in patterns for p in (ROOT / "ios_stub").glob(pattern)}
    needed = set((ROOT / "ios_stub" / "Sources").rglob("*.swift")) | {ROOT / "ios_stub" / "Package.swift"}
    assert needed <= shipped, sorted(str(p) for p in needed - shipped)


def test_demo_data_is_packaged() -> None:
    """`mlexport demo` reads export/demo_data/ at run time: a plain `pip install .` must ship it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    shipped = {p for pattern in config["package-data"]["export"] for p in (ROOT / "export").glob(pattern)}
    assert set((ROOT / "export" / "demo_data").iterdir()) <= shipped
