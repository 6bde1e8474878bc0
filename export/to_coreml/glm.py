"""IR LinearModel / Linear → Core ML glmClassifier, glmRegressor (GLM*.proto, spec 1), exact in double precision."""

from __future__ import annotations

import numpy as np

from export import ir
from export.errors import ExportFailedError, UnsupportedEstimatorError
from export.to_coreml.features import (
    Feature,
    Names,
    OutputNames,
    classifier_outputs,
    double_type,
    mark_classifier,
    new_model,
    set_class_labels,
)
from export.to_coreml.pipeline import feature_vectorizer_model
from export.to_coreml.protos import GLMClassifier_pb2, GLMRegressor_pb2, Spec


def glm_regressor_model(weights: np.ndarray, offset: float, source: Feature, output: Feature) -> Spec:
    """z = weights·x + offset as one Double (GLMRegressor: the validator requires Double outputs → one row)."""
    spec = new_model([source], [output])
    spec.description.predictedFeatureName = output.name
    message = spec.glmRegressor
    message.weights.add().value.extend(np.asarray(weights, dtype=np.float64).tolist())
    message.offset.append(float(offset))
    message.postEvaluationTransform = GLMRegressor_pb2.GLMRegressor.NoTransform
    return spec


def affine_models(weights: np.ndarray, bias: np.ndarray, source: Feature, output_name: str,
                  names: Names) -> list[Spec]:
    """y = W x + b as a DOUBLE vector: one GLMRegressor per row, then a FeatureVectorizer. Chosen over an NN
    innerProduct because NN weights are float32, while GLM weights are doubles (exact)."""
    if weights.shape[1] != source.width:
        raise ExportFailedError(f"linear map reads {weights.shape[1]} features but its input has {source.width}")
    models = []
    row_outputs = []
    for row, offset in zip(weights, bias.tolist(), strict=True):
        row_output = Feature(names.fresh("linear_row"), double_type())
        models.append(glm_regressor_model(row, offset, source, row_output))
        row_outputs.append(row_output)
    vectorizer, _ = feature_vectorizer_model(row_outputs, output_name)
    return [*models, vectorizer]


def glm_classifier_model(node: ir.LinearModel, task: ir.Classification, source: Feature, names: OutputNames) -> Spec:
    """GLMClassifier, OneVsRest + Logit (§1.3): K==2 → 1 row, p1 = σ(z); K>2 → K rows, p_k = σ(z_k)/Σσ(z_j).

    Links: 'logistic' (binary, 1 row), 'ovr_logistic' (K>2, K rows), 'none' with 1 row (no probability output;
    label = labels[1] iff σ(z) > 0.5 iff z > 0 — z == 0 is a tie whose Core ML side is undocumented). 'none' with K
    rows goes to the neural-network writer (σ saturation would tie large scores here).
    """
    k, rows = task.n_classes, node.coef.shape[0]
    expected_rows = 1 if k == 2 else k
    if task.link not in ("logistic", "ovr_logistic", "none") or rows != expected_rows:
        raise ExportFailedError(
            f"LinearModel: link {task.link!r} with {rows} score rows for {k} classes has no GLMClassifier encoding; "
            "supported: logistic/none with 1 row (binary), ovr_logistic/none with K rows (K > 2), softmax (NN)")
    if node.n_features != source.width:
        raise ExportFailedError(f"LinearModel reads {node.n_features} features but its input has {source.width}")
    outputs = classifier_outputs(task, names, task.has_proba)
    spec = new_model([source], outputs)
    mark_classifier(spec, outputs)
    message = spec.glmClassifier
    for row in node.coef:
        message.weights.add().value.extend(row.tolist())
    message.offset.extend(node.intercept.tolist())
    message.postEvaluationTransform = GLMClassifier_pb2.GLMClassifier.Logit
    message.classEncoding = GLMClassifier_pb2.GLMClassifier.OneVsRest
    set_class_labels(message, task.labels, task.string_labels)
    return spec


def classifier_on_scores(head: ir.Classification, scores: Feature, names: OutputNames) -> Spec:
    """The head lowered over a computed DOUBLE score vector (a producer Core ML has no classifier model for):
    a GLMClassifier reading the scores. softmax over 2 scores is the logistic of their difference, exactly
    (σ(s1 - s0) = e^s1 / (e^s0 + e^s1)), with scikit-learn's rule labels[1] iff s1 > s0 ('none' over 2 scores: the
    same difference, labels only); logistic/none over 1 score and ovr_logistic over K scores read them as they are
    ('none' over K > 2 is refused: GLMClassifier's saturating sigmoids tie large scores). Softmax over K > 2
    computed scores has no double-precision Core ML encoding (GLMClassifier has no softmax; a network's softmax is
    float32 and overflows where the scores are large), so it is refused rather than approximated."""
    k, width = head.n_classes, scores.width
    if head.link in ("softmax", "none") and k == 2 and width == 2:
        # s1 - s0 > 0 iff s1 > s0 for doubles (a correctly rounded difference keeps the sign; 0 only if equal)
        node = ir.LinearModel(coef=np.array([[-1.0, 1.0]]), intercept=np.zeros(1))
        link: ir.Link = "logistic" if head.link == "softmax" else "none"
        return glm_classifier_model(node, ir.Classification(head.labels, link, head.has_proba), scores, names)
    reads_as_is = head.link in ("logistic", "ovr_logistic", "none") and width == (1 if k == 2 else k)
    if reads_as_is and not (head.link == "none" and k > 2):
        return glm_classifier_model(ir.LinearModel(coef=np.eye(width), intercept=np.zeros(width)), head, scores, names)
    raise UnsupportedEstimatorError(
        f"Core ML: link {head.link!r} over {width} computed scores for {k} classes has no double-precision encoding "
        "(Core ML has no double softmax over K > 2 computed scores, and its sigmoids saturate for labels alone); "
        "supported: softmax/none over 2 scores, logistic/none over 1, ovr_logistic over K — export this model with "
        "--formats onnx")
