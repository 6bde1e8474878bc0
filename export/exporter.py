"""The export pipeline: estimator -> signature -> IR -> artifacts -> parity -> manifest, written atomically.

Everything lands in a temporary sibling of the output directory and is renamed into place only when complete, so
an interrupted or failed export leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from export.errors import DataError, OutputDirError, UsageError, VersionMismatchError
from export.loading import dump_skops, load_model_with_versions, sha256_file
from export.manifest import MANIFEST_NAME, package_versions, write_manifest
from export.signature import Signature, signature_of

FORMATS: tuple[str, ...] = ("coreml", "onnx", "ort")
DEFAULT_FORMATS: tuple[str, ...] = ("coreml", "onnx")
MODEL_FILE_SUFFIX = ".skops"


@dataclass(frozen=True)
class ExportOptions:
    """Everything the user chooses about an export (recorded in the manifest)."""

    formats: tuple[str, ...] = DEFAULT_FORMATS
    name: str | None = None
    input_dtype: str | None = None
    feature_names: tuple[str, ...] | None = None
    author: str = ""
    license: str = ""
    version: str = ""
    description: str = ""
    force: bool = False
    run_parity: bool = True
    strict_versions: bool = False  # refuse a model file saved by other library versions than the running ones

    def to_json(self) -> dict[str, Any]:
        return {"formats": list(self.formats), "name": self.name, "input_dtype": self.input_dtype,
                "feature_names": list(self.feature_names) if self.feature_names else None, "author": self.author,
                "license": self.license, "version": self.version, "description": self.description,
                "parity": self.run_parity, "strict_versions": self.strict_versions}


@dataclass
class ExportResult:
    """What an export wrote, and its parity verdict."""

    out_dir: Path
    name: str
    artifacts: dict[str, Path]
    signature: Signature
    manifest: dict[str, Any]
    parity_verdict: str  # "passed" | "failed" | "skipped"
    parity_summary: str = ""
    routes: dict[str, str] = field(default_factory=dict)
    version_mismatch: str | None = None  # TrainingVersions.mismatch: trained with other versions than exported

    @property
    def passed(self) -> bool:
        return self.parity_verdict in ("passed", "skipped")


def parse_formats(text: str | Sequence[str]) -> tuple[str, ...]:
    items = [t.strip() for t in (text.split(",") if isinstance(text, str) else text) if t.strip()]
    unknown = [t for t in items if t not in FORMATS]
    if unknown or not items:
        raise UsageError(f"--formats '{','.join(items)}' is not allowed; choose from: {', '.join(FORMATS)}")
    if "ort" in items and "onnx" not in items:
        items.append("onnx")  # an .ort file is converted from the .onnx one; ship both
    return tuple(f for f in FORMATS if f in items)


def export_model(model: Any, out_dir: str | Path, options: ExportOptions | None = None, *,
                 data: Any = None, trust_pickle: str | None = None,
                 progress: Callable[[str], None] | None = None) -> ExportResult:
    """Export a fitted estimator (or a model file path) to `out_dir`. See README "Python API"."""
    options = options or ExportOptions()
    say = progress or (lambda message: None)
    out_dir = Path(out_dir)
    source_path: Path | None = None
    versions_json: dict[str, Any] | None = None  # None: an in-memory estimator records no saved version
    mismatch: str | None = None
    if isinstance(model, (str, Path)):
        source_path = Path(model)
        estimator, trained = load_model_with_versions(source_path, trust_pickle=trust_pickle)
        versions_json, mismatch = trained.to_json(), trained.mismatch
        if mismatch and options.strict_versions:
            raise VersionMismatchError(f"model file '{source_path}': {mismatch}; refused by --strict-versions "
                                       "(export on a machine with the training versions, or drop the flag)")
    else:
        estimator = model
    name = options.name or (source_path.stem if source_path else "model")
    _check_name(name)
    _check_out_dir(out_dir, options.force)
    signature = signature_of(estimator, feature_names=options.feature_names, input_dtype=options.input_dtype)
    inputs = load_rows(data, signature, estimator)

    from export.from_sklearn import to_ir

    say(f"lowering {type(estimator).__name__} to the model IR")
    node = to_ir(estimator)
    versions = package_versions()
    with _staging_dir(out_dir) as staging:
        artifacts: dict[str, Path] = {}
        routes: dict[str, str] = {}
        metadata = _metadata(estimator, signature, versions)
        if "coreml" in options.formats:
            say("writing Core ML")
            artifacts["coreml"] = _write_coreml(node, signature, options, metadata, staging / f"{name}.mlmodel")
            routes["coreml"] = "ir"
        if "onnx" in options.formats:
            say("writing ONNX")
            artifacts["onnx"], routes["onnx"], onnx_opset = _write_onnx(
                estimator, node, signature, metadata, staging / f"{name}.onnx")
        if "ort" in options.formats:
            say("converting ONNX to ORT format")
            from export.to_onnx import to_ort

            artifacts["ort"], artifacts["ort_config"] = to_ort(artifacts["onnx"], staging)
        model_copy = staging / f"{name}{MODEL_FILE_SUFFIX}"
        if source_path is not None and source_path.suffix.lower() == MODEL_FILE_SUFFIX:
            shutil.copyfile(source_path, model_copy)
        else:
            dump_skops(estimator, model_copy)  # pickle inputs are re-saved as .skops: the export stays safe to reload
        verdict, summary = "skipped", "parity not run (--no-parity)"
        parity_json: dict[str, Any] | None = None
        if options.run_parity:
            say("running the parity suite")
            verdict, summary, parity_json = _run_parity(estimator, artifacts, signature, inputs, staging, mismatch)
        manifest = {
            "name": name,
            "mlexport_version": versions["mlexport"],
            "created_by": versions,
            "estimator": type(estimator).__name__,
            "model_file": model_copy.name,
            "source_model": {"file": source_path.name, "sha256": sha256_file(source_path)} if source_path else None,
            "trained_with": versions_json,
            "options": options.to_json(),
            "signature": signature.to_json(),
            "input_dtype": signature.input_dtype,
            "artifacts": {k: v.name for k, v in artifacts.items()},
            "routes": routes,
            "target_opset": onnx_opset if "onnx" in options.formats else None,
            "parity": {"verdict": verdict, "summary": summary,
                       "reports": ["parity.json", "parity.md", "parity.html", "golden.json"] if parity_json else []},
        }
        manifest = write_manifest(staging, manifest)
    return ExportResult(out_dir=out_dir, name=name, artifacts={k: out_dir / v.name for k, v in artifacts.items()},
                        signature=signature, manifest=manifest, parity_verdict=verdict, parity_summary=summary,
                        routes=routes, version_mismatch=mismatch)


def _check_name(name: str) -> None:
    if not name or name.startswith(".") or any(c in name for c in "/\\\0") or len(name) > 120:
        raise UsageError(f"--name '{name}' is not allowed: use a plain file name (no path separators, not hidden)")


def _check_out_dir(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and not force:
        raise OutputDirError(f"output directory '{out_dir}' already exists; pass --force to replace it")
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputDirError(f"output path '{out_dir}' exists and is not a directory")
    parent = out_dir.resolve().parent
    if not parent.is_dir():
        raise OutputDirError(f"cannot create '{out_dir}': parent directory '{parent}' does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputDirError(f"cannot create '{out_dir}': parent directory '{parent}' is not writable")


@contextlib.contextmanager
def _staging_dir(out_dir: Path) -> Iterator[Path]:
    """Yield a temporary sibling of `out_dir`; on success swap it into place, on any failure remove it."""
    parent = out_dir.resolve().parent
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=parent))
    except OSError as exc:
        raise OutputDirError(f"cannot write into '{parent}': {exc.strerror}") from None
    try:
        yield staging
        os.chmod(staging, 0o755)  # mkdtemp makes 0700; an export directory is an ordinary directory
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=parent))
            os.replace(out_dir, old / "replaced")
            os.replace(staging, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def load_rows(data: Any, signature: Signature, estimator: Any = None) -> np.ndarray | None:
    """The user's parity rows as float64, checked against the signature (and, for NaN, against the model).

    `data` is a path (.npy/.csv/.parquet), a pandas DataFrame (columns matched by name when the model has names,
    as `parity.check` does) or a 2-D array in feature order."""
    if data is None:
        return None
    from parity.data import user_rows
    from parity.errors import DataFileError

    is_path = isinstance(data, str | os.PathLike)
    source = f"data file '{data}'" if is_path else "data"
    try:
        table = user_rows(data, signature.n_features, signature.feature_names, source="data")
    except DataFileError as exc:
        raise DataError(str(exc)) from None
    assert table is not None
    if estimator is not None and np.isnan(table).any():
        _check_model_takes_nan(estimator, table, signature, source)
    return table


def _check_model_takes_nan(estimator: Any, table: np.ndarray, signature: Signature, source: str) -> None:
    """NaN is a legitimate missing value only for models that take it (trees, HistGradientBoosting, imputers);
    ask scikit-learn itself, on the rows that hold NaN, rather than guess from estimator tags."""
    from parity.probes import refusal_reason

    rows = np.flatnonzero(np.isnan(table).any(axis=1))
    if refusal_reason(estimator, table[rows[:5]]) is not None:
        column = int(np.flatnonzero(np.isnan(table[rows[0]]))[0])
        name = signature.feature_names[column] if signature.feature_names else f"column {column}"
        raise DataError(f"{source}: row {int(rows[0])} has NaN in '{name}', and {type(estimator).__name__} does not "
                        "accept missing values; allowed: finite numbers")


def _metadata(estimator: Any, signature: Signature, versions: Mapping[str, str]) -> dict[str, str]:
    import json

    from parity.data import FEATURE_NAMES_KEY

    meta = {
        "mlexport.version": versions["mlexport"],
        "mlexport.source": f"scikit-learn=={versions['scikit-learn']}",
        "mlexport.estimator": type(estimator).__name__,
        "mlexport.input_dtype": signature.input_dtype,
        "mlexport.input_dtype_reason": signature.input_dtype_reason,
    }
    if signature.feature_names:
        meta[FEATURE_NAMES_KEY] = json.dumps(list(signature.feature_names))
    if signature.class_labels is not None:
        meta["mlexport.class_labels"] = json.dumps(list(signature.exported_class_labels or ()))
    if signature.class_label_encoding:
        meta["mlexport.class_label_encoding"] = signature.class_label_encoding
        meta["mlexport.trained_class_labels"] = json.dumps(list(signature.class_labels or ()))
    return meta


def _write_coreml(node: Any, signature: Signature, options: ExportOptions, metadata: Mapping[str, str],
                  path: Path) -> Path:
    from export.to_coreml import CoreMLInterface, save_spec, to_spec

    interface = CoreMLInterface(
        n_features=signature.n_features,
        input_names=signature.coreml_input_names,
        input_descriptions=signature.feature_names,
        author=options.author,
        license=options.license,
        version=options.version,
        short_description=options.description or _default_description(signature),
        user_defined=dict(metadata),
        label_description=f"Predicted class label ({signature.class_label_encoding})"
        if signature.class_label_encoding else "",
    )
    save_spec(to_spec(node, interface), path, validate=False)  # to_spec has validated it
    return path


def _default_description(signature: Signature) -> str:
    if signature.task == "classifier":
        return f"Classifier over {signature.n_features} features, {signature.n_outputs} classes (exported by mlexport)"
    if signature.task == "regressor":
        return f"Regressor over {signature.n_features} features (exported by mlexport)"
    return f"Transformer over {signature.n_features} features (exported by mlexport)"


def _write_onnx(estimator: Any, node: Any, signature: Signature, metadata: Mapping[str, str],
                path: Path) -> tuple[Path, str, dict[str, int]]:
    from export.to_onnx import OnnxOptions, save_onnx, to_onnx

    result = to_onnx(estimator, node, OnnxOptions(
        input_dtype=signature.input_dtype, n_features=signature.n_features,
        feature_names=signature.feature_names, metadata=dict(metadata)))
    save_onnx(result.model, path)
    return path, result.route, dict(result.target_opset)


def _run_parity(estimator: Any, artifacts: Mapping[str, Path], signature: Signature, inputs: np.ndarray | None,
                staging: Path, version_mismatch: str | None = None) -> tuple[str, str, dict[str, Any]]:
    import json

    import parity

    checked = [p for k, p in artifacts.items() if k in ("coreml", "onnx", "ort")]
    result = parity.check(estimator, checked, inputs=inputs, contract=signature.input_dtype,
                          feature_names=signature.feature_names)
    if version_mismatch:
        result.notes.insert(0, version_mismatch_note(version_mismatch))
    if "coreml" in artifacts:
        parity.write_golden(result, artifacts["coreml"], staging / "golden.json")
    # Name artifacts by file name, not by the temporary directory they were checked in, and leave out run
    # timings: the reports are part of the export and must be byte-reproducible.
    result.rename_artifacts({str(p): p.name for p in checked})
    result.timings = {}
    as_json = parity.to_json(result)
    (staging / "parity.json").write_text(json.dumps(as_json, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (staging / "parity.md").write_text(parity.to_markdown(result), encoding="utf-8")
    (staging / "parity.html").write_text(parity.to_html(result), encoding="utf-8")
    return ("passed" if result.passed else "failed"), _summary_line(result), as_json


def version_mismatch_note(mismatch: str) -> str:
    """The first note of a parity report whose model was saved by other library versions than the checking ones."""
    return f"VERSION MISMATCH: {mismatch}"


def _summary_line(result: Any) -> str:
    return str(getattr(result, "summary", "")) or ("parity passed" if result.passed else "parity FAILED")


__all__ = ["DEFAULT_FORMATS", "FORMATS", "MANIFEST_NAME", "ExportOptions", "ExportResult", "export_model",
           "parse_formats"]
