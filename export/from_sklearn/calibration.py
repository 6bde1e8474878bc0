"""sklearn.calibration.CalibratedClassifierCV → IR: per calibrated classifier, the base estimator's response
(`_get_response_values`: decision_function if it has one, else predict_proba — binary: the positive column only),
one calibrator per class column, the normalisation; then the mean over the calibrated classifiers.

sigmoid: p = expit(-(a·f + b)) (`_SigmoidCalibration.predict`) — a `LinearModel` z = -a·f - b (negation is exact,
so z = -(a·f + b) bit for bit) under the logistic rule (binary: [1 - p, p]) or the one-vs-rest rule (K > 2: p_k /
Σ_j p_j, an all-zero row → 1/K), i.e. the head's own `logistic` / `ovr_logistic` links.
isotonic: p = np.interp(clip(f, X_min_, X_max_), X_thresholds_, y_thresholds_) — a `PiecewiseLinear`; binary
[1 - p, p] (the identity rule on one column), K > 2 an L1 `Normalizer` whose all-zero rows become uniform.
The final `proba[(1 < proba) & (proba <= 1 + 1e-5)] = 1` never fires on these values in double (each p ≤ 1, and
p_k / fl(Σ p) ≤ 1 because rounding is monotone), so it is not exported."""

from __future__ import annotations

from typing import Any

import numpy as np

from export import ir
from export.from_sklearn.estimator_checks import class_labels, estimator_name, refuse
from export.from_sklearn.meta_classifiers import decision_scores, member_probabilities
from export.frontends import Converted


def _base_estimator(owner: Any, calibrated: Any) -> Any:
    base = calibrated.estimator
    if type(base).__name__ == "FrozenEstimator":  # sklearn >= 1.6's replacement for cv='prefit': delegates
        base = base.estimator
    return base


def response(owner: Any, base: Any, n_classes: int) -> ir.Node:
    """scikit-learn's `_get_response_values(base, X, ['decision_function', 'predict_proba'])` as a body node:
    one column per calibrator (binary: the classes_[1] column only)."""
    if hasattr(base, "decision_function"):
        return decision_scores(owner, base, n_classes)
    probabilities = member_probabilities(owner, base)
    if n_classes == 2:
        return ir.Pipeline(steps=(probabilities, ir.ColumnSelect(indices=np.array([1]), n_features=2)))
    return probabilities


def _isotonic_knots(owner: Any, calibrator: Any) -> tuple[np.ndarray, np.ndarray]:
    if calibrator.out_of_bounds != "clip":
        raise refuse(owner, f"isotonic calibrator with out_of_bounds={calibrator.out_of_bounds!r}; supported: 'clip'")
    x = np.asarray(calibrator.X_thresholds_, dtype=np.float64)
    y = np.asarray(calibrator.y_thresholds_, dtype=np.float64)
    if x[0] != calibrator.X_min_ or x[-1] != calibrator.X_max_:
        raise refuse(owner, "isotonic calibrator whose thresholds do not span [X_min_, X_max_]")
    if x.size == 1:  # scikit-learn predicts the one y everywhere: two knots with slope 0 do the same
        return np.array([x[0], x[0] + max(1.0, abs(x[0]))]), np.array([y[0], y[0]])
    return x, y


def calibrated_classifier(owner: Any, calibrated: Any, labels: np.ndarray) -> tuple[ir.Node, ir.Classification]:
    """One `_CalibratedClassifier`: (node, rule) with rule turning node's output into its predict_proba."""
    base = _base_estimator(owner, calibrated)
    k = labels.size
    if not np.array_equal(np.asarray(base.classes_), np.asarray(calibrated.classes)):
        raise refuse(owner, f"base {estimator_name(base)} was fitted on fewer classes than the calibrated "
                            "classifier (a fold missed a class); supported: every fold sees every class")
    scores = response(owner, base, k)
    calibrators = list(calibrated.calibrators)
    method = calibrated.method
    if method == "sigmoid":
        a = np.array([float(c.a_) for c in calibrators])
        b = np.array([float(c.b_) for c in calibrators])
        sigmoid = ir.LinearModel(coef=np.diag(-a), intercept=-b)
        link: ir.Link = "logistic" if k == 2 else "ovr_logistic"
        return (ir.Pipeline(steps=(scores, sigmoid)),
                ir.Classification(labels=labels, link=link, has_proba=True, all_zero="uniform",
                                  label_from="probabilities"))
    if method == "isotonic":
        knots = [_isotonic_knots(owner, c) for c in calibrators]
        steps: list[ir.Node] = [scores, ir.PiecewiseLinear(knots_x=tuple(x for x, _ in knots),
                                                           knots_y=tuple(y for _, y in knots))]
        if k > 2:
            steps.append(ir.Normalizer(norm="l1", n_features=k, zero_rows="uniform"))
        return ir.Pipeline(steps=tuple(steps)), ir.Classification(labels=labels, link="identity", has_proba=True)
    raise refuse(owner, f"method={method!r} is not supported; supported: 'sigmoid', 'isotonic'")


def calibrated_classifier_cv_to_ir(est: Any) -> Converted:
    """CalibratedClassifierCV.predict_proba = the mean of `calibrated_classifiers_[i].predict_proba` (summed in
    order, divided by their number); predict = classes_[argmax]. One calibrated classifier (ensemble=False, or
    cv='prefit'-style) is exported with its own rule as the head: probabilities by the calibration, the label their
    first maximum (`label_from='probabilities'`; Core ML's GLMClassifier ranks its probabilities too)."""
    labels = class_labels(est, est.classes_)
    parts = [calibrated_classifier(est, c, labels) for c in est.calibrated_classifiers_]
    if len(parts) == 1:
        return Converted(*parts[0])
    probabilities = tuple(ir.ClassifierOutput(member=node, rule=rule, output="probabilities") for node, rule in parts)
    average = ir.Average(weights=np.ones(len(parts)), divisor=float(len(parts)), width=labels.size)
    return Converted(ir.Pipeline(steps=(ir.Concat(parts=probabilities), average)),
                     ir.Classification(labels=labels, link="identity", has_proba=True))
