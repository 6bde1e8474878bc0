"""Parity suite entry point: `check(estimator, artifacts, ...)` runs probes through scikit-learn and every artifact.

Flow: probes (probes.py) -> scikit-learn reference on the contract dtype and each artifact's runtime (runtimes.py)
-> comparison with per-output tolerances (compare.py, tolerances.py) -> named root causes (diagnose.py) -> ParityReport
(report.py; golden.json via golden.py). This module stays import-light: the pytest plugin imports the package in every
pytest run, so heavy modules are imported inside functions.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from parity.report import ParityReport

__all__ = ["check", "package_versions", "sha256_file", "sha256_rows", "to_html", "to_json", "to_junit", "to_markdown",
           "write_golden"]


def to_json(report: ParityReport) -> dict[str, Any]:
    from parity.report import to_json as render

    return render(report)


def to_markdown(report: ParityReport) -> str:
    from parity.report import to_markdown as render

    return render(report)


def to_html(report: ParityReport) -> str:
    from parity.report import to_html as render

    return render(report)


def to_junit(report: ParityReport) -> str:
    from parity.report import to_junit as render

    return render(report)


def write_golden(report: ParityReport, artifact: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    from parity.golden import write_golden as write

    return write(report, artifact, path)


class _Progress:
    """A one-line progress bar on stderr, shown only when asked and stderr is a terminal (or forced)."""

    def __init__(self, total: int, enabled: bool | str) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.started = time.monotonic()
        self.enabled = enabled == "force" or (bool(enabled) and sys.stderr.isatty())

    def step(self, label: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        width = 30
        filled = int(width * self.done / self.total)
        elapsed = time.monotonic() - self.started
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {elapsed:5.1f}s "
                         f"{label[:40]:<40}")
        if self.done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _user_rows(inputs: Any, n_features: int, feature_names: Sequence[str] | None,
               kinds: dict[str, str], categories: dict[str, list[str]],
               text: dict[str, Any] | None = None) -> tuple[np.ndarray | None, Any]:
    """(X, InputSchema or None) of the user's rows. Numbers only (parity.data.user_rows): X as float64, no schema.
    String columns (in the data, or inputs the artifacts declare as strings): X encodes them through the schema
    (parity/columns.py), the DataFrame's columns matched by name as for numbers."""
    from parity.columns import frame_has_strings, schema_from_frame, schema_from_kinds
    from parity.data import match_columns, read_frame, refuse_infinity, user_rows
    from parity.errors import DataFileError, ParityInputError

    is_path = isinstance(inputs, str | os.PathLike)
    is_frame = hasattr(inputs, "columns") and hasattr(inputs, "iloc")
    if "string" not in kinds.values() and not (is_frame and frame_has_strings(inputs)):
        try:
            return user_rows(inputs, n_features, feature_names), None
        except DataFileError as exc:
            if is_path:
                raise
            raise ParityInputError(str(exc)) from None  # an argument of check(), not a file
    names = list(feature_names) if feature_names is not None else [f"x{j}" for j in range(n_features)]
    if inputs is None:
        schema = schema_from_kinds(names, kinds)  # type: ignore[arg-type]
        _mark_text(schema, text or {})
        return None, schema
    if is_path:
        frame, origin = read_frame(inputs, n_features, feature_names, kinds, categories), str(inputs)
    elif is_frame:
        frame, origin = inputs, "inputs"
        columns = list(frame.columns)
        if feature_names is not None and all(isinstance(c, str) for c in columns):
            try:
                frame = frame.iloc[:, match_columns(columns, names)]
            except DataFileError as exc:
                raise ParityInputError(f"{origin}: {exc}") from None
        elif len(columns) != n_features:
            raise ParityInputError(f"{origin}: has {len(columns)} columns, the model expects {n_features}")
        frame = frame.set_axis(names, axis=1)
    else:
        raise ParityInputError("inputs: the model has string inputs; pass a pandas DataFrame or a .csv/.parquet path")
    schema = schema_from_frame(frame, names, kinds, origin)  # type: ignore[arg-type]
    _mark_text(schema, text or {})
    X = schema.encode_frame(frame, origin)
    if len(X) == 0:
        raise ParityInputError(f"{origin}: data has no rows")
    refuse_infinity(origin, X, names, schema.numeric_indices(), ParityInputError)
    return X, schema


def _mark_text(schema: Any, vectorizers: dict[str, Any]) -> None:
    """Text columns (read by `vectorizers[column]`) keep their documents unnormalised, are probed with documents
    and counted by the vectorizer's analyzer (parity/text_inputs.py)."""
    from functools import partial

    from parity.text_inputs import probe_documents, term_counts

    for column in schema.columns:
        if column.name in vectorizers and column.kind == "string":
            column.documents = probe_documents(vectorizers[column.name])
            column.term_counter = partial(term_counts, vectorizers[column.name])


def _artifact_kinds(opened: list[Any], names: list[str] | None, n_features: int) -> dict[str, str]:
    """{column: 'string' | 'int64' | 'double'} as the artifacts declare their inputs (string wins)."""
    from parity.runtimes import bind_inputs

    labels = names if names is not None else [f"x{j}" for j in range(n_features)]
    kinds: dict[str, str] = {}
    for artifact in opened:
        for feature, columns in zip(artifact.inputs, bind_inputs(artifact.path, artifact.inputs, names, n_features),
                                    strict=True):
            kind = "string" if feature.kind == "string" else "int64" if feature.kind == "int64" else "double"
            for j in columns:
                if kinds.get(labels[int(j)]) != "string":
                    kinds[labels[int(j)]] = kind
    return kinds


def check(
    estimator: Any,
    artifacts: Sequence[str | os.PathLike[str]],
    inputs: Any = None,
    contract: str = "float64",
    feature_names: Sequence[str] | None = None,
    progress: bool | str = False,
) -> ParityReport:
    """Compare every artifact with scikit-learn on user rows and model-derived probes; see parity/report.py."""
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    from parity.coreml_reference.tree_ensemble import single_threaded
    from parity.errors import ParityInputError
    from parity.probes import build_probes
    from parity.references import adapter_for
    from parity.runtimes import open_artifact

    if contract not in ("float32", "float64"):
        raise ParityInputError(f"contract {contract!r} is not supported; supported: 'float32', 'float64'")
    if not artifacts:
        raise ParityInputError("artifacts: give at least one .mlmodel, .onnx or .ort path")
    from parity.text_inputs import takes_documents

    documents = takes_documents(estimator)
    n_features = 1 if documents else getattr(estimator, "n_features_in_", None)
    if n_features is None:
        raise ParityInputError(f"{type(estimator).__name__} is not fitted (no n_features_in_)")
    names = list(feature_names) if feature_names is not None else None
    if names is None and hasattr(estimator, "feature_names_in_"):
        names = [str(n) for n in estimator.feature_names_in_]
    timings: dict[str, float] = {}
    # One pool of one worker per core runs everything heavy: opening the artifacts (side by side), then
    # scikit-learn and every artifact in row chunks (see the probe loop in _run).
    pool = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1))
    try:
        opening = [pool.submit(_timed, open_artifact, Path(path)) for path in artifacts]
        opened = [future.result()[0] for future in opening]
        timings["open artifacts"] = sum(future.result()[1] for future in opening)
        if documents:
            names = names or [opened[0].inputs[0].name]  # one text column, named as the artifact names it
            inputs = _documents_frame(inputs, names[0])
        X_user, schema, names = _bound_inputs(opened, inputs, int(n_features), names, estimator, documents)
        clock = time.perf_counter()
        chain = adapter_for(estimator).chain(estimator) if schema is None else None
        probes = build_probes(estimator, X_user, int(n_features), schema=schema, chain=chain)
        timings["build probes"] = time.perf_counter() - clock
        # scikit-learn's warnings on probe rows (extremes, NaN) are expected; filters are process-wide, so they are set
        # once here, not per worker thread (catch_warnings is not thread-safe). OpenMP/BLAS pools (HGB, dense
        # products) are held to one thread: the pool already has one worker per core.
        from threadpoolctl import threadpool_limits

        with single_threaded(), warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            return _run(estimator, opened, probes, chain, contract, int(n_features), names, schema, inputs, X_user,
                        progress, timings, pool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run(estimator: Any, opened: list[Any], probes: Any, chain: Any, contract: str, n_features: int,
         names: list[str] | None, schema: Any, inputs: Any, X_user: Any, progress: bool | str,
         timings: dict[str, float], pool: Any) -> ParityReport:
    """The probe loop of `check`: every probe set through scikit-learn and every artifact, compared and diagnosed."""
    from parity import diagnose
    from parity.bounds import artifact_precision
    from parity.references import family
    from parity.report import ParityReport, ProbeSummary
    from parity.runtimes import (
        RuntimeStatus,
        contract_inputs,
        estimator_classes,
        input_cast_to_float32,
        reference_outputs,
    )

    clock = time.perf_counter()
    precisions = {str(a.path): artifact_precision(a, contract) for a in opened} if chain is not None else {}
    timings["artifact precision"] = time.perf_counter() - clock
    classes = estimator_classes(estimator)
    runtimes = [RuntimeStatus(_reference_name(estimator), None, "ran")]
    artifact_results, runs = _plan_runs(opened, classes, runtimes)
    roles_needed = {role for a in opened for role in a.roles.values()}
    drift_roles = roles_needed - {"label"} if roles_needed - {"label"} else roles_needed
    progress_bar = _Progress(len(probes.sets) * (1 + len(runs)), progress)
    report = ParityReport(verdict="passed", estimator=_describe(estimator), contract=contract,
                          n_features=n_features, feature_names=names, tie_tolerance=0.0,
                          artifacts=artifact_results, checks=[], runtimes=runtimes, drift=[], probes=[],
                          notes=list(probes.notes),
                          classes=None if classes is None else [_plain(c) for c in classes], schema=schema)
    report.versions = package_versions()
    report.user_data = _describe_user_data(inputs, X_user)
    skip_drift = input_cast_to_float32(estimator)
    if skip_drift:
        report.notes.append("reference drift float64 vs float32 is zero by construction: scikit-learn casts the input "
                            "of this tree model to float32 itself")
    if chain is None:
        report.notes.append("no error bound derived for this model's outputs: fixed tolerances apply (reasons in the "
                            "tolerance column)")
    ran: dict[str, list[Any]] = {}
    tie_tolerances: list[float] = []
    # Every probe set's work is queued at once — scikit-learn and each artifact in row chunks, round-robin — so both
    # cores stay busy to the last chunk, across probe sets, while this thread compares finished sets. All of it is
    # native code that releases the GIL (Cython tree walks, ORT kernels, numpy); each runtime uses one thread of its
    # own (onnxruntime sessions are opened that way, the evaluator is single_threaded). Every runtime's outputs are
    # row-independent; the scikit-learn reference is chunked only for tree models (one walk per row: provably the
    # same bits), other families see each whole set (a BLAS product's blocking may depend on the batch).
    chunk_reference = family(estimator) == "tree" and schema is None
    queued = []
    for probe in probes.sets:
        X = contract_inputs(probe.X, contract)
        reference_chunks = _submit_reference(pool, estimator, X, roles_needed, schema, chunk_reference)
        queued.append((probe, X, reference_chunks, _submit_round_robin(pool, runs, X)))
    for probe, X, reference_chunks, started in queued:
        try:
            reference, seconds = reference_chunks.result()
            timings["scikit-learn"] = timings.get("scikit-learn", 0.0) + seconds
            if not skip_drift:
                other = contract_inputs(probe.X, "float32" if contract == "float64" else "float64")
                report.drift += diagnose.reference_drift(reference_outputs(estimator, other, drift_roles, schema),
                                                         {r: reference[r] for r in drift_roles}, probe.name)
        except (ValueError, TypeError, FloatingPointError, OverflowError) as exc:
            report.notes.append(f"probe set {probe.name} skipped: scikit-learn refuses it ({_first_line(exc)})")
            for _, future in started:
                future.exception()  # wait: never leave a runtime busy with a set we drop
            progress_bar.step(probe.name)
            continue
        report.probes.append(ProbeSummary(probe.name, len(X), probe.description))
        report.probe_data[probe.name] = (probe.X, X, reference)
        progress_bar.step(f"scikit-learn · {probe.name}")
        for (artifact, _result, runtime_name, _predict), future in started:
            checks, tie = _evaluate(estimator, artifact, runtime_name, lambda _X, f=future: f.result()[0],
                                    probe.name, X, reference, classes, schema is not None, chain,
                                    precisions.get(str(artifact.path)))
            key = f"{runtime_name} · {artifact.path.name}"
            seconds = future.result()[1] if future.exception() is None else 0.0
            timings[key] = timings.get(key, 0.0) + seconds
            tie_tolerances.append(tie)
            report.checks += checks
            _record_outcome(ran, f"{runtime_name}|{artifact.path}", runtime_name, checks)
            progress_bar.step(f"{artifact.path.name} · {probe.name}")
    for key, (succeeded, raised, first_error) in ran.items():
        runtime_name, path = key.split("|", 1)
        status = "ran" if not raised else (f"failed to run: {first_error}" if not succeeded else
                                           f"ran, but raised on {raised} probe sets: {first_error}")
        report.runtimes.append(RuntimeStatus(runtime_name, path, status))
    clock = time.perf_counter()
    _diagnose(report, estimator, opened, probes)
    timings["diagnosis"] = time.perf_counter() - clock
    report.timings = timings
    report.tie_tolerance = max(tie_tolerances) if tie_tolerances else 1e-12
    failed = any(not c.passed for c in report.checks) or any(a.problems for a in report.artifacts)
    report.verdict = "failed" if failed else "passed"
    return report


def _documents_frame(inputs: Any, name: str) -> Any:
    """A documents model's rows (a list / tuple / 1-D array / Series of strings, or a path) as a one-column frame."""
    import pandas as pd

    if inputs is None or isinstance(inputs, str | os.PathLike) or hasattr(inputs, "columns"):
        return inputs
    return pd.DataFrame({name: pd.Series(list(inputs), dtype=object)})


def _bound_inputs(opened: list[Any], inputs: Any, n_features: int, names: list[str] | None, estimator: Any = None,
                  documents: bool = False) -> tuple[Any, Any, list[str] | None]:
    """(user rows X, InputSchema or None, column names) with every artifact's inputs bound to the columns; text
    columns (parity/text_inputs.py) get their probe documents instead of categories."""
    from parity.columns import add_categories
    from parity.runtimes import artifact_categories
    from parity.text_inputs import text_vectorizers

    kinds = _artifact_kinds(opened, names, n_features)
    categories = artifact_categories(opened, names, n_features) if "string" in kinds.values() else {}
    labels = names if names is not None else [f"x{j}" for j in range(n_features)]
    vectorizers = text_vectorizers(estimator, labels) if estimator is not None else {}
    X_user, schema = _user_rows(inputs, n_features, names, kinds, categories, vectorizers)
    if schema is not None:
        schema.takes_documents = documents
        add_categories(schema, categories)
        names = schema.names
    for artifact in opened:
        artifact.bind(names, n_features, schema)
    return X_user, schema, names


def _diagnose(report: ParityReport, estimator: Any, opened: list[Any], probes: Any) -> None:
    from parity import diagnose

    try:
        diagnose.explain(report, estimator, opened, probes)
    except (ValueError, TypeError) as exc:
        if report.schema is None:
            raise
        # The diagnosis replays numeric rows through the model's steps; string columns (codes in X) cannot be.
        report.notes.append(f"diagnosis incomplete: it replays numeric rows only ({_first_line(exc)})")
        for check in report.failures():
            check.comparison.cause = check.comparison.cause or "unexplained (string inputs: no diagnosis replay)"


def _timed(work: Any, *args: Any) -> tuple[Any, float]:
    clock = time.perf_counter()
    outputs = work(*args)
    return outputs, time.perf_counter() - clock


_CHUNK_ROWS = 1 << 14


class _ChunkedRun:
    """The row chunks of one artifact's run on one probe set, read back as one result (outputs, seconds)."""

    def __init__(self, futures: list[Any]) -> None:
        self.futures = futures

    def exception(self) -> BaseException | None:
        return next((e for e in (f.exception() for f in self.futures) if e is not None), None)

    def result(self) -> tuple[dict[str, Any], float]:
        import numpy as np

        parts = [f.result() for f in self.futures]
        if len(parts) == 1:
            return parts[0]
        outputs = {name: np.concatenate([np.asarray(p[0][name]) for p in parts]) for name in parts[0][0]}
        return outputs, sum(p[1] for p in parts)


def _submit_reference(pool: Any, estimator: Any, X: Any, roles: set[str], schema: Any,
                      chunked: bool) -> _ChunkedRun:
    """scikit-learn's outputs on X: in row chunks when `chunked`, else one call on the whole set."""
    from parity.runtimes import reference_outputs

    step = _CHUNK_ROWS if chunked else max(len(X), 1)
    return _ChunkedRun([pool.submit(_timed, reference_outputs, estimator, X[start : start + step], roles, schema)
                        for start in range(0, max(len(X), 1), step)])


def _submit_round_robin(pool: Any, runs: list[Any], X: Any) -> list[tuple[Any, _ChunkedRun]]:
    starts = range(0, max(len(X), 1), _CHUNK_ROWS)
    futures: list[list[Any]] = [[] for _ in runs]
    for start in starts:
        for position, run in enumerate(runs):
            futures[position].append(pool.submit(_timed, run[3], X[start : start + _CHUNK_ROWS]))
    return [(run, _ChunkedRun(chunks)) for run, chunks in zip(runs, futures, strict=True)]


def _record_outcome(ran: dict[str, list[Any]], key: str, runtime_name: str, checks: list[Any]) -> None:
    """Count probe sets a runtime ran / raised on: [ran, raised, first error]."""
    outcome = ran.setdefault(key, [0, 0, ""])
    error = next((c.comparison.cause for c in checks if c.comparison.cause
                  and c.comparison.cause.startswith(f"{runtime_name} raised")), None)
    if error:
        outcome[1] += 1
        outcome[2] = outcome[2] or error
    else:
        outcome[0] += 1


def _plan_runs(opened: list[Any], classes: Any, runtimes: list[Any]) -> tuple[list[Any], list[tuple[Any, ...]]]:
    """ArtifactResults (with class-label problems) and the (artifact, result, runtime, predict) runs to make."""
    from parity import diagnose
    from parity.report import ArtifactResult
    from parity.runtimes import RuntimeStatus, native_coreml_predict, native_coreml_status

    results = []
    runs: list[tuple[Any, ...]] = []
    for artifact in opened:
        labels = None if artifact.class_labels is None else [_plain(v) for v in artifact.class_labels]
        result = ArtifactResult(str(artifact.path), artifact.kind, artifact.runtime, artifact.dtype,
                                dict(artifact.roles), labels, sha256=sha256_file(Path(artifact.path)))
        results.append(result)
        runs.append((artifact, result, artifact.runtime, artifact.predict))
        if artifact.kind == "coreml":
            available, status = native_coreml_status()
            if not available:  # when it is, its status comes from how its runs went
                runtimes.append(RuntimeStatus("Core ML native", str(artifact.path), status))
            else:
                runs.append((artifact, result, "Core ML native", lambda X, a=artifact: native_coreml_predict(a, X)))
        problem = diagnose.class_label_problem(artifact.class_labels, classes, artifact.roles)
        if problem:
            result.problems.append(problem)
    return results, runs


def _evaluate(
    estimator: Any,
    artifact: Any,
    runtime_name: str,
    predict: Any,
    probe: str,
    X: np.ndarray,
    reference: dict[str, np.ndarray],
    classes: np.ndarray | None,
    typed_rows: bool = False,
    chain: Any = None,
    precision: Any = None,
) -> tuple[list[Any], float]:
    """Run one artifact on one probe set and compare every output; returns the checks and the tie tolerance used.
    Outputs the model's bound chain produces are checked against per-row error bounds (parity/bounds.py) for the
    artifact's precision; others against a fixed tolerance (parity/tolerances.py)."""
    import numpy as np

    from parity.bounds import SAFETY
    from parity.compare import OutputComparison, compare_bounded, compare_labels, compare_numeric, output_scale
    from parity.report import CheckResult
    from parity.tolerances import choose_tolerance, tie_tolerance

    path = str(artifact.path)
    try:
        got = predict(X)
    except Exception as exc:  # any runtime error is a failed check with its message as the cause
        checks = []
        for name, role in artifact.roles.items():
            failing = np.ones(len(X), dtype=bool)
            comparison = OutputComparison(name, role, len(X), None, violations=len(X), failing_mask=failing,
                                          failing_rows=list(range(min(len(X), 10))),
                                          cause=f"{runtime_name} raised on this probe set ({_first_line(exc)})")
            checks.append(CheckResult(path, runtime_name, probe, comparison))
        return checks, 0.0
    probability_tolerance = None
    probability_ties: np.ndarray | None = None
    checks = []
    for name, role in artifact.roles.items():
        if role == "label":
            continue
        scale = output_scale(reference[role])
        if chain is not None and precision is not None and chain.role == role:
            bound = chain.bound(X, reference[role], precision)
            comparison = compare_bounded(name, role, reference[role], got[role], bound, scale,
                                         f"{chain.description}: {precision.description}", SAFETY)
            if role == "probabilities":  # a label may differ where the top two are within their bounds
                probability_ties = SAFETY * 2.0 * bound.max(axis=1)
            checks.append(CheckResult(path, runtime_name, probe, comparison, reference[role], got[role]))
            continue
        if probe == "extremes":  # accumulation error at |x| ~ 1e30 scales with the largest output, not its spread
            finite = np.abs(np.asarray(reference[role], dtype=float))
            finite = finite[np.isfinite(finite)]
            scale = max(scale, float(finite.max()) if finite.size else 1.0)
        tolerance = choose_tolerance(role, artifact.kind, artifact.dtype, estimator, scale,  # type: ignore[arg-type]
                                     float32_weights=artifact.float32_weights)
        if role == "probabilities":
            probability_tolerance = tolerance
        comparison = compare_numeric(name, role, reference[role], got[role], tolerance, scale)
        checks.append(CheckResult(path, runtime_name, probe, comparison, reference[role], got[role]))
    if not typed_rows:  # the k-NN tie replay feeds X to the model's steps: numeric rows only
        _excuse_neighbour_ties(estimator, X, checks)
    tie = tie_tolerance(probability_tolerance)
    if probability_ties is not None:
        tie = max(tie, float(probability_ties.max()) if probability_ties.size else 0.0)
    for name, role in artifact.roles.items():
        if role != "label":
            continue
        labels = artifact.class_labels if artifact.class_labels is not None else classes
        comparison = compare_labels(name, reference["label"], got["label"], labels, reference.get("probabilities"),
                                    probability_ties if probability_ties is not None else tie)
        checks.insert(0, CheckResult(path, runtime_name, probe, comparison, reference["label"], got["label"]))
        if not typed_rows:
            _excuse_neighbour_ties(estimator, X, checks[:1])
    return checks, tie


def _excuse_neighbour_ties(estimator: Any, X: np.ndarray, checks: list[Any]) -> None:
    """k-NN rows whose k-th and (k+1)-th neighbours are equidistant are reference ties, like tied probabilities:
    scikit-learn's choice among them is arbitrary. Count them as tie-excused, not as violations."""
    import numpy as np

    from parity.compare import MAX_FAILING_ROWS_LISTED
    from parity.diagnose import neighbour_tie_rows

    for check in checks:
        c = check.comparison
        if c.failing_mask is None or not c.failing_mask.any():
            continue
        rows = np.flatnonzero(c.failing_mask)
        ties = neighbour_tie_rows(estimator, X, rows)
        if not ties.any():
            continue
        c.failing_mask = c.failing_mask.copy()
        c.failing_mask[rows[ties]] = False
        c.tie_excused += int(ties.sum())
        if c.role == "label":
            c.label_mismatches -= int(ties.sum())
        else:
            c.violations -= int(ties.sum())
        c.failing_rows = np.flatnonzero(c.failing_mask)[:MAX_FAILING_ROWS_LISTED].tolist()


_VERSIONED = ("scikit-learn", "numpy", "onnxruntime", "coremltools", "onnx", "mlexport")


def package_versions(names: Sequence[str] = _VERSIONED) -> dict[str, str]:
    """Installed versions of `names` (`not installed` where absent): recorded in reports and manifests."""
    from importlib import metadata

    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, streamed (manifests, reports and data records all use this one)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_rows(X: np.ndarray) -> str:
    """SHA-256 of rows handed over as an array: of their float64 C-order bytes (the values parity checks)."""
    import hashlib

    import numpy as np

    return hashlib.sha256(np.ascontiguousarray(X, dtype=np.float64).tobytes()).hexdigest()


def _describe_user_data(inputs: Any, X_user: np.ndarray | None) -> Any:
    from parity.report import UserData

    if X_user is None:
        return None
    if isinstance(inputs, str | os.PathLike):
        return UserData(True, file=str(inputs), sha256=sha256_file(Path(inputs)), rows=len(X_user),
                        rows_checked=len(X_user))
    return UserData(True, sha256=sha256_rows(X_user), sha256_of="float64 rows", rows=len(X_user),
                    rows_checked=len(X_user))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _reference_name(estimator: Any) -> str:
    from parity.references import is_reference

    if is_reference(estimator):
        return str(estimator.describe())
    import sklearn

    return f"scikit-learn {sklearn.__version__}"


def _describe(estimator: Any) -> str:
    from parity.references import is_reference

    if is_reference(estimator):
        return str(estimator.describe_model())
    if hasattr(estimator, "steps"):
        return "Pipeline(" + " → ".join(type(step).__name__ for _, step in estimator.steps) + ")"
    return type(estimator).__name__
