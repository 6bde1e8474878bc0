"""k-NN through the ONNX writer against scikit-learn's own predictions at the rules' edges: the zero-distance rule
(training rows, duplicated rows with different targets, a distance whose reciprocal overflows), the metrics at
training points, and the Core ML refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from supported_cases import credit, credit_band

import parity
from export.errors import UnsupportedEstimatorError
from export.frontends import to_ir
from export.to_coreml import CoreMLInterface, to_spec
from export.to_onnx import OnnxOptions, save_onnx, to_onnx


def _onnx(estimator: Any, tmp_path: Path) -> Path:
    exported = to_onnx(estimator, to_ir(estimator), OnnxOptions())
    assert exported.route == "ir"
    return save_onnx(exported.model, tmp_path / "model.onnx")


def _run(path: Path, X: np.ndarray) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(str(path))
    return {o.name: v for o, v in zip(session.get_outputs(), session.run(None, {"input": X}), strict=True)}


def _duplicated_credit() -> tuple[np.ndarray, np.ndarray]:
    """credit with its first 10 rows repeated under other targets: two training rows at distance 0 from each."""
    X, y = credit()
    return np.vstack([X, X[:10]]), np.concatenate([y, y[:10] + 100.0])


@pytest.mark.parametrize("params", [{"weights": "distance"}, {"weights": "distance", "p": 1},
                                    {"weights": "distance", "p": 3, "algorithm": "ball_tree"},
                                    {"weights": "distance", "metric": "chebyshev"}], ids=str)
def test_zero_distance_rule_at_duplicated_training_rows(params: dict[str, Any], tmp_path: Path) -> None:
    X, y = _duplicated_credit()
    estimator = KNeighborsRegressor(**params).fit(X, y)
    expected = estimator.predict(X[:10])
    np.testing.assert_array_equal(expected, y[:10] + 50.0)  # the two zero-distance rows share all the weight
    got = _run(_onnx(estimator, tmp_path), X[:10])["prediction"].ravel()
    np.testing.assert_array_equal(got, expected)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # scikit-learn's own 1 / d overflow
def test_zero_distance_rule_when_the_reciprocal_overflows(tmp_path: Path) -> None:
    # Manhattan distance 1e-309 is not 0, but 1 / 1e-309 is inf: scikit-learn's rule is isinf(1 / d), so the row
    # at 1e-309 takes all the weight while its neighbour at 2e-307 (1 / d = 5e306, finite) gets none.
    X = np.array([[0.0, 0.0], [2e-307, 0.0], [1.0, 0.0], [2.0, 2.0]])
    y = np.array([10.0, 20.0, 30.0, 40.0])
    estimator = KNeighborsRegressor(3, weights="distance", metric="manhattan").fit(X, y)
    rows = np.array([[1e-309, 0.0], [1e-306, 0.0], [0.0, 0.0], [1e-307, 0.0]])
    expected = estimator.predict(rows)
    # 1e-306: finite weights (no rule); 1e-307: Σ w·y overflows to inf in scikit-learn, and must here too
    assert expected[0] == 10.0 and 10.0 < expected[1] < 20.0 and expected[2] == 10.0 and expected[3] == np.inf
    np.testing.assert_array_equal(_run(_onnx(estimator, tmp_path), rows)["prediction"].ravel(), expected)


def test_distance_weighted_probabilities_at_training_rows(tmp_path: Path) -> None:
    X, y = credit_band()
    estimator = KNeighborsClassifier(5, weights="distance").fit(X, y)
    report = parity.check(estimator, [_onnx(estimator, tmp_path)], inputs=X)  # every row at distance 0 of itself
    assert report.verdict == "passed", parity.to_markdown(report)
    got = _run(tmp_path / "model.onnx", X)
    np.testing.assert_array_equal(got["classProbability"], estimator.predict_proba(X))  # one-hot at training rows


@pytest.mark.parametrize("estimator", [KNeighborsClassifier(weights="distance"), KNeighborsClassifier(p=1),
                                       KNeighborsRegressor()], ids=["distance", "manhattan", "regressor"])
def test_core_ml_refuses_what_its_knn_cannot_compute(estimator: Any) -> None:
    X, y = credit_band()
    estimator.fit(X, y.astype(float) if isinstance(estimator, KNeighborsRegressor) else y)
    with pytest.raises(UnsupportedEstimatorError, match="Core ML: k-NN .*no exact encoding"):
        to_spec(to_ir(estimator), CoreMLInterface())
