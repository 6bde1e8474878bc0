"""IR Scaler → Core ML scaler (Scaler.proto, spec 1): y = scaleValue · (x + shiftValue)."""

from __future__ import annotations

from export import ir
from export.errors import ExportFailedError
from export.to_coreml.features import Feature, new_model, vector_type
from export.to_coreml.protos import Spec


def scaler_model(node: ir.Scaler, source: Feature, output_name: str) -> Spec:
    """IR y = (x - offset) * scale is Core ML's shift-first form with shiftValue = -offset (exact negation)."""
    if source.width != node.n_features:
        raise ExportFailedError(f"Scaler reads {node.n_features} features but its input has {source.width}")
    spec = new_model([source], [Feature(output_name, vector_type(node.n_features))])
    spec.scaler.shiftValue.extend((-node.offset).tolist())
    spec.scaler.scaleValue.extend(node.scale.tolist())
    return spec
