"""sklearn meta-classifiers → IR combinators over their members' outputs: each member is a `ClassifierOutput` (its
scores and its own head's rule: predict_proba, or the predicted label one-hot), the members side by side (`Concat`),
then the combination — `Average` of probabilities (soft voting), a `LinearModel` counting weighted votes (hard
voting), calibrators (CalibratedClassifierCV).

Every member goes back through the table (`convert`), so any supported classifier — a Pipeline too — may be a
member, as long as its head gives what the combination reads (probabilities need `has_proba`)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np

from export import ir
from export.from_sklearn.estimator_checks import class_labels, estimator_name, refuse
from export.frontends import Converted, convert
from parity.sub_estimators import final_step

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


def decision_scores(owner: Any, base: Any, n_classes: int) -> ir.Node:
    """The base's decision_function as a body node: its raw scores (binary: one column, > 0 for classes_[1]).
    libsvm classifiers score pair (0, 1) positive for class 0, so scikit-learn negates: -f (exact)."""
    node, head = member_classifier(owner, base)
    width = ir.output_width(node)
    if head.link == "ovo_votes":
        values = _decision_values_only(node)
        if n_classes == 2:
            negate = ir.LinearModel(coef=-np.ones((1, 1)), intercept=np.zeros(1))
            return ir.Pipeline(steps=(values, negate))
        if getattr(final_step(base), "decision_function_shape", "ovr") != "ovr":
            raise refuse(owner, f"base {estimator_name(base)}: decision_function_shape='ovo' is not supported; "
                                "supported: 'ovr'")
        return ir.Pipeline(steps=(values, _libsvm_ovr_inputs(n_classes), ir.OneVsOneDecision(n_classes)))
    expected = 1 if n_classes == 2 else n_classes
    if head.link not in ("logistic", "ovr_logistic", "softmax", "none") or width != expected:
        raise refuse(owner, f"base {estimator_name(base)}: its exported scores ({width} columns, link "
                            f"{head.link!r}) are not its decision_function for {n_classes} classes")
    return node


def _cut_stump(cut: float) -> ir.TreeEnsemble:
    """One score column -> its binary label one-hot: [s <= cut, s > cut] (labels[1] only strictly above the cut,
    scikit-learn's rule; NaN -> labels[0]). A double comparison: exact in both formats, and no writer's own binary
    tie rule is involved (Core ML's tree classifier picks labels[1] at p == 0.5)."""
    return ir.TreeEnsemble(
        n_features=1, tree_id=np.zeros(3, dtype=np.int64), node_id=np.arange(3), feature=np.array([0, -1, -1]),
        threshold=np.array([cut, 0.0, 0.0]), mode=np.full(3, int(ir.BranchMode.LEQ)), true_child=np.array([1, -1, -1]),
        false_child=np.array([2, -1, -1]), missing_tracks_true=np.array([True, False, False]),
        leaf_value=np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), leaf_target=np.full(3, -1), base=np.zeros(2),
        compares_float32=False)


def member_votes(node: ir.Node, head: ir.Classification) -> ir.Node:
    """The member's predicted label one-hot (K columns, its labels order). A binary member with one score column
    and a cut rule (identity: p > 0.5; logistic/none/ovr_logistic: z > 0) is a stump on that score; any other is
    its head's own label rule (`ClassifierOutput` votes: first maximum)."""
    if ir.output_width(node) == 1 and head.label_from == "scores" and head.link in (
            "identity", "logistic", "none", "ovr_logistic"):
        return ir.Pipeline(steps=(node, _cut_stump(0.5 if head.link == "identity" else 0.0)))
    return ir.ClassifierOutput(member=node, rule=head, output="votes")


def _libsvm_ovr_inputs(n_classes: int) -> ir.Concat:
    """BaseSVC.decision_function with shape 'ovr': `_ovr_decision_function(dec < 0, -dec, K)` — the pairwise
    predictions dec < 0 (one LT stump per pair, NaN -> 0 as numpy's comparison) and the confidences -dec (exact)."""
    n_pairs = n_classes * (n_classes - 1) // 2
    pairs = np.arange(n_pairs)
    nodes = np.arange(3 * n_pairs)
    leaf_value = np.zeros((3 * n_pairs, n_pairs))
    leaf_value[3 * pairs + 1, pairs] = 1.0  # the true child: dec < 0
    is_root = nodes % 3 == 0
    below_zero = ir.TreeEnsemble(
        n_features=n_pairs, tree_id=nodes // 3, node_id=nodes % 3, feature=np.where(is_root, nodes // 3, -1),
        threshold=np.zeros(3 * n_pairs), mode=np.full(3 * n_pairs, int(ir.BranchMode.LT)),
        true_child=np.where(is_root, 1, -1), false_child=np.where(is_root, 2, -1),
        missing_tracks_true=np.zeros(3 * n_pairs, dtype=bool), leaf_value=leaf_value,
        leaf_target=np.full(3 * n_pairs, -1), base=np.zeros(n_pairs), compares_float32=False)
    negate = ir.LinearModel(coef=-np.eye(n_pairs), intercept=np.zeros(n_pairs))
    return ir.Concat(parts=(below_zero, negate))


def _decision_values_only(node: ir.Node) -> ir.Node:
    """The libsvm classifier (a Pipeline's last step) without its Platt parameters: scores = decision values only."""
    if isinstance(node, ir.Pipeline):
        return ir.Pipeline(steps=(*node.steps[:-1], _decision_values_only(node.final)))
    assert isinstance(node, ir.SupportVectorMachine)
    return replace(node, prob_a=np.zeros(0), prob_b=np.zeros(0))


def _vote_unit(weights: np.ndarray, n_classes: int) -> float | None:
    """The tie-break unit u = 2^-m / L when every weighted vote sum is exact in float32 in any order: every weight is
    an integer over L (floats are dyadic), 2^m >= 2K so the offsets k·u (k < K) stay below half a vote unit 1/L, and
    every sum, offset included, is an integer multiple of u below 2^24·u. None for other weights (0.1, 0.2, ...)."""
    fractions = [Fraction(float(w)) for w in weights]
    scale = max(f.denominator for f in fractions)
    split = 1 << max(1, (2 * n_classes - 1).bit_length())
    total = sum(abs(f) * scale for f in fractions) * split
    return 1.0 / (scale * split) if total < _EXACT_VOTE_BUDGET else None


def hard_votes(owner: Any, members: list[Any], weights: np.ndarray, n_classes: int) -> ir.Pipeline:
    """argmax(np.bincount(member labels, weights)), ties to the lowest class index, from each member's label
    one-hot. Weights whose sums are exact in any order (`_vote_unit`): a LinearModel of the weighted counts minus
    k·u for class k — the offsets only split ties, towards the lowest index, so no writer's tie rule is involved
    (binary: one column, (class 1 votes - u) - class 0 votes > 0). Other weights: the counts must round as
    np.bincount's in-order `+=` does — an `Average` with divisor 1 (blocks times weights, added in member order; the
    non-voting blocks add exact zeros), then the first maximum."""
    votes = tuple(member_votes(*member_classifier(owner, m, n_classes)) for m in members)
    unit = _vote_unit(weights, n_classes)
    if unit is None:
        return ir.Pipeline(steps=(ir.Concat(parts=votes), ir.Average(weights=weights, divisor=1.0, width=n_classes)))
    m, k = len(members), n_classes
    coef = np.zeros((k, m * k))
    for i, weight in enumerate(weights.tolist()):
        coef[np.arange(k), i * k + np.arange(k)] = weight
    offset = -np.arange(k, dtype=np.float64) * unit
    if k == 2:
        coef, offset = coef[1:] - coef[:1], offset[1:] - offset[:1]
    return ir.Pipeline(steps=(ir.Concat(parts=votes), ir.LinearModel(coef=coef, intercept=offset)))


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


def _member_label(owner: Any, member: Any, n_classes: int) -> ir.Pipeline:
    """The member's predict as one double column: its encoded class index k (members are fitted on 0..K-1), the
    label one-hot times 0, 1, ..., K-1 (exact)."""
    votes = member_votes(*member_classifier(owner, member, n_classes))
    index = ir.LinearModel(coef=np.arange(n_classes, dtype=np.float64)[np.newaxis, :], intercept=np.zeros(1))
    return ir.Pipeline(steps=(votes, index))


def _stacked_prediction(owner: Any, member: Any, method: str, n_classes: int) -> ir.Node:
    """One member's block of StackingClassifier.transform (`_concatenate_predictions`): predict_proba (binary: the
    first column dropped), decision_function (binary: one column), or predict (the encoded label)."""
    if method == "predict_proba":
        probabilities = member_probabilities(owner, member, n_classes)
        if n_classes == 2:
            return ir.Pipeline(steps=(probabilities, ir.ColumnSelect(indices=np.array([1]), n_features=2)))
        return probabilities
    if method == "decision_function":
        return decision_scores(owner, member, n_classes)
    if method == "predict":
        return _member_label(owner, member, n_classes)
    raise refuse(owner, f"stack_method {method!r} is not supported; supported: predict_proba, decision_function, "
                        "predict")


def _encoded_head(owner: Any, head: ir.Head, labels: np.ndarray) -> ir.Classification:
    """A final estimator fitted on the encoded labels 0..K-1, its head relabelled with the owner's classes_
    (`_label_encoder.inverse_transform`)."""
    if not (isinstance(head, ir.Classification) and head.labels.dtype != object
            and np.array_equal(head.labels, np.arange(labels.size))):
        raise refuse(owner, "final_estimator_ is not a classifier of the encoded classes; supported: any supported "
                            "single-output classifier")
    return replace(head, labels=labels)


def stacking_classifier_to_ir(est: Any) -> Converted:
    """StackingClassifier: predict_proba = final_estimator_.predict_proba(transform(X)), predict =
    classes_[final_estimator_.predict(...)]; transform = each member's `stack_method_` output side by side
    (`_concatenate_predictions`), then X itself when passthrough=True. Members and the final estimator are fitted
    on label-encoded y."""
    labels = class_labels(est, est.classes_)
    k = labels.size
    methods = [m for m in est.stack_method_ if m is not None]  # 'drop' members have no method and no estimator
    parts = [_stacked_prediction(est, member, method, k) for member, method in zip(est.estimators_, methods,
                                                                                    strict=True)]
    if est.passthrough:
        n_features = int(est.n_features_in_)
        parts.append(ir.ColumnSelect(indices=np.arange(n_features), n_features=n_features))
    final = convert(est.final_estimator_)
    return Converted(ir.Pipeline(steps=(ir.Concat(parts=tuple(parts)), final.node)),
                     _encoded_head(est, final.head, labels))


def _bagged_member(owner: Any, member: Any, features: np.ndarray, n_features: int, n_classes: int) -> ir.Node:
    """One member's contribution to `_parallel_predict_proba`: predict_proba (or, without one, its predicted label
    one-hot: "resort to voting"), on its feature subset, scattered to the owner's class columns when the member's
    bootstrap sample missed a class (`proba[:, estimator.classes_] += ...`; the scatter adds exact zeros)."""
    select = ir.ColumnSelect(indices=np.asarray(features, dtype=np.int64), n_features=n_features)
    node, head = member_classifier(owner, member)
    classes = np.asarray(member.classes_)
    output: ir.ClassifierOutputKind = "probabilities" if hasattr(member, "predict_proba") else "votes"
    if output == "probabilities" and not head.has_proba:
        raise refuse(owner, f"member {estimator_name(member)} has predict_proba but no exported probabilities")
    steps: list[ir.Node] = [select, ir.ClassifierOutput(member=node, rule=head, output=output)
                            if output == "probabilities" else member_votes(node, head)]
    if classes.size != n_classes:
        scatter = np.zeros((n_classes, classes.size))
        scatter[classes.astype(np.int64), np.arange(classes.size)] = 1.0
        steps.append(ir.Linear(weights=scatter, bias=np.zeros(n_classes)))
    return ir.Pipeline(steps=tuple(steps))


def bagging_classifier_to_ir(est: Any) -> Converted:
    """BaggingClassifier.predict_proba = (Σ over members of predict_proba(X[:, estimators_features_[i]]), in member
    order from zeros) / n_estimators; predict = classes_[argmax]. Members are fitted on class indices 0..K-1. With
    n_jobs > 1 scikit-learn sums per job first (other partial sums: a few ulp)."""
    labels = class_labels(est, est.classes_)
    k = labels.size
    n_features = int(est.n_features_in_)
    parts = tuple(_bagged_member(est, m, f, n_features, k) for m, f in zip(est.estimators_, est.estimators_features_,
                                                                          strict=True))
    average = ir.Average(weights=np.ones(len(parts)), divisor=float(est.n_estimators), width=k)
    return Converted(ir.Pipeline(steps=(ir.Concat(parts=parts), average)),
                     ir.Classification(labels=labels, link="identity", has_proba=True))


def _pair_confidence(owner: Any, member: Any) -> ir.Node:
    """`_predict_binary`: the pair member's decision_function, else its predict_proba of class 1."""
    if hasattr(member, "decision_function"):
        return decision_scores(owner, member, 2)
    return ir.Pipeline(steps=(member_probabilities(owner, member, 2), ir.ColumnSelect(indices=np.array([1]),
                                                                                         n_features=2)))


def one_vs_one_to_ir(est: Any) -> Converted:
    """OneVsOneClassifier: decision_function = `_ovr_decision_function(predictions, confidences, K)` over the
    pairwise members (fitted on 0 = class i, 1 = class j); predict = classes_[argmax] (ties: lowest index), binary
    classes_[Y[:, 1] > threshold] (0 for members with decision_function, else 0.5). No predict_proba."""
    if est.pairwise_indices_ is not None:
        raise refuse(est, "a precomputed-kernel (pairwise) estimator is not supported")
    labels = class_labels(est, est.classes_)
    k = labels.size
    members = list(est.estimators_)
    for member in members:
        if type(member).__name__ == "_ConstantPredictor":
            raise refuse(est, "a pair whose training rows had one class (_ConstantPredictor) is not supported")
    parts = [_member_label(est, m, 2) for m in members] + [_pair_confidence(est, m) for m in members]
    steps: list[ir.Node] = [ir.Concat(parts=tuple(parts)), ir.OneVsOneDecision(n_classes=k)]
    if k == 2:  # Y[:, 1] - threshold > 0 iff Y[:, 1] > threshold (the rounded difference keeps the sign)
        threshold = 0.0 if hasattr(members[0], "decision_function") else 0.5
        steps.append(ir.LinearModel(coef=np.array([[0.0, 1.0]]), intercept=np.array([-threshold])))
    return Converted(ir.Pipeline(steps=tuple(steps)), ir.Classification(labels=labels, link="none", has_proba=False))
