"""sklearn KNeighborsClassifier / KNeighborsRegressor → IR `NearestNeighbors` (uniform or distance weights;
Euclidean, Manhattan, Chebyshev and Minkowski metrics)."""

from __future__ import annotations

from typing import Any

import numpy as np

from export import ir
from export.from_sklearn.estimator_checks import classification, dense, refuse, require_param
from export.frontends import Converted

# `effective_metric_` (what the fitted search uses; metric='minkowski' with p = 1 / 2 / inf already resolved to
# manhattan / euclidean / chebyshev) → the IR metric.
_METRICS: dict[str, ir.NeighbourMetric] = {
    "euclidean": "euclidean", "l2": "euclidean", "manhattan": "manhattan", "l1": "manhattan",
    "cityblock": "manhattan", "chebyshev": "chebyshev", "infinity": "chebyshev", "minkowski": "minkowski"}


def _search(est: Any) -> tuple[ir.NeighbourMetric, float, ir.NeighbourWeights]:
    """The metric, Minkowski p and weighting of a fitted k-NN model, refusing what has no exact lowering."""
    require_param(est, "weights", ("uniform", "distance"))  # a callable has no graph encoding
    metric = _METRICS.get(str(est.effective_metric_))
    params = {k: v for k, v in (est.effective_metric_params_ or {}).items() if not (k == "w" and v is None)}
    p = float(params.pop("p", 2.0))
    if metric is None or params:
        raise refuse(est, f"metric={est.metric!r} (p={est.p!r}, metric_params={est.metric_params!r}) is not "
                          "supported; allowed: euclidean / l2, manhattan / l1 / cityblock, chebyshev, minkowski with "
                          "any p > 0 and no weights 'w'")
    if est.weights == "distance" and metric == "euclidean" and est._fit_method == "brute":
        # Brute-force Euclidean search (EuclideanArgKmin64) uses ‖x‖² - 2x·y + ‖y‖²: a training row's distance to
        # itself comes out as ~1e-8, not 0, so its 1/d weight is not the zero-distance rule the trees give.
        raise refuse(est, "weights='distance' with algorithm='brute' (or 'auto' resolving to brute) and the "
                          "Euclidean metric: scikit-learn's distances there are the ‖x‖² - 2x·y + ‖y‖² expansion, "
                          "whose rounding decides the 1/d weights; supported: algorithm='kd_tree' or 'ball_tree' "
                          "(exact row differences), or weights='uniform'")
    if est.n_neighbors > est.n_samples_fit_:
        raise refuse(est, f"n_neighbors={est.n_neighbors} exceeds the {est.n_samples_fit_} fitted samples "
                          "(sklearn's predict fails too); supported: n_neighbors <= n_samples_fit_")
    return metric, p, est.weights


def kneighbors_classifier_to_ir(est: Any) -> Converted:
    """Stored training rows `_fit_X` with their class indices `_y` (into `classes_`). predict_proba = the weighted
    vote fractions of the k = `n_neighbors` nearest rows; predict = the class with the most (weighted) votes, the
    lowest on a tie — the first maximum of predict_proba: head link 'identity'."""
    metric, p, weights = _search(est)
    if est.outputs_2d_:
        raise refuse(est, "multi-output targets are not supported; supported: one label column")
    head = classification(est, "identity", has_proba=True)
    return Converted(ir.NearestNeighbors(samples=dense(est._fit_X), sample_class=np.asarray(est._y, dtype=np.int64),
                                         k=int(est.n_neighbors), n_classes=head.n_classes, metric=metric, p=p,
                                         weights=weights), head)


def kneighbors_regressor_to_ir(est: Any) -> Converted:
    """predict = mean of the k nearest rows' targets `_y` (uniform) or Σ w_i y_i / Σ w_i (distance), per target."""
    metric, p, weights = _search(est)
    targets = dense(est._y)
    targets = targets.reshape(-1, 1) if targets.ndim == 1 else targets
    return Converted(ir.NearestNeighbors(samples=dense(est._fit_X), sample_class=np.zeros(0, dtype=np.int64),
                                         k=int(est.n_neighbors), n_classes=0, metric=metric, p=p, weights=weights,
                                         targets=targets), ir.Regression(n_targets=targets.shape[1]))
