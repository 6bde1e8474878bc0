"""IR node -> ONNX graph: the exact route. Every node listed in `IR_ROUTE_FAMILIES` is lowered to ONNX operators
computed in double; a float32 contract input is cast to double first (exact) and outputs are cast back last."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper

from export import ir
from export.errors import UnsupportedEstimatorError
from export.to_onnx.graph_builder import GraphBuilder
from export.to_onnx.heads import IR_LINKS, HeadOutput, emit_classification, emit_regression, emit_transformed
from export.to_onnx.options import IR_ROUTE_OPSET, OnnxOptions
from export.to_onnx.svm import emit_support_vector_machine
from export.to_onnx.tree_ensemble import emit_tree_ensemble

# An emitter reads a double [N, width] tensor and returns (output tensor name, output width).
Emitter = Callable[[GraphBuilder, str, int, "ir.Node"], tuple[str, int]]


def _scaler(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.Scaler)
    # One ONNX operator per scikit-learn in-place step, each a correctly rounded IEEE double operation like numpy's:
    # Sub then Div (StandardScaler / RobustScaler / MaxAbsScaler divide by scale_), or Mul then Add (MinMaxScaler's
    # x * scale_ + min_). Steps that are exact identities for every double (x - (+0.0), x * 1, x / 1) are left out.
    if np.any(node.offset != 0) or np.any(np.signbit(node.offset)):  # x - (-0.0) turns -0.0 into +0.0: keep it
        x = b.op("Sub", [x, b.const("scaler_offset", node.offset.reshape(1, -1))], "scaler_shifted")
    if np.any(node.scale != 1):
        x = b.op("Div" if node.divide else "Mul", [x, b.const("scaler_scale", node.scale.reshape(1, -1))], "scaled")
    if node.bias is not None:
        x = b.op("Add", [x, b.const("scaler_bias", node.bias.reshape(1, -1))], "scaler_biased")
    return x, node.n_features


def _imputer(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.Imputer)
    if np.isnan(node.missing_value):
        missing = b.op("IsNaN", [x], "is_missing")
    else:
        missing = b.op("Equal", [x, b.const("missing_value", np.array([[node.missing_value]]))], "is_missing")
    return b.op("Where", [missing, b.const("impute_fill", node.fill.reshape(1, -1)), x], "imputed"), node.n_features


def _normalizer(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.Normalizer)
    axes = b.const("axes", np.array([1], dtype=np.int64))
    if node.norm == "l2":
        norm = b.op("Sqrt", [b.op("ReduceSumSquare", [x, axes], "sum_squares", keepdims=1)], "l2_norm")
    elif node.norm == "l1":
        norm = b.op("ReduceL1", [x, axes], "l1_norm", keepdims=1)
    else:
        norm = b.op("ReduceMax", [b.op("Abs", [x], "abs"), axes], "max_norm", keepdims=1)
    # scikit-learn's normalize(): rows with a zero norm are divided by 1 (left unchanged).
    zero = b.op("Equal", [norm, b.const("zero", np.array([[0.0]]))], "zero_norm")
    safe = b.op("Where", [zero, b.const("one", np.array([[1.0]])), norm], "safe_norm")
    return b.op("Div", [x, safe], "normalized"), node.n_features


def _one_hot(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.OneHotEncoder)
    # Output column m is [x[:, column[m]] == category[m]]: one Gather and one broadcast Equal for all columns; a
    # value in no category gives all zeros (handle_unknown='ignore'). Categories are int64, exact in double.
    columns = np.concatenate([np.full(c.size, j, dtype=np.int64) for j, c in enumerate(node.categories)])
    categories = np.concatenate([c.astype(np.float64) for c in node.categories]).reshape(1, -1)
    repeated = b.op("Gather", [x, b.const("onehot_columns", columns)], "onehot_inputs", axis=1)
    hits = b.op("Equal", [repeated, b.const("onehot_categories", categories)], "onehot_hits")
    return b.op("Cast", [hits], "onehot", to=onnx.TensorProto.DOUBLE), node.n_outputs


def _linear(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.Linear)
    out = b.op("Gemm", [x, b.const("linear_weights", node.weights), b.const("linear_bias", node.bias)],
               "linear", transB=1)
    return out, int(node.weights.shape[0])


def _column_select(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.ColumnSelect)
    return b.op("Gather", [x, b.const("columns", node.indices)], "selected", axis=1), int(node.indices.size)


def _concat(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.Concat)
    parts = [_emit(b, x, width, part) for part in node.parts]
    if len(parts) == 1:
        return parts[0]
    return b.op("Concat", [name for name, _ in parts], "concat", axis=1), sum(w for _, w in parts)


def _pipeline(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.Pipeline)
    for step in node.steps:
        x, width = _emit(b, x, width, step)
    return x, width


def _tree_ensemble(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.TreeEnsemble)
    return emit_tree_ensemble(b, x, node), node.n_outputs


def _linear_model(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.LinearModel)
    scores = b.op("Gemm", [x, b.const("coef", node.coef), b.const("intercept", node.intercept)], "scores", transB=1)
    return scores, int(node.coef.shape[0])


_ACTIVATIONS = {"relu": "Relu", "tanh": "Tanh", "logistic": "Sigmoid"}


def _neural_network(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.NeuralNetwork)
    for layer in node.layers:
        x = b.op("Gemm", [x, b.const("layer_weights", layer.weights), b.const("layer_bias", layer.bias)],
                 "dense", transB=1)
        if layer.activation != "identity":
            x = b.op(_ACTIVATIONS[layer.activation], [x], layer.activation)
    return x, int(node.layers[-1].weights.shape[0])


def _support_vector_machine(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.SupportVectorMachine)
    return emit_support_vector_machine(b, x, node)


@dataclass(frozen=True)
class IrFamily:
    """One IR node type the exact route writes, and the ONNX operators it becomes."""

    emit: Emitter
    operators: str


IR_ROUTE_FAMILIES: dict[type, IrFamily] = {
    ir.TreeEnsemble: IrFamily(_tree_ensemble, "ai.onnx.ml TreeEnsemble (opset 5, double) + Add; >= 3 whole-row "
                                              "outputs: + Cast, Gather, ReduceSum (leaf-index encoding)"),
    ir.LinearModel: IrFamily(_linear_model, "Gemm (double)"),
    ir.NeuralNetwork: IrFamily(_neural_network, "Gemm + Relu/Tanh/Sigmoid (double)"),
    ir.SupportVectorMachine: IrFamily(_support_vector_machine, "MatMul + Exp/Tanh/Mul kernel, Gather + CumSum "
                                                               "decision sums in libsvm's order; classifiers: vote "
                                                               "MatMul + ArgMax, probabilities: Platt sigmoid + libsvm "
                                                               "coupling Loop (all double)"),
    ir.Scaler: IrFamily(_scaler, "Sub + Div, or Mul + Add (double)"),
    ir.Imputer: IrFamily(_imputer, "IsNaN/Equal + Where"),
    ir.Normalizer: IrFamily(_normalizer, "ReduceSumSquare/ReduceL1/ReduceMax + Div"),
    ir.OneHotEncoder: IrFamily(_one_hot, "Gather + Equal + Cast (integer categories only)"),
    ir.Linear: IrFamily(_linear, "Gemm (double)"),
    ir.ColumnSelect: IrFamily(_column_select, "Gather"),
    ir.Concat: IrFamily(_concat, "Concat"),
    ir.Pipeline: IrFamily(_pipeline, "(its steps, in order)"),
}


def _emit(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    family = IR_ROUTE_FAMILIES.get(type(node))
    if family is None:
        raise UnsupportedEstimatorError(f"ONNX IR writer: no encoding for IR node {type(node).__name__}; supported: "
                                        f"{', '.join(t.__name__ for t in IR_ROUTE_FAMILIES)}")
    return family.emit(b, x, width, node)


def ir_route_blocker(node: ir.Node) -> str | None:
    """Why `node` cannot take the IR route (None when it can): an uncovered node type or classification link."""
    for part in ir.walk(node):
        if type(part) not in IR_ROUTE_FAMILIES:
            return f"IR node {type(part).__name__} has no IR-route encoding"
        if isinstance(part, ir.OneHotEncoder) and any(c.dtype == object for c in part.categories):
            return "OneHotEncoder with string categories cannot read a numeric input tensor"
    task = ir.task_of(node)
    if isinstance(task, ir.Classification) and task.link not in IR_LINKS:
        return f"classification link {task.link!r} has no IR-route encoding"
    final = node.final if isinstance(node, ir.Pipeline) else node
    if isinstance(task, ir.Classification) and (task.link == "ovo_votes") != isinstance(final, ir.SupportVectorMachine):
        # The ovo_votes head reads libsvm's pairwise decision values, which only the SVM emitter produces.
        return f"classification link {task.link!r} on a {type(final).__name__} (ovo_votes is SupportVectorMachine's)"
    return None


def build_ir_model(node: ir.Node, options: OnnxOptions) -> tuple[onnx.ModelProto, list[HeadOutput]]:
    """The ONNX model computing `node` on the contract input; metadata is added by the caller."""
    blocker = ir_route_blocker(node)
    if blocker is not None:
        raise UnsupportedEstimatorError(f"ONNX IR writer: {blocker}; supported IR nodes: "
                                        f"{', '.join(t.__name__ for t in IR_ROUTE_FAMILIES)}; links: "
                                        f"{', '.join(IR_LINKS)}")
    b = GraphBuilder()
    x = options.input_name
    if options.input_dtype == "float32":
        # Why a Cast and not float splits: the float32 contract's reference is scikit-learn on double(v) for the
        # float32 v the app feeds. Cast(float -> double) is exact (every float32 is a double), so the double graph
        # sees exactly double(v); that graph computes the IR on any double input, and the IR is exact for any double
        # input (the front-end snapped thresholds for scikit-learn's float32 comparison, HGB compares doubles).
        # Hence routing is exactly the reference's; the only float32 rounding is the final Cast of the outputs.
        x = b.op("Cast", [x], "input_double", to=onnx.TensorProto.DOUBLE)
    values, width = _emit(b, x, options.n_features, node)
    task = ir.task_of(node)
    if isinstance(task, ir.Classification):
        heads = emit_classification(b, values, width, task, options)
    elif isinstance(task, ir.Regression):
        if width != task.n_targets:
            raise UnsupportedEstimatorError(f"ONNX IR writer: model has {width} outputs for {task.n_targets} targets")
        heads = emit_regression(b, values, task, options)
    else:
        heads = emit_transformed(b, values, width, options)

    inputs = [helper.make_tensor_value_info(options.input_name, options.onnx_elem_type, ["N", options.n_features])]
    outputs = [helper.make_tensor_value_info(h.name, h.elem_type, list(h.shape)) for h in heads]
    graph = helper.make_graph(b.nodes, "mlexport", inputs, outputs, initializer=b.initializers)
    opsets = [helper.make_opsetid(domain, version) for domain, version in IR_ROUTE_OPSET.items()]
    model = helper.make_model(graph, opset_imports=opsets,
                              ir_version=helper.find_min_ir_version_for(opsets, ignore_unknown=True))
    return model, heads
