"""IsolationForest and OneClassSVM (Anomaly head: score = decision_function, label = predict) against
scikit-learn's own outputs: feature subsets read the right raw columns, a one-ulp threshold fault is caught by the
float32 threshold probes, and Core ML refuses with its reason."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.svm import OneClassSVM
from supported_cases import credit, credit_raw

import parity
from export.errors import UnsupportedEstimatorError
from export.frontends import to_ir
from export.to_coreml import CoreMLInterface, to_spec
from export.to_onnx import OnnxOptions, save_onnx, to_onnx


def _onnx(estimator: object, model: object, path: Path) -> Path:
    exported = to_onnx(estimator, model, OnnxOptions())  # type: ignore[arg-type]
    assert exported.route == "ir"
    return save_onnx(exported.model, path)


def test_isolation_forest_feature_subsets_and_a_threshold_fault(tmp_path: Path) -> None:
    X, _ = credit_raw()
    estimator = IsolationForest(n_estimators=8, max_samples=50, max_features=2, random_state=1).fit(X)
    assert len({tuple(f) for f in estimator.estimators_features_}) > 1  # the trees read different columns
    model = to_ir(estimator)
    report = parity.check(estimator, [_onnx(estimator, model, tmp_path / "good.onnx")], inputs=X)
    assert report.verdict == "passed", parity.to_markdown(report)
    assert {"thresholds", "rounding-boundaries"} <= {c.probe for c in report.checks}
    node = model.body[0].node
    assert isinstance(node.threshold, np.ndarray)
    moved = dataclasses.replace(node, threshold=np.where(node.feature >= 0, np.nextafter(node.threshold, np.inf),
                                                         node.threshold))
    faulty = dataclasses.replace(model, body=(dataclasses.replace(model.body[0], node=moved),))
    report = parity.check(estimator, [_onnx(estimator, faulty, tmp_path / "bad.onnx")], inputs=X)
    assert report.verdict == "failed"
    assert {c.comparison.role for c in report.failures()} <= {"label", "score"}


@pytest.mark.parametrize("estimator", [IsolationForest(n_estimators=5, random_state=0), OneClassSVM(nu=0.1)],
                         ids=["isolation-forest", "one-class-svm"])
def test_core_ml_refuses_outlier_detectors(estimator: object) -> None:
    X, _ = credit()
    estimator.fit(X)  # type: ignore[attr-defined]
    with pytest.raises(UnsupportedEstimatorError, match="Core ML: outlier detectors are not exported"):
        to_spec(to_ir(estimator), CoreMLInterface())
