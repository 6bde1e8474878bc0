"""Core ML reference evaluator for `oneHotEncoder` (OneHotEncoder.proto, §1.7).

One scalar Int64 or String input; a 1 at the input's position in the categories vector, zeros elsewhere.
outputSparse -> Dictionary {index: 1.0} (Int64 keys), else a MultiArray of #categories. Unknown value:
ErrorOnUnknown -> EvaluatorInputError naming the input (Core ML fails the prediction); IgnoreUnknown -> all zeros.
Duplicate categories are undocumented; the first occurrence wins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from parity.coreml_reference.feature_columns import Column, DictColumn, feature_kind
from parity.coreml_reference.validation import fail, require_counts, require_kinds
from parity.errors import EvaluatorInputError

ERROR_ON_UNKNOWN, IGNORE_UNKNOWN = 0, 1


def build_one_hot_encoder(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Evaluator for `oneHotEncoder`."""
    model_type = "oneHotEncoder"
    description = spec.description
    require_counts(model_type, description, 1, 1)
    require_kinds(model_type, description.input, ("int64Type", "stringType"), "input")
    params = spec.oneHotEncoder
    which = params.WhichOneof("CategoryType")
    if which is None:
        raise fail(model_type, "CategoryType is not set (stringCategories or int64Categories)")
    source, target = description.input[0], description.output[0]
    expected_input = "stringType" if which == "stringCategories" else "int64Type"
    if feature_kind(source) != expected_input:
        raise fail(model_type, f"{which} needs a {expected_input} input, got {feature_kind(source)}")
    categories = list(getattr(params, which).vector)
    if not categories:
        raise fail(model_type, f"{which} is empty")
    if params.outputSparse:
        require_kinds(model_type, description.output, ("dictionaryType",), "output (outputSparse=true)")
    else:
        require_kinds(model_type, description.output, ("multiArrayType",), "output (outputSparse=false)")
    handle_unknown = int(params.handleUnknown)
    if handle_unknown not in (ERROR_ON_UNKNOWN, IGNORE_UNKNOWN):
        raise fail(model_type, f"handleUnknown {handle_unknown} unknown; supported: ErrorOnUnknown, IgnoreUnknown")
    position: dict[Any, int] = {}
    for index, category in enumerate(categories):
        position.setdefault(category, index)
    table = np.array(list(position), dtype=object) if which == "stringCategories" else np.array(list(position))
    order = np.argsort(table)
    sorted_table, sorted_position = table[order], np.array(list(position.values()))[order]

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        values = np.asarray(env[source.name])
        slot = np.minimum(np.searchsorted(sorted_table, values), len(sorted_table) - 1)
        known = sorted_table[slot] == values
        if handle_unknown == ERROR_ON_UNKNOWN and not known.all():
            raise EvaluatorInputError(f"input {source.name!r}: value {values[~known][0]!r} is not a category of the "
                                      f"oneHotEncoder (handleUnknown=ErrorOnUnknown)")
        encoded = np.zeros((values.shape[0], len(categories)))
        rows = np.flatnonzero(known)
        encoded[rows, sorted_position[slot[rows]]] = 1.0
        if params.outputSparse:
            return {target.name: DictColumn(keys=np.arange(len(categories), dtype=np.int64), values=encoded)}
        return {target.name: encoded}

    return evaluate
