"""Core ML reference evaluator for `categoricalMapping` (CategoricalMapping.proto, §1.12).

String -> Int64 or Int64 -> String scalar mapping through `stringToInt64Map` / `int64ToStringMap`; an unknown input
takes ValueOnUnknown if set, else the prediction fails (EvaluatorInputError naming the input). Sequence inputs are
not supported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from parity.coreml_reference.feature_columns import Column, feature_kind
from parity.coreml_reference.validation import fail, require_counts
from parity.errors import EvaluatorInputError


def build_categorical_mapping(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Evaluator for `categoricalMapping`."""
    model_type = "categoricalMapping"
    description = spec.description
    require_counts(model_type, description, 1, 1)
    params = spec.categoricalMapping
    which = params.WhichOneof("MappingType")
    if which is None:
        raise fail(model_type, "MappingType is not set (stringToInt64Map or int64ToStringMap)")
    source, target = description.input[0], description.output[0]
    string_in = which == "stringToInt64Map"
    want_in, want_out = ("stringType", "int64Type") if string_in else ("int64Type", "stringType")
    if feature_kind(source) != want_in or feature_kind(target) != want_out:
        raise fail(model_type, f"{which} maps {want_in} -> {want_out}; the description has "
                               f"{feature_kind(source)} -> {feature_kind(target)}")
    default_field = params.WhichOneof("ValueOnUnknown")
    if default_field is not None and default_field != ("int64Value" if string_in else "strValue"):
        raise fail(model_type, f"ValueOnUnknown {default_field} does not match the output type {want_out}")
    table = dict(getattr(params, which).map)
    default = getattr(params, default_field) if default_field else None

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        values = np.asarray(env[source.name]).tolist()
        # A hash lookup per distinct value; Python dicts are the natural table for string keys.
        distinct = set(values)
        missing = [value for value in distinct if value not in table]
        if missing and default is None:
            raise EvaluatorInputError(f"input {source.name!r}: value {missing[0]!r} is not in the {which} and no "
                                      f"ValueOnUnknown is set")
        lookup = {value: table.get(value, default) for value in distinct}
        mapped = [lookup[value] for value in values]
        return {target.name: np.array(mapped, dtype=object if string_in is False else np.int64)}

    return evaluate
