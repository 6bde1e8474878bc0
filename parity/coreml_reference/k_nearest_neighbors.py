"""Core ML reference evaluator for `kNearestNeighborsClassifier` (NearestNeighbors.proto, §1.13, spec 4).

Math: the k = numberOfNeighbors.defaultValue stored samples (`floatSamples`, float32) nearest to x under squared
Euclidean distance vote for their per-sample labels. Uniform weighting: one vote each. The distances are computed
in float64 from the float32 samples (the runtime's precision is undocumented).

What we chose where Apple is silent:
* Equal distances: the sample stored first wins the last neighbour slot (stable order).
* Equal votes: the smallest label in sorted order wins (this is also sklearn's KNeighborsClassifier rule).
* InverseDistanceWeighting: weight 1/d with d the *squared* Euclidean distance the index defines (proto: "highest
  sum of (1/distance)"; sklearn's weights='distance' uses 1/Euclidean, so these differ). Neighbours at distance 0
  take all the weight (each counts 1, the others 0).
* k larger than the number of samples uses all samples; an empty index predicts the default class label.
* A probabilities output, if declared, is the normalised (weighted) vote share per label, labels sorted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from parity.coreml_reference.classifier_outputs import classifier_outputs, label_array
from parity.coreml_reference.feature_columns import Column, slot_count, vectorize_features
from parity.coreml_reference.validation import class_label_values, fail

_DIFFERENCE_ELEMENTS_PER_BLOCK = 1 << 22


def knn_class_labels(spec: Any) -> list[Any]:
    """Distinct labels of a KNN classifier (per-sample labels, sorted), or [default label] for an empty index."""
    params = spec.kNearestNeighborsClassifier
    per_sample = class_label_values("kNearestNeighborsClassifier", params) or []
    if per_sample:
        return sorted(set(per_sample))
    default = params.WhichOneof("DefaultClassLabel")
    return [getattr(params, default)] if default else []


def build_k_nearest_neighbors_classifier(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Evaluator for `kNearestNeighborsClassifier` (linear or kd-tree index: both are exact searches)."""
    model_type = "kNearestNeighborsClassifier"
    params = spec.kNearestNeighborsClassifier
    index = params.nearestNeighborsIndex
    dimensions = int(index.numberOfDimensions)
    per_sample = class_label_values(model_type, params) or []
    n_samples = len(index.floatSamples)
    if n_samples != len(per_sample) and not (n_samples == 0 and not per_sample):
        raise fail(model_type, f"{n_samples} floatSamples but {len(per_sample)} class labels (one label per sample)")
    if any(len(sample.vector) != dimensions for sample in index.floatSamples):
        raise fail(model_type, f"every floatSamples vector needs numberOfDimensions={dimensions} values")
    which_index = index.WhichOneof("IndexType")
    if which_index not in ("linearIndex", "singleKdTreeIndex"):
        raise fail(model_type, "nearestNeighborsIndex needs linearIndex or singleKdTreeIndex")
    if which_index == "singleKdTreeIndex" and index.singleKdTreeIndex.leafSize <= 0:
        raise fail(model_type, "singleKdTreeIndex.leafSize must be > 0")
    if index.WhichOneof("DistanceFunction") != "squaredEuclideanDistance":
        raise fail(model_type, "nearestNeighborsIndex.DistanceFunction must be squaredEuclideanDistance")
    weighting = params.WhichOneof("WeightingScheme")
    if weighting not in ("uniformWeighting", "inverseDistanceWeighting"):
        raise fail(model_type, "WeightingScheme must be uniformWeighting or inverseDistanceWeighting")
    k = int(params.numberOfNeighbors.defaultValue)
    if k <= 0:
        raise fail(model_type, f"numberOfNeighbors.defaultValue {k} must be positive")
    allowed = params.numberOfNeighbors.WhichOneof("AllowedValues")
    if allowed == "set" and k not in set(params.numberOfNeighbors.set.values):
        raise fail(model_type, f"numberOfNeighbors.defaultValue {k} is not in its allowed set")
    if allowed == "range" and not (
        params.numberOfNeighbors.range.minValue <= k <= params.numberOfNeighbors.range.maxValue
    ):
        raise fail(model_type, f"numberOfNeighbors.defaultValue {k} is outside its allowed range")
    width = sum(slot_count(feature) for feature in spec.description.input)
    if width != dimensions:
        raise fail(model_type, f"inputs provide {width} values but numberOfDimensions is {dimensions}")
    samples = np.array([list(s.vector) for s in index.floatSamples], dtype=np.float32).astype(np.float64)
    samples = samples.reshape(n_samples, dimensions)
    labels = label_array(knn_class_labels(spec))
    if len(labels) == 0:
        raise fail(model_type, "no class labels and no default class label")
    sample_class = np.searchsorted(labels, label_array(per_sample)) if per_sample else np.zeros(0, dtype=np.intp)
    neighbours = min(k, n_samples)
    description = spec.description

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        x = vectorize_features(description.input, env)
        n_rows = x.shape[0]
        if n_samples == 0:
            winner = np.zeros(n_rows, dtype=np.intp)
            return classifier_outputs(model_type, description, labels, winner, np.ones((n_rows, 1)))
        nearest, nearest_distance = _nearest(x, samples, neighbours)
        if weighting == "uniformWeighting":
            weights = np.ones_like(nearest_distance)
        else:
            exact = nearest_distance == 0
            with np.errstate(divide="ignore"):
                weights = np.where(exact.any(axis=1, keepdims=True), exact.astype(np.float64), 1.0 / nearest_distance)
        votes = np.zeros((n_rows, len(labels)))
        np.add.at(votes, (np.arange(n_rows)[:, None], sample_class[nearest]), weights)
        winner = np.argmax(votes, axis=1)
        return classifier_outputs(model_type, description, labels, winner, votes / votes.sum(axis=1, keepdims=True))

    return evaluate


def _nearest(x: np.ndarray, samples: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (n, k) of the k nearest samples (stable: equal distances keep sample order) and their distances."""
    nearest = np.empty((x.shape[0], k), dtype=np.intp)
    distance = np.empty((x.shape[0], k))
    block = max(1, _DIFFERENCE_ELEMENTS_PER_BLOCK // max(1, samples.size))
    for start in range(0, x.shape[0], block):
        difference = x[start : start + block, None, :] - samples[None, :, :]
        squared = np.einsum("nmf,nmf->nm", difference, difference)
        order = np.argsort(squared, axis=1, kind="stable")[:, :k]
        nearest[start : start + block] = order
        distance[start : start + block] = np.take_along_axis(squared, order, axis=1)
    return nearest, distance
