"""Report step of the parity flow: the ParityReport and its renderings (JSON, Markdown, self-contained HTML, JUnit)."""

from __future__ import annotations

import base64
import html
import io
import math
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

import numpy as np

from parity.columns import InputSchema
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

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "runtime": self.runtime, "dtype": self.dtype,
                "roles": self.roles, "class_labels": self.class_labels, "problems": self.problems}


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

    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]


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
        "notes": list(report.notes),
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
        lines.append(f"| {column.name} | {column.kind} | {column.python_dtype} | {categories} |")
    lines.append("")
    lines.append('String inputs are fed to the artifacts NFC-normalised, a missing string as "" (the export '
                 "contract); the Python model gets the column's own missing value (NaN or None).")
    return lines


def to_markdown(report: ParityReport) -> str:
    """A terminal/CI summary: verdict, runtimes, failures with causes, then a table of every check."""
    mark = "PASSED" if report.passed else "FAILED"
    lines = [f"# Parity {mark}: {report.estimator} (input contract {report.contract})", ""]
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
              "| artifact | output | probe set | rows | max abs | max rel | tolerance | viol. | jumps | labels ≠ "
              "| ties | result |",
              "|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|---|"]
    for check in report.checks:
        c = check.comparison
        tol = f"rtol {c.tolerance.rtol:.0e} atol {c.tolerance.atol:.0e}" if c.tolerance else "exact"
        lines.append(f"| {check.artifact} | {c.output} | {check.probe} | {c.n_rows} | {_fmt(c.max_abs_error)} | "
                     f"{_fmt(c.max_rel_error)} | {tol} | {c.violations} | {c.jumps} | {c.label_mismatches} | "
                     f"{c.tie_excused} | {'ok' if check.passed else 'FAIL'} |")
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
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(sum(1 for case in suite if case.find("failure") is not None)))
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True)


# ----------------------------------------------------------------------------------------------------------------
# HTML


_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#222;max-width:1200px}
.banner{padding:1em 1.5em;border-radius:8px;color:#fff;font-size:1.4em;margin-bottom:1em}
.passed{background:#2e7d32}.failed{background:#c62828}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}th{background:#f3f3f3}
td.l,th.l{text-align:left}tr.fail td{background:#ffebee}
.cause{color:#c62828;font-weight:bold}.plots img{max-width:100%;margin:.3em}
.muted{color:#666}
"""


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _as_rows(values: np.ndarray | None) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array.reshape(len(array), -1)


def _plots(report: ParityReport) -> list[tuple[str, str]]:
    """(title, base64 PNG) per artifact × numeric output: error histogram and artifact-vs-reference scatter."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot

    images: list[tuple[str, str]] = []
    grouped: dict[tuple[str, str], list[CheckResult]] = {}
    for check in report.checks:
        if check.comparison.role != "label" and check.expected is not None and check.got is not None:
            grouped.setdefault((check.artifact, check.comparison.output), []).append(check)
    for (artifact, output), checks in grouped.items():
        pairs = [(_as_rows(c.expected), _as_rows(c.got), c) for c in checks]
        if any(e.shape != g.shape for e, g, _ in pairs):
            continue
        expected = np.concatenate([e.ravel() for e, _, _ in pairs])
        got = np.concatenate([g.ravel() for _, g, _ in pairs])
        # Rows that violate the tolerance, repeated over the row's elements, drawn in red.
        failing = np.concatenate([np.repeat(c.comparison.failing_mask if c.comparison.failing_mask is not None
                                            else np.zeros(len(e), dtype=bool), e.shape[1]) for e, _, c in pairs])
        keep = np.isfinite(expected) & np.isfinite(got)
        atol = max((c.comparison.tolerance.atol for _, _, c in pairs if c.comparison.tolerance), default=0.0)
        figure, (left, right) = pyplot.subplots(1, 2, figsize=(10, 3.6))
        error = np.abs(got[keep] - expected[keep])
        positive = error[error > 0]
        if len(positive):
            log_error = np.log10(positive)
            # Errors all of (nearly) one size leave no room for 40 finite-width bins: draw one.
            left.hist(log_error, bins=40 if np.ptp(log_error) > 1e-9 else 1, color="#1565c0")
        if atol > 0:
            left.axvline(np.log10(atol), color="#c62828", linestyle="--", label=f"atol {atol:.0e}")
            left.legend(loc="upper right", fontsize=8)
        left.set_title(f"log10 |error| ({len(error) - len(positive)} exact of {len(error)})", fontsize=10)
        left.set_xlabel("log10 |artifact − scikit-learn|")
        ok = keep & ~failing
        bad = keep & failing
        right.scatter(expected[ok], got[ok], s=4, alpha=0.5, color="#1565c0", label="within tolerance")
        if bad.any():
            right.scatter(expected[bad], got[bad], s=10, color="#c62828", label="failing rows")
            right.legend(loc="upper left", fontsize=8)
        right.set_xlabel("scikit-learn")
        right.set_ylabel("artifact")
        right.set_title("artifact vs reference", fontsize=10)
        figure.suptitle(f"{artifact} · {output}", y=1.03)
        images.append((f"{artifact} · {output}", _png(figure)))
        pyplot.close(figure)
    return images


def to_html(report: ParityReport) -> str:
    """One self-contained page (inline CSS, plots as base64 PNG, no network references)."""
    e = html.escape
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
             f"<title>Parity {e(report.verdict)}: {e(report.estimator)}</title><style>{_CSS}</style></head><body>"]
    parts.append(f"<div class='banner {e(report.verdict)}'>Parity {e(report.verdict.upper())} — {e(report.estimator)}"
                 f" <span style='font-size:.6em'>(input contract {e(report.contract)})</span></div>")
    problems = [(a.path, p) for a in report.artifacts for p in a.problems]
    failures = report.failures()
    if problems or failures:
        parts.append("<h2>Why it failed</h2><ul>")
        parts += [f"<li><code>{e(path)}</code>: <span class='cause'>{e(problem)}</span></li>"
                  for path, problem in problems]
        parts += [f"<li><code>{e(c.artifact)}</code> {e(c.comparison.output)} on <b>{e(c.probe)}</b>: "
                  f"<span class='cause'>{e(c.comparison.cause or 'unexplained')}</span>"
                  f"{e(failing_row_text(report, c))}</li>" for c in failures]
        parts.append("</ul>")
    if report.schema is not None:
        parts.append("<h2>Inputs</h2><table><tr><th class='l'>input</th><th class='l'>kind</th>"
                     "<th class='l'>categories the artifacts know</th></tr>")
        parts += [f"<tr><td class='l'>{e(c.name)}</td><td class='l'>{e(c.kind)}</td><td class='l'>"
                  f"{e(', '.join(repr(v) for v in c.categories))}</td></tr>" for c in report.schema.columns]
        parts.append("</table>")
    parts.append("<h2>Runtimes</h2><table><tr><th class='l'>runtime</th><th class='l'>artifact</th>"
                 "<th class='l'>status</th></tr>")
    parts += [f"<tr><td class='l'>{e(r.runtime)}</td><td class='l'>{e(r.artifact or '')}</td>"
              f"<td class='l'>{e(r.status)}</td></tr>" for r in report.runtimes]
    parts.append("</table>")
    probes_by_name: dict[str, list[CheckResult]] = {}
    for check in report.checks:
        probes_by_name.setdefault(check.probe, []).append(check)
    descriptions = {p.name: p for p in report.probes}
    for probe, checks in probes_by_name.items():
        info = descriptions.get(probe)
        parts.append(f"<h3>Probe set: {e(probe)}</h3>")
        if info:
            parts.append(f"<p class='muted'>{info.n_rows} rows — {e(info.description)}</p>")
        parts.append("<table><tr><th class='l'>artifact</th><th class='l'>output</th><th>max abs</th><th>max rel</th>"
                     "<th class='l'>tolerance</th><th>violations</th><th>jumps</th><th>labels ≠</th><th>ties</th>"
                     "<th class='l'>result</th></tr>")
        for check in checks:
            c = check.comparison
            tol = f"rtol {c.tolerance.rtol:.0e}, atol {c.tolerance.atol:.0e}" if c.tolerance else "exact"
            result = "ok" if check.passed else f"<span class='cause'>{e(c.cause or 'FAIL')}</span>"
            parts.append(f"<tr class='{'' if check.passed else 'fail'}'><td class='l'>{e(check.artifact)}</td>"
                         f"<td class='l'>{e(c.output)}</td><td>{_fmt(c.max_abs_error)}</td>"
                         f"<td>{_fmt(c.max_rel_error)}</td><td class='l'>{e(tol)}</td><td>{c.violations}</td>"
                         f"<td>{c.jumps}</td><td>{c.label_mismatches}</td><td>{c.tie_excused}</td>"
                         f"<td class='l'>{result}</td></tr>")
        parts.append("</table>")
    images = _plots(report)
    if images:
        parts.append("<h2>Errors</h2><div class='plots'>")
        parts += [f"<img alt='{e(title)}' src='data:image/png;base64,{data}'>" for title, data in images]
        parts.append("</div>")
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
