"""ONNX writer options and result types: what `export.to_onnx.to_onnx` takes and returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import onnx

from export.errors import UsageError

InputDtype = Literal["float32", "float64"]
Route = Literal["ir", "skl2onnx"]

# Opsets written by each route. The IR route needs ai.onnx.ml 5 for the `TreeEnsemble` operator (double splits and
# leaf weights, output type = input type). onnxruntime's kernel is PR #22333, still in review on 2024-11-05, after the
# 1.20.0 release (2024-11-01): so the device runtime must be >= 1.21 (verified here on 1.32). ai.onnx 21 is the
# opset paired with ai.onnx.ml 5 in onnx 1.16.
IR_ROUTE_OPSET: dict[str, int] = {"": 21, "ai.onnx.ml": 5}
# skl2onnx route: ai.onnx 17 and ai.onnx.ml 3 run on every onnxruntime >= 1.16 (the first runtime that reads .ort
# format v6), including the full mobile packages; ml 3 is also what skl2onnx needs for IsolationForest.
SKL2ONNX_ROUTE_OPSET: dict[str, int] = {"": 17, "ai.onnx.ml": 3}


@dataclass(frozen=True)
class OnnxOptions:
    """How the ONNX graph looks from the app beyond its inputs (the model's `ir.Schema` decides those; a numeric
    schema is one tensor named `input_name`): the contract dtype and named outputs."""

    input_dtype: InputDtype = "float64"
    input_name: str = "input"
    metadata: Mapping[str, str] = field(default_factory=dict)
    label_name: str = "classLabel"
    probability_name: str = "classProbability"
    prediction_name: str = "prediction"
    transformed_name: str = "transformed_features"

    def __post_init__(self) -> None:
        if self.input_dtype not in ("float32", "float64"):
            raise UsageError(f"OnnxOptions.input_dtype={self.input_dtype!r}; allowed: 'float32', 'float64'")
        if not self.input_name:
            raise UsageError("OnnxOptions.input_name is empty; give the graph input a name")
        names = (self.input_name, self.label_name, self.probability_name, self.prediction_name,
                 self.transformed_name)
        if len(set(names)) != len(names):
            raise UsageError(f"OnnxOptions input/output names must be distinct, got {names}")

    @property
    def onnx_elem_type(self) -> int:
        return onnx.TensorProto.FLOAT if self.input_dtype == "float32" else onnx.TensorProto.DOUBLE


@dataclass(frozen=True)
class OnnxExport:
    """A finished ONNX model, which route produced it, and the opsets it imports."""

    model: onnx.ModelProto
    route: Route
    target_opset: dict[str, int]
