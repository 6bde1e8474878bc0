"""IR Scaler → Core ML scaler (Scaler.proto, spec 1): y = scaleValue · (x + shiftValue)."""

from __future__ import annotations

import numpy as np

from export import ir
from export.errors import ExportFailedError, UnsupportedEstimatorError
from export.to_coreml.features import Feature, new_model, vector_type
from export.to_coreml.protos import Spec


def scaler_model(node: ir.Scaler, source: Feature, output_name: str) -> Spec:
    """IR y = (x - offset) ∘ scale + bias in Core ML's one shift-first, multiply-only form.

    Core ML format limit: Scaler.proto has no division and no addition after the scale, so
    - divide=True (scikit-learn's `X /= scale_`) is written as scaleValue = 1/scale: ≤ 1 ulp from the division;
    - a bias b is folded into the shift, shiftValue = -offset + b / multiplier: a few ulp from `x * s + b`.
    Without divide or bias the mapping is exact (shiftValue = -offset is an exact negation).
    """
    if node.clip is not None:
        raise UnsupportedEstimatorError("Scaler with clip (MinMaxScaler(clip=True)): Core ML has no double-precision "
                                        "clamp (the neural network's clip layer is float32); export ONNX for it")
    if source.width != node.n_features:
        raise ExportFailedError(f"Scaler reads {node.n_features} features but its input has {source.width}")
    multiplier = 1.0 / node.scale if node.divide else node.scale
    shift = -node.offset
    if node.bias is not None:
        folded = node.bias != 0
        if np.any(folded & (multiplier == 0)):
            raise ExportFailedError("Scaler: a nonzero bias after a zero scale (a constant output) has no Core ML "
                                    "scaler form; supported: nonzero scale wherever bias is nonzero")
        shift = shift + np.where(folded, node.bias / np.where(folded, multiplier, 1.0), 0.0)
    spec = new_model([source], [Feature(output_name, vector_type(node.n_features))])
    spec.scaler.shiftValue.extend(shift.tolist())
    spec.scaler.scaleValue.extend(multiplier.tolist())
    return spec
