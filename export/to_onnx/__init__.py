"""ONNX writer: IR node (exact route) or fitted estimator (skl2onnx route) -> onnx.ModelProto; .onnx and .ort files.

Route choice is data-driven: an IR node whose every part is in `IR_ROUTE_FAMILIES` (and whose link the IR writer
builds) takes the exact "ir" route; anything else goes to skl2onnx, which refuses what it is known to get wrong.
"""

from __future__ import annotations

import onnx

from export import ir
from export.errors import ExportFailedError, UsageError
from export.to_onnx.ir_route import IR_ROUTE_FAMILIES, build_ir_model, ir_route_blocker
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


def route(node: ir.Node | None) -> Route:
    """"ir" when the IR writer covers every part of `node` (see IR_ROUTE_FAMILIES), else "skl2onnx"."""
    return "ir" if node is not None and ir_route_blocker(node) is None else "skl2onnx"


def _input_width(node: ir.Node) -> int | None:
    """Columns the node reads, when the node states it (a pipeline's first step, a concat's first part)."""
    if isinstance(node, ir.Pipeline):
        return _input_width(node.steps[0])
    if isinstance(node, ir.Concat):
        return _input_width(node.parts[0])
    width = getattr(node, "n_features", None)
    return int(width) if width is not None else None


def _class_labels(estimator: object, node: ir.Node | None) -> list[object] | None:
    task = ir.task_of(node) if node is not None else None
    if isinstance(task, ir.Classification):
        return list(task.labels.tolist())
    classes = getattr(final_step(estimator), "classes_", None)
    return None if classes is None else [c.item() if hasattr(c, "item") else c for c in classes]


def to_onnx(estimator: object, node: ir.Node | None, options: OnnxOptions) -> OnnxExport:
    """The ONNX model of `estimator` (exactly `node` when the IR route covers it) under the contract `options`."""
    chosen = route(node)
    if chosen == "ir":
        assert node is not None
        width = _input_width(node)
        if width is not None and width != options.n_features:
            raise UsageError(f"OnnxOptions.n_features={options.n_features} but the model reads {width} features")
        model, heads = build_ir_model(node, options)
        opsets = dict(IR_ROUTE_OPSET)
    else:
        if estimator is None:
            raise UsageError("to_onnx: the skl2onnx route needs the fitted estimator, got None")
        from export.to_onnx.skl2onnx_route import convert_with_skl2onnx  # skl2onnx import is slow; only when used

        model, heads, opsets = convert_with_skl2onnx(estimator, options)
    source_name = type(estimator).__name__ if estimator is not None else type(node).__name__
    apply_metadata(model, options=options, heads=heads, class_labels=_class_labels(estimator, node),
                   route=chosen, opsets=opsets, source_name=source_name)
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as exc:
        raise ExportFailedError(f"ONNX {chosen} route built an invalid model: {str(exc).splitlines()[0]}") from exc
    return OnnxExport(model=model, route=chosen, target_opset=opsets)
