"""sklearn linear models → IR `LinearModel` (GLMs, linear SVMs, ridge/perceptron/SGD classifiers, one-vs-rest) or
`NeuralNetwork` (multinomial logistic regression: one dense layer + softmax)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression, Perceptron, RidgeClassifier, SGDClassifier
from sklearn.svm import LinearSVC

from export import ir
from export.from_sklearn.estimator_checks import classification, dense, estimator_name, refuse, refuse_multilabel
from export.frontends import Converted


def _coef_rows(est: Any) -> tuple[np.ndarray, np.ndarray]:
    """`coef_` as (n_scores, n_features) and `intercept_` as (n_scores,): sklearn stores 1-D coef_ for a single
    target and a scalar intercept_ (0.0) when fit_intercept=False."""
    coef = dense(est.coef_)
    if coef.ndim == 1:
        coef = coef[np.newaxis, :]
    intercept = np.atleast_1d(np.asarray(est.intercept_, dtype=np.float64)).ravel()
    if intercept.size == 1 and coef.shape[0] > 1:
        intercept = np.full(coef.shape[0], intercept[0])
    return coef, intercept


def linear_regressor_to_ir(est: Any) -> Converted:
    """LinearRegression, Ridge, Lasso, ElasticNet, SGDRegressor, LinearSVR: predict = X @ coef_.T + intercept_."""
    coef, intercept = _coef_rows(est)
    return Converted(ir.LinearModel(coef=coef, intercept=intercept), ir.Regression(n_targets=coef.shape[0]))


def _classifier_link(est: Any) -> tuple[ir.Link, bool]:
    """The link that reproduces `predict_proba`, or 'none' where sklearn has none (or one the IR cannot express)."""
    binary = len(est.classes_) == 2
    if type(est) is SGDClassifier and est.loss == "log_loss":
        # SGDClassifier.predict_proba = LinearClassifierMixin._predict_proba_lr: expit, OvR-normalised if K > 2.
        return ("logistic" if binary else "ovr_logistic"), True
    # SGDClassifier(loss='modified_huber') has predict_proba = (clip(z, -1, 1) + 1) / 2 (normalised for K > 2):
    # no IR link expresses it, so it is exported as labels only (documented in SUPPORTED notes).
    return "none", False


def linear_classifier_to_ir(est: Any) -> Converted:
    """RidgeClassifier, LinearSVC, Perceptron, SGDClassifier: scores = decision_function; binary → one column,
    label = classes_[1] iff z > 0; K > 2 → K columns, label = argmax (LinearClassifierMixin.predict)."""
    refuse_multilabel(est)
    coef, intercept = _coef_rows(est)
    link, has_proba = _classifier_link(est)
    return Converted(ir.LinearModel(coef=coef, intercept=intercept), classification(est, link, has_proba))


def logistic_regression_to_ir(est: Any) -> Converted:
    """LogisticRegression. sklearn 1.9 predict_proba: binary → expit(z) (one coef_ row); K > 2 → softmax of the K
    decision values (multinomial; multi_class was removed, one-vs-rest is OneVsRestClassifier)."""
    coef, intercept = _coef_rows(est)
    if len(est.classes_) == 2:
        return Converted(ir.LinearModel(coef=coef, intercept=intercept), classification(est, "logistic", True))
    layer = ir.DenseLayer(weights=coef, bias=intercept, activation="identity")
    return Converted(ir.NeuralNetwork(layers=(layer,)), classification(est, "softmax", True))


_OVR_MEMBER_TYPES = (LogisticRegression, SGDClassifier, LinearSVC, Perceptron, RidgeClassifier)


def _ovr_member_is_logistic(est: Any, member: Any) -> bool:
    """Whether one fitted binary member of OneVsRestClassifier has predict_proba = expit(z); refuse other members
    (exact types only: a class that was constant in training gives a _ConstantPredictor, refused too)."""
    if type(member) not in _OVR_MEMBER_TYPES:
        raise refuse(est, f"estimators_ member {estimator_name(member)} is not supported; supported: "
                          + ", ".join(t.__name__ for t in _OVR_MEMBER_TYPES))
    return type(member) is LogisticRegression or (type(member) is SGDClassifier and member.loss == "log_loss")


def one_vs_rest_to_ir(est: Any) -> Converted:
    """OneVsRestClassifier over binary linear classifiers: one coef row per class. predict = argmax of the members'
    decision_function (binary: z > 0); predict_proba = members' expit(z), normalised by their sum (ovr_logistic)."""
    if est.multilabel_:
        raise refuse(est, "multilabel targets are not supported; supported: binary and multiclass targets")
    members = list(est.estimators_)
    logistic_flags = [_ovr_member_is_logistic(est, m) for m in members]
    if len(set(logistic_flags)) != 1:
        raise refuse(est, "members mix probabilistic and non-probabilistic estimators")
    for member in members:
        if len(member.classes_) != 2 or dense(member.coef_).reshape(-1, est.n_features_in_).shape[0] != 1:
            raise refuse(est, f"member {estimator_name(member)} is not a binary linear classifier")
    coef = np.vstack([dense(m.coef_).reshape(1, -1) for m in members])
    intercept = np.array([float(np.ravel(m.intercept_)[0]) for m in members])
    has_proba = logistic_flags[0]
    if len(members) == 1:
        link: ir.Link = "logistic" if has_proba else "none"
    else:
        link = "ovr_logistic" if has_proba else "none"
    # OneVsRestClassifier.predict_proba divides by the row sum only `where=row_sums != 0`: all-zero rows stay zero.
    head = classification(est, link, has_proba, all_zero="zeros")
    return Converted(ir.LinearModel(coef=coef, intercept=intercept), head)


def glm_to_ir(est: Any) -> Converted:
    """PoissonRegressor, GammaRegressor, TweedieRegressor (sklearn/linear_model/_glm): predict =
    `_base_loss.link.inverse(X @ coef_ + intercept_)`; the link is IdentityLink or LogLink (Tweedie link='auto'
    picks identity for power <= 0, log otherwise), i.e. the head's identity or exp link."""
    link_name = type(est._base_loss.link).__name__
    links: dict[str, ir.RegressionLink] = {"IdentityLink": "identity", "LogLink": "exp"}
    if link_name not in links:
        raise refuse(est, f"link {link_name} is not supported; supported: IdentityLink, LogLink")
    coef, intercept = _coef_rows(est)
    return Converted(ir.LinearModel(coef=coef, intercept=intercept), ir.Regression(link=links[link_name]))


def lda_transform_to_ir(est: Any) -> Converted:
    """LinearDiscriminantAnalysis.transform: svd solver `(X - xbar_) @ scalings_`, eigen `X @ scalings_`, then the
    first `_max_components` columns (lsqr has no transform) — a centring Scaler (the same subtraction) and a Linear;
    only the dot products' summation order differs (a few ulp)."""
    if est.solver == "lsqr":
        raise refuse(est, "solver='lsqr' has no transform (scikit-learn raises); supported as a transformer: 'svd', "
                          "'eigen'")
    weights = dense(est.scalings_)[:, : est._max_components].T
    linear = ir.Linear(weights=weights, bias=np.zeros(weights.shape[0]))
    if est.solver == "eigen":
        return Converted(linear, ir.Transformed())
    centre = ir.Scaler(offset=dense(est.xbar_), scale=np.ones(weights.shape[1]), divide=True)
    return Converted(ir.Pipeline(steps=(centre, linear)), ir.Transformed())
