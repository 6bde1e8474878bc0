"""Discrete naive Bayes and QDA edge rules, checked through both writers against scikit-learn's own predictions on
rows at the rule's edges: BernoulliNB's binarize threshold (x > t, compared in double), CategoricalNB's int()
truncation of fractional indices, QDA far from the data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
from sklearn.naive_bayes import BernoulliNB, CategoricalNB
from supported_cases import applications_counts, credit_categories, credit_student

import parity
from export.frontends import to_ir
from export.to_coreml import CoreMLInterface, save_spec, to_spec
from export.to_onnx import OnnxOptions, save_onnx, to_onnx


def _artifacts(estimator: Any, directory: Path) -> list[Path]:
    model = to_ir(estimator)
    return [save_spec(to_spec(model, CoreMLInterface()), directory / "model.mlmodel"),
            save_onnx(to_onnx(estimator, model, OnnxOptions()).model, directory / "model.onnx")]


def _passes(estimator: Any, rows: np.ndarray, directory: Path) -> None:
    report = parity.check(estimator, _artifacts(estimator, directory), inputs=rows)
    assert report.verdict == "passed", parity.to_markdown(report)


@pytest.mark.parametrize("threshold", [0.0, 0.25, 3.0])
def test_bernoulli_binarize_threshold_is_strict(threshold: float, tmp_path: Path) -> None:
    X, y = applications_counts()
    estimator = BernoulliNB(binarize=threshold).fit(X, y)
    edge = np.array([threshold, np.nextafter(threshold, np.inf), np.nextafter(threshold, -np.inf)])
    rows = np.tile(X[:3], (3, 1))
    rows[:, 0] = np.repeat(edge, 3)  # every feature-0 value at, just above and just below the threshold
    rows[:, 3] = np.tile(edge, 3)
    probabilities = estimator.predict_proba(rows)
    assert not np.allclose(probabilities[0], probabilities[3])  # the edge changes scikit-learn's answer
    _passes(estimator, rows, tmp_path)


def test_categorical_fractional_indices_truncate_toward_zero(tmp_path: Path) -> None:
    X, y = credit_categories()
    estimator = CategoricalNB().fit(X, y)
    top = estimator.n_categories_ - 1
    values = np.array([-0.5, 0.0, 0.99, 1.0, np.nextafter(2.0, 0.0), 2.0, 2.5])
    rows = np.column_stack([np.concatenate([values, [float(top[0]), top[0] + 0.75]]),
                            np.concatenate([values[::-1], [top[1] + 0.5, float(top[1])]])])
    assert np.array_equal(estimator.predict_proba(rows), estimator.predict_proba(np.trunc(rows)))  # int() rule
    _passes(estimator, rows, tmp_path)


def test_categorical_min_categories_unseen_but_declared_category(tmp_path: Path) -> None:
    X, y = credit_categories()
    estimator = CategoricalNB(min_categories=[15, 30]).fit(X, y)
    rows = np.array([[14.0, 29.0], [13.0, 0.0], [0.0, 25.0]])  # never seen in fit, inside min_categories
    _passes(estimator, rows, tmp_path)


def test_quadratic_discriminant_far_from_the_data(tmp_path: Path) -> None:
    X, y = credit_student()
    estimator = QuadraticDiscriminantAnalysis().fit(X, y)
    rng = np.random.default_rng(0)
    rows = np.vstack([X[:20] * 30.0, rng.normal(scale=200.0, size=(20, X.shape[1]))])
    _passes(estimator, rows, tmp_path)
