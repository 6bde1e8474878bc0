"""Core ML reference evaluator for `dictVectorizer` (DictVectorizer.proto, §1.11).

A key's position in stringToIndex / int64ToIndex is its output index; absent keys give 0. The proto requires every
input key to be in the mapping; what the runtime does otherwise is undocumented — we raise EvaluatorInputError
naming the input and key (sklearn's DictVectorizer silently ignores unknown keys: a known parity risk).
Output: Dictionary with Int64 keys (the validator's type), or a dense MultiArray if declared so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from parity.coreml_reference.feature_columns import Column, DictColumn, feature_kind
from parity.coreml_reference.validation import fail, require_counts, require_kinds
from parity.errors import EvaluatorInputError


def build_dict_vectorizer(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Evaluator for `dictVectorizer`."""
    model_type = "dictVectorizer"
    description = spec.description
    require_counts(model_type, description, 1, 1)
    require_kinds(model_type, description.input, ("dictionaryType",), "input")
    require_kinds(model_type, description.output, ("dictionaryType", "multiArrayType"), "output")
    which = spec.dictVectorizer.WhichOneof("Map")
    if which is None:
        raise fail(model_type, "Map is not set (stringToIndex or int64ToIndex)")
    source, target = description.input[0], description.output[0]
    key_type = source.type.dictionaryType.WhichOneof("KeyType")
    if (which == "stringToIndex") != (key_type == "stringKeyType"):
        raise fail(model_type, f"{which} does not match the input's dictionary {key_type}")
    mapping = list(getattr(spec.dictVectorizer, which).vector)
    index = {}
    for position, key in enumerate(mapping):
        if key in index:
            raise fail(model_type, f"{which} lists key {key!r} twice")
        index[key] = position
    dense_output = feature_kind(target) == "multiArrayType"

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        column = env[source.name]
        if not isinstance(column, DictColumn):
            raise fail(model_type, f"input {source.name!r} did not carry a dictionary")
        keys = column.keys.tolist()
        unknown = [key for key in keys if key not in index]
        if unknown:
            raise EvaluatorInputError(f"input {source.name!r}: key {unknown[0]!r} is not in the dictVectorizer's "
                                      f"{which} (Core ML requires every key to be present)")
        dense = np.zeros((column.values.shape[0], len(mapping)))
        dense[:, [index[key] for key in keys]] = column.values
        if dense_output:
            return {target.name: dense}
        return {target.name: DictColumn(keys=np.arange(len(mapping), dtype=np.int64), values=dense)}

    return evaluate
