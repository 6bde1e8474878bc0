"""Hand-built Core ML spec parts shared by the evaluator's hand-computed tests: one DOUBLE MultiArray input, and a
classifier's label + probability-dictionary outputs (Int64 or String, matching the labels)."""

from __future__ import annotations

from typing import Any

from parity.coreml_reference.spec_loading import FeatureTypes_pb2


def add_array_input(spec: Any, name: str, width: int) -> None:
    feature = spec.description.input.add()
    feature.name = name
    feature.type.multiArrayType.shape.append(width)
    feature.type.multiArrayType.dataType = FeatureTypes_pb2.ArrayFeatureType.DOUBLE


def add_classifier_outputs(spec: Any, string_labels: bool = False) -> None:
    """Outputs 'label' (predictedFeatureName) and 'probs' (predictedProbabilitiesName)."""
    label = spec.description.output.add()
    label.name = "label"
    (label.type.stringType if string_labels else label.type.int64Type).SetInParent()
    probability = spec.description.output.add()
    probability.name = "probs"
    dictionary = probability.type.dictionaryType
    (dictionary.stringKeyType if string_labels else dictionary.int64KeyType).SetInParent()
    spec.description.predictedFeatureName = "label"
    spec.description.predictedProbabilitiesName = "probs"
