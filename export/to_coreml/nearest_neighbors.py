"""IR NearestNeighbors → Core ML kNearestNeighborsClassifier (NearestNeighbors.proto, spec 4)."""

from __future__ import annotations

import numpy as np

from export import ir
from export.errors import ExportFailedError, UnsupportedEstimatorError
from export.to_coreml.features import Feature, OutputNames, classifier_outputs, mark_classifier, new_model
from export.to_coreml.protos import Spec

KNN_SPECIFICATION_VERSION = 4  # iOS 13 / macOS 10.15 (Utils.cpp hasIOS13Features); coremltools wrongly writes 1


def nearest_neighbors_model(node: ir.NearestNeighbors, task: ir.Classification, source: Feature,
                            names: OutputNames) -> Spec:
    """Linear index, squared Euclidean distance, uniform weighting, k = numberOfNeighbors.defaultValue.

    The input stays a DOUBLE vector (the KNN validator puts no type on it), so the pipeline types match exactly
    (coremltools declares FLOAT32 here and breaks its own named-input pipelines: issue #1018). Samples are stored
    as float32 (floatSamples), so distances differ from scikit-learn's float64 ones by rounding; near-ties may flip.
    Core ML's KNN has no documented probability output, so none is declared even when scikit-learn has
    predict_proba (the head's vote fractions are the ONNX artifact's probabilities).
    """
    if source.width != node.n_features:
        raise ExportFailedError(f"NearestNeighbors reads {node.n_features} features but its input has "
                                f"{source.width}")
    if node.weights != "uniform" or node.metric != "euclidean":
        raise UnsupportedEstimatorError(
            f"Core ML: k-NN with weights={node.weights!r} and metric={node.metric!r} has no exact encoding "
            "(kNearestNeighborsClassifier has squared-Euclidean distance only, float32 samples, and its "
            "inverseDistanceWeighting has no zero-distance rule); supported: weights='uniform' with the Euclidean "
            "metric — export this model with --formats onnx")
    if task.link not in ("identity", "neighbour_votes") or task.n_classes != node.n_classes:
        raise ExportFailedError("NearestNeighbors needs a Classification head with link 'identity' or "
                                f"'neighbour_votes' over its {node.n_classes} classes")
    outputs = classifier_outputs(task, names, with_probability=False)
    spec = new_model([source], outputs, specification_version=KNN_SPECIFICATION_VERSION)
    mark_classifier(spec, outputs)
    knn = spec.kNearestNeighborsClassifier
    index = knn.nearestNeighborsIndex
    index.numberOfDimensions = node.n_features
    for sample in np.asarray(node.samples, dtype=np.float32):
        index.floatSamples.add().vector.extend(sample.tolist())
    index.linearIndex.SetInParent()
    index.squaredEuclideanDistance.SetInParent()
    knn.numberOfNeighbors.defaultValue = node.k
    knn.numberOfNeighbors.range.minValue = 1
    knn.numberOfNeighbors.range.maxValue = node.samples.shape[0]
    knn.uniformWeighting.SetInParent()
    # One label per stored sample: the real class value (coremltools stores encoded indices instead).
    sample_labels = task.labels[node.sample_class]
    if task.string_labels:
        knn.stringClassLabels.vector.extend([str(label) for label in sample_labels.tolist()])
    else:
        knn.int64ClassLabels.vector.extend([int(label) for label in sample_labels.tolist()])
    return spec
