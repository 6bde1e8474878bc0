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

__all__ = ["check", "to_html", "to_json", "to_junit", "to_markdown", "write_golden"]


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


def _user_rows(inputs: Any, n_features: int, feature_names: Sequence[str] | None) -> np.ndarray | None:
    import numpy as np

    from parity.errors import ParityInputError

    if inputs is None:
        return None
    if isinstance(inputs, str | os.PathLike):
        from parity.data import load_table

        X, _ = load_table(inputs, n_features, feature_names)
        return X
    if hasattr(inputs, "columns") and hasattr(inputs, "to_numpy"):  # pandas DataFrame: columns by name when known
        columns = [str(c) for c in inputs.columns]
        if feature_names is not None and columns != list(feature_names):
            missing = [n for n in feature_names if n not in columns]
            if missing:
                raise ParityInputError(f"inputs: DataFrame lacks feature columns {missing}; "
                                       f"expected {list(feature_names)}")
            inputs = inputs[list(feature_names)]
        inputs = inputs.to_numpy(dtype=np.float64)
    X = np.asarray(inputs, dtype=np.float64)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ParityInputError(f"inputs: expected shape (n, {n_features}), got {X.shape}")
    if np.isinf(X).any():
        raise ParityInputError("inputs: contain ±inf; only finite values and NaN (missing) are allowed")
    return X


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

    from parity.errors import ParityInputError
    from parity.probes import build_probes
    from parity.references import adapter_for
    from parity.runtimes import open_artifact

    if contract not in ("float32", "float64"):
        raise ParityInputError(f"contract {contract!r} is not supported; supported: 'float32', 'float64'")
    if not artifacts:
        raise ParityInputError("artifacts: give at least one .mlmodel, .onnx or .ort path")
    n_features = getattr(estimator, "n_features_in_", None)
    if n_features is None:
        raise ParityInputError(f"{type(estimator).__name__} is not fitted (no n_features_in_)")
    names = list(feature_names) if feature_names is not None else None
    if names is None and hasattr(estimator, "feature_names_in_"):
        names = [str(n) for n in estimator.feature_names_in_]
    X_user = _user_rows(inputs, int(n_features), names)

    from concurrent.futures import ThreadPoolExecutor

    from parity.coreml_reference.tree_ensemble import single_threaded

    timings: dict[str, float] = {}
    # One pool of one worker per core runs everything heavy: opening the artifacts (beside the probe building
    # here), then scikit-learn and every artifact in row chunks (see the probe loop below).
    pool = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1))
    try:
        clock = time.perf_counter()
        opening = [pool.submit(_timed, open_artifact, Path(path)) for path in artifacts]
        chain = adapter_for(estimator).chain(estimator)
        probes = build_probes(estimator, X_user, int(n_features), chain=chain)
        timings["build probes"] = time.perf_counter() - clock
        opened = [future.result()[0] for future in opening]
        timings["open artifacts"] = sum(future.result()[1] for future in opening)
        # scikit-learn's warnings on probe rows (extremes, NaN) are expected; filters are process-wide, so they are set
        # once here, not per worker thread (catch_warnings is not thread-safe). OpenMP/BLAS pools (HGB, dense
        # products) are held to one thread: the pool already has one worker per core.
        from threadpoolctl import threadpool_limits

        with single_threaded(), warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            return _run(estimator, opened, probes, chain, contract, int(n_features), names, progress, timings, pool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run(estimator: Any, opened: list[Any], probes: Any, chain: Any, contract: str, n_features: int,
         names: list[str] | None, progress: bool | str, timings: dict[str, float], pool: Any) -> ParityReport:
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
    runtimes = [RuntimeStatus(f"scikit-learn {_sklearn_version()}", None, "ran")]
    artifact_results, runs = _plan_runs(opened, classes, runtimes)
    roles_needed = {role for a in opened for role in a.roles.values()}
    drift_roles = roles_needed - {"label"} if roles_needed - {"label"} else roles_needed
    progress_bar = _Progress(len(probes.sets) * (1 + len(runs)), progress)
    report = ParityReport(verdict="passed", estimator=_describe(estimator), contract=contract,
                          n_features=n_features, feature_names=names, tie_tolerance=0.0,
                          artifacts=artifact_results, checks=[], runtimes=runtimes, drift=[], probes=[],
                          notes=list(probes.notes),
                          classes=None if classes is None else [_plain(c) for c in classes])
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
    chunk_reference = family(estimator) == "tree"
    queued = []
    for probe in probes.sets:
        X = contract_inputs(probe.X, contract)
        reference_chunks = _submit_reference(pool, estimator, X, roles_needed, chunk_reference)
        queued.append((probe, X, reference_chunks, _submit_round_robin(pool, runs, X)))
    for probe, X, reference_chunks, started in queued:
        try:
            reference, seconds = reference_chunks.result()
            timings["scikit-learn"] = timings.get("scikit-learn", 0.0) + seconds
            if not skip_drift:
                other = contract_inputs(probe.X, "float32" if contract == "float64" else "float64")
                report.drift += diagnose.reference_drift(reference_outputs(estimator, other, drift_roles),
                                                         {r: reference[r] for r in drift_roles}, probe.name)
        except (ValueError, FloatingPointError, OverflowError) as exc:
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
                                    probe.name, X, reference, classes, chain, precisions.get(str(artifact.path)))
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
    diagnose.explain(report, estimator, opened, probes)
    timings["diagnosis"] = time.perf_counter() - clock
    report.timings = timings
    report.tie_tolerance = max(tie_tolerances) if tie_tolerances else 1e-12
    failed = any(not c.passed for c in report.checks) or any(a.problems for a in report.artifacts)
    report.verdict = "failed" if failed else "passed"
    return report


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


def _submit_reference(pool: Any, estimator: Any, X: Any, roles: set[str], chunked: bool) -> _ChunkedRun:
    """scikit-learn's outputs on X: in row chunks when `chunked`, else one call on the whole set."""
    from parity.runtimes import reference_outputs

    step = _CHUNK_ROWS if chunked else max(len(X), 1)
    return _ChunkedRun([pool.submit(_timed, reference_outputs, estimator, X[start : start + step], roles)
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
                                dict(artifact.roles), labels)
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _sklearn_version() -> str:
    import sklearn

    return str(sklearn.__version__)


def _describe(estimator: Any) -> str:
    if hasattr(estimator, "steps"):
        return "Pipeline(" + " → ".join(type(step).__name__ for _, step in estimator.steps) + ")"
    return type(estimator).__name__
