"""Shared last step of every Core ML classifier evaluator: scores -> predicted label + probability dictionary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from parity.coreml_reference.feature_columns import Column, DictColumn, feature_kind
from parity.errors import CoreMLSpecError


def label_array(labels: Sequence[Any]) -> np.ndarray:
    """Class labels as int64 or object (str) array, in the model's score order."""
    if labels and isinstance(labels[0], str):
        return np.array(labels, dtype=object)
    return np.array(labels, dtype=np.int64)


def classifier_outputs(
    model_type: str,
    description: Any,
    labels: np.ndarray,
    winner: np.ndarray,
    probabilities: np.ndarray | None,
) -> dict[str, Column]:
    """Outputs named by predictedFeatureName (labels[winner]) and predictedProbabilitiesName (if set)."""
    outputs: dict[str, Column] = {description.predictedFeatureName: labels[winner]}
    probability_name = description.predictedProbabilitiesName
    if probability_name:
        if probabilities is None:
            raise CoreMLSpecError(
                f"{model_type}: output {probability_name!r} (predictedProbabilitiesName) is declared but this model "
                f"computes no probabilities"
            )
        declared = next(feature for feature in description.output if feature.name == probability_name)
        if feature_kind(declared) == "multiArrayType":
            outputs[probability_name] = probabilities
        else:
            outputs[probability_name] = DictColumn(keys=labels, values=probabilities)
    return outputs


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row max so exp never overflows."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function 1/(1+exp(-z)) without overflow warnings for large |z|."""
    out = np.empty_like(z, dtype=np.float64)
    positive = z >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
    exp_z = np.exp(z[~positive])
    out[~positive] = exp_z / (1.0 + exp_z)
    return out
