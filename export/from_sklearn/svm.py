"""sklearn libsvm models (SVC, NuSVC, SVR, NuSVR) → IR `SupportVectorMachine` in libsvm's own convention."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from export import ir
from export.from_sklearn.estimator_checks import classification, dense, require_param
from export.frontends import Converted

_KERNELS = ("linear", "rbf", "poly", "sigmoid")


def _kernel_fields(est: Any) -> dict[str, Any]:
    """Kernel parameters as libsvm used them: `_gamma` is the resolved value of gamma='scale'/'auto'."""
    require_param(est, "kernel", _KERNELS)  # 'precomputed' and callables have no IR encoding
    return {
        "kernel": est.kernel,
        "gamma": float(est._gamma),
        "coef0": float(est.coef0),
        "degree": int(est.degree),
        "support_vectors": dense(est.support_vectors_),
    }


def svc_to_ir(est: Any) -> Converted:
    """SVC, NuSVC. sklearn keeps libsvm's arrays in `_dual_coef_` / `_intercept_` (= -rho); the public
    `dual_coef_` / `intercept_` are negated for binary models, so they are not used. predict is libsvm's
    one-vs-one vote; predict_proba (probability=True) is libsvm's pairwise coupling with `probA_` / `probB_`."""
    n_classes = len(est.classes_)
    # break_ties (K > 2, shape 'ovr'; scikit-learn refuses it with 'ovo') makes predict the argmax of the
    # OvR-transformed decision function instead of libsvm's vote: the head's break_ties rule.
    break_ties = bool(n_classes > 2 and est.break_ties and est.decision_function_shape == "ovr")
    # Platt parameters live in `_probA` / `_probB` (the public probA_ / probB_ are deprecated in 1.9). They are
    # exported only when sklearn's own predict_proba is available (probability=True at fit and still set).
    has_proba = hasattr(est, "predict_proba") and np.asarray(est._probA).size > 0
    prob_a = np.asarray(est._probA, dtype=np.float64).ravel() if has_proba else np.zeros(0)
    prob_b = np.asarray(est._probB, dtype=np.float64).ravel() if has_proba else np.zeros(0)
    return Converted(ir.SupportVectorMachine(
        **_kernel_fields(est),
        dual_coef=dense(est._dual_coef_),
        rho=-np.asarray(est._intercept_, dtype=np.float64),
        n_support=np.asarray(est.n_support_, dtype=np.int64),
        prob_a=prob_a,
        prob_b=prob_b,
    ), dataclasses.replace(classification(est, "ovo_votes", has_proba=has_proba), break_ties=break_ties))


def svr_to_ir(est: Any) -> Converted:
    """SVR, NuSVR: y = sum_i alpha_i K(sv_i, x) - rho, alpha = `_dual_coef_[0]`, rho = -`_intercept_[0]`."""
    empty = np.zeros(0)
    return Converted(ir.SupportVectorMachine(
        **_kernel_fields(est),
        dual_coef=dense(est._dual_coef_).reshape(1, -1),
        rho=-np.asarray(est._intercept_, dtype=np.float64).ravel(),
        n_support=np.zeros(0, dtype=np.int64),
        prob_a=empty,
        prob_b=empty,
    ), ir.Regression(n_targets=1))


def one_class_svm_to_ir(est: Any) -> Converted:
    """OneClassSVM: decision_function = libsvm's decision value sum_i alpha_i K(sv_i, x) - rho — SVR's form — and
    predict = libsvm's `dec > 0 ? 1 : -1`: strict, so the Anomaly threshold is the smallest positive double
    (s >= 5e-324 is s > 0 for every double s)."""
    return Converted(svr_to_ir(est).node, ir.Anomaly(threshold=float(np.nextafter(0.0, 1.0))))
