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


def _search_metric(est: Any) -> tuple[ir.NeighbourMetric, float, ir.NeighbourWeights]:
    """The metric, Minkowski p and weighting of a fitted neighbours model, refusing what has no exact lowering."""
    require_param(est, "weights", ("uniform", "distance"))  # a callable has no graph encoding
    metric = _METRICS.get(str(est.effective_metric_))
    params = {k: v for k, v in (est.effective_metric_params_ or {}).items() if not (k == "w" and v is None)}
    p = float(params.pop("p", 2.0))
    if metric is None or params:
        raise refuse(est, f"metric={est.metric!r} (p={est.p!r}, metric_params={est.metric_params!r}) is not "
                          "supported; allowed: euclidean / l2, manhattan / l1 / cityblock, chebyshev, minkowski with "
                          "any p > 0 and no weights 'w'")
    return metric, p, est.weights


def _search(est: Any) -> tuple[ir.NeighbourMetric, float, ir.NeighbourWeights]:
    """`_search_metric` for k nearest neighbours (KNeighbors*)."""
    metric, p, weights = _search_metric(est)
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
    return metric, p, weights


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


def nearest_centroid_to_ir(est: Any) -> Converted:
    """NearestCentroid, Euclidean metric, as a `GaussianNaiveBayes` node with var = 0.5 everywhere: its score
    log_prior - 0.5 * Σ (x - θ)² / 0.5 is log_prior - Σ (x - θ)² exactly (division by 0.5 and the factor 0.5 are
    powers of two), i.e. minus the squared distance to centroid θ.

    scikit-learn has two rules. With uniform `class_prior_` (np.isclose to 1/K: the default), predict is the
    nearest centroid in raw space, `pairwise_distances_argmin(X, centroids_)` (ties: the first class), while
    predict_proba scores a std-normalised space — two different score vectors, so only the label is exported (θ =
    centroids_, log_prior 0, head link 'none': the first maximum of -d²). Otherwise predict and predict_proba both
    read `_decision_function`: -‖(x - c_k) / s‖² + 2 log(class_prior_[k]) over the features whose
    within_class_std_dev_ s is nonzero (the others undivided) — a dividing Scaler, θ = centroids_ divided the same
    way, log_prior = 2 log(prior), head link 'softmax'. scikit-learn computes Euclidean distances by the
    ‖x‖² - 2x·c + ‖c‖² expansion (then sqrt, then squared again): the artifacts' row differences agree to rounding,
    so labels can differ only where two centroids are equally far to that rounding."""
    if est.metric != "euclidean":
        raise refuse(est, f"metric={est.metric!r} is not supported; allowed: 'euclidean'")
    centroids = dense(est.centroids_)
    k, n = centroids.shape
    half = np.full((k, n), 0.5)
    if np.isclose(est.class_prior_, 1 / len(est.classes_)).all():  # scikit-learn's own test in predict
        node: ir.Node = ir.GaussianNaiveBayes(theta=centroids, var=half, log_prior=np.zeros(k),
                                              log_normaliser=np.zeros(k))
        return Converted(node, classification(est, "none", has_proba=False))
    std = dense(est.within_class_std_dev_)
    divisor = np.where(std != 0, std, 1.0)  # x / 1 is x: the unmasked features stay as they are
    scaler = ir.Scaler(offset=np.zeros(n), scale=divisor, divide=True)
    node = ir.Pipeline((scaler, ir.GaussianNaiveBayes(theta=centroids / divisor, var=half,
                                                      log_prior=2.0 * np.log(dense(est.class_prior_)),
                                                      log_normaliser=np.zeros(k))))
    return Converted(node, classification(est, "softmax", has_proba=True))


def _radius_search(est: Any) -> tuple[ir.NeighbourMetric, float, ir.NeighbourWeights]:
    metric, p, weights = _search_metric(est)
    if metric == "euclidean" and est._fit_method == "brute":
        # RadiusNeighbors' brute-force Euclidean reduction uses the ‖x‖² - 2x·y + ‖y‖² expansion: membership at the
        # radius and the exact-zero rule are decided by its rounding, not by the row differences.
        raise refuse(est, "algorithm='brute' (or 'auto' resolving to brute) with the Euclidean metric: scikit-learn's "
                          "distances there are the ‖x‖² - 2x·y + ‖y‖² expansion; supported: algorithm='kd_tree' or "
                          "'ball_tree' (exact row differences)")
    return metric, p, weights


def radius_neighbors_regressor_to_ir(est: Any) -> Converted:
    """predict = mean (uniform) or Σ w y / Σ w (distance; an exact 0 distance takes all the weight) of the targets
    of every training row within `radius`; a row with none gets NaN, as scikit-learn's (its warning aside)."""
    metric, p, weights = _radius_search(est)
    targets = dense(est._y)
    targets = targets.reshape(-1, 1) if targets.ndim == 1 else targets
    return Converted(ir.NearestNeighbors(samples=dense(est._fit_X), sample_class=np.zeros(0, dtype=np.int64),
                                         k=int(est.n_samples_fit_), n_classes=0, metric=metric, p=p, weights=weights,
                                         targets=targets, radius=float(est.radius)),
                     ir.Regression(n_targets=targets.shape[1]))


def radius_neighbors_classifier_to_ir(est: Any) -> Converted:
    """predict_proba = the (weighted) class counts within `radius`, normalised; a row with no neighbour gets
    probability 1 for `outlier_label_` — which must be one of classes_ ('most_frequent' is); predict = the first
    maximum (head link 'identity')."""
    metric, p, weights = _radius_search(est)
    if est.outputs_2d_:
        raise refuse(est, "multi-output targets are not supported; supported: one label column")
    head = classification(est, "identity", has_proba=True)
    outlier = None if est.outlier_label_ is None else np.flatnonzero(np.asarray(est.classes_) == est.outlier_label_[0])
    if outlier is None or outlier.size != 1:
        raise refuse(est, f"outlier_label={est.outlier_label!r}: scikit-learn raises (None) or predicts a label "
                          "outside classes_ for a row without neighbours, which no artifact output can hold; "
                          "supported: 'most_frequent' or one of classes_")
    return Converted(ir.NearestNeighbors(samples=dense(est._fit_X), sample_class=np.asarray(est._y, dtype=np.int64),
                                         k=int(est.n_samples_fit_), n_classes=head.n_classes, metric=metric, p=p,
                                         weights=weights, radius=float(est.radius), outlier_class=int(outlier[0])),
                     head)
