"""sklearn KNeighborsClassifier → IR `NearestNeighbors` (uniform weights, Euclidean distance only)."""

from __future__ import annotations

from typing import Any

import numpy as np

from export import ir
from export.from_sklearn.estimator_checks import classification, dense, refuse, require_param
from export.frontends import Converted


def kneighbors_classifier_to_ir(est: Any) -> Converted:
    """Stored training rows `_fit_X` with their class indices `_y` (into `classes_`); label = majority class of
    the k = `n_neighbors` nearest rows. Probabilities (vote fractions) are not exported: the IR node and Core ML's
    KNearestNeighborsClassifier have none."""
    require_param(est, "weights", ("uniform",))  # 'distance' (1/d) and callables have no exact encoding
    # `effective_metric_` resolves metric='minkowski' with p=2 to 'euclidean'; any other metric is refused.
    if est.effective_metric_ != "euclidean" or est.effective_metric_params_:
        raise refuse(est, f"metric={est.metric!r} (p={est.p!r}) is not supported; allowed: 'euclidean', "
                          "'minkowski' with p=2")
    if est.outputs_2d_:
        raise refuse(est, "multi-output targets are not supported; supported: one label column")
    if est.n_neighbors > est.n_samples_fit_:
        raise refuse(est, f"n_neighbors={est.n_neighbors} exceeds the {est.n_samples_fit_} fitted samples "
                          "(sklearn's predict fails too); supported: n_neighbors <= n_samples_fit_")
    head = classification(est, "neighbour_votes", has_proba=False)
    return Converted(ir.NearestNeighbors(
        samples=dense(est._fit_X),
        sample_class=np.asarray(est._y, dtype=np.int64),
        k=int(est.n_neighbors),
        n_classes=head.n_classes,
    ), head)
