"""IR Imputer → Core ML imputer (Imputer.proto, spec 1)."""

from __future__ import annotations

from export import ir
from export.errors import ExportFailedError
from export.to_coreml.features import Feature, new_model, vector_type
from export.to_coreml.protos import Spec


def imputer_model(node: ir.Imputer, source: Feature, output_name: str) -> Spec:
    """Entries equal to replaceDoubleValue (NaN matches NaN) become imputedDoubleArray[i] (SimpleImputer
    statistics_)."""
    if source.width != node.n_features:
        raise ExportFailedError(f"Imputer reads {node.n_features} features but its input has {source.width}")
    spec = new_model([source], [Feature(output_name, vector_type(node.n_features))])
    spec.imputer.imputedDoubleArray.vector.extend(node.fill.tolist())
    spec.imputer.replaceDoubleValue = float(node.missing_value)
    return spec
