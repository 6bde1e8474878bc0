"""ios_stub's Swift TextFeatures agrees with scikit-learn's build_analyzer() on every Tate title and edge case, for
every analyzer config of tests/text_corpus.py (the Swift `text-features-check` tool, built here, does the counting;
the expected counts come from scikit-learn). Also: the committed fixture `swift test` reads is what scikit-learn
gives today."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import text_corpus
from swift_build import swift_product


def _without_versions(fixture: dict[str, Any]) -> dict[str, Any]:
    fixture = json.loads(json.dumps(fixture, ensure_ascii=False))
    for config in fixture["configs"]:
        config["rules"].pop("python_version")  # informational; the tables are what must match
    return fixture


def test_committed_swift_fixture_is_scikit_learns_current_output() -> None:
    committed = json.loads(text_corpus.SWIFT_FIXTURE.read_text(encoding="utf-8"))
    assert _without_versions(committed) == _without_versions(text_corpus.swift_fixture(text_corpus.FIXTURE_TITLES)), (
        "regenerate: python -c 'import sys; sys.path.insert(0, \"tests\"); import text_corpus; "
        "text_corpus.write_swift_fixture()'")


@pytest.fixture(scope="module")
def text_features_check() -> Path:
    return swift_product("text-features-check", "the Swift tokenizer check")


def _run(binary: Path, fixture: dict[str, Any], tmp_path: Path) -> tuple[int, list[dict[str, Any]]]:
    path = tmp_path / "fixture.json"
    path.write_text(json.dumps(fixture, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run([str(binary), str(path)], capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()]


def test_swift_tokenizer_agrees_on_every_corpus_row(text_features_check: Path, tmp_path: Path) -> None:
    fixture = text_corpus.swift_fixture(None)
    rc, results = _run(text_features_check, fixture, tmp_path)
    n_rows = len(text_corpus.titles()) + len(text_corpus.EDGE_CASES)
    assert [r["name"] for r in results] == list(text_corpus.VECTORIZERS)
    for result in results:
        assert (result["agreeing"], result["rows"]) == (n_rows, n_rows), result["mismatches"]
    assert rc == 0


def test_swift_check_reports_a_wrong_table(text_features_check: Path, tmp_path: Path) -> None:
    fixture = text_corpus.swift_fixture(0)
    fixture["tables"]["sigma_skipped"] = []  # the final-sigma rule then misreads "ΑΣ'Β"
    rc, results = _run(text_features_check, fixture, tmp_path)
    assert rc == 1
    assert results[0]["name"] == "default" and results[0]["agreeing"] < results[0]["rows"]
    assert "ας" in results[0]["mismatches"][0]
