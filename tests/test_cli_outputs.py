"""Issue 9 (output-directory safety, CI-facing behaviour, messages): what `export`, `parity`, `verify` write and print.

Truth used: the file system itself (what exists before and after), hashlib/pandas on the user's data file, the JUnit
XML parsed by ElementTree, JSON parsed by json.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

from export.cli import main
from export.loading import dump_skops

IRIS = load_iris(as_frame=True)
FRAME = IRIS.data.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "forest.skops"
    dump_skops(RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(FRAME, IRIS.target), path)
    return path


@pytest.fixture(scope="module")
def other_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "other.skops"
    dump_skops(RandomForestClassifier(n_estimators=3, max_depth=3, random_state=7).fit(FRAME, IRIS.target), path)
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, model_file: Path) -> Path:
    """An export made with --data data/holdout.csv (a file outside the export)."""
    root = tmp_path_factory.mktemp("exported")
    (root / "data").mkdir()
    FRAME.to_csv(root / "data" / "holdout.csv", index=False)
    out = root / "build" / "forest"
    assert main(["export", str(model_file), "--out", str(out), "--data", str(root / "data" / "holdout.csv")]) == 0
    return out


def _copy_export(exported: Path, tmp_path: Path, with_data: bool = True) -> Path:
    """A private copy of the export (same relative layout to its data file), so a test may edit it."""
    shutil.copytree(exported, tmp_path / "build" / "forest")
    if with_data:
        shutil.copytree(exported.parent.parent / "data", tmp_path / "data")
    return tmp_path / "build" / "forest"


def _one_error_line(err: str, *needles: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("mlexport: error: ")]
    others = [line for line in err.splitlines() if line.strip() and not line.startswith("mlexport: ")]
    assert len(lines) == 1 and not others, err
    assert "Traceback" not in err and "[Errno" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() if p.is_file() else b"<dir>"
            for p in sorted(root.rglob("*"))}


# ----------------------------------------------------------------------------------------------------------------
# Item 4: --out . / a parent of the working directory; no temporaries on any failure path


@pytest.mark.parametrize("out", [".", "..", "CWD"])
def test_out_that_is_the_working_directory_or_a_parent_is_refused(
        tmp_path: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        out: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    monkeypatch.chdir(work)
    before = _tree(tmp_path)
    target = str(work) if out == "CWD" else out
    assert main(["export", str(model_file), "--out", target, "--force"]) == 2
    _one_error_line(capsys.readouterr().err, "working directory", "--out")
    assert _tree(tmp_path) == before  # nothing written, no '..old-*' or '.partial-*' beside it


def test_failed_swap_restores_the_old_export_and_leaves_no_temporaries(
        tmp_path: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import export.output_dir as output_dir

    out = tmp_path / "out"
    assert main(["export", str(model_file), "--out", str(out), "--no-parity"]) == 0
    before = _tree(tmp_path)
    real_replace = os.replace
    calls: list[tuple[str, str]] = []

    def busy_second_rename(source: str | Path, target: str | Path) -> None:
        calls.append((str(source), str(target)))
        if len(calls) == 2:  # old export moved aside; moving the new one into place fails
            raise OSError(16, "Device or resource busy")
        real_replace(source, target)

    monkeypatch.setattr(output_dir, "_os_replace", busy_second_rename)
    assert main(["export", str(model_file), "--out", str(out), "--force", "--no-parity", "--author", "B"]) == 2
    _one_error_line(capsys.readouterr().err, str(out), "busy")
    assert _tree(tmp_path) == before

    calls.clear()
    monkeypatch.setattr(output_dir, "_os_replace", lambda s, t: (_ for _ in ()).throw(OSError(16, "busy")))
    assert main(["export", str(model_file), "--out", str(out), "--force", "--no-parity"]) == 2
    _one_error_line(capsys.readouterr().err, str(out))
    assert _tree(tmp_path) == before


def test_missing_parents_are_created_and_removed_again_on_failure(
        tmp_path: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import export.to_onnx as to_onnx_module

    assert main(["export", str(model_file), "--out", str(tmp_path / "a" / "b" / "out"), "--no-parity"]) == 0
    assert (tmp_path / "a" / "b" / "out" / "manifest.json").is_file()

    def explode(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(to_onnx_module, "save_onnx", explode)
    assert main(["export", str(model_file), "--out", str(tmp_path / "x" / "y" / "out"), "--no-parity"]) == 2
    assert not (tmp_path / "x").exists()


# ----------------------------------------------------------------------------------------------------------------
# Item 5: --force replaces only an mlexport export (holding only its listed files) or an empty directory


def test_force_never_deletes_the_users_files(tmp_path: Path, model_file: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")
    assert main(["export", str(model_file), "--out", str(mine), "--force", "--no-parity"]) == 2
    _one_error_line(capsys.readouterr().err, str(mine), "keep.txt", "not an mlexport export")
    assert _tree(tmp_path) == {"mine": b"<dir>", "mine/keep.txt": b"mine"}

    out = tmp_path / "out"
    assert main(["export", str(model_file), "--out", str(out), "--no-parity"]) == 0
    (out / "my-notes.md").write_text("notes")  # the user's file inside an export
    before = _tree(tmp_path)
    assert main(["export", str(model_file), "--out", str(out), "--force", "--no-parity"]) == 2
    _one_error_line(capsys.readouterr().err, "my-notes.md", "not part of the export")
    assert _tree(tmp_path) == before

    (out / "my-notes.md").unlink()
    assert main(["export", str(model_file), "--out", str(out), "--force", "--no-parity", "--author", "New"]) == 0
    assert json.loads((out / "manifest.json").read_text())["options"]["author"] == "New"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["export", str(model_file), "--out", str(empty), "--force", "--no-parity"]) == 0
    assert (empty / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "mine", "out"]


# ----------------------------------------------------------------------------------------------------------------
# Item 6: --name


@pytest.mark.parametrize(("name", "needle"), [
    ("", "empty"), ("   ", "empty"), ("a/b", "path separator"), ("../x", "path separator"),
    ("a\\b", "path separator"), ("..", "'.'"), (".", "'.'"), (".hidden", "'.'"), ("tab\there", "control"),
])
def test_bad_names_are_refused(tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str], name: str,
                               needle: str) -> None:
    assert main(["export", str(model_file), "--out", str(tmp_path / "out"), "--name", name, "--no-parity"]) == 2
    _one_error_line(capsys.readouterr().err, "--name", needle)
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------------------------------------------
# Item 7: the --data file is recorded, copied, and re-checked by `parity DIR`


def test_manifest_records_the_data_file(exported: Path) -> None:
    data_file = exported.parent.parent / "data" / "holdout.csv"
    record = json.loads((exported / "manifest.json").read_text())["data"]
    assert record["file"] == "../../data/holdout.csv"
    assert (exported / record["file"]).resolve() == data_file.resolve()
    assert record["sha256"] == hashlib.sha256(data_file.read_bytes()).hexdigest()
    assert record["rows"] == len(pd.read_csv(data_file)) == 150
    copy = np.load(exported / record["copy"], allow_pickle=False)
    np.testing.assert_array_equal(copy, pd.read_csv(data_file).to_numpy(dtype=np.float64))
    assert record["copy_rows"] == 150 and main(["verify", str(exported)]) == 0


def _junit_user_data(path: Path) -> tuple[int, list[str]]:
    suite = ElementTree.parse(path).getroot()
    cases = [c for c in suite.findall("testcase") if "user-data" in (c.get("name") or "")]
    skipped = [s.get("message") or "" for c in cases for s in c.findall("skipped")]
    return sum(1 for c in cases if c.find("skipped") is None), skipped


def test_parity_dir_rechecks_the_users_rows(exported: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    export_dir = _copy_export(exported, tmp_path)
    junit = tmp_path / "junit.xml"
    assert main(["parity", str(export_dir), "--junit", str(junit), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["user_data"]["source"] == "the data file recorded in manifest.json"
    assert document["user_data"]["rows_checked"] == 150
    ran, skipped = _junit_user_data(junit)
    assert ran >= 2 and skipped == []  # one case per artifact x output on the user's rows

    (tmp_path / "data" / "holdout.csv").unlink()  # the original is gone: the copy inside the export is used
    assert main(["parity", str(export_dir), "--junit", str(junit), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert "copy inside the export" in document["user_data"]["source"]
    assert "is not there" in document["user_data"]["note"]
    assert _junit_user_data(junit)[0] >= 2


def test_a_sampled_copy_and_no_copy(tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "rows.csv"
    FRAME.to_csv(data, index=False)
    out = tmp_path / "sampled"
    assert main(["export", str(model_file), "--out", str(out), "--data", str(data), "--data-copy-rows", "20",
                 "--no-parity"]) == 0
    copy = np.load(out / "parity_data.npy")
    rows = FRAME.to_numpy(dtype=np.float64)
    assert copy.shape == (20, 4)
    positions = [int(np.flatnonzero((rows == row).all(axis=1))[0]) for row in copy]  # every copied row is a row
    assert positions == sorted(positions)

    out = tmp_path / "nocopy"
    assert main(["export", str(model_file), "--out", str(out), "--data", str(data), "--data-copy-rows", "0",
                 "--no-parity"]) == 0
    assert not (out / "parity_data.npy").exists()
    data.unlink()
    junit = tmp_path / "junit.xml"
    html_path = tmp_path / "report.html"
    assert main(["parity", str(out), "--junit", str(junit), "--html", str(html_path)]) == 0
    printed = capsys.readouterr().out
    ran, skipped = _junit_user_data(junit)
    assert ran == 0 and len(skipped) == 1 and "not available" in skipped[0]
    assert "not available" in printed and "not available" in html_path.read_text()

    assert main(["export", str(model_file), "--out", str(tmp_path / "bad"), "--data-copy-rows", "-1"]) == 2
    _one_error_line(capsys.readouterr().err, "--data-copy-rows", "-1")


# ----------------------------------------------------------------------------------------------------------------
# Items 8 and 9: parity verifies hashes first; verify --json prints its failures


def test_parity_refuses_an_edited_artifact_unless_no_verify(exported: Path, tmp_path: Path, other_model_file: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    export_dir = _copy_export(exported, tmp_path)
    other = tmp_path / "other"
    assert main(["export", str(other_model_file), "--out", str(other), "--no-parity"]) == 0
    shutil.copyfile(other / "other.onnx", export_dir / "forest.onnx")  # a valid ONNX file, of another model
    capsys.readouterr()
    assert main(["parity", str(export_dir)]) == 1
    _one_error_line(capsys.readouterr().err, "changed: forest.onnx", "--no-verify")
    assert main(["parity", str(export_dir), "--no-verify"]) == 1  # it runs, and finds the wrong model
    captured = capsys.readouterr()
    assert "parity FAILED" in captured.out and "forest.onnx" in captured.out
    _one_error_line(captured.err, "parity failed")

    (export_dir / "extra.txt").write_text("not listed")  # files parity does not read do not block it
    shutil.copyfile(exported / "forest.onnx", export_dir / "forest.onnx")
    assert main(["parity", str(export_dir)]) == 0


def test_verify_json_prints_the_failures(exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export_dir = _copy_export(exported, tmp_path, with_data=False)
    (export_dir / "forest.onnx").write_bytes(b"tampered")
    (export_dir / "parity.md").unlink()
    capsys.readouterr()
    assert main(["verify", str(export_dir), "--json"]) == 1
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["verified"] is False
    problems = {(p["file"], p["problem"]) for p in document["problems"]}
    assert problems == {("forest.onnx", "changed"), ("parity.md", "missing")}
    changed = next(p for p in document["problems"] if p["problem"] == "changed")
    assert changed["sha256"] == hashlib.sha256(b"tampered").hexdigest()
    _one_error_line(captured.err, "changed: forest.onnx", "missing: parity.md")


# ----------------------------------------------------------------------------------------------------------------
# Item 12: --debug anywhere


@pytest.mark.parametrize("position", ["before", "after"])
def test_debug_is_accepted_before_and_after_the_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           position: str) -> None:
    args = ["verify", str(tmp_path / "nodir")]
    assert main(["--debug", *args] if position == "before" else [*args, "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "unrecognized arguments" not in err
    assert err.strip().splitlines()[-1].startswith("mlexport: error: export directory")


# ----------------------------------------------------------------------------------------------------------------
# Item 13: parity.json written by export has timings like a standalone run


def test_export_parity_json_has_the_timings_of_a_standalone_run(exported: Path, tmp_path: Path, model_file: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    written = json.loads((exported / "parity.json").read_text())["timings_seconds"]
    capsys.readouterr()
    assert main(["parity", str(_copy_export(exported, tmp_path)), "--json"]) == 0
    standalone = json.loads(capsys.readouterr().out)["timings_seconds"]
    assert written and set(written) == set(standalone)
    assert all(isinstance(v, float) and v >= 0 for v in written.values())
    out = tmp_path / "reproducible"
    assert main(["export", str(model_file), "--out", str(out), "--reproducible"]) == 0
    document = json.loads((out / "parity.json").read_text())
    assert document["timings_seconds"] == {} and any("reproducible" in n for n in document["notes"])


# ----------------------------------------------------------------------------------------------------------------
# Item 16: summaries


def test_export_summary_lists_the_reports_once(exported: Path, tmp_path: Path, model_file: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["export", str(model_file), "--out", str(out), "--data", str(exported.parent.parent / "data" /
                                                                            "holdout.csv")]) == 0
    printed = capsys.readouterr().out
    verdict = [line for line in printed.splitlines() if line.strip().startswith("parity:")]
    assert len(verdict) == 1 and verdict[0].split(":", 1)[1].strip().startswith("passed — 2 artifacts × ")
    assert "parity passed" not in printed  # the old "parity: passed — parity passed"
    assert str(out / "parity.html") in printed and str(out / "parity.md") in printed
    assert "holdout.csv (150 rows" in printed


def test_export_json_on_failure_carries_the_cause(tmp_path: Path, model_file: Path, other_model_file: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import export.to_onnx as to_onnx_module
    from export.frontends import to_ir
    from export.loading import load_model

    other = load_model(other_model_file)
    real = to_onnx_module.to_onnx
    monkeypatch.setattr(to_onnx_module, "to_onnx", lambda est, node, options: real(other, to_ir(other), options))
    assert main(["export", str(model_file), "--out", str(tmp_path / "out"), "--formats", "onnx", "--json"]) == 1
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["parity"] == "failed" and "forest.onnx" in document["error"]
    assert document["causes"] and all(c["cause"] for c in document["causes"])
    checks = [check for cause in document["causes"] for check in cause["checks"]]
    assert checks and all(c["artifact"] == "forest.onnx" and c["failing_rows"] > 0 for c in checks)
    assert document["causes"][0]["cause"] in document["summary"]
    _one_error_line(captured.err, "parity failed", "parity.html")


def test_parity_prints_a_short_summary_not_the_markdown(exported: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    html_path, md_path = tmp_path / "r.html", tmp_path / "r.md"
    assert main(["parity", str(_copy_export(exported, tmp_path)), "--html", str(html_path), "--markdown",
                 str(md_path)]) == 0
    printed = capsys.readouterr().out
    markdown = md_path.read_text()
    assert "## Checks" in markdown and "## Checks" not in printed and "|---" not in printed
    lines = printed.splitlines()
    assert lines[0].startswith("parity PASSED: RandomForestClassifier")
    probes = json.loads((exported / "parity.json").read_text())["probes"]
    for artifact in ("forest.mlmodel", "forest.onnx"):
        for probe in probes:
            assert any(line.split()[:2] == [artifact, probe["name"]] and " ok " in line and "max |Δ|" in line
                       for line in lines), (artifact, probe["name"])
    assert f"html: {html_path}" in printed and f"markdown: {md_path}" in printed
    assert len(lines) < 40


# ----------------------------------------------------------------------------------------------------------------
# Item 17: a --model that is not the export's own model is said first


def test_parity_with_another_model_says_so_first(exported: Path, tmp_path: Path, model_file: Path,
                                                 other_model_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export_dir = _copy_export(exported, tmp_path)
    page = tmp_path / "report.html"
    assert main(["parity", str(export_dir), "--model", str(other_model_file), "--html", str(page)]) == 1
    printed = capsys.readouterr().out.splitlines()
    other_hash = hashlib.sha256(other_model_file.read_bytes()).hexdigest()
    assert printed[1].startswith("  WARNING: --model") and other_hash in printed[1]
    text = page.read_text()
    assert text.index("class='warning'") < text.index("<h2>Summary</h2>") and other_hash in text
    assert main(["parity", str(export_dir), "--model", str(model_file), "--json"]) == 0  # the same model: no warning
    assert json.loads(capsys.readouterr().out)["warnings"] == []
