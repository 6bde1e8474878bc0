"""What the exported .mlmodel looks like from the app: input/output names, descriptions and metadata."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from export import ir
from export.errors import UsageError
from export.to_coreml.features import Feature, OutputNames, scalar_type, vector_type

FEATURE_VECTOR_NAME = "__feature_vector__"  # coremltools' name for the vectorised named inputs (§0.3)


@dataclass(frozen=True)
class CoreMLInterface:
    """The public face of a Core ML export beyond its inputs (which the model's `ir.Schema` decides, see
    `input_features`): output names, descriptions and metadata."""

    label_name: str = "classLabel"
    probability_name: str = "classProbability"
    prediction_name: str = "prediction"
    transformed_name: str = "transformed_features"
    author: str = ""
    license: str = ""
    version: str = ""
    short_description: str = ""
    label_description: str = ""  # overrides the label output's default description (e.g. a label encoding)
    user_defined: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        outputs = [self.label_name, self.probability_name, self.prediction_name, self.transformed_name]
        if "" in outputs or len(set(outputs)) != len(outputs):
            raise UsageError("CoreMLInterface output names (label, probability, prediction, transformed) must be "
                             "non-empty and distinct")
        object.__setattr__(self, "user_defined", MappingProxyType(dict(self.user_defined)))

    @property
    def output_names(self) -> OutputNames:
        return OutputNames(self.label_name, self.probability_name, self.prediction_name, self.transformed_name)

    def check_inputs(self, schema: ir.Schema) -> None:
        """Core ML features share one namespace: an input may not reuse an output or internal name."""
        outputs = {self.label_name, self.probability_name, self.prediction_name, self.transformed_name}
        clash = {c.input_name for c in schema.columns} & (outputs | {FEATURE_VECTOR_NAME})
        if clash:
            raise UsageError(f"Core ML input names clash with output or internal names: {sorted(clash)}")


def input_features(schema: ir.Schema) -> list[Feature]:
    """The model's declared inputs, one per schema column: a block is one DOUBLE MultiArray [width], a column a
    Double, Int64 or String feature (§0.3)."""
    features = []
    for column in schema.columns:
        if column.width is not None:
            features.append(Feature(column.input_name, vector_type(column.width)))
        else:
            features.append(Feature(column.input_name, scalar_type(column.kind)))
    return features


def input_short_descriptions(schema: ir.Schema) -> list[str]:
    """shortDescription per input: the original column name (Xcode shows it as the parameter's doc comment)."""
    return [f"{column.width} input features, in training column order" if column.width is not None else column.name
            for column in schema.columns]


def output_short_description(role: str, width: int | None = None) -> str:
    """What an output is, for Xcode's generated documentation."""
    if role == "label":
        return "Predicted class label"
    if role == "probabilities":
        return "Probability of each class (keys: class labels)"
    if role == "prediction":
        return "Predicted value" if width is None else f"Predicted values, one per target ({width} targets)"
    return f"Transformed features ({width} values)"
