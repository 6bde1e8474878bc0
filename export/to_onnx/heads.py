"""Model scores -> the contract's outputs: scikit-learn's link (probabilities) and label rule, built in-graph.

The scores arrive as a double [N, n_scores] tensor; probabilities and predictions are computed in double and cast
to the contract dtype at the very end, labels are gathered from a constant tensor of the task's labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx

from export import ir
from export.errors import UnsupportedEstimatorError
from export.to_onnx.graph_builder import GraphBuilder
from export.to_onnx.options import OnnxOptions
from export.to_onnx.svm import emit_ovo_label_index, emit_ovr_break_ties_index, emit_pairwise_coupling

# Links this writer turns into graph nodes; neighbour_votes (labels-only k-NN IR, Core ML's own vote) goes through
# skl2onnx: the k-NN front-end emits identity over the vote fractions (export/to_onnx/neighbors.py).
# ovo_votes (libsvm): the scores are the K(K-1)/2 pairwise decision values f_p in libsvm pair order, followed, when
# the task has probabilities, by the K(K-1)/2 Platt pairwise probabilities r_p (export/to_onnx/svm.py).
IR_LINKS = ("identity", "logistic", "softmax", "ovr_logistic", "none", "ovo_votes")


@dataclass(frozen=True)
class HeadOutput:
    """One graph output: its name, element type, shape and its role in `mlexport.output_roles`."""

    name: str
    elem_type: int
    shape: tuple[str | int, ...]
    role: str


def _to_contract_dtype(builder: GraphBuilder, value: str, options: OnnxOptions, output: str) -> str:
    if options.input_dtype == "float32":
        return builder.op("Cast", [value], output=output, to=onnx.TensorProto.FLOAT)
    return builder.identity(value, output)


def _binary_columns(builder: GraphBuilder, p: str) -> str:
    """[1 - p, p]: scikit-learn builds the negative-class column the same way (predict_proba of binary models)."""
    one = builder.const("one", np.array([[1.0]]))
    return builder.op("Concat", [builder.op("Sub", [one, p], "p_negative"), p], "binary_proba", axis=1)


def _label_index(builder: GraphBuilder, scores: str, n_scores: int, cut: float) -> str:
    """int64 [N] class index: binary -> 1 iff score > cut (ties to class 0, as argmax over [1-p, p] does);
    K columns -> first maximum (ArgMax select_last_index=0, numpy argmax's rule)."""
    if n_scores == 1:
        above = builder.op("Greater", [scores, builder.const("cut", np.array([[cut]]))], "above_cut")
        flat = builder.op("Reshape", [above, builder.const("flat_shape", np.array([-1], dtype=np.int64))], "above")
        return builder.op("Cast", [flat], "label_index", to=onnx.TensorProto.INT64)
    return builder.op("ArgMax", [scores], "label_index", axis=1, keepdims=0, select_last_index=0)


def _emit_label(builder: GraphBuilder, index: str, task: ir.Classification, options: OnnxOptions) -> HeadOutput:
    """The label output: the task's labels gathered at the int64 [N] class index."""
    labels = task.labels
    label_const = builder.const("class_labels", labels if task.string_labels else labels.astype(np.int64))
    builder.op("Gather", [label_const, index], output=options.label_name, axis=0)
    label_type = onnx.TensorProto.STRING if task.string_labels else onnx.TensorProto.INT64
    return HeadOutput(options.label_name, label_type, ("N",), "label")


def _ovo_parts(builder: GraphBuilder, scores: str, n_scores: int, task: ir.Classification) -> tuple[str, str | None]:
    """libsvm's scores split into (pairwise decision values, Platt pairwise probabilities or None)."""
    k = task.n_classes
    n_pairs = k * (k - 1) // 2
    expected = 2 * n_pairs if task.has_proba else n_pairs
    if n_scores != expected:
        raise UnsupportedEstimatorError(f"ONNX IR writer: {n_scores} score columns for {k} classes with link "
                                        f"'ovo_votes'; expected {expected}")
    if not task.has_proba:
        return scores, None
    axes = builder.const("axes", np.array([1], dtype=np.int64))
    middle = builder.const("n_pairs", np.array([n_pairs], dtype=np.int64))
    decision = builder.op("Slice", [scores, builder.const("start", np.array([0], dtype=np.int64)), middle, axes],
                          "ovo_decision_values")
    pairwise = builder.op("Slice", [scores, middle, builder.const("end", np.array([2 * n_pairs], dtype=np.int64)),
                                    axes], "ovo_pairwise_probability")
    return decision, pairwise


def _checked_link(n_scores: int, task: ir.Classification) -> ir.Link:
    """The task's link after checking the score width (a binary one-vs-rest is the plain logistic)."""
    link = task.link
    if link not in IR_LINKS:
        raise UnsupportedEstimatorError(f"ONNX IR writer: classification link {link!r} is not supported; "
                                        f"supported links: {', '.join(IR_LINKS)}")
    k = task.n_classes
    expected = 1 if (k == 2 and n_scores == 1) else k
    if link != "ovo_votes" and n_scores != expected:
        raise UnsupportedEstimatorError(f"ONNX IR writer: {n_scores} score columns for {k} classes with link "
                                        f"{link!r}; expected {expected}")
    if link == "ovr_logistic" and n_scores == 1:
        return "logistic"  # scikit-learn's binary one-vs-rest is the plain sigmoid of the one decision value
    return link


def emit_label_index(builder: GraphBuilder, scores: str, n_scores: int, task: ir.Classification) -> str:
    """int64 [N] index into task.labels: scikit-learn's label rule for the task's link, or the first maximum of
    the probabilities (`label_from='probabilities'`)."""
    link = _checked_link(n_scores, task)
    if task.label_from == "probabilities":
        return _label_index(builder, emit_probabilities(builder, scores, n_scores, task), task.n_classes, 0.0)
    if link == "ovo_votes":
        decision, _ = _ovo_parts(builder, scores, n_scores, task)
        label_index = emit_ovr_break_ties_index if task.break_ties else emit_ovo_label_index
        return label_index(builder, decision, task.n_classes)
    return _label_index(builder, scores, n_scores, 0.5 if link == "identity" else 0.0)


def emit_probabilities(builder: GraphBuilder, scores: str, n_scores: int, task: ir.Classification) -> str:
    """double [N, K] probabilities (scikit-learn's predict_proba) by the task's link; the task has probabilities."""
    link = _checked_link(n_scores, task)
    k = task.n_classes
    if link == "ovo_votes":
        _, pairwise = _ovo_parts(builder, scores, n_scores, task)
        assert pairwise is not None
        return emit_pairwise_coupling(builder, pairwise, k)
    if link == "identity":
        return _binary_columns(builder, scores) if n_scores == 1 else scores
    if link == "logistic":
        return _binary_columns(builder, builder.op("Sigmoid", [scores], "p_positive"))
    if link == "softmax":
        return builder.op("Softmax", [scores], "softmax", axis=1)
    if link != "ovr_logistic":
        raise UnsupportedEstimatorError(f"ONNX IR writer: link {link!r} has no probabilities")
    # ovr_logistic: p_k = sigmoid(z_k) / sum_j sigmoid(z_j) (scikit-learn _predict_proba_lr)
    sig = builder.op("Sigmoid", [scores], "sigmoid")
    axes = builder.const("axes", np.array([1], dtype=np.int64))
    total = builder.op("ReduceSum", [sig, axes], "sigmoid_sum", keepdims=1)
    normalised = builder.op("Div", [sig, total], "ovr_normalised")
    # Rows whose sigmoids all underflow to 0 (every z < ~-745): scikit-learn's rule, not 0/0 = NaN.
    all_zero = builder.op("Equal", [total, builder.const("zero", np.array([[0.0]]))], "ovr_all_zero")
    fallback = builder.const("uniform", np.array([[1.0 / k]])) if task.all_zero == "uniform" else sig
    return builder.op("Where", [all_zero, fallback, normalised], "ovr_proba")


def emit_classification(builder: GraphBuilder, scores: str, n_scores: int, task: ir.Classification,
                        options: OnnxOptions) -> list[HeadOutput]:
    if task.label_from == "probabilities":
        probabilities = emit_probabilities(builder, scores, n_scores, task)
        index = _label_index(builder, probabilities, task.n_classes, 0.0)
        outputs = [_emit_label(builder, index, task, options)]
        _to_contract_dtype(builder, probabilities, options, options.probability_name)
        outputs.append(HeadOutput(options.probability_name, options.onnx_elem_type, ("N", task.n_classes),
                                  "probabilities"))
        return outputs
    outputs = [_emit_label(builder, emit_label_index(builder, scores, n_scores, task), task, options)]
    if not task.has_proba:
        return outputs
    _to_contract_dtype(builder, emit_probabilities(builder, scores, n_scores, task), options,
                       options.probability_name)
    outputs.append(HeadOutput(options.probability_name, options.onnx_elem_type, ("N", task.n_classes),
                              "probabilities"))
    return outputs


_REGRESSION_LINK_OPS = {"exp": "Exp", "logistic": "Sigmoid"}


def emit_expm1(builder: GraphBuilder, x: str) -> str:
    """np.expm1 without an Expm1 operator: u = exp(x); |x| >= 1 -> u - 1 (no cancellation there, overflow to inf
    as numpy's); |x| < 1 -> Kahan's (u - 1) * x / log(u), x itself where u rounds to 1 — a few ulp relative
    everywhere (exp(x) - 1 alone loses every digit near 0; (u - 1) * x for all x would overflow to inf for
    702.9 < x < 709.8, where np.expm1 is finite)."""
    one = builder.const("one", np.array([[1.0]]))
    u = builder.op("Exp", [x], "exp")
    u_minus_one = builder.op("Sub", [u, one], "exp_minus_one")
    ratio = builder.op("Div", [builder.op("Mul", [u_minus_one, x], "expm1_numerator"),
                               builder.op("Log", [u], "log_exp")], "expm1_ratio")
    small = builder.op("Where", [builder.op("Equal", [u, one], "exp_is_one"), x, ratio], "expm1_small")
    near_zero = builder.op("Less", [builder.op("Abs", [x], "abs_score"), one], "near_zero")
    return builder.op("Where", [near_zero, small, u_minus_one], "expm1")


def emit_regression(builder: GraphBuilder, scores: str, task: ir.Regression, options: OnnxOptions) -> list[HeadOutput]:
    """prediction = link(score), in double: identity, Exp, Sigmoid (ONNX's 1/(1+exp(-x))), or expm1."""
    if task.link == "expm1":
        scores = emit_expm1(builder, scores)
    elif task.link != "identity":
        scores = builder.op(_REGRESSION_LINK_OPS[task.link], [scores], f"{task.link}_link")
    _to_contract_dtype(builder, scores, options, options.prediction_name)
    return [HeadOutput(options.prediction_name, options.onnx_elem_type, ("N", task.n_targets), "prediction")]


def emit_anomaly(builder: GraphBuilder, scores: str, task: ir.Anomaly, options: OnnxOptions) -> list[HeadOutput]:
    """The score (scikit-learn's decision_function) and label = 1 (inlier) iff score >= threshold, else -1."""
    if task.score == "isolation":  # -(2 ** -(depths / denominator)) - offset_, numpy's operations in order
        ratio = builder.op("Div", [scores, builder.const("denominator", np.array([[task.denominator]]))], "ratio")
        power = builder.op("Pow", [builder.const("two", np.array([[2.0]])), builder.op("Neg", [ratio], "exponent")],
                           "path_score")
        scores = builder.op("Sub", [builder.op("Neg", [power], "score_samples"),
                                    builder.const("offset", np.array([[task.offset]]))], "decision")
    inlier = builder.op("GreaterOrEqual", [scores, builder.const("threshold", np.array([[task.threshold]]))],
                        "inlier")
    flat = builder.op("Reshape", [inlier, builder.const("flat_shape", np.array([-1], dtype=np.int64))], "inlier_flat")
    builder.op("Where", [flat, builder.const("inlier_label", np.array(1, dtype=np.int64)),
                         builder.const("outlier_label", np.array(-1, dtype=np.int64))], output=options.label_name)
    _to_contract_dtype(builder, scores, options, options.prediction_name)
    return [HeadOutput(options.label_name, onnx.TensorProto.INT64, ("N",), "label"),
            HeadOutput(options.prediction_name, options.onnx_elem_type, ("N", 1), "score")]


def emit_transformed(builder: GraphBuilder, values: str, width: int, options: OnnxOptions) -> list[HeadOutput]:
    _to_contract_dtype(builder, values, options, options.transformed_name)
    return [HeadOutput(options.transformed_name, options.onnx_elem_type, ("N", width), "transformed")]
