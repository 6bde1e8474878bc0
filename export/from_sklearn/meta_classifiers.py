"""sklearn meta-classifiers → IR combinators over their members' outputs: each member is a `ClassifierOutput` (its
scores and its own head's rule: predict_proba, or the predicted label one-hot), the members side by side (`Concat`),
then the combination — `Average` of probabilities (soft voting), a `LinearModel` counting weighted votes (hard
voting), calibrators (CalibratedClassifierCV).

Every member goes back through the table (`convert`), so any supported classifier — a Pipeline too — may be a
member, as long as its head gives what the combination reads (probabilities need `has_proba`)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from export import ir
from export.from_sklearn.estimator_checks import class_labels, estimator_name, refuse
from export.frontends import Converted, convert

# Vote sums must be exact in any order and in float32 (Core ML's network classifier sums in float32).
_EXACT_VOTE_BUDGET = 2**24


def member_classifier(owner: Any, member: Any, n_classes: int | None = None) -> tuple[ir.Node, ir.Classification]:
    """A member's body node (raw scores) and its classification head, refusing non-classifiers and members whose
    classes differ from the owner's encoded classes (n_classes: members fitted on label-encoded y, 0..K-1)."""
    converted = convert(member)
    head = converted.head
    if not isinstance(head, ir.Classification):
        raise refuse(owner, f"member {estimator_name(member)} is not a single-output classifier; supported "
                            "members: any supported classifier (or a Pipeline ending in one)")
    if n_classes is not None and not (head.labels.dtype != object and np.array_equal(head.labels,
                                                                                      np.arange(n_classes))):
        raise refuse(owner, f"member {estimator_name(member)} was fitted on classes {head.labels.tolist()}, not "
                            f"the {n_classes} encoded classes")
    return converted.node, head


def member_probabilities(owner: Any, member: Any, n_classes: int | None = None) -> ir.ClassifierOutput:
    """The member's predict_proba as a body vector (K columns, its classes_ order)."""
    node, head = member_classifier(owner, member, n_classes)
    if not head.has_proba:
        raise refuse(owner, f"member {estimator_name(member)} has no exported predict_proba (its head has no "
                            "probabilities); supported: members with predict_proba")
    return ir.ClassifierOutput(member=node, rule=head, output="probabilities")


def _vote_unit(owner: Any, weights: np.ndarray, n_classes: int) -> float:
    """The tie-break unit u = 2^-m / L: every weight is an integer over L (floats are dyadic), 2^m >= 2K, so the
    offsets k·u (k < K) stay below half a vote unit 1/L; and every weighted vote sum, offset included, is an integer
    multiple of u below 2^24·u — exact in float32 and float64 in any order (np.bincount adds in member order; we may
    add in any order only if no sum rounds). Refuses other weights."""
    fractions = [Fraction(float(w)) for w in weights]
    scale = max(f.denominator for f in fractions)
    split = 1 << max(1, (2 * n_classes - 1).bit_length())
    total = sum(abs(f) * scale for f in fractions) * split
    if total >= _EXACT_VOTE_BUDGET:
        raise refuse(owner, f"hard-voting weights {weights.tolist()} do not add exactly in float32 in every order "
                            "(scikit-learn's tie rule depends on np.bincount's rounding); supported: weights that "
                            "are small integers or binary fractions (e.g. 1, 2, 0.5)")
    return 1.0 / (scale * split)


def hard_votes(owner: Any, members: list[Any], weights: np.ndarray, n_classes: int) -> ir.Pipeline:
    """argmax(np.bincount(member labels, weights)) with ties to the lowest class index: each member's label
    one-hot, weighted sums per class, minus k·u for class k (`_vote_unit`) — the sums are exact multiples of a vote
    unit, so the offset only splits ties, towards the lowest index, and no two classes are ever equal (no writer's
    tie rule is involved). Binary: one column, (class 1 votes - u) - class 0 votes, label = labels[1] iff > 0."""
    unit = _vote_unit(owner, weights, n_classes)
    votes = [ir.ClassifierOutput(*member_classifier(owner, m, n_classes), output="votes") for m in members]
    m, k = len(members), n_classes
    coef = np.zeros((k, m * k))
    for i, weight in enumerate(weights.tolist()):
        coef[np.arange(k), i * k + np.arange(k)] = weight
    offset = -np.arange(k, dtype=np.float64) * unit
    if k == 2:
        coef, offset = coef[1:] - coef[:1], offset[1:] - offset[:1]
    return ir.Pipeline(steps=(ir.Concat(parts=tuple(votes)), ir.LinearModel(coef=coef, intercept=offset)))


def numpy_average_divisor(weights: np.ndarray, n_rows_shape: tuple[int, ...] = (1, 1)) -> float:
    """np.average's `scl`: the weights broadcast over the averaged array and summed along its axis 0, as numpy
    does it (`wgt.sum(axis=axis)`), so the division is the same one."""
    wgt = np.broadcast_to(weights, (*n_rows_shape, weights.size)).swapaxes(-1, 0)
    return float(np.ravel(wgt.sum(axis=0))[0])


def voting_classifier_to_ir(est: Any) -> Converted:
    """VotingClassifier (sklearn/ensemble/_voting.py). Members are fitted on label-encoded y (`le_`), so their
    classes are 0..K-1 and `classes_` maps them back. soft: predict_proba = np.average(member predict_proba, axis=0,
    weights=_weights_not_none), predict = classes_[argmax]; hard: predict = classes_[argmax(np.bincount(member
    predictions, weights))] (no predict_proba). `flatten_transform` only shapes `transform`, not exported."""
    labels = class_labels(est, est.classes_)
    k = labels.size
    members = list(est.estimators_)
    weights = (np.ones(len(members)) if est._weights_not_none is None
               else np.asarray(est._weights_not_none, dtype=np.float64))
    if est.voting == "hard":
        head = ir.Classification(labels=labels, link="none", has_proba=False)
        return Converted(hard_votes(est, members, weights, k), head)
    parts = tuple(member_probabilities(est, m, k) for m in members)
    divisor = float(len(members)) if est._weights_not_none is None else numpy_average_divisor(weights)
    average = ir.Average(weights=weights, divisor=divisor, width=k)
    return Converted(ir.Pipeline(steps=(ir.Concat(parts=parts), average)),
                     ir.Classification(labels=labels, link="identity", has_proba=True))
