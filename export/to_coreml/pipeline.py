"""Core ML plumbing models: featureVectorizer, arrayFeatureExtractor, and the pipeline containers (spec 1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from export.errors import ExportFailedError
from export.to_coreml.features import Feature, new_model, vector_type
from export.to_coreml.protos import Spec


def feature_vectorizer_model(sources: Sequence[Feature], output_name: str) -> tuple[Spec, Feature]:
    """Concatenate Double/Int64/vector features in order into one DOUBLE vector (FeatureVectorizer.inputList)."""
    output = Feature(output_name, vector_type(sum(source.width for source in sources)))
    spec = new_model(list(sources), [output])
    for source in sources:
        column = spec.featureVectorizer.inputList.add()
        column.inputColumn = source.name
        column.inputDimensions = source.width
    return spec, output


def array_feature_extractor_model(source: Feature, indices: Sequence[int], output: Feature) -> Spec:
    """Pick `indices` (zero-based, in order) out of the vector `source` (ArrayFeatureExtractor.extractIndex)."""
    if len(indices) == 0:
        raise ExportFailedError("ColumnSelect with no columns has no Core ML encoding (ArrayFeatureExtractor needs "
                                "at least one extractIndex)")
    if any(not 0 <= int(index) < source.width for index in indices):
        raise ExportFailedError(f"ColumnSelect index out of range for an input of width {source.width}")
    spec = new_model([source], [output])
    spec.arrayFeatureExtractor.extractIndex.extend([int(index) for index in indices])
    return spec


PipelineKind = Literal["pipeline", "pipelineClassifier", "pipelineRegressor"]


def pipeline_model(kind: PipelineKind, models: Sequence[Spec], inputs: Sequence[Feature],
                   outputs: Sequence[Feature]) -> Spec:
    """A pipeline container: its version is the max of its sub-models' (§0.4)."""
    spec = new_model(list(inputs), list(outputs),
                     specification_version=max(model.specificationVersion for model in models))
    container = spec.pipeline if kind == "pipeline" else getattr(spec, kind).pipeline
    for model in models:
        container.models.add().CopyFrom(model)
    return spec
