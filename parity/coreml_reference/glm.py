"""Core ML reference evaluator for `glmRegressor` / `glmClassifier` (GLMRegressor.proto, GLMClassifier.proto, §1.2-3).

Math: z_j = sum_i weights[j].value[i] * x_i + offset[j] over the vectorized inputs (§0.3).

What we chose where Apple is silent:
* GLMRegressor: Apple requires every output to be Double, which makes it single-target; we evaluate exactly one
  weight row (more rows are refused). Logit -> 1/(1+e^-z); Probit -> standard normal CDF Phi(z) [inferred; note
  ONNX's "PROBIT" is the inverse CDF].
* GLMClassifier OneVsRest + Logit (verified on macOS by coremltools' tests against sklearn OvR): K == 2 -> one row,
  P(labels[1]) = sigma(z); K > 2 -> sigma(z_k) / sum_j sigma(z_j). Label = first argmax of the probabilities
  (at an exact tie, e.g. z == 0 for K == 2, we choose the lower index; undocumented). Probit (K == 2 only):
  Phi(z) [inferred]. ReferenceClass encoding has no documented or tested semantics -> refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy.special import ndtr

from parity.coreml_reference.classifier_outputs import classifier_outputs, label_array, sigmoid
from parity.coreml_reference.feature_columns import Column, slot_count, vectorize_features
from parity.coreml_reference.validation import class_label_values, fail

# GLMRegressor.PostEvaluationTransform / GLMClassifier.PostEvaluationTransform / ClassEncoding values.
REGRESSOR_NO_TRANSFORM, REGRESSOR_LOGIT, REGRESSOR_PROBIT = 0, 1, 2
CLASSIFIER_LOGIT, CLASSIFIER_PROBIT = 0, 1
REFERENCE_CLASS, ONE_VS_REST = 0, 1


def _weight_matrix(model_type: str, params: Any, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    rows = [list(row.value) for row in params.weights]
    if not rows:
        raise fail(model_type, "weights is empty (at least one weight row is required)")
    if len({len(row) for row in rows}) != 1 or len(rows[0]) == 0:
        raise fail(model_type, "weights rows must all have the same nonzero length")
    if len(params.offset) != len(rows):
        raise fail(model_type, f"offset has {len(params.offset)} values but there are {len(rows)} weight rows")
    if len(rows[0]) != n_features:  # evaluator rule: Apple checks the width only at prediction time
        raise fail(model_type, f"weight rows have {len(rows[0])} values but the inputs provide {n_features}")
    return np.array(rows, dtype=np.float64), np.array(params.offset, dtype=np.float64)


def _input_width(spec: Any) -> int:
    return sum(slot_count(feature) for feature in spec.description.input)


def build_glm_regressor(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Evaluator for `glmRegressor`: one Double output = transform(w.x + b)."""
    model_type = "glmRegressor"
    params = spec.glmRegressor
    weights, offset = _weight_matrix(model_type, params, _input_width(spec))
    for feature in spec.description.output:  # GLMRegressor validator: all outputs are Double
        if feature.type.WhichOneof("Type") != "doubleType":
            raise fail(model_type, f"output {feature.name!r} must be doubleType")
    if weights.shape[0] != 1:
        raise fail(model_type, f"{weights.shape[0]} weight rows: only single-target GLMRegressor is supported "
                               f"(its outputs must be Double)")
    transform = int(params.postEvaluationTransform)
    if transform not in (REGRESSOR_NO_TRANSFORM, REGRESSOR_LOGIT, REGRESSOR_PROBIT):
        raise fail(model_type, f"postEvaluationTransform {transform} unknown; supported: NoTransform, Logit, Probit")
    description = spec.description

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        z = vectorize_features(description.input, env) @ weights[0] + offset[0]
        if transform == REGRESSOR_LOGIT:
            z = sigmoid(z)
        elif transform == REGRESSOR_PROBIT:
            z = ndtr(z)
        return {description.predictedFeatureName: z}

    return evaluate


def build_glm_classifier(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Evaluator for `glmClassifier` (OneVsRest; Logit, or Probit for two classes)."""
    model_type = "glmClassifier"
    params = spec.glmClassifier
    weights, offset = _weight_matrix(model_type, params, _input_width(spec))
    labels = label_array(class_label_values(model_type, params) or [])
    n_classes = len(labels)
    encoding = int(params.classEncoding)
    transform = int(params.postEvaluationTransform)
    if encoding == REFERENCE_CLASS:
        raise fail(model_type, "classEncoding ReferenceClass has no documented or tested Core ML semantics and is "
                               "not supported; supported: OneVsRest")
    if encoding != ONE_VS_REST:
        raise fail(model_type, f"classEncoding {encoding} unknown; supported: OneVsRest")
    if n_classes < 2:
        raise fail(model_type, f"{n_classes} class label(s); a classifier needs at least 2")
    expected_rows = 1 if n_classes == 2 else n_classes
    if weights.shape[0] != expected_rows:
        raise fail(model_type, f"OneVsRest with {n_classes} classes needs {expected_rows} weight row(s), has "
                               f"{weights.shape[0]}")
    if transform not in (CLASSIFIER_LOGIT, CLASSIFIER_PROBIT):
        raise fail(model_type, f"postEvaluationTransform {transform} unknown; supported: Logit, Probit")
    if transform == CLASSIFIER_PROBIT and n_classes != 2:
        raise fail(model_type, "Probit is only valid for binary classification")
    link = sigmoid if transform == CLASSIFIER_LOGIT else ndtr
    description = spec.description

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        z = vectorize_features(description.input, env) @ weights.T + offset
        if n_classes == 2:
            positive = link(z[:, 0])
            probabilities = np.column_stack([1.0 - positive, positive])
        else:
            activated = link(z)
            probabilities = activated / activated.sum(axis=1, keepdims=True)
        winner = np.argmax(probabilities, axis=1)
        return classifier_outputs(model_type, description, labels, winner, probabilities)

    return evaluate
