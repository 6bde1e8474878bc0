"""Core ML reference evaluator for `scaler` (Scaler.proto, §1.5): f(x) = scaleValue * (x + shiftValue)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from parity.coreml_reference.feature_columns import Column, feature_kind, multiarray_width
from parity.coreml_reference.validation import fail, require_counts, require_kinds
from parity.errors import EvaluatorInputError

SCALAR_TYPES = ("int64Type", "doubleType", "multiArrayType")


def build_scaler(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Shift first, then scale; missing shift -> 0, missing scale -> 1, a length-1 value broadcasts (proto)."""
    model_type = "scaler"
    description = spec.description
    require_counts(model_type, description, 1, 1)
    require_kinds(model_type, description.input, SCALAR_TYPES, "input")
    require_kinds(model_type, description.output, SCALAR_TYPES, "output")
    source, target = description.input[0], description.output[0]
    source_kind, target_kind = feature_kind(source), feature_kind(target)
    # ScalarValidator: Int64 input -> Int64 or Double output; otherwise the output type equals the input type.
    if source_kind == "int64Type":
        if target_kind not in ("int64Type", "doubleType"):
            raise fail(model_type, f"Int64 input needs an int64Type or doubleType output, got {target_kind}")
    elif target_kind != source_kind:
        raise fail(model_type, f"output type {target_kind} must equal the input type {source_kind}")
    width = 1
    if source_kind == "multiArrayType":
        width = multiarray_width(source)
        if len(source.type.multiArrayType.shape) != 1 or list(target.type.multiArrayType.shape) != [width]:
            raise fail(model_type, "MultiArray input and output must be rank 1 with the same length")
    shift = np.array(spec.scaler.shiftValue, dtype=np.float64)
    scale = np.array(spec.scaler.scaleValue, dtype=np.float64)
    for field, values in (("shiftValue", shift), ("scaleValue", scale)):
        if values.size not in (0, 1, width):
            raise fail(model_type, f"{field} has {values.size} values; allowed 0, 1 or {width}")
    shift = shift if shift.size else np.zeros(1)
    scale = scale if scale.size else np.ones(1)
    if source_kind != "multiArrayType":
        shift, scale = shift[:1], scale[:1]

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        x = np.asarray(env[source.name], dtype=np.float64)
        result = scale * (x + shift) if x.ndim == 2 else scale[0] * (x + shift[0])
        if target_kind == "int64Type":
            # Scaler.proto: an Int output is cast, and a lossy cast is an error.
            if not np.all(result == np.round(result)):
                raise EvaluatorInputError(f"input {source.name!r}: scaled value is not integral but output "
                                          f"{target.name!r} is Int64 (lossy cast)")
            return {target.name: result.astype(np.int64)}
        return {target.name: result}

    return evaluate
