"""IR OneHotEncoder → Core ML: per column arrayFeatureExtractor → oneHotEncoder, then a featureVectorizer."""

from __future__ import annotations

from export import ir
from export.errors import ExportFailedError
from export.to_coreml.features import Feature, Names, int64_type, new_model, vector_type
from export.to_coreml.pipeline import array_feature_extractor_model, feature_vectorizer_model
from export.to_coreml.protos import OneHotEncoder_pb2, Spec


def one_hot_models(node: ir.OneHotEncoder, source: Feature, output_name: str, names: Names) -> list[Spec]:
    """Core ML's OneHotEncoder reads ONE Int64 or String scalar (§1.7), so each column is first extracted as Int64
    (ArrayFeatureExtractor's Double→Int64 cast rule is undocumented [inferred]: categories are integers, and a
    non-integer value is unknown to scikit-learn but may be truncated to a category by Core ML). The categories are
    the real fitted values; unknown values give all zeros (IgnoreUnknown), like handle_unknown='ignore'."""
    if source.width != node.n_features:
        raise ExportFailedError(f"OneHotEncoder reads {node.n_features} features but its input has {source.width}")
    models: list[Spec] = []
    encoded: list[Feature] = []
    for column, categories in enumerate(node.categories):
        if categories.dtype == object:
            raise ExportFailedError(f"OneHotEncoder column {column} has string categories; the Core ML export "
                                    "reads a numeric row, so only integer categories are supported")
        value = Feature(names.fresh(f"onehot_in_{column}"), int64_type())
        models.append(array_feature_extractor_model(source, [column], value))
        indicators = Feature(names.fresh(f"onehot_out_{column}"), vector_type(categories.size))
        encoder = new_model([value], [indicators])
        encoder.oneHotEncoder.int64Categories.vector.extend([int(c) for c in categories.tolist()])
        encoder.oneHotEncoder.outputSparse = False  # dense MultiArray of len(categories)
        encoder.oneHotEncoder.handleUnknown = OneHotEncoder_pb2.OneHotEncoder.IgnoreUnknown
        models.append(encoder)
        encoded.append(indicators)
    vectorizer, _ = feature_vectorizer_model(encoded, output_name)
    return [*models, vectorizer]
