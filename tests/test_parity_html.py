"""The HTML parity report's structure (issue 9 item 17): summary first, failures first with links to their checks,
each cause once, no information-free plots, error histograms against the tolerance.

Truth: the page parsed with html.parser; hashes recomputed with hashlib; causes and failing checks counted from the
report's own check list (what the page must show, not how it renders it). The look in a real browser is checked by
hand with headless Chromium (README "Checking the HTML report").
"""

from __future__ import annotations

import hashlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

import parity
from parity.compare import OutputComparison
from parity.report import CheckResult, _tolerance_ratios, to_html
from parity.tolerances import Tolerance


class _Page(HTMLParser):
    """Elements in document order: (tag, attrs, text inside it)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[list[Any]] = []
        self.open: list[list[Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = [tag, dict(attrs), ""]
        self.elements.append(element)
        if tag not in ("img", "meta", "br"):
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element[2] += data

    def find(self, tag: str, **attrs: str) -> list[list[Any]]:
        return [e for e in self.elements if e[0] == tag and all(e[1].get(k) == v for k, v in attrs.items())]


def _parse(page: str) -> _Page:
    parsed = _Page()
    parsed.feed(page)
    return parsed


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> tuple[parity.ParityReport, list[Path], np.ndarray]:
    """A forest checked against its own ONNX file and against the Core ML file of another forest."""
    from export.frontends import to_ir
    from export.to_coreml import CoreMLInterface, save_spec, to_spec
    from export.to_onnx import save_onnx, to_onnx
    from export.to_onnx.options import OnnxOptions

    X, y = load_iris(return_X_y=True)
    model = RandomForestClassifier(n_estimators=4, max_depth=3, random_state=0).fit(X, y)
    other = RandomForestClassifier(n_estimators=4, max_depth=3, random_state=1).fit(X, y)
    root = tmp_path_factory.mktemp("html")
    wrong = root / "wrong.mlmodel"
    save_spec(to_spec(to_ir(other), CoreMLInterface()), wrong)
    right = root / "right.onnx"
    save_onnx(to_onnx(model, to_ir(model), OnnxOptions(input_dtype="float64")).model, right)
    report = parity.check(model, [wrong, right], inputs=X[::3])
    assert not report.passed
    return report, [wrong, right], X[::3]


def test_summary_comes_first_and_holds_what_a_reviewer_needs(failing: Any) -> None:
    report, paths, rows = failing
    page = _parse(to_html(report))
    headings = [e[2].strip() for e in page.find("h2")]
    assert headings[:4] == ["Summary", "Why it failed", "Checks", "Errors"]
    verdict_row = next(e for e in page.find("tr") if e[2].startswith("verdict"))
    assert verdict_row[2].startswith("verdictfailed — ")
    text = to_html(report)
    summary_part = text[text.index("<h2>Summary</h2>"): text.index("Why it failed")]
    for heading in ("verdict", "rows checked", "probe sets", "user data", "artifacts", "versions"):
        assert f"<th>{heading}</th>" in summary_part
    for path in paths:
        assert hashlib.sha256(path.read_bytes()).hexdigest() in summary_part
    rows_hash = hashlib.sha256(np.ascontiguousarray(rows, dtype=np.float64).tobytes()).hexdigest()
    assert rows_hash in summary_part and f"{len(rows)} rows" in summary_part
    assert f"scikit-learn {sklearn.__version__}" in summary_part
    assert f"{sum(p.n_rows for p in report.probes)} in {len(report.probes)} probe sets" in summary_part


def test_failures_first_each_cause_once_with_links_to_their_checks(failing: Any) -> None:
    report, _, _ = failing
    page = _parse(to_html(report))
    failing_indices = {i for i, c in enumerate(report.checks) if not c.passed}
    distinct = {c.comparison.cause or "unexplained difference" for c in report.checks if not c.passed}
    assert len(distinct) < len(failing_indices)  # the repeated cause is what gets de-duplicated
    causes = [e for e in page.find("span", **{"class": "cause"}) if e[2] in distinct]
    in_failures = [e[2] for e in causes[: len(distinct)]]
    assert sorted(in_failures) == sorted(distinct)  # each distinct cause once, first
    links = [e[1]["href"] for e in page.find("a") if e[1].get("href", "").startswith("#check-")]
    assert sorted(int(h.split("-")[1]) for h in links) == sorted(failing_indices)
    rows = [e for e in page.find("tr") if e[1].get("id", "").startswith("check-")]
    ids = {e[1]["id"]: e for e in rows}
    assert all(ids[h[1:]][1].get("class") == "fail" for h in links)  # every link lands on its failing row
    classes = [e[1].get("class") for e in rows]
    assert classes == sorted(classes, key=lambda c: c != "fail")  # failing checks before passing ones
    assert len(rows) == len(report.checks)


def test_no_scatter_one_histogram_per_artifact_output(failing: Any) -> None:
    report, _, _ = failing
    page = to_html(report)
    numeric = {(c.artifact, c.comparison.output) for c in report.checks if c.comparison.role != "label"}
    images = _parse(page).find("img")
    assert len(images) == len(numeric)
    assert {i[1]["alt"] for i in images} == {f"{a} · {o}" for a, o in numeric}
    assert "artifact vs reference" not in page


def test_histogram_measures_errors_against_the_element_tolerance() -> None:
    tolerance = Tolerance(rtol=1e-3, atol=1e-6, reason="test")
    expected = np.array([[1.0, 100.0], [0.0, 5.0]])
    got = np.array([[1.0, 100.05], [2e-6, 5.0]])
    comparison = OutputComparison("p", "probabilities", 2, tolerance)
    ratios, exact, beyond = _tolerance_ratios([CheckResult("a", "rt", "probe", comparison, expected, got)])
    # hand-computed: |100.05-100| / (1e-6 + 1e-3*100) and 2e-6 / 1e-6
    np.testing.assert_allclose(sorted(ratios), sorted([0.05 / (1e-6 + 0.1), 2.0]), rtol=1e-9)
    assert exact == 2 and beyond == 0


def test_warnings_are_said_before_the_summary(failing: Any) -> None:
    report, _, _ = failing
    report.warnings = ["--model 'x.skops' is not the model this export was made from"]
    try:
        page = _parse(to_html(report))
    finally:
        report.warnings = []
    first = [e for e in page.elements if e[0] in ("div", "h2")][:2]
    assert first[0][1]["class"].startswith("banner") and first[1][1]["class"] == "warning"
    assert "not the model" in first[1][2]
