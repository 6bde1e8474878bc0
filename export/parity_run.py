"""`mlexport parity DIR`: re-run the parity suite on an existing export directory, as its manifest describes it.

Before anything runs, the files the manifest lists are checked against their SHA-256 (an edited artifact must not
pass), unless the caller opts out. The user's rows come from `--data`, else from the data file recorded in the
manifest (when it is still there, unchanged), else from the copy kept inside the export; the report says which, and
says so when none was available.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from export.errors import InputFileError, VerifyFailedError, VersionMismatchError
from export.exporter import load_rows, parity_subject, restore_frame_dtypes, version_mismatch_note
from export.loading import load_model_with_versions, sha256_file
from export.manifest import check_files, describe_problem, read_manifest
from export.path_checks import writable_file
from export.signature import Signature, signature_of

CHECKED_ARTIFACTS = ("coreml", "onnx", "ort")


@dataclass
class ParityRun:
    report: Any  # parity.ParityReport
    rendered: dict[str, Any]  # {"json": parity.to_json(report), "markdown": parity.to_markdown(report)}
    written: dict[str, Path]  # report kind -> path written


def run_parity_on_dir(directory: Path, *, model: str | None = None, data: str | None = None,
                      trust_pickle: str | None = None, junit: str | None = None, html: str | None = None,
                      markdown: str | None = None, verify: bool = True, strict_versions: bool = False) -> ParityRun:
    """Check every artifact listed in `directory/manifest.json` against the model; write the requested reports."""
    import parity

    for flag, report_path in (("--junit", junit), ("--html", html), ("--markdown", markdown)):
        if report_path:
            writable_file(report_path, flag)  # before the suite runs: a bad path fails in a second, not a minute
    manifest = read_manifest(directory)
    if verify:
        _, problems = check_files(directory, include_unlisted=False)  # parity reads listed files only
        if problems:
            raise VerifyFailedError(f"'{directory}' does not match its manifest.json: "
                                    + "; ".join(map(describe_problem, problems))
                                    + " (re-export, or pass --no-verify to check the files as they are)")
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
    schema = _input_schema(estimator, signature)
    estimator = parity_subject(_with_recorded_missing(estimator, manifest))
    inputs, user_data = _user_rows(directory, manifest, data, signature, estimator, schema)
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
    report.user_data = user_data
    other_model = _model_mismatch(manifest, Path(model), directory) if model else None
    if other_model:
        report.warnings.insert(0, other_model)
    report.rename_artifacts({str(p): p.name for p in artifacts})
    if mismatch:
        report.notes.insert(0, version_mismatch_note(mismatch))
    text = parity.to_markdown(report)
    rendered: dict[str, Any] = {"json": parity.to_json(report), "markdown": text}
    written: dict[str, Path] = {}
    for kind, target, render in (("junit", junit, parity.to_junit), ("html", html, parity.to_html),
                                 ("markdown", markdown, parity.to_markdown)):
        if target:
            Path(target).write_text(render(report), encoding="utf-8")
            written[kind] = Path(target)
    json.dumps(rendered["json"])  # fail here, not in the caller, if the report is not JSON-serialisable
    return ParityRun(report, rendered, written)


def _input_schema(estimator: Any, signature: Signature) -> Any:
    """The model's typed inputs when it has string (or text) columns — how its data files are read, exactly as
    `export` read them — else None."""
    from export.from_boosting import BoostedModel
    from export.frontends import to_ir

    if isinstance(estimator, BoostedModel):  # categorical boosting models read strings too
        schema = estimator.inputs(signature.feature_names)
    else:
        schema = to_ir(estimator, feature_names=signature.feature_names).inputs
    return None if schema.all_double else schema


def _with_recorded_missing(estimator: Any, manifest: dict[str, Any]) -> Any:
    """A boosting model with the call-time `missing` value its export was made with (XGBoost's --missing)."""
    from export.from_boosting import BoostedModel, set_missing

    recorded = (manifest.get("options") or {}).get("missing")
    if recorded is not None and isinstance(estimator, BoostedModel):
        set_missing(estimator, float(recorded))
    return estimator


def _user_rows(directory: Path, manifest: dict[str, Any], data: str | None, signature: Signature,
               estimator: Any, schema: Any = None) -> tuple[np.ndarray | None, Any]:
    """The rows to check as the user's data, and the report's account of where they came from."""
    from parity.report import UserData

    if data is not None:
        rows = load_rows(data, signature, estimator, schema)
        assert rows is not None
        return rows, UserData(True, file=data, sha256=sha256_file(Path(data)), rows=len(rows),
                              rows_checked=len(rows), source="--data")
    record = manifest.get("data")
    if not isinstance(record, dict):
        return None, UserData(False, note="the export was made without --data, so only model-derived probes were "
                                          "checked (pass --data FILE to check your rows)")
    recorded_file, recorded_sha = record.get("file"), record.get("sha256")
    why_not_original = "it was passed in memory, not as a file"
    if isinstance(recorded_file, str):
        original = directory / recorded_file
        if not original.is_file():
            why_not_original = f"'{recorded_file}' (relative to the export) is not there"
        elif sha256_file(original) != recorded_sha:
            why_not_original = f"'{recorded_file}' changed since the export (its SHA-256 differs)"
        else:
            rows = load_rows(original, signature, estimator, schema)
            assert rows is not None
            return rows, UserData(True, file=recorded_file, sha256=recorded_sha, rows=record.get("rows"),
                                  rows_checked=len(rows), source="the data file recorded in manifest.json")
    copy = record.get("copy")
    if isinstance(copy, str) and (directory / copy).is_file():
        rows = load_rows(directory / copy, signature, estimator, schema)
        assert rows is not None
        if isinstance(record.get("copy_columns"), dict):  # the Parquet copy of a DataFrame: the user's dtypes
            rows = restore_frame_dtypes(rows, record["copy_columns"])
        # Rows handed over as an array have no original file: the copy is the data itself.
        note = f"the original data was not used: {why_not_original}" if isinstance(recorded_file, str) else ""
        return rows, UserData(True, file=recorded_file, sha256=recorded_sha, sha256_of=record.get("sha256_of", "file"),
                              rows=record.get("rows"), rows_checked=len(rows),
                              source=f"the copy inside the export ({copy}: {record.get('copy_selection')})",
                              note=note)
    no_copy = "no copy was kept in the export (--data-copy-rows 0)" if not copy else f"its copy '{copy}' is missing"
    return None, UserData(False, file=recorded_file, sha256=recorded_sha, sha256_of=record.get("sha256_of", "file"),
                          rows=record.get("rows"), note=f"{why_not_original}, and {no_copy}; only model-derived "
                          "probes were checked (pass --data FILE)")


def _model_mismatch(manifest: dict[str, Any], model: Path, directory: Path) -> str | None:
    """A warning when `--model` is neither the file the export was made from nor the copy inside it."""
    actual = sha256_file(model)
    source = manifest.get("source_model") or {}
    copy_entry = (manifest.get("files") or {}).get(str(manifest.get("model_file", ""))) or {}
    known = {source.get("sha256"), copy_entry.get("sha256")} - {None}
    if actual in known:
        return None
    made_from = (f"'{source.get('file')}' (sha256 {source.get('sha256')})" if source.get("sha256")
                 else f"'{manifest.get('model_file')}' (sha256 {copy_entry.get('sha256')})")
    return (f"--model '{model}' (sha256 {actual}) is not the model this export was made from, {made_from}: "
            f"the verdict below compares the artifacts in '{directory}' with that other model")
