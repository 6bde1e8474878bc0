"""Core ML reference evaluator for `arrayFeatureExtractor` (ArrayFeatureExtractor.proto, §1.9).

Output = x[extractIndex] (zero-based, in the given order): Double (one index), Int64 (one index, value cast) or
MultiArray. The Double -> Int64 cast is undocumented; we choose C++ static_cast semantics (truncate toward zero)
and refuse NaN/inf with EvaluatorInputError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from parity.coreml_reference.feature_columns import Column, feature_kind, multiarray_width
from parity.coreml_reference.validation import fail, require_counts, require_kinds
from parity.errors import EvaluatorInputError


def build_array_feature_extractor(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Evaluator for `arrayFeatureExtractor`."""
    model_type = "arrayFeatureExtractor"
    description = spec.description
    require_counts(model_type, description, 1, 1)
    require_kinds(model_type, description.input, ("multiArrayType",), "input")
    require_kinds(model_type, description.output, ("doubleType", "int64Type", "multiArrayType"), "output")
    source, target = description.input[0], description.output[0]
    width = multiarray_width(source)
    indices = np.array(spec.arrayFeatureExtractor.extractIndex, dtype=np.uint64)
    if indices.size == 0:
        raise fail(model_type, "extractIndex is empty")
    if (indices >= np.uint64(width)).any():
        raise fail(model_type, f"extractIndex {indices.max()} is out of range for input {source.name!r} of "
                               f"{width} elements")
    target_kind = feature_kind(target)
    if target_kind in ("doubleType", "int64Type") and indices.size != 1:
        raise fail(model_type, f"a {target_kind} output needs exactly one extractIndex, got {indices.size}")
    columns = indices.astype(np.intp)

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        picked = np.asarray(env[source.name], dtype=np.float64)[:, columns]
        if target_kind == "doubleType":
            return {target.name: picked[:, 0]}
        if target_kind == "int64Type":
            if not np.isfinite(picked).all():
                raise EvaluatorInputError(f"input {source.name!r}: non-finite value cannot be cast to Int64 output "
                                          f"{target.name!r}")
            return {target.name: np.trunc(picked[:, 0]).astype(np.int64)}
        return {target.name: picked}

    return evaluate
