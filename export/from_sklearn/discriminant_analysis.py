"""sklearn QuadraticDiscriminantAnalysis → IR `QuadraticDiscriminant` under a softmax head."""

from __future__ import annotations

from typing import Any

import numpy as np

from export import ir
from export.from_sklearn.estimator_checks import classification, dense, refuse
from export.frontends import Converted


def quadratic_discriminant_to_ir(est: Any) -> Converted:
    """`_decision_function`: per class i, X2 = (X - means_[i]) @ (rotations_[i] * scalings_[i] ** -0.5) and
    norm2_i = sum(X2 ** 2); scores = -0.5 * (norm2 + u) + log(priors_) with u_i = sum(log(scalings_[i])).
    predict = classes_[argmax(scores)], predict_proba = exp(scores - logsumexp(scores)) — the softmax of the
    scores. The transforms and constants are computed here with scikit-learn's own expressions."""
    transforms = tuple(dense(r) * (dense(s) ** (-0.5)) for r, s in zip(est.rotations_, est.scalings_, strict=True))
    log_det = np.asarray([np.sum(np.log(dense(s))) for s in est.scalings_])
    if not (all(np.all(np.isfinite(t)) for t in transforms) and np.all(np.isfinite(log_det))):
        raise refuse(est, "a class has a zero scaling (collinear features with reg_param=0): its scores are not "
                          "finite; supported: positive scalings_ (set reg_param > 0)")
    node = ir.QuadraticDiscriminant(means=dense(est.means_), transforms=transforms, log_det=log_det,
                                    log_prior=np.log(dense(est.priors_)))
    return Converted(node, classification(est, "softmax", has_proba=True))
