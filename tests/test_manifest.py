"""manifest.json: file table, verify, and refusal of things that are not manifests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from export.errors import InputFileError, VerifyFailedError
from export.manifest import read_manifest, verify, write_manifest


def _export_dir(tmp_path: Path) -> Path:
    d = tmp_path / "out"
    d.mkdir()
    (d / "a.onnx").write_bytes(b"onnx bytes")
    (d / "sub").mkdir()
    (d / "sub" / "b.txt").write_text("b")
    write_manifest(d, {"name": "a"})
    return d


def test_manifest_lists_every_file_with_hash_and_size(tmp_path: Path) -> None:
    d = _export_dir(tmp_path)
    manifest = read_manifest(d)
    assert manifest["files"]["a.onnx"] == {"sha256": hashlib.sha256(b"onnx bytes").hexdigest(), "bytes": 10}
    assert set(manifest["files"]) == {"a.onnx", "sub/b.txt"}
    assert verify(d) == ["ok: a.onnx", "ok: sub/b.txt"]


def test_verify_names_changed_missing_and_extra_files(tmp_path: Path) -> None:
    d = _export_dir(tmp_path)
    (d / "a.onnx").write_bytes(b"tampered")
    (d / "sub" / "b.txt").unlink()
    (d / "extra.bin").write_bytes(b"x")
    with pytest.raises(VerifyFailedError) as info:
        verify(d)
    message = str(info.value)
    assert "changed: a.onnx" in message and "missing: sub/b.txt" in message and "not in manifest: extra.bin" in message


def test_not_a_manifest(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="does not exist"):
        read_manifest(tmp_path / "nope")
    with pytest.raises(InputFileError, match="manifest.json' does not exist"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(InputFileError, match="not valid JSON"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(InputFileError, match="field 'format'"):
        read_manifest(tmp_path)
