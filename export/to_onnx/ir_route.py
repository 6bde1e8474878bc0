"""IR model -> ONNX graph: the exact route. The schema decides the graph inputs (`one_tensor_input`), every body
step is lowered (nodes listed in `IR_ROUTE_FAMILIES`, computed in double) reading its named input tensors, and the
head is lowered once; a float32 contract input is cast to double first (exact) and outputs are cast back last."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import assert_never

import numpy as np
import onnx
from onnx import helper, numpy_helper

from export import ir
from export.errors import UnsupportedEstimatorError
from export.text.to_onnx_text import TEXT_OPSET, emit_text_features
from export.to_onnx.dict_vectorizer import KEYS_SUFFIX, VALUES_SUFFIX, dictionary_inputs, emit_dict_vectorizer
from export.to_onnx.graph_builder import GraphBuilder, ScopedBuilder
from export.to_onnx.heads import (
    IR_LINKS,
    HeadOutput,
    emit_anomaly,
    emit_classification,
    emit_label_index,
    emit_probabilities,
    emit_regression,
    emit_transformed,
)
from export.to_onnx.neighbors import emit_nearest_neighbors
from export.to_onnx.options import IR_ROUTE_OPSET, OnnxOptions
from export.to_onnx.quantiles import emit_interp, emit_quantile_map
from export.to_onnx.splines import emit_bsplines
from export.to_onnx.svm import emit_support_vector_machine
from export.to_onnx.tree_ensemble import emit_tree_ensemble
from export.to_onnx.unary import emit_power_transform, emit_unary_function

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
    if node.clip is not None:
        # np.clip(x, lo, hi) as two Wheres on strict comparisons: a NaN compares false and stays NaN, as in numpy
        # (ONNX Clip/Min/Max leave NaN handling to the runtime).
        lo, hi = (b.const("clip_bound", np.array([[v]])) for v in node.clip)
        x = b.op("Where", [b.op("Less", [x, lo], "below_range"), lo, x], "clipped_low")
        x = b.op("Where", [b.op("Greater", [x, hi], "above_range"), hi, x], "clipped")
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
    normalized = b.op("Div", [x, safe], "normalized")
    if node.zero_rows == "uniform":  # CalibratedClassifierCV: an all-zero row is the uniform distribution
        normalized = b.op("Where", [zero, b.const("uniform", np.array([[1.0 / node.n_features]])), normalized],
                          "normalized_or_uniform")
    return normalized, node.n_features


def _reads_string_columns(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    raise UnsupportedEstimatorError(f"ONNX IR writer: a {type(node).__name__} reads string columns one by one as a "
                                    "body step of its own, never a numeric vector")


def _one_hot(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.OneHotEncoder)
    # Output column m is [x[:, column[m]] == category[m]]: one Gather and one broadcast Equal for all columns; a
    # value in no category gives all zeros (handle_unknown='ignore'). Categories are int64, exact in double.
    columns = np.concatenate([np.full(c.size, j, dtype=np.int64) for j, c in enumerate(node.categories)])
    categories = np.concatenate([c.astype(np.float64) for c in node.categories]).reshape(1, -1)
    repeated = b.op("Gather", [x, b.const("onehot_columns", columns)], "onehot_inputs", axis=1)
    hits = b.op("Equal", [repeated, b.const("onehot_categories", categories)], "onehot_hits")
    return b.op("Cast", [hits], "onehot", to=onnx.TensorProto.DOUBLE), node.n_outputs


def _bins(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.Bins)
    # Every edge at once: x[:, feature_of_edge] >= edge (one Gather, one broadcast GreaterOrEqual), then the 0/1
    # hits summed per feature by a MatMul with the 0/1 edge-to-feature matrix — sums of small integers, exact.
    features = np.concatenate([np.full(e.size, j, dtype=np.int64) for j, e in enumerate(node.edges)])
    if features.size == 0:  # every feature has one bin: the constant 0 (Mul by 0 would turn inf/NaN into NaN)
        shape = b.op("Shape", [x], "bins_shape")
        return b.op("ConstantOfShape", [shape], "bins", value=numpy_helper.from_array(np.zeros(1))), width
    edges = np.concatenate(node.edges).reshape(1, -1)
    repeated = b.op("Gather", [x, b.const("bins_features", features)], "bins_inputs", axis=1)
    hits = b.op("Cast", [b.op("GreaterOrEqual", [repeated, b.const("bins_edges", edges)], "bins_hits")],
                "bins_hits_double", to=onnx.TensorProto.DOUBLE)
    owner = (features[:, np.newaxis] == np.arange(node.n_features)[np.newaxis, :]).astype(np.float64)
    return b.op("MatMul", [hits, b.const("bins_owner", owner)], "bins"), node.n_features


def _missing_indicator(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.MissingIndicator)
    selected = b.op("Gather", [x, b.const("indicator_features", node.features)], "indicator_inputs", axis=1)
    if np.isnan(node.missing_value):
        missing = b.op("IsNaN", [selected], "is_missing")
    else:
        missing = b.op("Equal", [selected, b.const("missing_value", np.array([[node.missing_value]]))], "is_missing")
    return b.op("Cast", [missing], "missing_indicator", to=onnx.TensorProto.DOUBLE), int(node.features.size)


def _monomials(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.Monomials)
    # Terms level by level (level = number of products): level 0 is the constant 1 and the inputs, each next level
    # one Gather of earlier terms times one Gather of inputs — each term the one rounded product scikit-learn makes.
    n = node.factor.size
    level = np.zeros(n, dtype=np.int64)
    for t in range(n):
        if node.rest[t] >= 0:
            level[t] = level[node.rest[t]] + 1
    order = np.lexsort((np.arange(n), level))  # tensor column -> term
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    first = order[level[order] == 0]
    blocks = []
    if np.any(node.factor[first] < 0):  # the bias: ones of shape [N, 1] (a product with x would make NaN from NaN)
        rows = b.op("Shape", [x], "monomial_rows", start=0, end=1)
        shape = b.op("Concat", [rows, b.const("one_column", np.array([1], dtype=np.int64))], "bias_shape", axis=0)
        blocks.append(b.op("ConstantOfShape", [shape], "bias", value=numpy_helper.from_array(np.ones(1))))
    inputs = node.factor[first][node.factor[first] >= 0]
    if inputs.size:
        blocks.append(b.op("Gather", [x, b.const("monomial_inputs", inputs)], "degree_one", axis=1))
    terms = blocks[0] if len(blocks) == 1 else b.op("Concat", blocks, "monomials_0", axis=1)
    for depth in range(1, int(level.max()) + 1):
        at = order[level[order] == depth]
        earlier = b.op("Gather", [terms, b.const("monomial_rest", position[node.rest[at]])], "monomial_rest", axis=1)
        factors = b.op("Gather", [x, b.const("monomial_factor", node.factor[at])], "monomial_factor", axis=1)
        products = b.op("Mul", [earlier, factors], "monomial_products")
        terms = b.op("Concat", [terms, products], f"monomials_{depth}", axis=1)
    out = b.op("Gather", [terms, b.const("monomial_outputs", position[node.outputs])], "monomials", axis=1)
    return out, int(node.outputs.size)


def _unary_function(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.UnaryFunction)
    return emit_unary_function(b, x, node.function), node.n_features


def _power_transform(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.PowerTransform)
    return emit_power_transform(b, x, node), node.n_features


def _bsplines(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.BSplines)
    return emit_bsplines(b, x, node), node.n_outputs


def _quantile_map(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.QuantileMap)
    return emit_quantile_map(b, x, node), node.n_features


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
    parts = [emit_node(b, x, width, part) for part in node.parts]
    if len(parts) == 1:
        return parts[0]
    return b.op("Concat", [name for name, _ in parts], "concat", axis=1), sum(w for _, w in parts)


def _pipeline(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.Pipeline)
    for step in node.steps:
        x, width = emit_node(b, x, width, step)
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


def _gaussian_naive_bayes(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.GaussianNaiveBayes)
    # scikit-learn's operations in its order: ((x - theta) ** 2) / var summed over features, times 0.5, subtracted
    # from the per-class constant, plus log prior — one [N, K, n] broadcast instead of its loop over classes.
    rows = b.op("Unsqueeze", [x, b.const("axes", np.array([1], dtype=np.int64))], "nb_rows")  # [N, 1, n]
    centred = b.op("Sub", [rows, b.const("nb_theta", node.theta)], "nb_centred")  # [N, K, n]
    squared = b.op("Mul", [centred, centred], "nb_squared")
    scaled = b.op("Div", [squared, b.const("nb_var", node.var)], "nb_scaled")
    total = b.op("ReduceSum", [scaled, b.const("axes", np.array([2], dtype=np.int64))], "nb_sum", keepdims=0)
    half = b.op("Mul", [b.const("half", np.array([[0.5]])), total], "nb_half_sum")
    n_ij = b.op("Sub", [b.const("nb_log_normaliser", node.log_normaliser.reshape(1, -1)), half], "nb_n_ij")
    jll = b.op("Add", [b.const("nb_log_prior", node.log_prior.reshape(1, -1)), n_ij], "nb_joint_log_likelihood")
    return jll, node.n_classes


def _nearest_neighbors(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.NearestNeighbors)
    return emit_nearest_neighbors(b, x, node)


def _quadratic_discriminant(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.QuadraticDiscriminant)
    # scikit-learn's operations in its order, per class: X2 = (x - means_k) @ transforms_k, norm2_k = sum(X2 ** 2);
    # then -0.5 * (norm2 + log_det) + log_prior over the [N, K] block.
    axes = b.const("axes", np.array([1], dtype=np.int64))
    norms = []
    for k, transform in enumerate(node.transforms):
        centred = b.op("Sub", [x, b.const("qda_mean", node.means[k].reshape(1, -1))], "qda_centred")
        projected = b.op("MatMul", [centred, b.const("qda_transform", transform)], "qda_projected")
        squared = b.op("Mul", [projected, projected], "qda_squared")
        norms.append(b.op("ReduceSum", [squared, axes], f"qda_norm2_{k}", keepdims=1))
    norm2 = b.op("Concat", norms, "qda_norm2", axis=1)
    total = b.op("Add", [norm2, b.const("qda_log_det", node.log_det.reshape(1, -1))], "qda_norm2_log_det")
    half = b.op("Mul", [b.const("minus_half", np.array([[-0.5]])), total], "qda_half")
    scores = b.op("Add", [half, b.const("qda_log_prior", node.log_prior.reshape(1, -1))], "qda_scores")
    return scores, node.n_classes


def _piecewise_linear(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.PiecewiseLinear)
    # np.interp per column (emit_interp: numpy's binary-search interval, knot and end rules, Mul then Add); NaN stays
    # NaN. Columns have their own knot counts, so one [N, 1] interpolation each.
    columns = []
    for j, (knots_x, knots_y) in enumerate(zip(node.knots_x, node.knots_y, strict=True)):
        xj = b.op("Gather", [x, b.const("column", np.array([j], dtype=np.int64))], "interp_x", axis=1)  # [N, 1]
        value = emit_interp(b, xj, knots_x[:, np.newaxis], knots_y[:, np.newaxis])
        columns.append(b.op("Where", [b.op("IsNaN", [xj], "interp_nan"), xj, value], "interp_column"))
    out = columns[0] if len(columns) == 1 else b.op("Concat", columns, "interp_columns", axis=1)
    return out, node.n_features


def _classifier_output(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.ClassifierOutput)
    scores, n_scores = emit_node(b, x, width, node.member)
    k = node.n_classes
    if node.output == "probabilities":
        return emit_probabilities(b, scores, n_scores, node.rule), k
    index = b.op("Unsqueeze", [emit_label_index(b, scores, n_scores, node.rule),
                               b.const("axes", np.array([1], dtype=np.int64))], "label_column")  # [N, 1]
    hits = b.op("Equal", [index, b.const("class_indices", np.arange(k, dtype=np.int64).reshape(1, -1))], "vote")
    return b.op("Cast", [hits], "votes", to=onnx.TensorProto.DOUBLE), k


def _average(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.Average)
    # numpy's order: each block times its weight, summed block by block in order, then one division.
    total = None
    for i, weight in enumerate(node.weights.tolist()):
        block = b.op("Gather", [x, b.const("block", np.arange(i * node.width, (i + 1) * node.width,
                                                             dtype=np.int64))], "block", axis=1)
        if weight != 1.0:
            block = b.op("Mul", [block, b.const("weight", np.array([[weight]]))], "weighted")
        total = block if total is None else b.op("Add", [total, block], "block_sum")
    assert total is not None
    if node.divisor != 1.0:
        total = b.op("Div", [total, b.const("divisor", np.array([[node.divisor]]))], "average")
    return total, node.width


def _one_vs_one_decision(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    assert isinstance(node, ir.OneVsOneDecision)
    k, n_pairs = node.n_classes, node.n_pairs
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    predictions = b.op("Gather", [x, b.const("predictions", np.arange(n_pairs, dtype=np.int64))], "pair_predictions",
                       axis=1)
    # votes: pair p adds 1 to its first class where prediction 0, to its second where 1 (small integers: exact)
    first, second = np.zeros((n_pairs, k)), np.zeros((n_pairs, k))
    for p, (i, j) in enumerate(pairs):
        first[p, i], second[p, j] = 1.0, 1.0
    won_second = b.op("MatMul", [predictions, b.const("second_votes", second - first)], "second_votes")
    votes = b.op("Add", [won_second, b.const("first_votes", first.sum(axis=0).reshape(1, -1))], "ovo_votes")
    # sums of confidences, one class at a time, pair by pair in scikit-learn's order
    sums = []
    for c in range(k):
        total = None
        for p, (i, j) in enumerate(pairs):
            if c not in (i, j):
                continue
            confidence = b.op("Gather", [x, b.const("confidence", np.array([n_pairs + p], dtype=np.int64))],
                              "confidence", axis=1)
            if total is None:
                total = confidence if c == j else b.op("Neg", [confidence], "negated_confidence")
            else:
                total = b.op("Add" if c == j else "Sub", [total, confidence], "confidence_sum")
        assert total is not None
        sums.append(total)
    s = b.op("Concat", sums, "sum_of_confidences", axis=1)
    denominator = b.op("Mul", [b.const("three", np.array([[3.0]])),
                               b.op("Add", [b.op("Abs", [s], "abs_confidences"), b.const("one", np.array([[1.0]]))],
                                    "abs_plus_one")], "confidence_denominator")
    transformed = b.op("Div", [s, denominator], "transformed_confidences")
    return b.op("Add", [votes, transformed], "ovo_decision"), k


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
    ir.GaussianNaiveBayes: IrFamily(_gaussian_naive_bayes, "Unsqueeze + Sub + Mul + Div + ReduceSum (double)"),
    ir.NearestNeighbors: IrFamily(_nearest_neighbors, "Sub + Mul/Abs/Pow + ReduceSum/ReduceMax distances, TopK "
                                                      "(ties: lower index), Div/IsInf/Where weights, Gather + "
                                                      "ReduceSum votes or targets (double)"),
    ir.QuadraticDiscriminant: IrFamily(_quadratic_discriminant, "per class Sub + MatMul + Mul + ReduceSum, then "
                                                                "Concat + Add + Mul (double)"),
    ir.Scaler: IrFamily(_scaler, "Sub + Div, or Mul + Add (double); clip: Less/Greater + Where"),
    ir.Bins: IrFamily(_bins, "Gather + GreaterOrEqual + Cast + MatMul (0/1 counts)"),
    ir.MissingIndicator: IrFamily(_missing_indicator, "Gather + IsNaN/Equal + Cast"),
    ir.UnaryFunction: IrFamily(_unary_function, "Abs/Neg/Mul/Sqrt/Reciprocal/Exp/Log/Tanh/Floor/Ceil/Round; log1p "
                                                "and expm1 in Goldberg's/Kahan's exact-difference forms (double)"),
    ir.PowerTransform: IrFamily(_power_transform, "log1p/expm1 forms (Yeo-Johnson), Log + expm1 form (Box-Cox), "
                                                  "Where per sign and lambda case (double)"),
    ir.BSplines: IrFamily(_bsplines, "GreaterOrEqual interval counts + Gather of knots, de Boor's recursion "
                                      "(Div/Mul/Add/Where), extrapolation Wheres, periodic Mod (double)"),
    ir.QuantileMap: IrFamily(_quantile_map, "GreaterOrEqual counts + Gather of knots/slopes, Mul/Add (numpy's "
                                            "np.interp); normal: Cephes ndtri (Log, Sqrt, Horner) + Where clips"),
    ir.Monomials: IrFamily(_monomials, "Gather + Mul per degree, Concat (double; scikit-learn's product order)"),
    ir.Imputer: IrFamily(_imputer, "IsNaN/Equal + Where"),
    ir.Normalizer: IrFamily(_normalizer, "ReduceSumSquare/ReduceL1/ReduceMax + Div"),
    ir.OneHotEncoder: IrFamily(_one_hot, "Gather + Equal + Cast (integer categories only)"),
    ir.CategoryLookup: IrFamily(_reads_string_columns, "LabelEncoder (string -> row index) + Gather of the rows"),
    ir.TextVectorizer: IrFamily(_reads_string_columns, "com.microsoft Tokenizer + ai.onnx.ml LabelEncoder (CPython's "
                                                       "case/accent tables) + TfIdfVectorizer (TF) or MurmurHash3 + "
                                                       "ScatterElements, one row per Loop iteration"),
    ir.DictVectorizer: IrFamily(_reads_string_columns, "two [N, K] inputs (keys, values): ai.onnx.ml LabelEncoder "
                                                       "(key -> column) + Equal + Where + ReduceSum (double)"),
    ir.Linear: IrFamily(_linear, "Gemm (double)"),
    ir.ColumnSelect: IrFamily(_column_select, "Gather"),
    ir.Concat: IrFamily(_concat, "Concat"),
    ir.Pipeline: IrFamily(_pipeline, "(its steps, in order)"),
    ir.PiecewiseLinear: IrFamily(_piecewise_linear, "GreaterOrEqual + ReduceSum (interval) + Gather + Mul/Add + Where "
                                                    "(np.interp's branches, double)"),
    ir.ClassifierOutput: IrFamily(_classifier_output, "(the member) + its head's probabilities, or Equal + Cast "
                                                      "(one-hot label)"),
    ir.OneVsOneDecision: IrFamily(_one_vs_one_decision, "MatMul votes + Gather/Add/Sub confidence sums in pair order "
                                                        "+ Abs/Add/Mul/Div (double)"),
    ir.Average: IrFamily(_average, "Gather + Mul + Add block by block + Div (numpy's order, double)"),
}


def emit_node(b: GraphBuilder, x: str, width: int, node: ir.Node) -> tuple[str, int]:
    family = IR_ROUTE_FAMILIES.get(type(node))
    if family is None:
        raise UnsupportedEstimatorError(f"ONNX IR writer: no encoding for IR node {type(node).__name__}; supported: "
                                        f"{', '.join(t.__name__ for t in IR_ROUTE_FAMILIES)}")
    return family.emit(b, x, width, node)


def ir_route_blocker(model: ir.Model) -> str | None:
    """Why `model` cannot take the IR route (None when it can): an uncovered node type, head or link."""
    for part in model.nodes():
        if type(part) not in IR_ROUTE_FAMILIES:
            return f"IR node {type(part).__name__} has no IR-route encoding"
    for step in model.body:
        if isinstance(step.node, ir.OneHotEncoder) and not model.reads_columns_one_by_one(step) and any(
                c.dtype == object for c in step.node.categories):
            return "OneHotEncoder with string categories reads a numeric vector (it must read string columns)"
    head = model.head
    if isinstance(head, ir.MultiOutput):
        return "MultiOutput heads have no IR-route encoding yet"
    if isinstance(head, ir.Classification):
        if head.link not in IR_LINKS:
            return f"classification link {head.link!r} has no IR-route encoding"
        final = ir.final_producer(model.output.node)
        if (head.link == "ovo_votes") != isinstance(final, ir.SupportVectorMachine):
            # The ovo_votes head reads libsvm's pairwise decision values, which only the SVM emitter produces.
            return (f"classification link {head.link!r} on a {type(final).__name__} (ovo_votes is "
                    "SupportVectorMachine's)")
    return None


def one_tensor_input(schema: ir.Schema) -> bool:
    """The ONNX input layout, decided here only: a schema of doubles is one [N, n] tensor of the contract dtype
    (numpy-fitted blocks and numeric DataFrames alike: what ONNX apps feed and the parity runtime feeds today, feature
    names in the metadata); a schema with a string or int64 column has one [N, 1] input per column, typed by its
    kind (string tensors for string columns)."""
    return schema.all_double


def _graph_inputs(b: GraphBuilder, schema: ir.Schema, options: OnnxOptions) -> tuple[list[onnx.ValueInfoProto],
                                                                                     dict[str, str]]:
    """The graph inputs and, per schema column, the tensor that holds it inside the graph (doubles as double)."""
    if one_tensor_input(schema):
        x = options.input_name
        info = [helper.make_tensor_value_info(x, options.onnx_elem_type, ["N", schema.n_values])]
        if options.input_dtype == "float32":
            # Why a Cast and not float splits: the float32 contract's reference is scikit-learn on double(v) for the
            # float32 v the app feeds. Cast(float -> double) is exact (every float32 is a double), so the double
            # graph sees exactly double(v); that graph computes the IR on any double input, and the IR is exact for
            # any double input (the front-end snapped thresholds for scikit-learn's float32 comparison, HGB compares
            # doubles). Hence routing is exactly the reference's; the only float32 rounding is the final Cast.
            x = b.op("Cast", [x], "input_double", to=onnx.TensorProto.DOUBLE)
        if schema.is_block:
            return info, {schema.columns[0].name: x}
        return info, _ColumnsOfOneTensor(b, x, schema)
    info, tensors = [], {}
    for column in schema.columns:
        if column.kind == "dictionary":  # two [N, K] inputs: keys and values (export/to_onnx/dict_vectorizer.py)
            info += dictionary_inputs(column.input_name, options.onnx_elem_type)
            values = column.input_name + VALUES_SUFFIX
            if options.input_dtype == "float32":
                values = b.op("Cast", [values], "dict_values_double", to=onnx.TensorProto.DOUBLE)  # exact, see above
            tensors[column.name] = column.input_name + KEYS_SUFFIX
            tensors[_values_key(column.name)] = values
            continue
        elem = {"string": onnx.TensorProto.STRING, "int64": onnx.TensorProto.INT64,
                "double": options.onnx_elem_type}[column.kind]
        info.append(helper.make_tensor_value_info(column.input_name, elem, ["N", column.n_values]))
        tensor = column.input_name
        if column.kind == "double" and options.input_dtype == "float32":
            tensor = b.op("Cast", [tensor], "column_double", to=onnx.TensorProto.DOUBLE)  # exact, see above
        tensors[column.name] = tensor
    return info, tensors


def _values_key(column: str) -> str:
    """The env key of a dictionary column's values tensor (its keys tensor is the column's own key)."""
    return f"{column}\0values"


_WHOLE_SCHEMA = "\0all columns"  # env key of the one input tensor (no column can be named so: NUL)


class _ColumnsOfOneTensor(dict[str, str]):
    """Named columns held in one [N, n] tensor: a column's own [N, 1] tensor is gathered only when a step reads it
    alone (a model reading every column in order reads the tensor itself, adding no node)."""

    def __init__(self, b: GraphBuilder, x: str, schema: ir.Schema) -> None:
        super().__init__({_WHOLE_SCHEMA: x})
        self._b, self._x, self._index = b, x, {c.name: j for j, c in enumerate(schema.columns)}

    def __missing__(self, name: str) -> str:
        j = self._index[name]
        tensor = self._b.op("Gather", [self._x, self._b.const("column", np.array([j], dtype=np.int64))], "column",
                            axis=1)
        self[name] = tensor
        return tensor


def _numeric_source(b: GraphBuilder, model: ir.Model, step: ir.Step, env: dict[str, str],
                    widths: dict[str, int]) -> tuple[str, int]:
    """The double [N, width] tensor a step reads: its inputs side by side (int64 columns cast to double, exact up
    to 2**53)."""
    if step.inputs == model.inputs.names and _WHOLE_SCHEMA in env:
        return env[_WHOLE_SCHEMA], model.inputs.n_values
    parts = []
    for name in step.inputs:
        tensor = env[name]
        if name in model.inputs.names and model.inputs.column(name).kind == "int64":
            tensor = b.op("Cast", [tensor], "int64_as_double", to=onnx.TensorProto.DOUBLE)
        parts.append(tensor)
    width = sum(widths[name] for name in step.inputs)
    if len(parts) == 1:
        return parts[0], width
    return b.op("Concat", parts, "step_inputs", axis=1), width


def _one_hot_columns(b: GraphBuilder, model: ir.Model, step: ir.Step, env: dict[str, str]) -> tuple[str, int]:
    """A OneHotEncoder reading schema columns one by one: a string column through LabelEncoder (category ->
    its index, unknown -> -1) then Equal against 0..k-1; an int64 or double column by Equal against its categories.
    A value in no category gives zeros (scikit-learn's handle_unknown='ignore')."""
    assert isinstance(step.node, ir.OneHotEncoder)
    blocks = []
    for name, categories in zip(step.inputs, step.node.categories, strict=True):
        tensor = env[name]
        if categories.dtype == object:
            index = b.op("LabelEncoder", [tensor], "category_index", domain="ai.onnx.ml",
                         keys_strings=[str(c) for c in categories.tolist()],
                         values_int64s=list(range(categories.size)), default_int64=-1)
            targets = b.const("category_positions", np.arange(categories.size, dtype=np.int64).reshape(1, -1))
            hits = b.op("Equal", [index, targets], "onehot_hits")
        elif model.inputs.column(name).kind == "int64":
            hits = b.op("Equal", [tensor, b.const("onehot_categories", categories.astype(np.int64).reshape(1, -1))],
                        "onehot_hits")
        else:
            hits = b.op("Equal", [tensor, b.const("onehot_categories",
                                                  categories.astype(np.float64).reshape(1, -1))], "onehot_hits")
        blocks.append(b.op("Cast", [hits], "onehot", to=onnx.TensorProto.DOUBLE))
    out = blocks[0] if len(blocks) == 1 else b.op("Concat", blocks, "onehot_columns", axis=1)
    return out, step.node.n_outputs


def _category_lookup(b: GraphBuilder, step: ir.Step, env: dict[str, str]) -> tuple[str, int]:
    """Per string column: LabelEncoder (ai.onnx.ml, keys_strings -> row index 0..n-1, anything else -> n, the
    default row) then Gather of that row from the constant table [values; default] — a copy, so NaN codes,
    encodings and one-hot rows come out bit for bit. Key matching is byte-exact: apps and parity feed
    NFC-normalised strings, and the keys are NFC (checked by the front-end)."""
    node = step.node
    assert isinstance(node, ir.CategoryLookup)
    blocks = []
    for name, keys, values, default in zip(step.inputs, node.keys, node.values, node.default, strict=True):
        table = np.vstack([values, default[np.newaxis, :]])
        hot = _one_hot_positions(table)
        if hot is not None:
            # One-hot rows (OneHotEncoder): LabelEncoder to the position of each row's 1 (-1: all zeros), then
            # Equal against 0..width-1 and Cast — exactly 1.0 / +0.0, in O(n_keys) bytes instead of an
            # n_keys x width table.
            index = b.op("LabelEncoder", [env[name]], "category_position", domain="ai.onnx.ml",
                         keys_strings=[str(k) for k in keys.tolist()], values_int64s=hot[:-1].tolist(),
                         default_int64=int(hot[-1]))
            positions = b.const("category_positions", np.arange(default.size, dtype=np.int64).reshape(1, -1))
            hits = b.op("Equal", [index, positions], "category_hits")
            blocks.append(b.op("Cast", [hits], "category_block", to=onnx.TensorProto.DOUBLE))
            continue
        index = b.op("LabelEncoder", [env[name]], "category_row", domain="ai.onnx.ml",
                     keys_strings=[str(k) for k in keys.tolist()], values_int64s=list(range(keys.size)),
                     default_int64=int(keys.size))
        rows = b.op("Gather", [b.const("category_table", table), index], "category_rows", axis=0)  # [N, 1, width]
        shape = b.const("category_shape", np.array([-1, default.size], dtype=np.int64))
        blocks.append(b.op("Reshape", [rows, shape], "category_block"))
    out = blocks[0] if len(blocks) == 1 else b.op("Concat", blocks, "category_columns", axis=1)
    return out, node.n_outputs


def _one_hot_positions(table: np.ndarray) -> np.ndarray | None:
    """For a table whose every row is all +0.0 or +0.0 with one 1.0: each row's position of the 1 (-1 for all
    zeros); None for any other table (ordinal codes, target encodings, NaN, -0.0)."""
    ones, zeros = table == 1.0, (table == 0.0) & ~np.signbit(table)
    if not bool(np.all(ones | zeros)) or bool(np.any(ones.sum(axis=1) > 1)):
        return None
    return np.where(ones.any(axis=1), ones.argmax(axis=1), -1).astype(np.int64)


def _emit_body(b: GraphBuilder, model: ir.Model, env: dict[str, str]) -> tuple[str, int]:
    """Every body step, in order, reading the named tensors of `env` (schema columns, then earlier steps); returns
    the last step's tensor and width."""
    widths = {c.name: c.n_values for c in model.inputs.columns}
    for step in model.body:
        if isinstance(step.node, ir.CategoryLookup):
            values, width = _category_lookup(b, step, env)
        elif isinstance(step.node, ir.DictVectorizer):
            values, width = emit_dict_vectorizer(b, env[step.inputs[0]], env[_values_key(step.inputs[0])], step.node)
        elif isinstance(step.node, ir.TextVectorizer):
            documents = b.op("Reshape", [env[step.inputs[0]], b.const("flat", np.array([-1], dtype=np.int64))],
                             "documents")
            values, width = emit_text_features(b, documents, step.node), step.node.n_outputs
        elif model.reads_columns_one_by_one(step):
            values, width = _one_hot_columns(b, model, step, env)
        else:
            x, in_width = _numeric_source(b, model, step, env, widths)
            values, width = emit_node(b, x, in_width, step.node)
        env[step.name], widths[step.name] = values, width
    return values, width


def _emit_body_per_row(b: GraphBuilder, model: ir.Model, env: dict[str, str]) -> tuple[str, int]:
    """The body inside a Loop over rows, its last vectors stacked: for models with a text column.

    Why: the string stages pad every row to the batch's longest document (code points, then tokens), so one long
    document in a batch would cost N x its length; per row, each costs its own length. The dense [1, V] counts
    (V = 2**20 for a default HashingVectorizer) meet the following steps inside the loop, so only the last
    step's [1, width] row is stacked."""
    rows = b.op("Shape", [env[model.inputs.columns[0].name]], "n_rows", start=0, end=1)
    trip_count = b.op("Reshape", [rows, b.const("scalar", np.array([], dtype=np.int64))], "trip_count")
    body = ScopedBuilder("row")
    index, cond = body.fresh("index"), body.fresh("cond")
    at = body.op("Unsqueeze", [index, body.const("axis", np.array([0], dtype=np.int64))], "at")
    after = body.op("Add", [at, body.const("one", np.array([1], dtype=np.int64))], "after")
    row_env = {column.name: body.op("Slice", [env[column.name], at, after], "row_column")
               for column in model.inputs.columns}
    values, width = _emit_body(body, model, row_env)
    keep_going = body.op("Identity", [cond], "keep_going")
    row_values = body.op("Identity", [values], "row_values")
    graph_body = helper.make_graph(
        body.nodes, "row",
        [helper.make_tensor_value_info(index, onnx.TensorProto.INT64, []),
         helper.make_tensor_value_info(cond, onnx.TensorProto.BOOL, [])],
        [helper.make_tensor_value_info(keep_going, onnx.TensorProto.BOOL, []),
         helper.make_tensor_value_info(row_values, onnx.TensorProto.DOUBLE, [1, width])],
        initializer=body.initializers)
    stacked = b.op("Loop", [trip_count, b.const("true", np.array(True))], "stacked_rows", body=graph_body)
    return b.op("Reshape", [stacked, b.const("rows_by_width", np.array([-1, width], dtype=np.int64))],
                "row_outputs"), width


def build_ir_model(model: ir.Model, options: OnnxOptions) -> tuple[onnx.ModelProto, list[HeadOutput]]:
    """The ONNX model computing `model` on the contract input; metadata is added by the caller."""
    blocker = ir_route_blocker(model)
    if blocker is not None:
        raise UnsupportedEstimatorError(f"ONNX IR writer: {blocker}; supported IR nodes: "
                                        f"{', '.join(t.__name__ for t in IR_ROUTE_FAMILIES)}; links: "
                                        f"{', '.join(IR_LINKS)}")
    b = GraphBuilder()
    inputs, env = _graph_inputs(b, model.inputs, options)
    text = bool(model.text_columns())
    values, width = _emit_body_per_row(b, model, env) if text else _emit_body(b, model, env)
    heads = emit_head(b, model.head, values, width, options)
    outputs = [helper.make_tensor_value_info(h.name, h.elem_type, list(h.shape)) for h in heads]
    graph = helper.make_graph(b.nodes, "mlexport", inputs, outputs, initializer=b.initializers)
    opset = IR_ROUTE_OPSET | TEXT_OPSET if text else IR_ROUTE_OPSET
    opsets = [helper.make_opsetid(domain, version) for domain, version in opset.items()]
    onnx_model = helper.make_model(graph, opset_imports=opsets,
                                   ir_version=helper.find_min_ir_version_for(opsets, ignore_unknown=True))
    return onnx_model, heads


def emit_head(b: GraphBuilder, head: ir.Head, values: str, width: int, options: OnnxOptions) -> list[HeadOutput]:
    """The head, lowered once for every producer."""
    match head:
        case ir.Classification():
            return emit_classification(b, values, width, head, options)
        case ir.Regression():
            if width != head.n_targets:
                raise UnsupportedEstimatorError(f"ONNX IR writer: model has {width} outputs for {head.n_targets} "
                                                "targets")
            return emit_regression(b, values, head, options)
        case ir.Anomaly():
            return emit_anomaly(b, values, head, options)
        case ir.Transformed():
            return emit_transformed(b, values, width, options)
        case ir.MultiOutput():
            raise UnsupportedEstimatorError("ONNX IR writer: MultiOutput heads are not supported yet")
        case _:
            assert_never(head)
