"""Core ML plumbing models: featureVectorizer, arrayFeatureExtractor, and the pipeline containers (spec 1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from export.errors import ExportFailedError
from export.to_coreml.features import Feature, new_model, string_dictionary_type, vector_type
from export.to_coreml.protos import FeatureTypes_pb2, Spec


def dictionary_type(key: Literal["string", "int64"]) -> Any:
    """A Dictionary feature type keyed by String or Int64 (values Double)."""
    if key == "string":
        return string_dictionary_type()
    feature_type = FeatureTypes_pb2.FeatureType()
    feature_type.dictionaryType.int64KeyType.SetInParent()
    return feature_type


def dictionary_vector_models(source: Feature, keys: Sequence[str] | Sequence[int], indexed_name: str,
                             output_name: str) -> tuple[list[Spec], Feature]:
    """A Dictionary (String or Int64 keys) as the DOUBLE vector [d[keys[0]], d[keys[1]], ...]: DictVectorizer
    (key -> its position, an Int64-keyed Dictionary, §1.11) then a FeatureVectorizer of that dictionary
    (inputDimensions = len(keys): d[k] at position k, §1.10) — what coremltools emits."""
    string_keys = source.type.dictionaryType.WhichOneof("KeyType") == "stringKeyType"
    indexed = Feature(indexed_name, dictionary_type("int64"))
    vectorizer = new_model([source], [indexed])
    if string_keys:
        vectorizer.dictVectorizer.stringToIndex.vector.extend([str(k) for k in keys])
    else:
        vectorizer.dictVectorizer.int64ToIndex.vector.extend([int(k) for k in keys])
    output = Feature(output_name, vector_type(len(keys)))
    dense = new_model([indexed], [output])
    entry = dense.featureVectorizer.inputList.add()
    entry.inputColumn = indexed_name
    entry.inputDimensions = len(keys)
    return [vectorizer, dense], output


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
