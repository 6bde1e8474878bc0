"""ONNX writer: IR model (exact route) or fitted estimator (skl2onnx route) -> onnx.ModelProto; .onnx and .ort files.

Route choice is data-driven and made in `route` only: a model whose every node is in `IR_ROUTE_FAMILIES` (and
whose head the IR writer builds) takes the exact "ir" route; anything else goes to skl2onnx, which refuses what it
is known to get wrong.
"""

from __future__ import annotations

import onnx

from export import ir
from export.errors import ExportFailedError, UnsupportedEstimatorError, UsageError
from export.to_onnx.ir_route import IR_ROUTE_FAMILIES, build_ir_model, ir_route_blocker, one_tensor_input
from export.to_onnx.metadata import apply_metadata, save_onnx
from export.to_onnx.options import (
    IR_ROUTE_OPSET,
    SKL2ONNX_ROUTE_OPSET,
    InputDtype,
    OnnxExport,
    OnnxOptions,
    Route,
)
from export.to_onnx.ort import to_ort
from parity.sub_estimators import final_step

__all__ = [
    "IR_ROUTE_FAMILIES",
    "IR_ROUTE_OPSET",
    "SKL2ONNX_ROUTE_OPSET",
    "InputDtype",
    "OnnxExport",
    "OnnxOptions",
    "Route",
    "route",
    "save_onnx",
    "to_onnx",
    "to_ort",
]


def route(model: ir.Model | None) -> Route:
    """The ONNX route, chosen here only: "ir" when the IR writer covers every part of `model` (see
    IR_ROUTE_FAMILIES and `ir_route_blocker`), else "skl2onnx"."""
    return "ir" if model is not None and ir_route_blocker(model) is None else "skl2onnx"


def _class_labels(estimator: object, model: ir.Model | None) -> list[object] | None:
    if model is not None:
        return list(model.head.labels.tolist()) if isinstance(model.head, ir.Classification) else None
    classes = getattr(final_step(estimator), "classes_", None)
    return None if classes is None else [c.item() if hasattr(c, "item") else c for c in classes]


def to_onnx(estimator: object, model: ir.Model | None, options: OnnxOptions) -> OnnxExport:
    """The ONNX model of `estimator` (exactly `model` when the IR route covers it) under the contract `options`."""
    chosen = route(model)
    if chosen == "ir":
        assert model is not None
        onnx_model, heads = build_ir_model(model, options)
        opsets = {o.domain: o.version for o in onnx_model.opset_import}  # the text operators add com.microsoft
    else:
        if estimator is None:
            raise UsageError("to_onnx: the skl2onnx route needs the fitted estimator, got None")
        if model is not None and not one_tensor_input(model.inputs):
            raise UnsupportedEstimatorError("the skl2onnx route takes one numeric [N, n_features] tensor; this "
                                            f"model has string/int64 columns ({ir_route_blocker(model)})")
        from export.to_onnx.skl2onnx_route import convert_with_skl2onnx  # skl2onnx import is slow; only when used

        n_features = model.inputs.n_values if model is not None else _fitted_width(estimator)
        onnx_model, heads, opsets = convert_with_skl2onnx(estimator, options, n_features)
    schema = model.inputs if model is not None else ir.Schema.block(_fitted_width(estimator))
    source_name = type(estimator).__name__ if estimator is not None else "model"
    apply_metadata(onnx_model, options=options, schema=schema, heads=heads,
                   class_labels=_class_labels(estimator, model), route=chosen, opsets=opsets,
                   source_name=source_name)
    try:
        # full_check adds strict shape inference, which crashes (SIGSEGV, onnx 1.x) on the text graph's nested
        # Loops over com.microsoft operators; onnxruntime loads and runs the text graph in parity instead
        text = model is not None and bool(model.text_columns())
        onnx.checker.check_model(onnx_model, full_check=not text)
    except onnx.checker.ValidationError as exc:
        raise ExportFailedError(f"ONNX {chosen} route built an invalid model: {str(exc).splitlines()[0]}") from exc
    return OnnxExport(model=onnx_model, route=chosen, target_opset=opsets)


def _fitted_width(estimator: object) -> int:
    n_features = getattr(estimator, "n_features_in_", None)
    if n_features is None:
        raise UsageError(f"{type(estimator).__name__} has no n_features_in_; cannot tell its input width")
    return int(n_features)
