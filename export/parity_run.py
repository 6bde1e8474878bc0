"""`mlexport parity DIR`: re-run the parity suite on an existing export directory, as its manifest describes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from export.errors import InputFileError, VersionMismatchError
from export.exporter import load_rows, version_mismatch_note
from export.loading import load_model_with_versions
from export.manifest import read_manifest
from export.path_checks import writable_file
from export.signature import signature_of

CHECKED_ARTIFACTS = ("coreml", "onnx", "ort")


def run_parity_on_dir(directory: Path, *, model: str | None = None, data: str | None = None,
                      trust_pickle: str | None = None, junit: str | None = None, html: str | None = None,
                      markdown: str | None = None, strict_versions: bool = False) -> tuple[Any, dict[str, Any]]:
    """Check every artifact listed in `directory/manifest.json` against the model; write the requested reports."""
    import parity

    for flag, report_path in (("--junit", junit), ("--html", html), ("--markdown", markdown)):
        if report_path:
            writable_file(report_path, flag)  # before the suite runs: a bad path fails in a second, not a minute
    manifest = read_manifest(directory)
    model_path = Path(model) if model else directory / str(manifest.get("model_file", ""))
    if not model and not manifest.get("model_file"):
        raise InputFileError(f"'{directory / 'manifest.json'}' records no model file; pass --model MODEL")
    estimator, versions = load_model_with_versions(model_path, trust_pickle=trust_pickle)
    mismatch = versions.mismatch
    if mismatch and strict_versions:
        raise VersionMismatchError(f"model file '{model_path}': {mismatch}; refused by --strict-versions")
    signature_json = manifest.get("signature") or {}
    feature_names = signature_json.get("feature_names")
    signature = signature_of(estimator, feature_names=tuple(feature_names) if feature_names else None,
                             input_dtype=manifest.get("input_dtype"))
    inputs = load_rows(data, signature, estimator)
    artifacts = []
    for kind in CHECKED_ARTIFACTS:
        name = (manifest.get("artifacts") or {}).get(kind)
        if name:
            path = directory / name
            if not path.is_file():
                raise InputFileError(f"artifact '{path}' listed in the manifest is missing (run `mlexport verify`)")
            artifacts.append(path)
    if not artifacts:
        raise InputFileError(f"'{directory / 'manifest.json'}' lists no .mlmodel/.onnx/.ort artifact")
    report = parity.check(estimator, artifacts, inputs=inputs, contract=signature.input_dtype,
                          feature_names=signature.feature_names)
    report.rename_artifacts({str(p): p.name for p in artifacts})
    if mismatch:
        report.notes.insert(0, version_mismatch_note(mismatch))
    text = parity.to_markdown(report)
    rendered: dict[str, Any] = {"json": parity.to_json(report), "markdown": text}
    if junit:
        Path(junit).write_text(parity.to_junit(report), encoding="utf-8")
    if html:
        Path(html).write_text(parity.to_html(report), encoding="utf-8")
    if markdown:
        Path(markdown).write_text(text, encoding="utf-8")
    json.dumps(rendered["json"])  # fail here, not in the caller, if the report is not JSON-serialisable
    return report, rendered
