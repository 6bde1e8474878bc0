"""Every supported type, end to end: the fitted estimator → `to_ir` → both writers (Core ML and ONNX, each as the
supported table says) → saved files → `parity.check` against the Python model itself (the truth)."""

from __future__ import annotations

from pathlib import Path

import pytest
from supported_cases import CASES, Case

import parity
from export.errors import UnsupportedEstimatorError
from export.frontends import lookup, supported, to_ir
from export.to_coreml import CoreMLInterface, save_spec, to_spec
from export.to_onnx import OnnxOptions, save_onnx, to_onnx


def test_every_supported_type_has_a_case() -> None:
    covered = {lookup(case.make()).qualified_name for case in CASES}
    assert covered == {row.qualified_name for row in supported()}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_both_writers_pass_parity(case: Case, tmp_path: Path) -> None:
    estimator, X = case.fit()
    row = lookup(estimator)
    model = to_ir(estimator)
    artifacts = []
    if case.coreml_refusal is not None:
        with pytest.raises(UnsupportedEstimatorError, match=case.coreml_refusal):
            to_spec(model, CoreMLInterface())
    elif row.coreml.supported:
        artifacts.append(save_spec(to_spec(model, CoreMLInterface()), tmp_path / "model.mlmodel"))
    if row.onnx.supported:
        exported = to_onnx(estimator, model, OnnxOptions())
        assert exported.route in (row.onnx.route, "skl2onnx" if "skl2onnx" in row.onnx.note else row.onnx.route)
        artifacts.append(save_onnx(exported.model, tmp_path / "model.onnx"))
    assert artifacts
    if case.coreml_fails_only_on is not None:
        coreml, *artifacts = artifacts
        limited = parity.check(estimator, [coreml], inputs=X)
        assert limited.verdict == "failed"  # the limit is real on these rows...
        assert {(c.comparison.role, c.probe) for c in limited.failures()} == {case.coreml_fails_only_on}  # ...and only
    report = parity.check(estimator, artifacts, inputs=X)
    assert report.verdict == "passed", parity.to_markdown(report)
