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
