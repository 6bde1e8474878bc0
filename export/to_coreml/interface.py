"""What the exported .mlmodel looks like from the app: input/output names, descriptions and metadata."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from export.errors import UsageError
from export.to_coreml.features import Feature, OutputNames, double_type, vector_type

FEATURE_VECTOR_NAME = "__feature_vector__"  # coremltools' name for the vectorised named inputs (§0.3)


@dataclass(frozen=True)
class CoreMLInterface:
    """The public face of a Core ML export.

    `input_names` (sanitised Core ML names) gives one Double input per feature, vectorised by a FeatureVectorizer
    in front of the model; None gives one MultiArray DOUBLE [n_features] input named `multiarray_name`.
    `input_descriptions` are the original feature names, written as the inputs' shortDescription.
    """

    n_features: int
    input_names: tuple[str, ...] | None = None
    multiarray_name: str = "input"
    input_descriptions: tuple[str, ...] | None = None
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
        if self.n_features < 1:
            raise UsageError(f"CoreMLInterface.n_features must be >= 1, got {self.n_features}")
        if self.input_names is not None:
            object.__setattr__(self, "input_names", tuple(self.input_names))
            if len(self.input_names) != self.n_features:
                raise UsageError(f"CoreMLInterface.input_names has {len(self.input_names)} names for "
                                 f"{self.n_features} features")
            if len(set(self.input_names)) != len(self.input_names) or "" in self.input_names:
                raise UsageError("CoreMLInterface.input_names must be non-empty and unique")
        if self.input_descriptions is not None:
            object.__setattr__(self, "input_descriptions", tuple(self.input_descriptions))
            if len(self.input_descriptions) != self.n_features:
                raise UsageError(f"CoreMLInterface.input_descriptions has {len(self.input_descriptions)} entries "
                                 f"for {self.n_features} features")
        outputs = [self.label_name, self.probability_name, self.prediction_name, self.transformed_name]
        if "" in outputs or len(set(outputs)) != len(outputs):
            raise UsageError("CoreMLInterface output names (label, probability, prediction, transformed) must be "
                             "non-empty and distinct")
        clash = set(self.input_feature_names) & (set(outputs) | {FEATURE_VECTOR_NAME})
        if clash:
            raise UsageError(f"CoreMLInterface input names clash with output or internal names: {sorted(clash)}")
        object.__setattr__(self, "user_defined", MappingProxyType(dict(self.user_defined)))

    @property
    def input_feature_names(self) -> tuple[str, ...]:
        return self.input_names if self.input_names is not None else (self.multiarray_name,)

    @property
    def output_names(self) -> OutputNames:
        return OutputNames(self.label_name, self.probability_name, self.prediction_name, self.transformed_name)

    def input_features(self) -> list[Feature]:
        """The model's declared inputs: one Double per named feature, or one DOUBLE vector."""
        if self.input_names is not None:
            return [Feature(name, double_type()) for name in self.input_names]
        return [Feature(self.multiarray_name, vector_type(self.n_features))]

    def input_short_descriptions(self) -> list[str]:
        """shortDescription per input: the original feature name (Xcode shows it as the parameter's doc comment)."""
        if self.input_names is not None:
            return list(self.input_descriptions) if self.input_descriptions is not None else list(self.input_names)
        if self.input_descriptions is not None:
            return ["Features in this order: " + ", ".join(self.input_descriptions)]
        return [f"{self.n_features} input features, in training column order"]


def output_short_description(role: str, width: int | None = None) -> str:
    """What an output is, for Xcode's generated documentation."""
    if role == "label":
        return "Predicted class label"
    if role == "probabilities":
        return "Probability of each class (keys: class labels)"
    if role == "prediction":
        return "Predicted value" if width is None else f"Predicted values, one per target ({width} targets)"
    return f"Transformed features ({width} values)"
