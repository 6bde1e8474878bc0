"""IR SupportVectorMachine -> standard ONNX operators in double (IR route): kernel matrix, libsvm decision values,
and the `ovo_votes` head (one-vs-one votes, pairwise-coupled probabilities) that `heads.py` calls.

Why not ai.onnx.ml SVMRegressor/SVMClassifier: their attributes (support vectors, coefficients, rho) are float32
and onnxruntime computes them in float (no double SVMRegressor at all), so nothing there can match libsvm's double
arithmetic. Everything here is MatMul/Exp/Tanh/elementwise ops and one Loop, all in double.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from export import ir
from export.to_onnx.graph_builder import GraphBuilder

# libsvm svm_predict_probability clips each pairwise probability into [min_prob, 1 - min_prob].
_MIN_PROBABILITY = 1e-7


def ovo_pairs(n_classes: int) -> list[tuple[int, int]]:
    """libsvm's one-vs-one pair order: (0,1), (0,2), .., (0,K-1), (1,2), ..; `rho`, probA/probB follow it."""
    return [(i, j) for i in range(n_classes) for j in range(i + 1, n_classes)]


def _powi(b: GraphBuilder, base: str, degree: int) -> str:
    """base ** degree by libsvm's own `powi` (square-and-multiply, svm.cpp), unrolled for the fixed degree, so the
    products are the very ones libsvm rounds (ONNX Pow would call the C library's pow instead)."""
    result: str | None = None  # libsvm starts from ret = 1.0; 1.0 * tmp is exact, so the first factor is tmp
    square = base
    times = degree
    while times > 0:
        if times % 2 == 1:
            result = square if result is None else b.op("Mul", [result, square], "powi_product")
        times //= 2
        if times > 0:
            square = b.op("Mul", [square, square], "powi_square")
    if result is None:  # degree 0: libsvm's powi returns 1.0 for any base
        return b.op("Expand", [b.const("one", np.array(1.0)), b.op("Shape", [base], "kernel_shape")], "kernel_ones")
    return result


def _kernel_matrix(b: GraphBuilder, x: str, node: ir.SupportVectorMachine) -> str:
    """K [N, n_sv] with K[n, s] = kernel(x_n, sv_s), libsvm's k_function (svm.cpp, dense representation)."""
    sv = node.support_vectors
    if node.kernel == "rbf":
        # Squared distance as |x - c|^2 + |sv - c|^2 - 2 (x - c).(sv - c), c = the support vectors' mean.
        # Trade-off: libsvm sums (x_i - sv_i)^2 directly; the broadcast form of that needs an [N, n_sv, F] double
        # tensor (a 2000-row batch on 500 SVs x 30 features = 240 MB, twice), the expanded form needs only [N, n_sv]
        # and one MatMul. Its rounding error is ~eps * (|x-c|^2 + |sv-c|^2) in the squared distance, i.e. a relative
        # error of ~gamma * eps * |x-c|^2 in K, largest when x ~ sv far from the origin. Centring on c keeps |x-c|^2
        # near the data's own spread. Measured (decision values vs scikit-learn, relative to their scale, unscaled
        # data, gamma=1e-4): breast_cancer direct 2.3e-15 / expanded 2.0e-13 / centred 7.4e-14; wine 4.0e-16 /
        # 5.5e-14 / 8.0e-15; with gamma='scale' all three <= 1.7e-14 — far inside the 1e-10 contract tolerance.
        # Centring costs one rounding per coordinate (x in-graph, the support vectors here at export time).
        centre = sv.mean(axis=0)
        centred_sv = sv - centre
        xc = b.op("Sub", [x, b.const("sv_centre", centre.reshape(1, -1))], "x_centred")
        axes = b.const("axes", np.array([1], dtype=np.int64))
        x_norm = b.op("ReduceSumSquare", [xc, axes], "x_sq_norm", keepdims=1)  # [N, 1]
        sv_norm = b.const("sv_sq_norm", np.einsum("sf,sf->s", centred_sv, centred_sv).reshape(1, -1))
        cross = b.op("MatMul", [xc, b.const("sv_centred_t", np.ascontiguousarray(centred_sv.T))], "x_dot_sv")
        norms = b.op("Add", [x_norm, sv_norm], "sq_norms")
        sq = b.op("Sub", [norms, b.op("Add", [cross, cross], "two_x_dot_sv")], "sq_distance_raw")
        # Rounding can make a true 0 slightly negative: clamp (libsvm's sum of squares is never < 0). A row with
        # |x-c|^2 = inf (|x_i| > ~1e154) has an infinite true distance, but inf - inf would give NaN here.
        sq = b.op("Max", [sq, b.const("zero", np.array([[0.0]]))], "sq_distance_clamped")
        infinite = b.op("IsInf", [x_norm], "x_norm_is_inf")
        sq = b.op("Where", [infinite, b.const("inf", np.array([[np.inf]])), sq], "sq_distance")
        return b.op("Exp", [b.op("Mul", [sq, b.const("neg_gamma", np.array([[-node.gamma]]))], "neg_gamma_sq")],
                    "kernel_rbf")
    dot = b.op("MatMul", [x, b.const("support_vectors_t", np.ascontiguousarray(sv.T))], "x_dot_sv")
    if node.kernel == "linear":
        return dot
    # libsvm: gamma*dot(x,y)+coef0 (two roundings: a Mul then an Add, as here).
    scaled = b.op("Mul", [dot, b.const("gamma", np.array([[node.gamma]]))], "gamma_dot")
    affine = b.op("Add", [scaled, b.const("coef0", np.array([[node.coef0]]))], "gamma_dot_coef0")
    if node.kernel == "poly":
        return _powi(b, affine, node.degree)
    return b.op("Tanh", [affine], "kernel_sigmoid")


def _column_shape(b: GraphBuilder, like: str) -> str:
    """[N, 1] as an int64 shape, N = the batch size of `like` (from its shape, never its values)."""
    rows = b.op("Shape", [like], "batch_size", start=0, end=1)
    return b.op("Concat", [rows, b.const("one_i64", np.array([1], dtype=np.int64))], "column_shape", axis=0)


def _zero_column(b: GraphBuilder, like: str) -> str:
    """A double [N, 1] of zeros (a NaN row of `like` cannot leak into it)."""
    return b.op("ConstantOfShape", [_column_shape(b, like)], "zero_column",
                value=helper.make_tensor("zero", onnx.TensorProto.DOUBLE, [1], [0.0]))


def pair_terms(node: ir.SupportVectorMachine) -> tuple[np.ndarray, np.ndarray]:
    """(index, coefficient), both [n_pairs, L]: row p lists, in libsvm's summation order, the support vectors pair
    p = (i, j) sums over — the class-i ones weighted by dual_coef[j-1], then the class-j ones by dual_coef[i]
    (svm_predict_values) — padded at the end with index n_sv (a zero kernel column) and coefficient 0.
    Regression: one row, every support vector by dual_coef[0]."""
    n_sv = node.support_vectors.shape[0]
    if not node.is_classifier:
        return np.arange(n_sv, dtype=np.int64).reshape(1, -1), node.dual_coef[:1].copy()
    starts = np.concatenate([[0], np.cumsum(node.n_support)])
    pairs = ovo_pairs(node.n_classes)
    width = max(int(node.n_support[i] + node.n_support[j]) for i, j in pairs)
    index = np.full((len(pairs), width), n_sv, dtype=np.int64)
    coefficient = np.zeros((len(pairs), width))
    for p, (i, j) in enumerate(pairs):  # K(K-1)/2 row fills at export time, not a per-row loop
        members = np.concatenate([np.arange(starts[i], starts[i + 1]), np.arange(starts[j], starts[j + 1])])
        index[p, :members.size] = members
        coefficient[p, :members.size] = np.concatenate([node.dual_coef[j - 1, starts[i]:starts[i + 1]],
                                                        node.dual_coef[i, starts[j]:starts[j + 1]]])
    return index, coefficient


def _libsvm_ordered_sums(b: GraphBuilder, kernel: str, node: ir.SupportVectorMachine) -> str:
    """[N, n_pairs] (regression: [N, 1]) sums_p = sum over pair p's support vectors of coefficient * K, added one
    term after another in libsvm's order, minus rho.

    Why not one MatMul: at inputs like 1e30 in one feature the terms are ~1e28 each and cancel (a feature constant
    over the support vectors has sum_s coef_s sv_s = 0 exactly, since sum_s y_s alpha_s = 0), so the decision value is
    pure rounding noise whose sign is the label; only libsvm's own summation order reproduces it. onnxruntime's CumSum
    is a sequential running sum (checked against a Python loop in tests/test_to_onnx_svm.py), so CumSum over the
    [N, n_pairs, L] products, last element, is libsvm's `sum += coef[k] * kvalue[k]` exactly. Cost: that tensor is
    N x n_pairs x L doubles (L = the largest two-class support vector count; L = n_sv for regression and binary)."""
    index, coefficient = pair_terms(node)
    n_sv = node.support_vectors.shape[0]
    n_rows = index.shape[0]
    if n_rows == 1 and np.array_equal(index[0], np.arange(n_sv)):
        # Regression and binary classification: every support vector in stored order; no gather needed.
        products = b.op("Mul", [kernel, b.const("sv_coefficients", coefficient)], "weighted_kernel")
        axis = 1
    else:
        padded = b.op("Concat", [kernel, _zero_column(b, kernel)], "kernel_padded", axis=1)
        gathered = b.op("Gather", [padded, b.const("pair_sv_index", index)], "pair_kernel", axis=1)  # [N, P, L]
        products = b.op("Mul", [gathered, b.const("pair_coefficients", coefficient[None, :, :])], "weighted_kernel")
        axis = 2
    running = b.op("CumSum", [products, b.const("sum_axis", np.array(axis, dtype=np.int64))], "running_sum")
    last = b.op("Gather", [running, b.const("last", np.array(index.shape[1] - 1, dtype=np.int64))], "kernel_sums",
                axis=axis)  # [N] or [N, P]
    if axis == 1:
        last = b.op("Unsqueeze", [last, b.const("axes", np.array([1], dtype=np.int64))], "kernel_sums_col")
    hint = "ovo_decision" if node.is_classifier else "svr_prediction"
    return b.op("Sub", [last, b.const("rho", node.rho.reshape(1, -1))], hint)


def _platt_pairwise(b: GraphBuilder, decision: str, node: ir.SupportVectorMachine) -> str:
    """r_p = P(i | i or j) for each pair, libsvm's sigmoid_predict then the [1e-7, 1-1e-7] clip."""
    f_a = b.op("Mul", [decision, b.const("prob_a", node.prob_a.reshape(1, -1))], "platt_fa")
    f_ab = b.op("Add", [f_a, b.const("prob_b", node.prob_b.reshape(1, -1))], "platt_fab")
    one = b.const("one", np.array([[1.0]]))
    # sigmoid_predict: fApB >= 0 ? exp(-fApB)/(1+exp(-fApB)) : 1/(1+exp(fApB)) — two formulas libsvm uses to avoid
    # cancellation; both are built and the same one is selected, so each row gets libsvm's roundings.
    e_neg = b.op("Exp", [b.op("Neg", [f_ab], "platt_neg_fab")], "platt_exp_neg")
    positive_branch = b.op("Div", [e_neg, b.op("Add", [one, e_neg], "platt_one_plus_exp_neg")], "platt_pos")
    e_pos = b.op("Exp", [f_ab], "platt_exp")
    negative_branch = b.op("Div", [one, b.op("Add", [one, e_pos], "platt_one_plus_exp")], "platt_neg")
    non_negative = b.op("GreaterOrEqual", [f_ab, b.const("zero", np.array([[0.0]]))], "platt_fab_nonneg")
    sigmoid = b.op("Where", [non_negative, positive_branch, negative_branch], "platt_sigmoid")
    return b.op("Clip", [sigmoid, b.const("min_prob", np.array(_MIN_PROBABILITY)),
                         b.const("max_prob", np.array(1.0 - _MIN_PROBABILITY))], "pairwise_probability")


def emit_support_vector_machine(b: GraphBuilder, x: str, node: ir.SupportVectorMachine) -> tuple[str, int]:
    """Regression: the prediction [N, 1]. Classification: the `ovo_votes` scores — the n_pairs decision values
    f_p in libsvm pair order, followed (with probabilities) by the n_pairs Platt probabilities r_p."""
    kernel = _kernel_matrix(b, x, node)
    sums = _libsvm_ordered_sums(b, kernel, node)
    if not node.is_classifier:
        return sums, 1
    decision = sums
    n_pairs = int(node.rho.size)
    if node.prob_a.size == 0:
        return decision, n_pairs
    pairwise = _platt_pairwise(b, decision, node)
    return b.op("Concat", [decision, pairwise], "ovo_scores", axis=1), 2 * n_pairs


def _pair_class_matrices(n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(n_pairs, K) one-hot rows of each libsvm pair's first class i and second class j."""
    pairs = ovo_pairs(n_classes)
    to_first = np.zeros((len(pairs), n_classes))
    to_second = np.zeros((len(pairs), n_classes))
    for p, (i, j) in enumerate(pairs):
        to_first[p, i] = 1.0
        to_second[p, j] = 1.0
    return to_first, to_second


def emit_ovo_label_index(b: GraphBuilder, decision: str, n_classes: int) -> str:
    """int64 [N]: libsvm's vote — pair (i, j) votes i iff f_p > 0 (else j, NaN included), most votes wins, ties to
    the lowest class index (ArgMax select_last_index=0). Vote counts are small integers, exact in double."""
    to_first, to_second = _pair_class_matrices(n_classes)
    # votes = won @ to_first + (1 - won) @ to_second = won @ (to_first - to_second) + (column sums of to_second)
    won = b.op("Cast", [b.op("Greater", [decision, b.const("zero", np.array([[0.0]]))], "ovo_positive")],
               "ovo_won", to=onnx.TensorProto.DOUBLE)
    swing = b.const("ovo_vote_swing", to_first - to_second)
    base = b.const("ovo_vote_base", to_second.sum(axis=0).reshape(1, -1))
    votes = b.op("Add", [b.op("MatMul", [won, swing], "ovo_vote_swing"), base], "ovo_votes")
    return b.op("ArgMax", [votes], "label_index", axis=1, keepdims=0, select_last_index=0)


def emit_ovr_break_ties_index(b: GraphBuilder, decision: str, n_classes: int) -> str:
    """int64 [N]: SVC(break_ties=True)'s label, the first maximum of `_ovr_decision_function(dec < 0, -dec, K)`:
    pair (i, j) votes i unless f_p < 0 (f_p = 0 votes i, unlike libsvm), Σ_i = Σ of f_p over i's pairs as first
    class minus those as second, score = votes + Σ / (3 (|Σ| + 1)), in scikit-learn's operation order."""
    to_first, to_second = _pair_class_matrices(n_classes)
    swing = b.const("ovr_vote_swing", to_first - to_second)
    first_wins = b.op("Not", [b.op("Less", [decision, b.const("zero", np.array([[0.0]]))], "ovr_second_wins")],
                      "ovr_first_wins")
    won = b.op("Cast", [first_wins], "ovr_won", to=onnx.TensorProto.DOUBLE)
    base = b.const("ovr_vote_base", to_second.sum(axis=0).reshape(1, -1))
    votes = b.op("Add", [b.op("MatMul", [won, swing], "ovr_vote_swing"), base], "ovr_votes")
    confidence = b.op("MatMul", [decision, swing], "ovr_sum_of_confidences")  # +f_p to i, -f_p to j
    scaled = b.op("Mul", [b.const("three", np.array([[3.0]])),
                          b.op("Add", [b.op("Abs", [confidence], "ovr_abs_confidence"),
                                       b.const("one", np.array([[1.0]]))], "ovr_abs_plus_one")], "ovr_denominator")
    transformed = b.op("Div", [confidence, scaled], "ovr_transformed_confidence")
    scores = b.op("Add", [votes, transformed], "ovr_decision")
    return b.op("ArgMax", [scores], "label_index", axis=1, keepdims=0, select_last_index=0)


class _CouplingBuilder(GraphBuilder):
    """Builds the coupling Loop body; a name prefix keeps its names distinct from the outer graph's."""

    def fresh(self, hint: str) -> str:
        return super().fresh(f"coupling_{hint}")


def emit_pairwise_coupling(b: GraphBuilder, pairwise: str, n_classes: int) -> str:
    """[N, K] probabilities from the pairwise r_p by libsvm's `multiclass_probability` (Wu, Lin & Weng 2004,
    method 2), for every K including 2 (scikit-learn's libsvm couples binary models too).

    libsvm iterates each row until max_t |(Qp)_t - p'Qp| < 0.005/K, at most max(100, K) times. Here one ONNX Loop runs
    all rows together: each iteration first evaluates that stopping test from the current p (as libsvm does), rows
    that pass are frozen for good (Where), the others take libsvm's K sequential coordinate updates. The Loop ends
    when no row is active or after max(100, K) iterations, so each row stops at exactly libsvm's iteration.
    """
    k = n_classes
    pairs = ovo_pairs(k)
    n_pairs = len(pairs)
    # R [N, K, K], R[i][j] = r_ij (r_ji = 1 - r_ij, diagonal unused = 0), gathered from [r | 1 - r | 0].
    source = np.full(k * k, 2 * n_pairs, dtype=np.int64)
    for p, (i, j) in enumerate(pairs):
        source[i * k + j] = p
        source[j * k + i] = n_pairs + p
    one = b.const("one", np.array([[1.0]]))
    complement = b.op("Sub", [one, pairwise], "pairwise_complement")
    zero_column = _zero_column(b, pairwise)
    table = b.op("Concat", [pairwise, complement, zero_column], "pairwise_table", axis=1)
    flat = b.op("Gather", [table, b.const("r_source", source)], "r_flat", axis=1)
    r = b.op("Reshape", [flat, b.const("r_shape", np.array([-1, k, k], dtype=np.int64))], "r_matrix")
    r_t = b.op("Transpose", [r], "r_transposed", perm=[0, 2, 1])  # r_t[t][j] = r[j][t]
    # Q[t][t] = sum_{j != t} r[j][t]^2 (the zero diagonal of r adds exact zeros); Q[t][j] = -r[j][t] * r[t][j].
    diag = b.op("ReduceSumSquare", [r_t, b.const("axes", np.array([2], dtype=np.int64))], "q_diagonal", keepdims=0)
    off = b.op("Neg", [b.op("Mul", [r_t, r], "r_products")], "q_off_diagonal")
    eye = b.const("eye", np.eye(k, dtype=bool).reshape(1, k, k))
    q = b.op("Where", [eye, b.op("Unsqueeze", [diag, b.const("axes", np.array([2], dtype=np.int64))], "q_diag_col"),
                       off], "q_matrix")
    # Per-t slices used inside the Loop (outer-scope values): Q[:, t, t] [N, 1] and Q[:, t, :] [N, K].
    q_rows = [b.op("Gather", [q, b.const("t", np.array(t, dtype=np.int64))], f"q_row{t}", axis=1) for t in range(k)]
    q_diag_t = [b.op("Gather", [q_rows[t], b.const("t", np.array([t], dtype=np.int64))], f"q_diag{t}", axis=1)
                for t in range(k)]

    # Initial p = 1/K per class (libsvm p[t] = 1.0/k); every row active.
    p_init = b.op("Add", [zero_column, b.const("p_uniform", np.full((1, k), 1.0 / k))], "p_init")
    active_init = b.op("ConstantOfShape", [_column_shape(b, pairwise)], "active_init",
                       value=helper.make_tensor("true", onnx.TensorProto.BOOL, [1], [True]))

    body = _CouplingBuilder()
    p_in, active_in = body.fresh("p_in"), body.fresh("active_in")
    axes1 = body.const("axes", np.array([1], dtype=np.int64))
    # Stopping test on the current p: Qp_t = sum_j Q[t][j] p_j, pQp = sum_t p_t Qp_t.
    qp = body.op("ReduceSum", [body.op("Mul", [q, body.op("Unsqueeze", [p_in, axes1], "p_row")], "q_times_p"),
                               body.const("axes", np.array([2], dtype=np.int64))], "qp", keepdims=0)
    pqp = body.op("ReduceSum", [body.op("Mul", [p_in, qp], "p_times_qp"), axes1], "pqp", keepdims=1)
    max_error = body.op("ReduceMax", [body.op("Abs", [body.op("Sub", [qp, pqp], "qp_minus_pqp")], "error"), axes1],
                        "max_error", keepdims=1)
    converged = body.op("Less", [max_error, body.const("eps", np.array([[0.005 / k]]))], "converged")
    active = body.op("And", [active_in, body.op("Not", [converged], "not_converged")], "active")
    one_b = body.const("one", np.array([[1.0]]))
    probs = p_in
    for t in range(k):  # libsvm's inner `for (t = 0; t < k; t++)` coordinate updates, in order
        t_index = body.const("t", np.array([t], dtype=np.int64))
        qp_t = body.op("Gather", [qp, t_index], "qp_t", axis=1)
        diff = body.op("Div", [body.op("Sub", [pqp, qp_t], "pqp_minus_qp_t"), q_diag_t[t]], "diff")
        one_plus = body.op("Add", [one_b, diff], "one_plus_diff")
        # p[t] += diff (only column t), then every p[j] /= (1 + diff)
        probs = body.op("Add", [probs, body.op("Mul", [diff, body.const("unit", np.eye(k)[t].reshape(1, k))],
                                       "diff_at_t")], "p_plus_diff")
        # pQp = (pQp + diff*(diff*Q[t][t] + 2*Qp[t])) / (1+diff) / (1+diff)
        inner = body.op("Add", [body.op("Mul", [diff, q_diag_t[t]], "diff_qtt"),
                                body.op("Add", [qp_t, qp_t], "two_qp_t")], "pqp_inner")
        pqp = body.op("Add", [pqp, body.op("Mul", [diff, inner], "diff_inner")], "pqp_num")
        pqp = body.op("Div", [body.op("Div", [pqp, one_plus], "pqp_div1"), one_plus], "pqp_next")
        # Qp[j] = (Qp[j] + diff*Q[t][j]) / (1+diff)
        qp = body.op("Div", [body.op("Add", [qp, body.op("Mul", [diff, q_rows[t]], "diff_q_row")], "qp_num"),
                             one_plus], "qp_next")
        probs = body.op("Div", [probs, one_plus], "p_next")
    p_out = body.op("Where", [active, probs, p_in], "p_out")
    any_active = body.op("ReduceMax", [body.op("Cast", [active], "active_double", to=onnx.TensorProto.DOUBLE)],
                         "any_active_value", keepdims=0)
    cond_out = body.op("Greater", [any_active, body.const("zero", np.array(0.0))], "cond_out")
    iteration, cond_in = body.fresh("iteration"), body.fresh("cond_in")
    body_graph = helper.make_graph(
        body.nodes, "multiclass_probability",
        [helper.make_tensor_value_info(iteration, onnx.TensorProto.INT64, []),
         helper.make_tensor_value_info(cond_in, onnx.TensorProto.BOOL, []),
         helper.make_tensor_value_info(p_in, onnx.TensorProto.DOUBLE, None),
         helper.make_tensor_value_info(active_in, onnx.TensorProto.BOOL, None)],
        [helper.make_tensor_value_info(cond_out, onnx.TensorProto.BOOL, []),
         helper.make_tensor_value_info(p_out, onnx.TensorProto.DOUBLE, None),
         helper.make_tensor_value_info(active, onnx.TensorProto.BOOL, None)],
        initializer=body.initializers)
    max_iter = b.const("max_iter", np.array(max(100, k), dtype=np.int64))
    start = b.const("loop_start", np.array(True))
    p_final, active_final = b.fresh("coupled_probability"), b.fresh("coupling_unfinished")
    b.nodes.append(helper.make_node("Loop", [max_iter, start, p_init, active_init], [p_final, active_final],
                                    name=b.fresh("n_Loop"), body=body_graph))
    return p_final
