"""Report step of the parity flow: the ParityReport and its renderings (JSON, Markdown, self-contained HTML, JUnit)."""

from __future__ import annotations

import base64
import html
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

import numpy as np

from parity.bounds import SAFETY
from parity.columns import InputSchema, shorten
from parity.compare import OutputComparison
from parity.runtimes import RuntimeStatus


@dataclass
class CheckResult:
    """One artifact × output × probe set."""

    artifact: str
    runtime: str
    probe: str
    comparison: OutputComparison
    expected: np.ndarray | None = None  # kept for plots and golden.json; not serialised
    got: np.ndarray | None = None

    @property
    def passed(self) -> bool:
        return self.comparison.passed

    def to_json(self) -> dict[str, Any]:
        c = self.comparison
        return {
            "artifact": self.artifact,
            "runtime": self.runtime,
            "output": c.output,
            "role": c.role,
            "probe": self.probe,
            "n_rows": c.n_rows,
            "passed": self.passed,
            "max_abs_error": _number(c.max_abs_error),
            "max_rel_error": _number(c.max_rel_error),
            "tolerance": c.tolerance.to_json() if c.tolerance else None,
            "error_bound": None if c.bound_ratio is None else {
                "worst_error_over_bound": _number(c.bound_ratio), "max_bound": _number(c.bound_max or 0.0),
                "safety_factor": SAFETY, "reason": c.bound_reason},
            "violations": c.violations,
            "jumps": c.jumps,
            "label_mismatches": c.label_mismatches,
            "tie_excused": c.tie_excused,
            "first_failing_rows": list(c.failing_rows),
            "cause": c.cause,
        }


@dataclass
class ArtifactResult:
    path: str
    kind: str
    runtime: str
    dtype: str
    roles: dict[str, str]
    class_labels: list[Any] | None
    problems: list[str] = field(default_factory=list)  # artifact-level failures (labels swapped, cannot run)
    sha256: str | None = None  # of the file that was checked

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "runtime": self.runtime, "dtype": self.dtype,
                "roles": self.roles, "class_labels": self.class_labels, "problems": self.problems,
                "sha256": self.sha256}


@dataclass
class DriftResult:
    """float64 vs float32-rounded inputs in scikit-learn itself: a fact about the model, never a failure."""

    role: str
    probe: str
    n_rows: int
    rows_changed: int
    max_abs_change: float

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role, "probe": self.probe, "n_rows": self.n_rows, "rows_changed": self.rows_changed,
                "max_abs_change": _number(self.max_abs_change)}


@dataclass
class ProbeSummary:
    name: str
    n_rows: int
    description: str


@dataclass
class UserData:
    """Where the user-data probe set came from, or why there was none (said in every rendering)."""

    available: bool
    file: str | None = None  # as the caller names it (relative to an export directory when from its manifest)
    sha256: str | None = None
    # "file" (its bytes), "float64 rows" (an array handed over) or "the DataFrame as Parquet …" (a DataFrame)
    sha256_of: str = "file"
    rows: int | None = None  # rows in the user's data
    rows_checked: int | None = None  # rows parity ran (a copy inside an export may hold a sample)
    source: str = ""  # e.g. "--data", "the file recorded in manifest.json", "the copy inside the export"
    note: str = ""  # why it is not available, or what differs (a changed original, a sample)

    def to_json(self) -> dict[str, Any]:
        return {"available": self.available, "file": self.file, "sha256": self.sha256, "sha256_of": self.sha256_of,
                "rows": self.rows, "rows_checked": self.rows_checked, "source": self.source, "note": self.note}

    def describe(self) -> str:
        if not self.available:
            return f"the user's data was not available: {self.note}" if self.note else "no user data"
        what = f"'{self.file}'" if self.file else "rows passed in memory"
        count = (f"{self.rows_checked} of {self.rows} rows" if self.rows is not None and self.rows_checked is not None
                 and self.rows_checked != self.rows else f"{self.rows_checked or self.rows} rows")
        text = f"{what} ({count}, sha256 of {self.sha256_of} {self.sha256})"
        text += f" from {self.source}" if self.source else ""
        return text + (f"; {self.note}" if self.note else "")


@dataclass
class ParityReport:
    verdict: str  # "passed" | "failed"
    estimator: str
    contract: str
    n_features: int
    feature_names: list[str] | None
    tie_tolerance: float
    artifacts: list[ArtifactResult]
    checks: list[CheckResult]
    runtimes: list[RuntimeStatus]
    drift: list[DriftResult]
    probes: list[ProbeSummary]
    notes: list[str]
    # Inputs and references for golden.json: probe name -> (raw X, contract X, {role: reference output}).
    probe_data: dict[str, tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]] = field(default_factory=dict)
    classes: list[Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage / runtime (includes comparison)
    schema: InputSchema | None = None  # typed input columns when the model has string inputs (parity/columns.py)
    versions: dict[str, str] = field(default_factory=dict)  # of the packages that computed and ran the outputs
    user_data: UserData | None = None
    warnings: list[str] = field(default_factory=list)  # said first everywhere (e.g. not the export's model)

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    def rename_artifacts(self, names: dict[str, str]) -> None:
        """Show artifacts under other names (e.g. file names relative to an export directory, instead of the
        temporary path they were checked at), everywhere the report mentions them."""
        def rename(text: str) -> str:
            for old, new in names.items():
                text = text.replace(old, new)
            return text

        for artifact in self.artifacts:
            artifact.path = rename(artifact.path)
            artifact.problems = [rename(p) for p in artifact.problems]
        for check in self.checks:
            check.artifact = rename(check.artifact)
            if check.comparison.cause:
                check.comparison.cause = rename(check.comparison.cause)
        for runtime in self.runtimes:
            if runtime.artifact:
                runtime.artifact = rename(runtime.artifact)
        self.notes = [rename(n) for n in self.notes]
        self.warnings = [rename(w) for w in self.warnings]

    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    def causes(self) -> list[tuple[str, list[int]]]:
        """Distinct failure causes, each with the indices (into `checks`) of the checks it explains, in order of
        first appearance: one broken tree fails every output × probe set, and is one cause."""
        grouped: dict[str, list[int]] = {}
        for index, check in enumerate(self.checks):
            if not check.passed:
                grouped.setdefault(check.comparison.cause or "unexplained difference", []).append(index)
        return list(grouped.items())


def bound_summary(report: ParityReport) -> list[dict[str, Any]]:
    """Per artifact × runtime × output: the worst observed error ÷ its bound over every probe set (a check fails
    above SAFETY), where a bound was derived."""
    summary: dict[tuple[str, str, str], dict[str, Any]] = {}
    for check in report.checks:
        c = check.comparison
        if c.bound_ratio is None:
            continue
        key = (check.artifact, check.runtime, c.output)
        entry = summary.setdefault(key, {"artifact": check.artifact, "runtime": check.runtime, "output": c.output,
                                         "worst_error_over_bound": -1.0, "worst_probe": None, "max_bound": 0.0,
                                         "safety_factor": SAFETY, "reason": c.bound_reason})
        if c.bound_ratio > entry["worst_error_over_bound"]:
            entry["worst_error_over_bound"], entry["worst_probe"] = c.bound_ratio, check.probe
        entry["max_bound"] = max(entry["max_bound"], c.bound_max or 0.0)
    return list(summary.values())


def _limit(c: OutputComparison) -> str:
    if c.bound_ratio is not None:
        return f"bound ×{SAFETY:g} (≤ {c.bound_max or 0.0:.1e})"
    return f"rtol {c.tolerance.rtol:.0e} atol {c.tolerance.atol:.0e}" if c.tolerance else "exact"


def _ratio(c: OutputComparison) -> str:
    return "—" if c.bound_ratio is None else f"{c.bound_ratio:.3g}"


def _number(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float(value)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


# ----------------------------------------------------------------------------------------------------------------
# JSON


def to_json(report: ParityReport) -> dict[str, Any]:
    """Machine-readable report (JSON-serialisable: non-finite numbers as "NaN"/"Infinity" strings)."""
    return {
        "format": "mlexport-parity-report",
        "format_version": 1,
        "verdict": report.verdict,
        "estimator": report.estimator,
        "contract": report.contract,
        "n_features": report.n_features,
        "feature_names": report.feature_names,
        "classes": None if report.classes is None else [_plain(c) for c in report.classes],
        "tie_tolerance": report.tie_tolerance,
        "runtimes": [r.to_json() for r in report.runtimes],
        "artifacts": [a.to_json() for a in report.artifacts],
        "probes": [{"name": p.name, "n_rows": p.n_rows, "description": p.description} for p in report.probes],
        "checks": [c.to_json() for c in report.checks],
        "reference_drift": [d.to_json() for d in report.drift],
        "error_bounds": [{**b, "worst_error_over_bound": _number(b["worst_error_over_bound"])}
                         for b in bound_summary(report)],
        "notes": list(report.notes),
        "warnings": list(report.warnings),
        "user_data": report.user_data.to_json() if report.user_data else None,
        "versions": dict(report.versions),
        "timings_seconds": {k: round(v, 4) for k, v in report.timings.items()},
        # Typed input columns, only for models with string inputs (numeric reports keep their v1 shape).
        **({"inputs": report.schema.to_json()} if report.schema is not None else {}),
    }


# ----------------------------------------------------------------------------------------------------------------
# Markdown


def _fmt(value: float) -> str:
    return f"{value:.3g}" if value else "0"


def failing_row_text(report: ParityReport, check: CheckResult) -> str:
    """The first failing row's inputs, readably (strings quoted, a missing string as missing); "" without a schema."""
    data = report.probe_data.get(check.probe)
    rows = check.comparison.failing_rows
    if report.schema is None or data is None or not rows:
        return ""
    values = report.schema.display(data[1], int(rows[0]))
    shown = ", ".join(f"{name}={'missing' if v is None else repr(v) if isinstance(v, str) else f'{v:g}'}"
                      for name, v in values.items())
    return f"; first failing row {rows[0]}: {shown}"


def _input_lines(report: ParityReport) -> list[str]:
    if report.schema is None:
        return []
    lines = ["", "## Inputs", "", "| input | kind | as the Python model gets it | categories the artifacts know |",
             "|---|---|---|---|"]
    for column in report.schema.columns:
        categories = ", ".join(f'"{c}"' for c in column.categories[:20]) + (" …" if len(column.categories) > 20
                                                                             else "")
        lines.append(f"| {column.name} | {column.shown_kind} | {column.python_dtype} | "
                     f"{'(documents)' if column.documents else categories} |")
    lines.append("")
    lines.append('String inputs are fed to the artifacts NFC-normalised, a missing string as "" (the export '
                 "contract); the Python model gets the column's own missing value (NaN or None).")
    for column in report.schema.columns:
        if column.documents:
            lines += ["", *_text_lines(column.name), ""]
            lines += [f"{i + 1}. {_quoted(shorten(d))}" for i, d in enumerate(column.documents)]
    return lines


def _text_lines(name: str) -> list[str]:
    return [f"Text input `{name}`: ONNX takes the raw text; Core ML its term counts (here: scikit-learn's own "
            "analyzer; on device: ios_stub TextFeatures with NAME.text.json). Probe set `text` puts each of these "
            "documents in a real row:"]


def _quoted(text: str) -> str:
    """A document on one line of Markdown/HTML: JSON-quoted, with invisible characters (controls, format and
    separator characters other than the space, combining marks) written as escapes, so every code point shows."""
    import unicodedata

    def visible(ch: str) -> str:
        category = unicodedata.category(ch)
        if ch != " " and (category[0] in "CZ" or category == "Mn"):
            return json.dumps(ch)[1:-1] if category == "Cc" else f"\\u{ord(ch):04x}"
        return ch

    return '"' + "".join(visible(ch) for ch in json.dumps(text, ensure_ascii=False)[1:-1]) + '"'


def to_markdown(report: ParityReport) -> str:
    """A terminal/CI summary: verdict, runtimes, failures with causes, then a table of every check."""
    mark = "PASSED" if report.passed else "FAILED"
    lines = [f"# Parity {mark}: {report.estimator} (input contract {report.contract})", ""]
    lines += [f"> **Warning:** {w}" for w in report.warnings]
    lines += ["", f"User data: {report.user_data.describe()}", ""] if report.user_data else []
    lines.append("## Runtimes")
    lines += [f"- {r.runtime}" + (f" on `{r.artifact}`" if r.artifact else "") + f": {r.status}"
              for r in report.runtimes]
    problems = [(a.path, p) for a in report.artifacts for p in a.problems]
    failures = report.failures()
    if problems or failures:
        lines += ["", "## Failures"]
        lines += [f"- `{path}`: {problem}" for path, problem in problems]
        for check in failures:
            c = check.comparison
            lines.append(f"- `{check.artifact}` {c.output} on {check.probe}: "
                         f"{c.violations + c.label_mismatches}/{c.n_rows} rows — {c.cause or 'unexplained'}"
                         f"{failing_row_text(report, check)}")
    lines += _input_lines(report)
    lines += ["", "## Checks", "",
              "| artifact | output | probe set | rows | max abs | max rel | tolerance | error ÷ bound | viol. | jumps "
              "| labels ≠ | ties | result |",
              "|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|"]
    for check in report.checks:
        c = check.comparison
        lines.append(f"| {check.artifact} | {c.output} | {check.probe} | {c.n_rows} | {_fmt(c.max_abs_error)} | "
                     f"{_fmt(c.max_rel_error)} | {_limit(c)} | {_ratio(c)} | {c.violations} | {c.jumps} | "
                     f"{c.label_mismatches} | {c.tie_excused} | {'ok' if check.passed else 'FAIL'} |")
    bounds = bound_summary(report)
    if bounds:
        lines += ["", f"## Error bounds (worst observed error ÷ bound per output; a check fails above {SAFETY:g})", "",
                  "| artifact | runtime | output | worst error ÷ bound | on probe set | largest bound | bound from |",
                  "|---|---|---|---:|---|---:|---|"]
        lines += [f"| {b['artifact']} | {b['runtime']} | {b['output']} | {b['worst_error_over_bound']:.3g} | "
                  f"{b['worst_probe']} | {b['max_bound']:.3g} | {b['reason']} |" for b in bounds]
    if report.drift:
        lines += ["", "## Reference drift (scikit-learn on float64 vs float32-rounded inputs; not a failure)", ""]
        lines += ["| output | probe set | rows changed | max abs change |", "|---|---|---:|---:|"]
        lines += [f"| {d.role} | {d.probe} | {d.rows_changed}/{d.n_rows} | {_fmt(d.max_abs_change)} |"
                  for d in report.drift]
    tolerances = {(c.comparison.output, c.comparison.tolerance.reason) for c in report.checks if c.comparison.tolerance}
    if tolerances:
        lines += ["", "## Tolerances"] + [f"- {output}: {reason}" for output, reason in sorted(tolerances)]
    if report.notes:
        lines += ["", "## Notes"] + [f"- {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------------------------
# Short summary (terminal)


def _cells(report: ParityReport) -> dict[tuple[str, str], list[CheckResult]]:
    """Checks grouped per (artifact, probe set), artifact by artifact; the runtime is named only where one artifact
    ran in several (Core ML native and the evaluator, on macOS)."""
    runtimes: dict[str, set[str]] = {}
    for check in report.checks:
        runtimes.setdefault(check.artifact, set()).add(check.runtime)
    cells: dict[tuple[str, str], list[CheckResult]] = {}
    for check in sorted(report.checks, key=lambda c: list(runtimes).index(c.artifact)):  # stable: probe order kept
        name = check.artifact if len(runtimes[check.artifact]) == 1 else f"{check.artifact} · {check.runtime}"
        cells.setdefault((name, check.probe), []).append(check)
    return cells


def _worst(checks: list[CheckResult]) -> str:
    numeric = [c for c in checks if c.comparison.role != "label"]
    parts = []
    if numeric:
        worst = max(numeric, key=lambda c: c.comparison.max_abs_error)
        parts.append(f"max |Δ| {_fmt(worst.comparison.max_abs_error)} ({worst.comparison.output})")
    mismatched = sum(c.comparison.label_mismatches for c in checks)
    if mismatched or not numeric:
        parts.append(f"{mismatched} labels ≠")
    return ", ".join(parts)


def one_line_summary(report: ParityReport) -> str:
    """One line for the export summary and manifest.json: what was checked and the worst error, or the causes."""
    rows = sum(p.n_rows for p in report.probes)
    scope = (f"{len(report.artifacts)} artifact{'s' if len(report.artifacts) != 1 else ''} × "
             f"{len(report.probes)} probe sets ({rows} rows)")
    if report.passed:
        numeric = [c.comparison.max_abs_error for c in report.checks if c.comparison.role != "label"]
        worst = f"; worst |Δ| {_fmt(max(numeric))}" if numeric else "; labels exact"
        return f"{scope}{worst}"
    problems = [f"{a.path}: {p}" for a in report.artifacts for p in a.problems]
    causes = problems + [f"{report.checks[indices[0]].artifact}: {cause}" for cause, indices in report.causes()]
    failed = len(report.failures()) + len(problems)
    more = f" (and {len(causes) - 1} more cause{'s' if len(causes) > 2 else ''})" if len(causes) > 1 else ""
    return f"{failed} failing checks of {scope}: {causes[0] if causes else 'unexplained'}{more}"


def to_summary(report: ParityReport, reports: dict[str, str] | None = None) -> str:
    """What a terminal shows: verdict, one line per artifact × probe set with its worst error, the distinct causes,
    and where the full reports are."""
    lines = [f"parity {'PASSED' if report.passed else 'FAILED'}: {report.estimator}, input contract "
             f"{report.contract} — {one_line_summary(report)}"]
    lines += [f"  WARNING: {w}" for w in report.warnings]
    if report.user_data:
        lines.append(f"  user data: {report.user_data.describe()}")
    cells = _cells(report)
    if cells:
        width = max(len(artifact) for artifact, _ in cells)
        probe_width = max(len(probe) for _, probe in cells)
        for (artifact, probe), checks in cells.items():
            result = "ok" if all(c.passed for c in checks) else "FAIL"
            lines.append(f"  {artifact:<{width}}  {probe:<{probe_width}}  {checks[0].comparison.n_rows:>7} rows  "
                         f"{result:<4}  {_worst(checks)}")
    problems = [(a.path, p) for a in report.artifacts for p in a.problems]
    causes = report.causes()
    if problems or causes:
        lines.append("  causes:")
        lines += [f"  - {path}: {problem}" for path, problem in problems]
        for cause, indices in causes:
            lines.append(f"  - {cause} ({len(indices)} check{'s' if len(indices) != 1 else ''})")
    for kind, path in (reports or {}).items():
        lines.append(f"  {kind}: {path}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------------
# JUnit


def to_junit(report: ParityReport) -> str:
    """JUnit XML: one testcase per artifact × output × probe set; failures carry the cause as message."""
    suite = ElementTree.Element("testsuite", name=f"parity {report.estimator}", tests=str(len(report.checks)),
                                failures=str(len(report.failures())), errors="0", skipped="0")
    for check in report.checks:
        c = check.comparison
        case = ElementTree.SubElement(suite, "testcase", classname=f"parity.{check.artifact}",
                                      name=f"{c.output}[{check.probe}]")
        if not check.passed:
            failure = ElementTree.SubElement(case, "failure", message=c.cause or "parity violation",
                                             type="ParityFailure")
            failure.text = (f"{c.violations} violations, {c.jumps} jumps, {c.label_mismatches} label mismatches "
                            f"of {c.n_rows} rows; max abs {c.max_abs_error:.3g}; first rows {c.failing_rows}")
    for artifact in report.artifacts:
        for problem in artifact.problems:
            case = ElementTree.SubElement(suite, "testcase", classname=f"parity.{artifact.path}", name="artifact")
            ElementTree.SubElement(case, "failure", message=problem, type="ParityFailure")
    if report.user_data is not None and not report.user_data.available:
        # CI shows a skipped user-data case instead of silently checking model-derived probes only.
        case = ElementTree.SubElement(suite, "testcase", classname="parity.user-data", name="user-data")
        ElementTree.SubElement(case, "skipped", message=report.user_data.describe())
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(sum(1 for case in suite if case.find("failure") is not None)))
    suite.set("skipped", str(sum(1 for case in suite if case.find("skipped") is not None)))
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True)


# ----------------------------------------------------------------------------------------------------------------
# HTML


_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#222;max-width:1200px}
.banner{padding:1em 1.5em;border-radius:8px;color:#fff;font-size:1.4em;margin-bottom:1em}
.passed{background:#2e7d32}.failed{background:#c62828}
.warning{background:#fff3e0;border-left:6px solid #ef6c00;padding:.6em 1em;margin:.5em 0;font-weight:bold}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right;vertical-align:top}th{background:#f3f3f3}
td.l,th.l{text-align:left}tr.fail td{background:#ffebee}tr:target td{outline:2px solid #ef6c00}
table.summary th{text-align:left;width:11em}table.summary td{text-align:left}
.cause{color:#c62828;font-weight:bold}.plots img{max-width:100%;margin:.3em}
.muted{color:#666}code{font-size:.95em}.hash{font-family:monospace;font-size:.85em;word-break:break-all}
"""


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _as_rows(values: np.ndarray | None) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array.reshape(len(array), -1)


def _tolerance_ratios(checks: list[CheckResult]) -> tuple[np.ndarray, int, int]:
    """|artifact − reference| ÷ allowed error (atol + rtol·|reference|, the element rule) over every finite element
    of `checks`: (ratios of the inexact elements, number of exact elements, number beyond any finite ratio)."""
    ratios, exact, beyond = [], 0, 0
    for check in checks:
        tolerance, bound = check.comparison.tolerance, check.comparison.bound
        expected, got = _as_rows(check.expected), _as_rows(check.got)
        if (tolerance is None and bound is None) or expected.shape != got.shape:
            continue
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            keep = np.isfinite(expected) & np.isfinite(got)
            error = np.abs(got[keep] - expected[keep])
            if bound is not None:  # what the artifact's precision allows: SAFETY × the per-element error bound
                allowed = SAFETY * np.broadcast_to(bound, expected.shape)[keep]
            else:
                assert tolerance is not None
                allowed = tolerance.atol + tolerance.rtol * np.abs(expected[keep])
            exact += int((error == 0).sum())
            inexact = error > 0
            beyond += int((inexact & (allowed == 0)).sum())
            ratios.append(error[inexact & (allowed > 0)] / allowed[inexact & (allowed > 0)])
    return (np.concatenate(ratios) if ratios else np.zeros(0)), exact, beyond


def _plots(report: ParityReport) -> list[tuple[str, str]]:
    """(title, base64 PNG) per artifact × numeric output: a histogram of each element's error as a fraction of what
    its tolerance allows, with the tolerance drawn at 1 (bars right of it fail). A scatter of artifact vs reference
    output is left out on purpose: at these error sizes it is always a diagonal and shows nothing."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot

    images: list[tuple[str, str]] = []
    grouped: dict[tuple[str, str], list[CheckResult]] = {}
    for check in report.checks:
        if check.comparison.role != "label" and check.expected is not None and check.got is not None:
            grouped.setdefault((check.artifact, check.comparison.output), []).append(check)
    for (artifact, output), checks in grouped.items():
        ratios, exact, beyond = _tolerance_ratios(checks)
        total = len(ratios) + exact + beyond
        if total == 0:
            continue
        figure, axes = pyplot.subplots(figsize=(6.5, 3.2))
        if len(ratios):
            log_ratio = np.log10(ratios)
            # Errors all of (nearly) one size leave no room for 40 finite-width bins: draw one.
            axes.hist(log_ratio, bins=40 if np.ptp(log_ratio) > 1e-9 else 1, color="#1565c0")
        axes.axvline(0.0, color="#c62828", linestyle="--", label="allowed (atol + rtol·|reference|, or 2 × bound)")
        axes.legend(loc="upper left", fontsize=8)
        failing = int((ratios > 1).sum()) + beyond
        axes.set_title(f"{artifact} · {output}: {exact} of {total} elements exact, {failing} beyond tolerance",
                       fontsize=10)
        axes.set_xlabel("log10( |artifact − scikit-learn| ÷ allowed error )")
        axes.set_ylabel("elements")
        images.append((f"{artifact} · {output}", _png(figure)))
        pyplot.close(figure)
    return images


def _summary_table(report: ParityReport) -> list[str]:
    e = html.escape
    rows = sum(p.n_rows for p in report.probes)
    probes = ", ".join(f"{e(p.name)} ({p.n_rows})" for p in report.probes) or "none"
    if report.user_data is None:
        data = "none given: probes built from the model alone"
    elif not report.user_data.available:
        data = f"<span class='cause'>{e(report.user_data.describe())}</span>"
    else:
        u = report.user_data
        count = (f"{u.rows_checked} of {u.rows} rows" if u.rows is not None and u.rows_checked is not None
                 and u.rows != u.rows_checked else f"{u.rows_checked or u.rows} rows")
        data = (f"<code>{e(u.file or 'rows passed in memory')}</code> — {count}"
                + (f", from {e(u.source)}" if u.source else "")
                + f"<br>sha256 of {e(u.sha256_of)}: <span class='hash'>{e(u.sha256 or '')}</span>"
                + (f"<br>{e(u.note)}" if u.note else ""))
    versions = ", ".join(f"{e(k)} {e(v)}" for k, v in sorted(report.versions.items())) or "not recorded"
    artifacts = "<br>".join(f"<code>{e(a.path)}</code> ({e(a.kind)}, {e(a.dtype)}, run by {e(a.runtime)})"
                            + (f"<br><span class='hash'>sha256 {e(a.sha256)}</span>" if a.sha256 else "")
                            for a in report.artifacts)
    verdict = f"<b class='{'' if report.passed else 'cause'}'>{e(report.verdict)}</b> — {e(one_line_summary(report))}"
    entries = [("verdict", verdict), ("model", e(report.estimator)), ("input contract", e(report.contract)),
               ("rows checked", f"{rows} in {len(report.probes)} probe sets"), ("probe sets", probes),
               ("user data", data), ("artifacts", artifacts), ("versions", versions)]
    return (["<h2>Summary</h2><table class='summary'>"]
            + [f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in entries] + ["</table>"])


def _check_label(check: CheckResult) -> str:
    return f"{check.artifact} · {check.comparison.output} · {check.probe}"


def to_html(report: ParityReport) -> str:
    """One self-contained page (inline CSS, plots as base64 PNG, no network references): warnings, summary, the
    distinct failure causes linking to their checks, every check (failures first), error histograms, details."""
    e = html.escape
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
             f"<title>Parity {e(report.verdict)}: {e(report.estimator)}</title><style>{_CSS}</style></head><body>"]
    parts.append(f"<div class='banner {e(report.verdict)}'>Parity {e(report.verdict.upper())} — {e(report.estimator)}"
                 f" <span style='font-size:.6em'>(input contract {e(report.contract)})</span></div>")
    parts += [f"<div class='warning'>{e(w)}</div>" for w in report.warnings]
    parts += _summary_table(report)
    problems = [(a.path, p) for a in report.artifacts for p in a.problems]
    causes = report.causes()
    if problems or causes:
        parts.append("<h2 id='failures'>Why it failed</h2><ul>")
        parts += [f"<li><code>{e(path)}</code>: <span class='cause'>{e(problem)}</span></li>"
                  for path, problem in problems]
        for cause, indices in causes:
            links = ", ".join(f"<a href='#check-{i}'>{e(_check_label(report.checks[i]))}</a>" for i in indices)
            count = f"{len(indices)} check{'s' if len(indices) != 1 else ''}"
            listed = (f"<details><summary>{count}</summary>{links}</details>" if len(indices) > 4
                      else f"{count}: {links}")
            parts.append(f"<li><span class='cause'>{e(cause)}</span> — {listed}"
                         f"{e(failing_row_text(report, report.checks[indices[0]]))}</li>")
        parts.append("</ul>")
    if report.schema is not None:
        parts.append("<h2>Inputs</h2><table><tr><th class='l'>input</th><th class='l'>kind</th>"
                     "<th class='l'>categories the artifacts know</th></tr>")
        parts += [f"<tr><td class='l'>{e(c.name)}</td><td class='l'>{e(c.shown_kind)}</td><td class='l'>"
                  f"{e('(documents)' if c.documents else ', '.join(repr(v) for v in c.categories))}</td></tr>"
                  for c in report.schema.columns]
        parts.append("</table>")
        for column in report.schema.columns:
            if column.documents:
                parts.append(f"<p>{e(_text_lines(column.name)[0])}</p><ol>")
                parts += [f"<li><code>{e(_quoted(shorten(d)))}</code></li>" for d in column.documents]
                parts.append("</ol>")
    parts.append("<h2>Checks</h2><p class='muted'>One row per artifact × output × probe set; failing checks first."
                 "</p><table><tr><th class='l'>artifact</th><th class='l'>output</th><th class='l'>probe set</th>"
                 "<th>rows</th><th>max abs</th><th>max rel</th><th class='l'>tolerance</th><th>error ÷ bound</th>"
                 "<th>violations</th>"
                 "<th>jumps</th><th>labels ≠</th><th>ties</th><th class='l'>result</th></tr>")
    order = sorted(range(len(report.checks)), key=lambda i: report.checks[i].passed)
    for index in order:
        check = report.checks[index]
        c = check.comparison
        tol = _limit(c)
        result = "ok" if check.passed else (f"<span class='cause'>FAIL</span> <span class='muted'>first failing rows "
                                            f"{e(str(list(c.failing_rows)))}</span>")
        parts.append(f"<tr id='check-{index}' class='{'' if check.passed else 'fail'}'>"
                     f"<td class='l'>{e(check.artifact)}</td><td class='l'>{e(c.output)}</td>"
                     f"<td class='l'>{e(check.probe)}</td><td>{c.n_rows}</td><td>{_fmt(c.max_abs_error)}</td>"
                     f"<td>{_fmt(c.max_rel_error)}</td><td class='l'>{e(tol)}</td><td>{_ratio(c)}</td>"
                     f"<td>{c.violations}</td>"
                     f"<td>{c.jumps}</td><td>{c.label_mismatches}</td><td>{c.tie_excused}</td>"
                     f"<td class='l'>{result}</td></tr>")
    parts.append("</table>")
    images = _plots(report)
    if images:
        parts.append("<h2>Errors</h2><div class='plots'>")
        parts += [f"<img alt='{e(title)}' src='data:image/png;base64,{data}'>" for title, data in images]
        parts.append("</div>")
    parts.append("<h2>Probe sets</h2><table><tr><th class='l'>probe set</th><th>rows</th>"
                 "<th class='l'>what it holds</th></tr>")
    parts += [f"<tr><td class='l'>{e(p.name)}</td><td>{p.n_rows}</td><td class='l'>{e(p.description)}</td></tr>"
              for p in report.probes]
    parts.append("</table>")
    parts.append("<h2>Runtimes</h2><table><tr><th class='l'>runtime</th><th class='l'>artifact</th>"
                 "<th class='l'>status</th></tr>")
    parts += [f"<tr><td class='l'>{e(r.runtime)}</td><td class='l'>{e(r.artifact or '')}</td>"
              f"<td class='l'>{e(r.status)}</td></tr>" for r in report.runtimes]
    parts.append("</table>")
    bounds = bound_summary(report)
    if bounds:
        parts.append(f"<h2>Error bounds</h2><p class='muted'>worst observed error ÷ the bound a faithful artifact "
                     f"can reach from its own precision; a check fails above {SAFETY:g}.</p><table><tr>"
                     "<th class='l'>artifact</th><th class='l'>runtime</th><th class='l'>output</th>"
                     "<th>worst error ÷ bound</th><th class='l'>on probe set</th><th>largest bound</th>"
                     "<th class='l'>bound from</th></tr>")
        parts += [f"<tr><td class='l'>{e(b['artifact'])}</td><td class='l'>{e(b['runtime'])}</td>"
                  f"<td class='l'>{e(b['output'])}</td><td>{b['worst_error_over_bound']:.3g}</td>"
                  f"<td class='l'>{e(str(b['worst_probe']))}</td><td>{b['max_bound']:.3g}</td>"
                  f"<td class='l'>{e(str(b['reason']))}</td></tr>" for b in bounds]
        parts.append("</table>")
    if report.drift:
        parts.append("<h2>Reference drift</h2><p class='muted'>scikit-learn itself on float64 vs float32-rounded "
                     "inputs — a property of the model, never a failure.</p><table><tr><th class='l'>output</th>"
                     "<th class='l'>probe set</th><th>rows changed</th><th>max abs change</th></tr>")
        parts += [f"<tr><td class='l'>{e(d.role)}</td><td class='l'>{e(d.probe)}</td>"
                  f"<td>{d.rows_changed}/{d.n_rows}</td><td>{_fmt(d.max_abs_change)}</td></tr>" for d in report.drift]
        parts.append("</table>")
    tolerances = sorted({(c.comparison.output, c.comparison.tolerance.reason)
                         for c in report.checks if c.comparison.tolerance})
    if tolerances:
        parts.append("<h2>Tolerances</h2><ul>")
        parts += [f"<li>{e(output)}: {e(reason)}</li>" for output, reason in tolerances]
        parts.append("</ul>")
    if report.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in report.notes) + "</ul>")
    parts.append("</body></html>")
    return "".join(parts)
