"""manifest.json: what an export directory holds (hashes, sizes), how it was made (versions, options) and its verdict.

Written last, after every artifact, and read by `mlexport verify` and `mlexport parity`. No timestamps: exporting
the same model twice gives the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from export.errors import InputFileError, VerifyFailedError
from export.loading import sha256_file
from export.path_checks import existing_dir

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "mlexport-manifest"
MANIFEST_FORMAT_VERSION = 1

_VERSIONED_PACKAGES = ("mlexport", "scikit-learn", "numpy", "onnx", "skl2onnx", "onnxruntime", "coremltools",
                       "skops", "protobuf")


def package_versions() -> dict[str, str]:
    """Installed versions of every package an export depends on (`not installed` where absent)."""
    from parity import package_versions as installed

    return installed(_VERSIONED_PACKAGES)


def file_entries(directory: Path) -> dict[str, dict[str, Any]]:
    """{relative path: {sha256, bytes}} for every file below `directory` except the manifest itself, sorted."""
    entries = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        rel = path.relative_to(directory).as_posix()
        if rel == MANIFEST_NAME:
            continue
        entries[rel] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    return entries


def unlisted_paths(directory: Path) -> list[str]:
    """Files and folders below `directory` that its manifest does not list (nor contain a listed file), sorted."""
    listed = set(read_manifest(directory)["files"]) | {MANIFEST_NAME}
    folders = {parent.as_posix() for rel in listed for parent in Path(rel).parents if parent != Path(".")}
    found = sorted(p.relative_to(directory).as_posix() for p in Path(directory).rglob("*"))
    return [rel for rel in found if rel not in listed and rel not in folders]


def dumps(manifest: dict[str, Any]) -> str:
    """Canonical manifest text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_manifest(directory: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Add format fields and the file table to `manifest` and write it into `directory`."""
    manifest = {**manifest, "format": MANIFEST_FORMAT, "format_version": MANIFEST_FORMAT_VERSION,
                "files": file_entries(directory)}
    (directory / MANIFEST_NAME).write_text(dumps(manifest), encoding="utf-8")
    return manifest


def read_manifest(directory: Path) -> dict[str, Any]:
    """Load and sanity-check `directory/manifest.json`."""
    path = Path(directory) / MANIFEST_NAME
    existing_dir(directory, "export directory")
    if not path.is_file():
        raise InputFileError(f"'{path}' does not exist; is '{directory}' an mlexport export directory?")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(f"'{path}' is not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise InputFileError(f"'{path}' is not an mlexport manifest (field 'format' must be '{MANIFEST_FORMAT}')")
    if not isinstance(manifest.get("files"), dict):
        raise InputFileError(f"'{path}': field 'files' must be an object of {{path: {{sha256, bytes}}}}")
    return manifest


def check_files(directory: Path, *, include_unlisted: bool = True) -> tuple[list[str], list[dict[str, Any]]]:
    """Recompute every hash listed in the manifest: (files that match, problems). A problem is
    {"file", "problem": "changed" | "missing" | "not in manifest", "sha256", "manifest_sha256"}; files present but
    not listed are problems only with `include_unlisted` (`parity` reads listed files only)."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    problems: list[dict[str, Any]] = []
    fine = []
    for rel, entry in sorted(manifest["files"].items()):
        path = directory / rel
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if not path.is_file():
            problems.append({"file": rel, "problem": "missing", "sha256": None, "manifest_sha256": expected})
            continue
        actual = sha256_file(path)
        if actual != expected:
            problems.append({"file": rel, "problem": "changed", "sha256": actual, "manifest_sha256": expected})
        else:
            fine.append(rel)
    if include_unlisted:
        listed = set(manifest["files"])
        problems += [{"file": rel, "problem": "not in manifest", "sha256": entry["sha256"], "manifest_sha256": None}
                     for rel, entry in file_entries(directory).items() if rel not in listed]
    return fine, problems


def describe_problem(problem: dict[str, Any]) -> str:
    if problem["problem"] == "changed":
        return f"changed: {problem['file']} (sha256 {problem['sha256']}, manifest {problem['manifest_sha256']})"
    return f"{problem['problem']}: {problem['file']}"


def verify(directory: Path) -> list[str]:
    """Recompute every hash listed in the manifest. Returns the lines describing what is fine; raises
    VerifyFailedError naming every missing or changed file (and files present but not listed)."""
    fine, problems = check_files(directory)
    if problems:
        raise VerifyFailedError(f"verify failed for '{directory}': " + "; ".join(map(describe_problem, problems)))
    return [f"ok: {rel}" for rel in fine]
