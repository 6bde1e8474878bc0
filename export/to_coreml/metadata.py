"""Final touch of the Core ML writer: descriptions and metadata on the top-level spec (§4.2)."""

from __future__ import annotations

from export import ir
from export.to_coreml.interface import CoreMLInterface, input_short_descriptions, output_short_description
from export.to_coreml.protos import Spec


def apply_descriptions(spec: Spec, interface: CoreMLInterface, schema: ir.Schema) -> None:
    """Write input/output shortDescriptions and ModelDescription.metadata from `interface`."""
    description = spec.description
    for feature, text in zip(description.input, input_short_descriptions(schema), strict=True):
        feature.shortDescription = text
    for feature in description.output:
        is_array = feature.type.WhichOneof("Type") == "multiArrayType"
        width = int(feature.type.multiArrayType.shape[0]) if is_array else None
        if feature.name == interface.label_name:
            feature.shortDescription = interface.label_description or output_short_description("label")
        elif feature.name == interface.probability_name:
            feature.shortDescription = output_short_description("probabilities")
        elif feature.name == interface.prediction_name:
            feature.shortDescription = output_short_description("prediction", width)
        else:
            feature.shortDescription = output_short_description("transformed", width)
    metadata = description.metadata
    metadata.author = interface.author
    metadata.license = interface.license
    metadata.versionString = interface.version
    metadata.shortDescription = interface.short_description
    for key in sorted(interface.user_defined):
        metadata.userDefined[key] = interface.user_defined[key]
