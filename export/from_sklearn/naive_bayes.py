"""sklearn GaussianNB → IR `GaussianNaiveBayes`; MultinomialNB / ComplementNB → IR `LinearModel` (joint
log-likelihoods, linear in the counts); each under a softmax head."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.naive_bayes import MultinomialNB

from export import ir
from export.from_sklearn.estimator_checks import classification, dense
from export.frontends import Converted


def gaussian_nb_to_ir(est: Any) -> Converted:
    """`_joint_log_likelihood` per class i: log(class_prior_[i]) + (-0.5 * sum(log(2 pi var_[i])) - 0.5 *
    sum((x - theta_[i]) ** 2 / var_[i])); predict = classes_[argmax(jll)], predict_proba = exp(jll - logsumexp(jll))
    — the softmax of the jll, first maximum wins. The per-class constant is computed here exactly as scikit-learn
    computes it (`-0.5 * np.sum(np.log(2.0 * np.pi * var))`), so writers only add it."""
    var = dense(est.var_)
    log_normaliser = np.array([-0.5 * np.sum(np.log(2.0 * np.pi * row)) for row in var])
    node = ir.GaussianNaiveBayes(theta=dense(est.theta_), var=var, log_prior=np.log(dense(est.class_prior_)),
                                 log_normaliser=log_normaliser)
    return Converted(node, classification(est, "softmax", has_proba=True))


def count_nb_to_ir(est: Any) -> Converted:
    """MultinomialNB / ComplementNB (`_joint_log_likelihood`): MultinomialNB jll = X @ feature_log_prob_.T +
    class_log_prior_; ComplementNB jll = X @ feature_log_prob_.T (class_log_prior_ is added only with a single
    class, which the head's two-label minimum refuses anyway). predict = classes_[argmax(jll)], predict_proba =
    exp(jll - logsumexp(jll)): the softmax of the jll — a linear model under a softmax head."""
    coef = dense(est.feature_log_prob_)
    intercept = dense(est.class_log_prior_) if isinstance(est, MultinomialNB) else np.zeros(coef.shape[0])
    return Converted(ir.LinearModel(coef=coef, intercept=intercept), classification(est, "softmax", has_proba=True))


def _interval_trees(n_features: int, cuts: list[np.ndarray], values: list[np.ndarray], mode: ir.BranchMode,
                    base: np.ndarray) -> ir.TreeEnsemble:
    """One tree per feature j: x_j falls into interval i of the sorted `cuts[j]` (i = number of cuts c with
    x_j >= c for mode LT, x_j > c for mode LEQ) and the tree adds row `values[j][i]` (all K outputs). The trees
    are balanced (depth log2 of the interval count) and compare doubles, as scikit-learn does here."""
    tree_id, node_id, feature, threshold, true_child, false_child, leaf_value = [], [], [], [], [], [], []
    k = base.size
    for j in range(n_features):
        nodes: list[tuple[int, float, int, int, np.ndarray]] = []

        def build(lo: int, hi: int, j: int = j, nodes: list[tuple[int, float, int, int, np.ndarray]] = nodes) -> int:
            """Intervals lo..hi-1 of feature j; returns the node id. Interval i lies between cuts i-1 and i."""
            index = len(nodes)
            nodes.append((-1, 0.0, -1, -1, np.zeros(k)))
            if hi - lo == 1:
                nodes[index] = (-1, 0.0, -1, -1, values[j][lo])
                return index
            mid = (lo + hi) // 2
            left = build(lo, mid)
            right = build(mid, hi)
            nodes[index] = (j, float(cuts[j][mid - 1]), left, right, np.zeros(k))
            return index

        build(0, len(cuts[j]) + 1)
        for n, (f, t, left, right, value) in enumerate(nodes):
            tree_id.append(j)
            node_id.append(n)
            feature.append(f)
            threshold.append(t)
            true_child.append(left)
            false_child.append(right)
            leaf_value.append(value)
    size = len(tree_id)
    return ir.TreeEnsemble(
        n_features=n_features, tree_id=np.array(tree_id), node_id=np.array(node_id), feature=np.array(feature),
        threshold=np.array(threshold), mode=np.full(size, int(mode)), true_child=np.array(true_child),
        false_child=np.array(false_child), missing_tracks_true=np.zeros(size, dtype=bool),
        leaf_value=np.array(leaf_value), leaf_target=np.full(size, -1), base=base, compares_float32=False)


def bernoulli_nb_to_ir(est: Any) -> Converted:
    """BernoulliNB (`_joint_log_likelihood`): with neg_prob = log(1 - exp(feature_log_prob_)), jll = X_b @
    (feature_log_prob_ - neg_prob).T + class_log_prior_ + neg_prob.sum(axis=1), where X_b = binarize(X,
    threshold=binarize) (1 where x > binarize, else 0). The binarised dot product is a sum of the per-feature rows
    (flp - neg_prob)[:, j] where x_j > binarize: one stump per feature (x_j <= binarize adds zeros), compared in
    double like numpy's `X > threshold`. binarize=None uses X as it is: a linear model, as MultinomialNB.
    Head: softmax (predict_proba = exp(jll - logsumexp(jll)), label = first maximum)."""
    flp = dense(est.feature_log_prob_)
    neg_prob = np.log(1 - np.exp(flp))  # scikit-learn's own expression, so the constants round as its do
    coef = flp - neg_prob
    intercept = dense(est.class_log_prior_) + neg_prob.sum(axis=1)
    head = classification(est, "softmax", has_proba=True)
    if est.binarize is None:
        return Converted(ir.LinearModel(coef=coef, intercept=intercept), head)
    n = coef.shape[1]
    threshold = float(est.binarize)
    node = _interval_trees(n, [np.array([threshold])] * n, [np.vstack([np.zeros(coef.shape[0]), coef[:, j]])
                                                             for j in range(n)], ir.BranchMode.LEQ, intercept)
    return Converted(node, head)


def categorical_nb_to_ir(est: Any) -> Converted:
    """CategoricalNB (`_joint_log_likelihood`): jll = class_log_prior_ + sum_j feature_log_prob_[j][:, c_j], where
    c_j = int(x_j) — `validate_data(dtype="int")` truncates toward zero, so category c >= 1 is c <= x_j < c + 1 and
    category 0 is -1 < x_j < 1. One tree per feature adds row c_j (splits x_j < 1, 2, ..., n_categories_[j] - 1).
    scikit-learn refuses the rest (x_j <= -1: negative; c_j >= n_categories_[j]: IndexError; NaN): there the
    artifacts give category 0's row (below) or the last category's (above), as the table notes."""
    tables = [dense(t) for t in est.feature_log_prob_]  # (K, n_categories_[j]) each
    n = len(tables)
    node = _interval_trees(n, [np.arange(1, t.shape[1], dtype=np.float64) for t in tables],
                           [t.T for t in tables], ir.BranchMode.LT, dense(est.class_log_prior_))
    return Converted(node, classification(est, "softmax", has_proba=True))
