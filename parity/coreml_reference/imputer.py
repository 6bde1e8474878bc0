"""Core ML reference evaluator for `imputer` (Imputer.proto, §1.8): replace ReplaceValue by the imputed value.

Supported: Double / MultiArray inputs with imputedDoubleValue or imputedDoubleArray, Int64 with imputedInt64Value,
String with imputedStringValue. A NaN replaceDoubleValue matches NaN (proto example). Unset ReplaceValue is
undocumented: for doubles we choose NaN (the "missing value" of the proto's own example); for Int64/String there is
no natural missing value, so an unset ReplaceValue is refused. Dictionary imputation is not supported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from parity.coreml_reference.feature_columns import Column, feature_kind, multiarray_width
from parity.coreml_reference.validation import fail, require_counts

SUPPORTED = "imputedDoubleValue, imputedDoubleArray, imputedInt64Value, imputedStringValue"


def build_imputer(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Element-wise replacement; the output type equals the input type (ImputerValidator)."""
    model_type = "imputer"
    description = spec.description
    require_counts(model_type, description, 1, 1)
    source, target = description.input[0], description.output[0]
    kind = feature_kind(source)
    if feature_kind(target) != kind:
        raise fail(model_type, "type of input feature does not match the output type")
    params = spec.imputer
    imputed = params.WhichOneof("ImputedValue")
    replace = params.WhichOneof("ReplaceValue")
    if imputed is None:
        raise fail(model_type, "Imputer parameter must be set (ImputedValue is empty)")
    compatible = {
        "imputedDoubleValue": (("doubleType", "multiArrayType"), "replaceDoubleValue"),
        "imputedDoubleArray": (("multiArrayType",), "replaceDoubleValue"),
        "imputedInt64Value": (("int64Type",), "replaceInt64Value"),
        "imputedStringValue": (("stringType",), "replaceStringValue"),
    }
    if imputed not in compatible:
        raise fail(model_type, f"{imputed} is not supported; supported: {SUPPORTED}")
    kinds, replace_field = compatible[imputed]
    if kind not in kinds:
        raise fail(model_type, f"input {source.name!r} ({kind}) is not compatible with {imputed}")
    if replace is not None and replace != replace_field:
        raise fail(model_type, f"{replace} is not compatible with {imputed} (needs {replace_field})")
    if replace is None and replace_field != "replaceDoubleValue":
        raise fail(model_type, f"ReplaceValue is unset for {imputed}: undocumented, not supported")
    if kind == "multiArrayType":
        width = multiarray_width(source)
        if len(source.type.multiArrayType.shape) != 1 or list(target.type.multiArrayType.shape) != [width]:
            raise fail(model_type, "MultiArray input and output must be rank 1 with the same length")
    if imputed == "imputedDoubleArray":
        fill: Any = np.array(params.imputedDoubleArray.vector, dtype=np.float64)
        if fill.size != multiarray_width(source):
            raise fail(model_type, "shape of imputed array value does not match shape of input array")
    else:
        fill = getattr(params, imputed)
    missing: Any = getattr(params, replace) if replace is not None else float("nan")

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        x = np.asarray(env[source.name])
        nan_marker = isinstance(missing, float) and np.isnan(missing)
        hit = np.isnan(x.astype(np.float64)) if nan_marker else x == missing
        filled = np.broadcast_to(fill, x.shape) if isinstance(fill, np.ndarray) else fill
        return {target.name: np.where(hit, filled, x).astype(x.dtype)}

    return evaluate
