"""Core ML reference evaluator for `identity` (Identity.proto, §1.14): outputs are the inputs, unchanged."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from parity.coreml_reference.feature_columns import Column, feature_kind
from parity.coreml_reference.validation import fail


def build_identity(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Outputs pass inputs through: by name when every output names an input, else by position (undocumented).

    Types of paired features must agree.
    """
    model_type = "identity"
    description = spec.description
    inputs = {feature.name: feature for feature in description.input}
    if all(feature.name in inputs for feature in description.output):
        sources = [inputs[feature.name] for feature in description.output]
    elif len(description.input) == len(description.output):
        sources = list(description.input)
    else:
        raise fail(model_type, f"{len(description.input)} inputs but {len(description.output)} outputs with other "
                               f"names; outputs must name inputs or pair with them by position")
    pairs = []
    for source, target in zip(sources, description.output, strict=True):
        if feature_kind(source) != feature_kind(target):
            raise fail(model_type, f"output {target.name!r} ({feature_kind(target)}) differs in type from input "
                                   f"{source.name!r} ({feature_kind(source)})")
        pairs.append((source.name, target.name))

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        return {target: env[source] for source, target in pairs}

    return evaluate
