"""Feature types and names shared by every Core ML writer module: the typed wires between pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from export import ir
from export.errors import ExportFailedError
from export.to_coreml.protos import DOUBLE_ARRAY, FeatureTypes_pb2, Model_pb2, Spec


@dataclass(frozen=True)
class Feature:
    """A named, typed value flowing between Core ML models (a `FeatureDescription` without its description)."""

    name: str
    type: Any  # FeatureTypes_pb2.FeatureType

    @property
    def width(self) -> int:
        """How many slots this feature fills when vectorised (§0.3): 1 for a scalar, the length of a rank-1 array."""
        kind = self.type.WhichOneof("Type")
        if kind in ("doubleType", "int64Type", "stringType"):
            return 1
        if kind == "multiArrayType" and len(self.type.multiArrayType.shape) == 1:
            return int(self.type.multiArrayType.shape[0])
        raise ExportFailedError(f"feature {self.name!r} of type {kind} is not a scalar or a rank-1 array")


def double_type() -> Any:
    feature_type = FeatureTypes_pb2.FeatureType()
    feature_type.doubleType.SetInParent()
    return feature_type


def int64_type() -> Any:
    feature_type = FeatureTypes_pb2.FeatureType()
    feature_type.int64Type.SetInParent()
    return feature_type


def string_type() -> Any:
    feature_type = FeatureTypes_pb2.FeatureType()
    feature_type.stringType.SetInParent()
    return feature_type


def string_dictionary_type() -> Any:
    """Dictionary<String, Double>: a dictionary column's row (and a text column's term counts)."""
    feature_type = FeatureTypes_pb2.FeatureType()
    feature_type.dictionaryType.stringKeyType.SetInParent()
    return feature_type


def scalar_type(kind: ir.ColumnKind) -> Any:
    """The Core ML feature type of one schema column value: Double, Int64, String, or a [String: Double]
    Dictionary."""
    return {"double": double_type, "int64": int64_type, "string": string_type,
            "dictionary": string_dictionary_type}[kind]()


def vector_type(length: int) -> Any:
    """A rank-1 DOUBLE MultiArray: every vector between our stages has exactly this type, so pipeline type checks
    (exact equality, issue #1018) hold by construction."""
    feature_type = FeatureTypes_pb2.FeatureType()
    feature_type.multiArrayType.shape.append(int(length))
    feature_type.multiArrayType.dataType = DOUBLE_ARRAY
    return feature_type


def label_type(task: ir.Classification) -> Any:
    """Class-label output type: String for string labels, Int64 otherwise (must match the ClassLabels oneof)."""
    feature_type = FeatureTypes_pb2.FeatureType()
    if task.string_labels:
        feature_type.stringType.SetInParent()
    else:
        feature_type.int64Type.SetInParent()
    return feature_type


def probability_type(task: ir.Classification) -> Any:
    """Probabilities output: a Dictionary keyed like the labels (§0.2: key type must match the label type)."""
    feature_type = FeatureTypes_pb2.FeatureType()
    if task.string_labels:
        feature_type.dictionaryType.stringKeyType.SetInParent()
    else:
        feature_type.dictionaryType.int64KeyType.SetInParent()
    return feature_type


def set_class_labels(message: Any, labels: np.ndarray, string_labels: bool) -> None:
    """Fill a model message's `oneof ClassLabels` (stringClassLabels=100 / int64ClassLabels=101)."""
    if string_labels:
        message.stringClassLabels.vector.extend([str(label) for label in labels.tolist()])
    else:
        message.int64ClassLabels.vector.extend([int(label) for label in labels.tolist()])


def new_model(inputs: list[Feature] | tuple[Feature, ...], outputs: list[Feature] | tuple[Feature, ...],
              specification_version: int = 1) -> Spec:
    """An empty Model message with its interface filled in (descriptions are added at the top level only)."""
    spec = Model_pb2.Model()
    spec.specificationVersion = specification_version
    for feature in inputs:
        described = spec.description.input.add()
        described.name = feature.name
        described.type.CopyFrom(feature.type)
    for feature in outputs:
        described = spec.description.output.add()
        described.name = feature.name
        described.type.CopyFrom(feature.type)
    return spec


@dataclass(frozen=True)
class OutputNames:
    """Names of the top-level outputs (from CoreMLInterface)."""

    label: str
    probability: str
    prediction: str
    transformed: str


def classifier_outputs(task: ir.Classification, names: OutputNames, with_probability: bool) -> list[Feature]:
    """The label feature, then the probabilities feature when the model has them."""
    outputs = [Feature(names.label, label_type(task))]
    if with_probability:
        outputs.append(Feature(names.probability, probability_type(task)))
    return outputs


def mark_classifier(spec: Spec, outputs: list[Feature]) -> None:
    """Set predictedFeatureName / predictedProbabilitiesName from `classifier_outputs`' list."""
    spec.description.predictedFeatureName = outputs[0].name
    if len(outputs) > 1:
        spec.description.predictedProbabilitiesName = outputs[1].name


class Names:
    """Allocates unique intermediate feature names, never clashing with the interface's own names."""

    def __init__(self, reserved: set[str]) -> None:
        self.used = set(reserved)
        self._counter = 0

    def fresh(self, stem: str) -> str:
        while True:
            name = f"__{stem}_{self._counter}__"
            self._counter += 1
            if name not in self.used:
                self.used.add(name)
                return name
