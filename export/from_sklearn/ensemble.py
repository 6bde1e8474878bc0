"""sklearn meta-regressors whose prediction combines member regressors linearly → IR combinators: the members'
scores side by side (`Concat`), then one `LinearModel` (the average, the stacking final estimator, the identity).

Every member goes back through the table (`convert`), so any supported regressor — a Pipeline too — may be a member.
A member must predict one value with the identity link: its raw score is then its prediction (a Concat carries
scores, not heads)."""

from __future__ import annotations

from typing import Any

import numpy as np

from export import ir
from export.from_sklearn.estimator_checks import estimator_name, refuse
from export.frontends import Converted, convert


def _member_scores(owner: Any, member: Any) -> ir.Node:
    converted = convert(member)
    head = converted.head
    if not (isinstance(head, ir.Regression) and head.n_targets == 1 and head.link == "identity"):
        raise refuse(owner, f"member {estimator_name(member)} is not a single-target regressor with an identity "
                            "link; supported members: single-target regressors whose prediction is their score "
                            "(linear models, trees, forests, boosting, SVR, MLP, pipelines ending in one)")
    return converted.node


def _combine(parts: list[ir.Node], weights: np.ndarray) -> ir.Pipeline:
    """Scores side by side, then `scores @ weights` (one output)."""
    combine = ir.LinearModel(coef=np.asarray(weights, dtype=np.float64)[np.newaxis, :], intercept=np.zeros(1))
    return ir.Pipeline(steps=(ir.Concat(parts=tuple(parts)), combine))


def voting_regressor_to_ir(est: Any) -> Converted:
    """VotingRegressor.predict = np.average(member predictions, axis=1, weights=_weights_not_none) — a weighted
    mean; members set to 'drop' are not in `estimators_`. The weights are folded into w / sum(w) (a few ulp from
    numpy's sum-then-divide)."""
    members = list(est.estimators_)
    weights = np.ones(len(members)) if est.weights is None else np.asarray(est._weights_not_none, dtype=np.float64)
    parts = [_member_scores(est, m) for m in members]
    return Converted(_combine(parts, weights / weights.sum()), ir.Regression())


def bagging_regressor_to_ir(est: Any) -> Converted:
    """BaggingRegressor.predict = sum of `estimators_[i].predict(X[:, estimators_features_[i]])` / n_estimators
    (sklearn/ensemble/_bagging.py `_parallel_predict_regression`); a feature subset is a ColumnSelect before the
    member (repeated features with bootstrap_features=True included)."""
    n_features = int(est.n_features_in_)
    parts: list[ir.Node] = []
    for member, features in zip(est.estimators_, est.estimators_features_, strict=True):
        select = ir.ColumnSelect(indices=np.asarray(features, dtype=np.int64), n_features=n_features)
        parts.append(ir.Pipeline(steps=(select, _member_scores(est, member))))
    return Converted(_combine(parts, np.full(len(parts), 1.0 / len(parts))), ir.Regression())


def stacking_regressor_to_ir(est: Any) -> Converted:
    """StackingRegressor.predict = final_estimator_.predict(transform(X)); transform = the members' `predict`
    outputs in `estimators_` order ('drop' members are absent), then X itself when passthrough=True."""
    n_features = int(est.n_features_in_)
    parts = [_member_scores(est, m) for m in est.estimators_]
    if est.passthrough:
        parts.append(ir.ColumnSelect(indices=np.arange(n_features), n_features=n_features))
    final = convert(est.final_estimator_)
    return Converted(ir.Pipeline(steps=(ir.Concat(parts=tuple(parts)), final.node)), final.head)


def multi_output_regressor_to_ir(est: Any) -> Converted:
    """MultiOutputRegressor.predict = column_stack of each `estimators_[j].predict(X)`: the members' scores side by
    side, then the identity (x * 1 + 0, exact) so the body ends in a score producer with n_targets outputs."""
    parts = [_member_scores(est, m) for m in est.estimators_]
    n = len(parts)
    identity = ir.LinearModel(coef=np.eye(n), intercept=np.zeros(n))
    return Converted(ir.Pipeline(steps=(ir.Concat(parts=tuple(parts)), identity)), ir.Regression(n_targets=n))


def ransac_regressor_to_ir(est: Any) -> Converted:
    """RANSACRegressor.predict = estimator_.predict(X) (the model refitted on the inliers)."""
    return convert(est.estimator_)


# A chain member reads X and every earlier member's prediction; the IR recomputes each earlier prediction inside
# the later members' inputs (a Concat reads one vector), so n members cost 2^n - 1 member evaluations.
_MAX_CHAIN_LENGTH = 5


def regressor_chain_to_ir(est: Any) -> Converted:
    """RegressorChain.predict (`_BaseChain._get_predictions`): member i predicts from hstack(X, predictions of
    members 0..i-1); the outputs are put back in target order (`inv_order`). Each member's input is a Concat of X
    and the earlier members' nodes; a permutation LinearModel (exact) puts the targets in order."""
    members = list(est.estimators_)
    if len(members) > _MAX_CHAIN_LENGTH:
        raise refuse(est, f"a chain of {len(members)} regressors is not supported (each member recomputes the "
                          f"earlier ones: 2^n - 1 evaluations); supported: up to {_MAX_CHAIN_LENGTH}")
    n_features = int(est.n_features_in_)
    chain: list[ir.Node] = []
    for index, member in enumerate(members):
        scores = _member_scores(est, member)
        if index == 0:
            chain.append(scores)
            continue
        inputs = ir.Concat(parts=(ir.ColumnSelect(indices=np.arange(n_features), n_features=n_features),
                                  *chain))
        chain.append(ir.Pipeline(steps=(inputs, scores)))
    order = np.asarray(est.order_, dtype=np.int64)
    permutation = np.zeros((len(members), len(members)))
    permutation[order, np.arange(len(members))] = 1.0  # target order_[i] is chain output i
    return Converted(ir.Pipeline(steps=(ir.Concat(parts=tuple(chain)),
                                        ir.LinearModel(coef=permutation, intercept=np.zeros(len(members))))),
                     ir.Regression(n_targets=len(members)))
