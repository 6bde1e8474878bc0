"""Core ML reference evaluator for `featureVectorizer` (FeatureVectorizer.proto, §1.10).

Concatenates the `inputList` columns in order into one MultiArray; each block has `inputDimensions` slots:
Double/Int64 -> 1, MultiArray -> its elements, Int64-keyed Dictionary -> dense block with d[k] at position k.
A dictionary key outside 0..inputDimensions-1 is undocumented; we raise EvaluatorInputError naming the input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from parity.coreml_reference.feature_columns import Column, DictColumn, feature_kind, slot_count
from parity.coreml_reference.validation import fail, require_counts, require_kinds
from parity.errors import EvaluatorInputError

_MAX_BLOCK = 1 << 20  # a dictionary block is materialised densely: (rows x inputDimensions) doubles


def build_feature_vectorizer(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Evaluator for `featureVectorizer`."""
    model_type = "featureVectorizer"
    description = spec.description
    require_counts(model_type, description, None, 1)
    require_kinds(model_type, description.output, ("multiArrayType",), "output")
    require_kinds(model_type, description.input, ("doubleType", "int64Type", "multiArrayType", "dictionaryType"),
                  "input")
    inputs = {feature.name: feature for feature in description.input}
    blocks = []
    for entry in spec.featureVectorizer.inputList:
        feature = inputs.get(entry.inputColumn)
        if feature is None:
            raise fail(model_type, f"inputList names {entry.inputColumn!r}, which is not an input; inputs are "
                                   f"{sorted(inputs)}")
        dimensions = int(entry.inputDimensions)
        if not 0 < dimensions <= _MAX_BLOCK:
            raise fail(model_type, f"inputList {entry.inputColumn!r}: inputDimensions {dimensions} must be in "
                                   f"1..{_MAX_BLOCK}")
        kind = feature_kind(feature)
        if kind == "dictionaryType":
            if feature.type.dictionaryType.WhichOneof("KeyType") != "int64KeyType":
                raise fail(model_type, f"input {feature.name!r}: only Int64-keyed dictionaries can be vectorized")
        elif slot_count(feature) != dimensions:
            raise fail(model_type, f"inputList {entry.inputColumn!r}: inputDimensions {dimensions} but the feature "
                                   f"has {slot_count(feature)} values")
        blocks.append((feature.name, dimensions))
    if not blocks:
        raise fail(model_type, "inputList is empty")
    target = description.output[0].name

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        parts = []
        for name, dimensions in blocks:
            column = env[name]
            if isinstance(column, DictColumn):
                keys = column.keys.astype(np.int64)
                if ((keys < 0) | (keys >= dimensions)).any() and (column.values[:, (keys < 0) | (keys >= dimensions)]
                                                                   != 0).any():
                    raise EvaluatorInputError(f"input {name!r}: dictionary key outside 0..{dimensions - 1}")
                dense = np.zeros((column.values.shape[0], dimensions))
                inside = (keys >= 0) & (keys < dimensions)
                dense[:, keys[inside]] = column.values[:, inside]
                parts.append(dense)
            else:
                parts.append(np.asarray(column, dtype=np.float64).reshape(column.shape[0], dimensions))
        return {target: np.concatenate(parts, axis=1)}

    return evaluate
