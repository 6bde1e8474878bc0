"""Core ML reference evaluator for `normalizer` (Normalizer.proto, §1.6): x / z per row.

z = max(x_i) for LMax (the proto writes max(x_i), NOT max|x_i| as sklearn does — we follow the proto literally, so
rows with negative entries differ from sklearn; Core ML's runtime behaviour there is untested), sum |x_i| for L1,
sqrt(sum x_i^2) for L2. A zero norm is undocumented: we leave such rows unchanged (divide by 1, like sklearn).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from parity.coreml_reference.feature_columns import Column
from parity.coreml_reference.validation import fail, require_counts, require_kinds

L_MAX, L1, L2 = 0, 1, 2


def build_normalizer(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Row-wise normalisation of one MultiArray input."""
    model_type = "normalizer"
    description = spec.description
    require_counts(model_type, description, 1, 1)
    require_kinds(model_type, description.input, ("multiArrayType",), "input")
    require_kinds(model_type, description.output, ("multiArrayType",), "output")
    norm_type = int(spec.normalizer.normType)
    if norm_type not in (L_MAX, L1, L2):
        raise fail(model_type, f"normType {norm_type} unknown; supported: LMax, L1, L2")
    source, target = description.input[0].name, description.output[0].name

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        x = np.asarray(env[source], dtype=np.float64)
        if norm_type == L_MAX:
            norm = x.max(axis=1)
        elif norm_type == L1:
            norm = np.abs(x).sum(axis=1)
        else:
            norm = np.sqrt((x * x).sum(axis=1))
        norm = np.where(norm == 0, 1.0, norm)
        return {target: x / norm[:, None]}

    return evaluate
