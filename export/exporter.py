"""The export pipeline: estimator -> signature -> IR -> artifacts -> parity -> manifest, written atomically.

Everything lands in a temporary sibling of the output directory and is renamed into place only when complete, so
an interrupted or failed export leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from export import ir
from export.errors import DataError, InputFileError, UsageError, VersionMismatchError
from export.loading import dump_skops, load_model_with_versions, sha256_file
from export.manifest import MANIFEST_NAME, package_versions, read_manifest, write_manifest
from export.output_dir import atomic_output_dir, check_output_dir, name_some
from export.signature import Signature, signature_of

FORMATS: tuple[str, ...] = ("coreml", "onnx", "ort")
DEFAULT_FORMATS: tuple[str, ...] = ("coreml", "onnx")
MODEL_FILE_SUFFIX = ".skops"
# The user's --data rows are copied into the export (up to this many, a seeded sample beyond) so that
# `mlexport parity DIR` re-checks them wherever the export travels; `--data-copy-rows 0` keeps them out.
DATA_COPY_NAME = "parity_data.npy"
# A model with string inputs gets its rows as a typed table instead: Parquet keeps each column's type (pandas 3
# `str`, category, int64, float64, bool) and loads without running code, unlike a pickle of the DataFrame.
FRAME_COPY_NAME = "parity_data.parquet"
DEFAULT_DATA_COPY_ROWS = 10_000
PARITY_REPORTS = ("parity.json", "parity.md", "parity.html", "golden.json")


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
    data_copy_rows: int = DEFAULT_DATA_COPY_ROWS
    reproducible: bool = False  # leave run timings out of parity.json: the same export gives the same bytes
    strict_versions: bool = False  # refuse a model file saved by other library versions than the running ones
    missing: float | None = None  # XGBoost's call-time `missing` value (--missing); None: NaN or the wrapper's own

    def to_json(self) -> dict[str, Any]:
        return {"formats": list(self.formats), "name": self.name, "input_dtype": self.input_dtype,
                "feature_names": list(self.feature_names) if self.feature_names else None, "author": self.author,
                "license": self.license, "version": self.version, "description": self.description,
                "parity": self.run_parity, "data_copy_rows": self.data_copy_rows, "reproducible": self.reproducible,
                "strict_versions": self.strict_versions,
                # XGBoost's call-time missing value, only when one other than NaN is in effect
                **({} if self.missing is None or np.isnan(self.missing) else {"missing": float(self.missing)})}


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
    parity_report: Any = None  # the parity.ParityReport, when parity ran
    reports: dict[str, Path] = field(default_factory=dict)  # parity.json/.md/.html, golden.json as written
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
                 progress: Callable[[str], None] | None = None, missing: float | None = None) -> ExportResult:
    """Export a fitted estimator (or a model file path) to `out_dir`. See README "Python API". `missing`: XGBoost's
    call-time missing value (the same as ExportOptions.missing, --missing)."""
    options = options or ExportOptions()
    if missing is not None:
        from dataclasses import replace

        options = replace(options, missing=float(missing))
    say = progress or (lambda message: None)
    out_dir = Path(out_dir)
    source_path: Path | None = None
    from export import from_boosting

    versions_json: dict[str, Any] | None = None  # None: an in-memory estimator records no saved version
    mismatch: str | None = None
    if isinstance(model, (str, Path)):
        source_path = Path(model)
        estimator, trained = load_model_with_versions(source_path, trust_pickle=trust_pickle)
        versions_json, mismatch = trained.to_json(), trained.mismatch
        if mismatch and options.strict_versions:
            raise VersionMismatchError(f"model file '{source_path}': {mismatch}; refused by --strict-versions "
                                       "(export on a machine with the training versions, or drop the flag)")
    elif from_boosting.is_boosting_object(model):
        from export.frontends import lookup

        lookup(model)  # the registry decides which of the library's types are supported (a one-line refusal)
        estimator = from_boosting.from_object(model)  # serialised by its library, read like its model file
    else:
        estimator = model
    boosted = estimator if isinstance(estimator, from_boosting.BoostedModel) else None
    options = _apply_missing(boosted, options)  # before the parity reference is built
    name = options.name if options.name is not None else (source_path.stem if source_path else "model")
    check_name(name)
    check_output_dir(out_dir, force=options.force, replaceable=_replaceable_export)
    if options.data_copy_rows < 0:
        raise UsageError(f"--data-copy-rows {options.data_copy_rows} is not allowed: give 0 (no copy) or more")
    signature = signature_of(estimator, feature_names=options.feature_names, input_dtype=options.input_dtype)

    reference = parity_subject(estimator)
    node, inputs = _lower(estimator, signature, data, reference, say)
    data_record = _data_record(data, inputs, out_dir, options.data_copy_rows)
    versions = package_versions()
    with atomic_output_dir(out_dir) as staging:
        artifacts: dict[str, Path] = {}
        routes: dict[str, str] = {}
        metadata = _metadata(estimator, signature, versions, node.inputs)
        if "coreml" in options.formats:
            say("writing Core ML")
            artifacts["coreml"] = _write_coreml(node, signature, options, metadata, staging / f"{name}.mlmodel")
            routes["coreml"] = "ir"
            artifacts.update(_write_text_rules(node, staging, name))
        if "onnx" in options.formats:
            say("writing ONNX")
            artifacts["onnx"], routes["onnx"], onnx_opset = _write_onnx(
                estimator, node, signature, metadata, staging / f"{name}.onnx")
        if "ort" in options.formats:
            say("converting ONNX to ORT format")
            from export.to_onnx import to_ort

            artifacts["ort"], artifacts["ort_config"] = to_ort(artifacts["onnx"], staging)
        model_copy = staging / f"{name}{boosted.suffix if boosted else MODEL_FILE_SUFFIX}"
        if boosted is not None:
            model_copy.write_bytes(boosted.payload)  # the library's own file, byte for byte as read
        elif source_path is not None and source_path.suffix.lower() == MODEL_FILE_SUFFIX:
            shutil.copyfile(source_path, model_copy)
        else:
            dump_skops(estimator, model_copy)  # pickle inputs are re-saved as .skops: the export stays safe to reload
        if inputs is not None and data_record is not None and data_record["copy"]:
            if isinstance(inputs, np.ndarray):
                np.save(staging / DATA_COPY_NAME, _data_copy(inputs, options.data_copy_rows), allow_pickle=False)
            else:
                _frame_copy(inputs, options.data_copy_rows).to_parquet(staging / FRAME_COPY_NAME, index=False)
        verdict, summary = "skipped", "parity not run (--no-parity)"
        report = None
        if options.run_parity:
            from parity.report import one_line_summary

            say("running the parity suite")
            report = _run_parity(reference, artifacts, signature, inputs, staging, data_record, options.reproducible,
                                 mismatch)
            verdict = "passed" if report.passed else "failed"
            summary = one_line_summary(report)
        reports = [r for r in PARITY_REPORTS if (staging / r).is_file()] if report is not None else []
        manifest = {
            "name": name,
            "mlexport_version": versions["mlexport"],
            "created_by": versions,
            "estimator": boosted.description if boosted else type(estimator).__name__,
            "model_file": model_copy.name,
            "source_model": {"file": source_path.name, "sha256": sha256_file(source_path)} if source_path else None,
            "trained_with": versions_json,
            "options": options.to_json(),
            "signature": signature.to_json(),
            "input_dtype": signature.input_dtype,
            "artifacts": {k: v.name for k, v in artifacts.items()},
            "routes": routes,
            "target_opset": onnx_opset if "onnx" in options.formats else None,
            "data": data_record,
            "parity": {"verdict": verdict, "summary": summary, "reports": reports},
        }
        manifest = write_manifest(staging, manifest)
    return ExportResult(out_dir=out_dir, name=name, artifacts={k: out_dir / v.name for k, v in artifacts.items()},
                        signature=signature, manifest=manifest, parity_verdict=verdict, parity_summary=summary,
                        routes=routes, parity_report=report,
                        reports={r: out_dir / r for r in reports}, version_mismatch=mismatch)


def _apply_missing(boosted: Any, options: ExportOptions) -> ExportOptions:
    """XGBoost's call-time `missing` onto the model, and the value in effect (the user's, or an in-memory
    wrapper's own parameter) into the options the manifest records (`mlexport parity DIR` reuses it)."""
    from dataclasses import replace

    from export import from_boosting

    if options.missing is not None:
        if boosted is None:
            raise UsageError("--missing is XGBoost's call-time missing value; it applies to XGBoost models only")
        from_boosting.set_missing(boosted, options.missing)
    if boosted is not None and not np.isnan(boosted.missing):
        return replace(options, missing=boosted.missing)
    return options


def _lower(estimator: Any, signature: Signature, data: Any, reference: Any,
           say: Callable[[str], None]) -> tuple[ir.Model, Any]:
    """(the IR model, the user's rows read against its inputs). A CatBoost model with categorical features reads
    the rows first: its string lookup is built from their categories."""
    from export.from_boosting import BoostedModel

    if isinstance(estimator, BoostedModel):
        say(f"lowering {estimator.description} to the model IR")
        if estimator.string_columns:
            inputs = load_rows(data, signature, reference, estimator.inputs(signature.feature_names))
            return estimator.to_ir(signature.feature_names, rows=inputs), inputs
        node = estimator.to_ir(signature.feature_names, input_dtype=signature.input_dtype)
        return node, load_rows(data, signature, reference, node.inputs)
    from export.frontends import to_ir

    say(f"lowering {type(estimator).__name__} to the model IR")
    node = to_ir(estimator, feature_names=signature.feature_names)
    return node, load_rows(data, signature, reference, node.inputs)


def check_name(name: str) -> None:
    """`--name` becomes the artifacts' file names inside the output directory: a plain, visible file name only."""
    problem = None
    if not name.strip():
        problem = "it is empty"
    elif any(sep in name for sep in {"/", "\\", os.sep, os.altsep or "/"}):
        problem = "it contains a path separator"
    elif name in (".", "..") or name.startswith("."):
        problem = "it starts with '.' (a hidden file, or a path to another directory)"
    elif any(ord(c) < 32 or c == "\x7f" for c in name):
        problem = "it contains a control character"
    elif name != name.strip():
        problem = "it starts or ends with whitespace"
    elif len(name.encode("utf-8")) > 120:
        problem = "it is longer than 120 bytes"
    if problem:
        raise UsageError(f"--name {name!r} is not allowed: {problem}; use a plain file name such as 'my_model'")


def _replaceable_export(out_dir: Path) -> str | None:
    """None when `out_dir` is an mlexport export holding only the files its manifest lists (so --force deletes
    nothing of the user's); otherwise why it is not."""
    from export.manifest import unlisted_paths

    try:
        read_manifest(out_dir)
    except InputFileError:
        held = sorted(p.name for p in out_dir.iterdir())
        return f"it is not an mlexport export (no mlexport manifest.json) and holds {name_some(held)}"
    extra = unlisted_paths(out_dir)
    if extra:
        return f"it holds files that are not part of the export ({name_some(extra)})"
    return None


def load_rows(data: Any, signature: Signature, estimator: Any = None, schema: ir.Schema | None = None) -> Any:
    """The user's parity rows as float64, checked against the signature (and, for NaN, against the model).

    `data` is a path (.npy/.csv/.parquet), a pandas DataFrame (columns matched by name when the model has names,
    as `parity.check` does) or a 2-D array in feature order; for a
    model with string inputs (`schema`), a DataFrame in schema column order, each column checked against its kind
    (a missing column, strings in a numeric column, numbers in a string column: one line naming the column)."""
    if data is None:
        return None
    from parity.data import read_frame, user_rows
    from parity.errors import DataFileError

    if schema is not None and not schema.all_double:
        kinds: dict[str, str] = {c.name: c.kind for c in schema.columns}
        if len(schema.columns) == 1 and (isinstance(data, list | tuple) or type(data).__name__ == "Series"
                                         or (isinstance(data, np.ndarray) and data.ndim == 1)):
            import pandas as pd  # documents (a text model fitted on bare documents): the one column's values

            data = pd.DataFrame({schema.names[0]: pd.Series(list(data), dtype=object)})
        if type(data).__name__ == "DataFrame":
            missing = [n for n in schema.names if n not in data.columns]
            if missing:
                raise DataError(f"data: missing columns {missing}; the model reads {list(schema.names)}")
            return data[list(schema.names)]
        if isinstance(data, np.ndarray):
            raise UsageError("this model has string inputs; pass its data as a DataFrame or a .csv/.parquet file")
        try:
            return read_frame(Path(data), len(schema.names), schema.names, kinds)
        except DataFileError as exc:
            raise DataError(str(exc)) from None

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


def parity_subject(estimator: Any) -> Any:
    """What parity compares the artifacts with: the estimator itself, or a boosting library's reference adapter."""
    from export.from_boosting import BoostedModel

    return estimator.reference() if isinstance(estimator, BoostedModel) else estimator


def _metadata(estimator: Any, signature: Signature, versions: Mapping[str, str],
              schema: ir.Schema | None = None) -> dict[str, str]:
    import json

    from export.from_boosting import BoostedModel
    from parity.data import FEATURE_NAMES_KEY

    boosted = isinstance(estimator, BoostedModel)
    meta = {
        "mlexport.version": versions["mlexport"],
        "mlexport.source": (f"{estimator.library}=={estimator.library_version}" if boosted
                            else f"scikit-learn=={versions['scikit-learn']}"),
        "mlexport.estimator": estimator.description if boosted else type(estimator).__name__,
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
    if schema is not None and not schema.all_double:
        # The string-input contract (README "DataFrame models with string columns"), for the app developer.
        meta["mlexport.string_inputs"] = json.dumps([c.input_name for c in schema.columns if c.kind == "string"])
        meta["mlexport.missing_string"] = (
            f'"" (the empty string) = a missing value, as {estimator.library} treats NaN; an unknown string too'
            if boosted else '"" (the empty string) = a missing value, as scikit-learn treats NaN')
        meta["mlexport.string_normalization"] = "NFC (normalise strings before feeding them)"
    return meta


def _write_coreml(node: ir.Model, signature: Signature, options: ExportOptions, metadata: Mapping[str, str],
                  path: Path) -> Path:
    from export.to_coreml import CoreMLInterface, save_spec, to_spec

    interface = CoreMLInterface(
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


def _write_text_rules(model: ir.Model, staging: Path, name: str) -> dict[str, Path]:
    """The Swift tokenizer's rules (ios_stub TextFeatures) for each text column of a Core ML model, whose input
    there is the column's term counts: NAME.text.json (one text column) or NAME.<input>.text.json (several)."""
    import json

    from export.text.rules import text_rules

    columns = model.text_columns()
    written: dict[str, Path] = {}
    for column, vectorizer in columns.items():
        input_name = model.inputs.column(column).input_name
        assert isinstance(vectorizer.columns, ir.Vocabulary)  # the Core ML writer refused hashed columns
        rules = text_rules(vectorizer.analyzer, vectorizer.binary, vectorizer.columns.terms)
        rules["column"], rules["input_name"] = column, input_name
        path = staging / (f"{name}.text.json" if len(columns) == 1 else f"{name}.{input_name}.text.json")
        path.write_text(json.dumps(rules, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
        written["text_rules" if len(columns) == 1 else f"text_rules:{input_name}"] = path
    return written


def _default_description(signature: Signature) -> str:
    if signature.task == "classifier":
        return f"Classifier over {signature.n_features} features, {signature.n_outputs} classes (exported by mlexport)"
    if signature.task == "regressor":
        return f"Regressor over {signature.n_features} features (exported by mlexport)"
    return f"Transformer over {signature.n_features} features (exported by mlexport)"


def _write_onnx(estimator: Any, node: ir.Model, signature: Signature, metadata: Mapping[str, str],
                path: Path) -> tuple[Path, str, dict[str, int]]:
    from export.to_onnx import OnnxOptions, save_onnx, to_onnx

    result = to_onnx(estimator, node, OnnxOptions(input_dtype=signature.input_dtype, metadata=dict(metadata)))
    save_onnx(result.model, path)
    return path, result.route, dict(result.target_opset)


def _data_record(data: Any, inputs: Any, out_dir: Path, copy_rows: int) -> dict[str, Any] | None:
    """manifest.json "data": the --data file (path relative to the export directory, SHA-256, rows) and the copy
    kept inside the export, so `mlexport parity DIR` re-checks the user's rows later (parity_run.py). Numeric rows
    are copied as float64 .npy; a DataFrame with string columns as Parquet, with each column's pandas dtype and
    missing marker recorded (`copy_columns`) where Parquet cannot tell them apart (object vs str, None vs NaN)."""
    if inputs is None:
        return None
    from parity import sha256_rows

    copied = min(len(inputs), copy_rows)
    selection = ("all rows" if copied == len(inputs) else
                 f"{copied} rows sampled uniformly without replacement (numpy default_rng seed 0), in "
                 "file order") if copied else None
    record: dict[str, Any]
    if isinstance(inputs, np.ndarray):
        record = {"file": None, "sha256": sha256_rows(inputs), "sha256_of": "float64 rows",
                  "copy": DATA_COPY_NAME if copied else None}
    else:  # a DataFrame with string columns (schema order, the user's dtypes)
        record = {"file": None, "sha256": _sha256_frame(inputs),
                  "sha256_of": "the DataFrame as Parquet (index dropped)",
                  "copy": FRAME_COPY_NAME if copied else None,
                  "copy_columns": frame_dtypes(inputs) if copied else None}
    record.update(rows=len(inputs), copy_rows=copied, copy_selection=selection)
    if isinstance(data, str | os.PathLike):
        path = Path(data).resolve()
        record.update(file=Path(os.path.relpath(path, out_dir.resolve())).as_posix(), sha256=sha256_file(path),
                      sha256_of="file")
    return record


def _sha256_frame(frame: Any) -> str:
    """SHA-256 of a DataFrame's rows and column types, as the Parquet bytes pandas writes (deterministic for the same
    library versions, like every other byte of an export)."""
    import hashlib
    import io

    buffer = io.BytesIO()
    frame.reset_index(drop=True).to_parquet(buffer, index=False)
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def _copied_rows(n_rows: int, copy_rows: int) -> np.ndarray | None:
    """Row indices of the copy (a seeded uniform sample in file order), or None for all rows."""
    if n_rows <= copy_rows:
        return None
    return np.sort(np.random.default_rng(0).choice(n_rows, size=copy_rows, replace=False))


def _data_copy(inputs: np.ndarray, copy_rows: int) -> np.ndarray:
    rows = _copied_rows(len(inputs), copy_rows)
    return np.ascontiguousarray(inputs if rows is None else inputs[rows], dtype=np.float64)


def _frame_copy(frame: Any, copy_rows: int) -> Any:
    rows = _copied_rows(len(frame), copy_rows)
    return (frame if rows is None else frame.iloc[rows]).reset_index(drop=True)


def frame_dtypes(frame: Any) -> dict[str, dict[str, str]]:
    """{column: {"dtype": pandas dtype as given, "missing": "None" | "NaN"}} for the Parquet copy: Parquet reads an
    object column of strings back as pandas 3 `str` and None as NaN, and scikit-learn's encoders treat None and
    NaN as different categories (parity/columns.py), so both are restored on reading (`restore_frame_dtypes`)."""
    from parity.columns import python_dtype_of

    return {str(name): {"dtype": python_dtype_of(frame[name]),
                        "missing": "None" if frame[name].dtype == object and frame[name].map(
                            lambda v: v is None).any() else "NaN"} for name in frame.columns}


def restore_frame_dtypes(frame: Any, dtypes: Mapping[str, Mapping[str, str]]) -> Any:
    """The Parquet copy as the user's DataFrame: object columns back to object, their missing values to None
    where the user's were None (the inverse of `frame_dtypes`; every other dtype is kept by Parquet)."""
    frame = frame.copy()
    for name, recorded in dtypes.items():
        if name not in frame.columns or recorded.get("dtype") != "object" or frame[name].dtype == object:
            continue
        values = frame[name].astype(object)
        missing = values.isna().to_numpy()
        if recorded.get("missing") == "None" and missing.any():
            values[missing] = None
        frame[name] = values
    return frame


def _run_parity(estimator: Any, artifacts: Mapping[str, Path], signature: Signature, inputs: np.ndarray | None,
                staging: Path, data_record: dict[str, Any] | None, reproducible: bool,
                version_mismatch: str | None = None) -> Any:
    import json

    import parity
    from parity.report import UserData

    checked = [p for k, p in artifacts.items() if k in ("coreml", "onnx", "ort")]
    result = parity.check(estimator, checked, inputs=inputs, contract=signature.input_dtype,
                          feature_names=signature.feature_names)
    if data_record is not None:
        result.user_data = UserData(True, file=data_record["file"], sha256=data_record["sha256"],
                                    sha256_of=data_record["sha256_of"], rows=data_record["rows"],
                                    rows_checked=data_record["rows"], source="--data")
    if version_mismatch:
        result.notes.insert(0, version_mismatch_note(version_mismatch))
    if "coreml" in artifacts:
        parity.write_golden(result, artifacts["coreml"], staging / "golden.json")
    # Name artifacts by file name, not by the temporary directory they were checked in.
    result.rename_artifacts({str(p): p.name for p in checked})
    if reproducible:  # run timings are the only bytes that differ between two runs of the same export
        result.timings = {}
        result.notes.append("timings left out (reproducible export): exporting again gives identical bytes")
    as_json = parity.to_json(result)
    (staging / "parity.json").write_text(json.dumps(as_json, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (staging / "parity.md").write_text(parity.to_markdown(result), encoding="utf-8")
    (staging / "parity.html").write_text(parity.to_html(result), encoding="utf-8")
    return result


def version_mismatch_note(mismatch: str) -> str:
    """The first note of a parity report whose model was saved by other library versions than the checking ones."""
    return f"VERSION MISMATCH: {mismatch}"


__all__ = ["DEFAULT_FORMATS", "FORMATS", "MANIFEST_NAME", "ExportOptions", "ExportResult", "export_model",
           "parse_formats"]
