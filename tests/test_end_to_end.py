"""Every supported scikit-learn type end to end (tests/supported_cases.py): fitted on real rows, exported with both
writers (a format the table refuses must refuse), then `parity.check` against scikit-learn's own predictions on the
rows and the generated probes."""

from __future__ import annotations

from pathlib import Path

import pytest
from supported_cases import CASES, Case, data

import parity
from export.errors import MlexportError
from export.exporter import ExportOptions, export_model
from export.frontends import lookup, supported


def test_every_table_row_has_an_end_to_end_case() -> None:
    covered = {case.covers for case in CASES}
    missing = [row.name for row in supported() if row.cls not in covered]
    assert not missing, f"rows without an end-to-end case in tests/supported_cases.py: {missing}"
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_export_and_parity(case: Case, tmp_path: Path) -> None:
    est, X = case.build(data())
    row = lookup(est)
    nested = {type(value) for value in est.get_params(deep=True).values()}
    assert case.covers is row.cls or case.covers in nested
    support = {"coreml": row.coreml.supported and "coreml" not in case.refused,
               "onnx": row.onnx.supported and "onnx" not in case.refused}
    formats = tuple(f for f, ok in support.items() if ok)
    result = export_model(est, tmp_path / "out", ExportOptions(formats=formats, run_parity=False))
    report = parity.check(est, [result.artifacts[f] for f in formats], inputs=X)
    assert report.verdict == "passed", parity.to_markdown(report)
    for name, ok in support.items():
        if not ok:
            with pytest.raises(MlexportError):
                export_model(est, tmp_path / name, ExportOptions(formats=(name,), run_parity=False))
