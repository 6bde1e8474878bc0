"""Tests for export/ios_target.py: the Xcode test-target folder written from an export directory."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from export import ios_target
from export.errors import InputFileError, OutputDirError
from export.ios_target import swift_type_name, write_ios_test_target

REPO = Path(__file__).resolve().parent.parent
MODEL_PARITY_SOURCES = REPO / "ios_stub" / "Sources" / "ModelParity"

# Stands in for a Core ML protobuf: the writer copies bytes and must not care what they are.
MODEL_BYTES = b"\x08\x04\x12\x00not-a-real-mlmodel\xff"


def golden_text(model_file: str = "iris_classifier.mlmodel") -> str:
    """A minimal valid golden.json (golden.md format_version 1) for `model_file`."""
    golden = {
        "format": "mlexport-golden", "format_version": 1,
        "model": {"name": "iris_classifier", "file": model_file, "task": "classifier"},
        "input": {"kind": "named_doubles", "dtype": "float32",
                  "features": [{"name": "sepal length (cm)", "coreml_name": "sepal_length__cm_"}]},
        "outputs": [{"name": "classLabel", "kind": "label", "type": "int64"},
                    {"name": "classProbability", "kind": "probabilities"}],
        "class_labels": [0, 1],
        "tolerances": {"classProbability": {"rtol": 1e-9, "atol": 1e-12, "reason": "test"}},
        "tie_tolerance": 1e-12,
        "rows": [{"id": 0, "probe": "user-data", "inputs": [5.1],
                  "expected": {"classLabel": 0, "classProbability": [0.75, 0.25]}}],
    }
    return json.dumps(golden, indent=1)


def make_export(root: Path, name: str = "iris_classifier", *, manifest: bool = True) -> Path:
    """A small fake export directory: <name>.mlmodel, golden.json, a .skops decoy and manifest.json."""
    export_dir = root / "export"
    export_dir.mkdir()
    (export_dir / f"{name}.mlmodel").write_bytes(MODEL_BYTES)
    (export_dir / "golden.json").write_text(golden_text(f"{name}.mlmodel"), encoding="utf-8")
    (export_dir / f"{name}.skops").write_bytes(b"decoy")
    if manifest:
        files = {p.name: {"sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "bytes": p.stat().st_size}
                 for p in sorted(export_dir.iterdir())}
        (export_dir / "manifest.json").write_text(
            json.dumps({"format": "mlexport-manifest", "format_version": 1, "name": name, "files": files}),
            encoding="utf-8")
    return export_dir


def siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir())


def test_writes_complete_self_contained_folder(tmp_path: Path) -> None:
    export_dir = make_export(tmp_path)
    out = tmp_path / "IrisParityTests"
    assert write_ios_test_target(export_dir, out) == out

    sources = sorted(p.name for p in MODEL_PARITY_SOURCES.glob("*.swift"))
    assert {"Golden.swift", "ParityCheck.swift", "Predictor.swift", "CoreMLPredictor.swift",
            "CoreMLStandIn.swift"} <= set(sources)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(
        ["IrisClassifierParityTests.swift", "README.txt", "golden.json", "iris_classifier.mlmodel"]
        + [f"ModelParity/{s}" for s in sources])
    assert (out / "iris_classifier.mlmodel").read_bytes() == MODEL_BYTES
    assert (out / "golden.json").read_bytes() == (export_dir / "golden.json").read_bytes()
    for source in sources:
        assert (out / "ModelParity" / source).read_bytes() == (MODEL_PARITY_SOURCES / source).read_bytes()

    test_source = (out / "IrisClassifierParityTests.swift").read_text(encoding="utf-8")
    assert "final class IrisClassifierParityTests: XCTestCase" in test_source
    assert 'static let modelName = "iris_classifier"' in test_source
    assert "YourModel" not in test_source
    assert "ModelParityExampleTests" not in test_source
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert "iris_classifier.mlmodel" in readme and "IrisClassifierParityTests.swift" in readme
    assert siblings(out) == ["IrisParityTests", "export"], "no temporary folders left behind"


def test_model_found_without_manifest(tmp_path: Path) -> None:
    export_dir = make_export(tmp_path, name="housing", manifest=False)
    out = write_ios_test_target(export_dir, tmp_path / "out")
    assert (out / "housing.mlmodel").read_bytes() == MODEL_BYTES
    assert 'static let modelName = "housing"' in (out / "HousingParityTests.swift").read_text(encoding="utf-8")


def test_manifest_name_picks_the_model_among_several(tmp_path: Path) -> None:
    export_dir = make_export(tmp_path)
    (export_dir / "other.mlmodel").write_bytes(b"other")  # not in the manifest
    out = write_ios_test_target(export_dir, tmp_path / "out")
    assert sorted(p.name for p in out.glob("*.mlmodel")) == ["iris_classifier.mlmodel"]


def test_refuses_existing_out_unless_force(tmp_path: Path) -> None:
    export_dir = make_export(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.txt").write_text("old", encoding="utf-8")
    with pytest.raises(OutputDirError, match="already exists"):
        write_ios_test_target(export_dir, out)
    assert (out / "stale.txt").exists()

    # --force replaces only what ios-stub itself wrote: the user's stale.txt is never deleted.
    with pytest.raises(OutputDirError, match=r"will not replace .*stale\.txt"):
        write_ios_test_target(export_dir, out, force=True)
    assert [p.name for p in out.iterdir()] == ["stale.txt"]
    (out / "stale.txt").unlink()
    write_ios_test_target(export_dir, out, force=True)  # empty: replaced
    (out / "golden.json").write_text("{}", encoding="utf-8")
    write_ios_test_target(export_dir, out, force=True)  # a previous ios-stub folder: replaced
    assert (out / "golden.json").read_bytes() == (export_dir / "golden.json").read_bytes()
    assert siblings(out) == ["export", "out"]


def test_existing_out_message_names_the_cli_flag(tmp_path: Path) -> None:
    from export.cli import main

    export_dir = make_export(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x.txt").write_text("x", encoding="utf-8")
    with pytest.raises(OutputDirError) as info:
        write_ios_test_target(export_dir, tmp_path / "out")
    assert "--force" in str(info.value) and "force=True" not in str(info.value)
    assert main(["ios-stub", str(export_dir), "--out", str(tmp_path / "out"), "--force"]) == 2


def test_failure_midway_leaves_no_partial_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    export_dir = make_export(tmp_path)
    out = tmp_path / "out"

    def broken_readme(model_name: str, test_file_name: str) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(ios_target, "readme_text", broken_readme)
    with pytest.raises(OSError, match="disk full"):
        write_ios_test_target(export_dir, out)
    assert siblings(out) == ["export"]

    monkeypatch.undo()
    write_ios_test_target(export_dir, out)
    previous = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    monkeypatch.setattr(ios_target, "readme_text", broken_readme)
    with pytest.raises(OSError, match="disk full"):
        write_ios_test_target(export_dir, out, force=True)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == previous
    assert siblings(out) == ["export", "out"]


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("no_dir", "export directory '.*missing-export' does not exist"),
        ("no_golden", "golden.json' does not exist"),
        ("no_model", r"no \.mlmodel file in '.*export'"),
        ("two_models", r"several \.mlmodel files in '.*export' \(a\.mlmodel, b\.mlmodel\)"),
        ("golden_for_other_model", "field 'model.file' is 'other.mlmodel', but the export's model is"),
        ("not_golden", "is not a golden file"),
        ("hash_changed", "iris_classifier.mlmodel' does not match its SHA-256 in manifest.json"),
        ("bad_manifest", "manifest.json' is not valid JSON"),
    ],
)
def test_bad_export_dirs_raise_one_line_value_errors(tmp_path: Path, breakage: str, message: str) -> None:
    export_dir = make_export(tmp_path, manifest=breakage not in ("no_model", "two_models"))
    if breakage == "no_dir":
        export_dir = tmp_path / "missing-export"
    elif breakage == "no_golden":
        (export_dir / "golden.json").unlink()
    elif breakage == "no_model":
        (export_dir / "iris_classifier.mlmodel").unlink()
    elif breakage == "two_models":
        (export_dir / "iris_classifier.mlmodel").rename(export_dir / "a.mlmodel")
        (export_dir / "b.mlmodel").write_bytes(b"b")
        (export_dir / "golden.json").write_text(golden_text("a.mlmodel"), encoding="utf-8")
    elif breakage == "golden_for_other_model":
        (export_dir / "golden.json").write_text(golden_text("other.mlmodel"), encoding="utf-8")
        (export_dir / "manifest.json").unlink()
    elif breakage == "not_golden":
        (export_dir / "golden.json").write_text('{"format": "something"}', encoding="utf-8")
    elif breakage == "hash_changed":
        (export_dir / "iris_classifier.mlmodel").write_bytes(MODEL_BYTES + b"!")
    elif breakage == "bad_manifest":
        (export_dir / "manifest.json").write_text("{", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=message) as raised:
        write_ios_test_target(export_dir, out)
    assert isinstance(raised.value, InputFileError), "the CLI maps it like other input-file errors"
    assert "\n" not in str(raised.value)
    assert not out.exists()


@pytest.mark.parametrize(
    ("model_name", "type_name"),
    [("iris_classifier", "IrisClassifier"), ("housing", "Housing"), ("2-stage model", "Model2StageModel"),
     ("GBT_v2.final", "GBTV2Final"), ("___", "Model")],
)
def test_swift_type_name(model_name: str, type_name: str) -> None:
    assert swift_type_name(model_name) == type_name


@pytest.mark.skipif(shutil.which("swiftc") is None, reason="swiftc not on PATH: generated Swift NOT compiled")
def test_generated_swift_parses_and_typechecks(tmp_path: Path) -> None:
    export_dir = make_export(tmp_path, name="gbt-v2")
    out = write_ios_test_target(export_dir, tmp_path / "out")
    swift_files = [str(p) for p in sorted(out.rglob("*.swift"))]
    assert any(p.endswith("GbtV2ParityTests.swift") for p in swift_files)
    parsed = subprocess.run(["swiftc", "-parse", *swift_files], capture_output=True, text=True, timeout=300)
    assert parsed.returncode == 0, parsed.stderr
    # Type-check the folder as one module, as Xcode compiles copied sources: on Linux Core ML is the stand-in
    # (CoreMLStandIn.swift), on macOS the real framework. A typo in the filled-in test fails here.
    checked = subprocess.run(["swiftc", "-typecheck", *swift_files], capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stderr
