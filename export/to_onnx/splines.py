"""IR BSplines → ONNX (double): scipy's B-spline evaluation (find the knot interval, de Boor's recursion in its order
of operations) and scikit-learn's extrapolation rules, one feature at a time, vectorised over rows."""

from __future__ import annotations

import numpy as np
import onnx

from export import ir
from export.to_onnx.graph_builder import GraphBuilder


def _scalar(b: GraphBuilder, value: float) -> str:
    return b.const("c", np.array([[value]]))


def _periodic(b: GraphBuilder, x: str, t: np.ndarray, k: int, n: int) -> str:
    """x -> t[k] + (x - t[k]) % (t[n] - t[k]) with numpy's remainder (fmod, then + period when the signs differ,
    a zero result +0.0); a zero period maps every x to 0 (scikit-learn)."""
    period = float(t[n] - t[k])
    if not period > 0:
        return b.op("Mul", [x, _scalar(b, 0.0)], "periodic_zero")  # NaN rows stay NaN (zeroed or refused later)
    start = _scalar(b, float(t[k]))
    rest = b.op("Mod", [b.op("Sub", [x, start], "periodic_shift"), _scalar(b, period)], "periodic_fmod", fmod=1)
    zero = _scalar(b, 0.0)
    rest = b.op("Where", [b.op("Less", [rest, zero], "periodic_negative"),
                          b.op("Add", [rest, _scalar(b, period)], "periodic_wrapped"), rest], "periodic_rest")
    rest = b.op("Where", [b.op("Equal", [rest, zero], "periodic_exact"), zero, rest], "periodic_signed_zero")
    return b.op("Add", [start, rest], "periodic_x")


def _basis(b: GraphBuilder, v: str, t: np.ndarray, k: int, n: int, node: ir.BSplines) -> str:
    """[N, n_splines]: scipy's evaluate_spline at v (extrapolating with the end pieces), basis i in column
    basis_column[i] (its 0/1 coefficient matrix)."""
    inner = t[k + 1:n]
    if inner.size:
        hits = b.op("Cast", [b.op("GreaterOrEqual", [v, b.const("spline_inner_knots", inner.reshape(1, -1))],
                                  "spline_hits")], "spline_hits_int", to=onnx.TensorProto.INT64)
        count = b.op("ReduceSum", [hits, b.const("axes", np.array([1], dtype=np.int64))], "spline_count", keepdims=1)
        interval = b.op("Add", [count, b.const("k", np.array([[k]], dtype=np.int64))], "spline_interval")
    else:
        interval = b.op("Add", [b.op("Cast", [b.op("Mul", [v, _scalar(b, 0.0)], "spline_zero")], "spline_zero_int",
                                     to=onnx.TensorProto.INT64), b.const("k", np.array([[k]], dtype=np.int64))],
                        "spline_interval")
    knots = b.const("spline_knots", t) if k > 0 else ""

    def knot(offset: int) -> str:
        index = b.op("Add", [interval, b.const("offset", np.array([[offset]], dtype=np.int64))], "knot_index")
        return b.op("Reshape", [b.op("Gather", [knots, index], "knot"), b.const("shape", np.array([-1, 1]))],
                    "knot_column")

    one, zero = _scalar(b, 1.0), _scalar(b, 0.0)
    h = [b.op("Add", [b.op("Mul", [v, zero], "spline_h0_zero"), one], "spline_h0")]  # 1.0 per row
    h[0] = b.op("Where", [b.op("IsNaN", [v], "spline_nan"), one, h[0]], "spline_h0")  # (NaN rows: any value)
    for degree in range(1, k + 1):
        previous = list(h)
        h = [zero] + [zero] * degree
        for m in range(1, degree + 1):
            xb, xa = knot(m), knot(m - degree)
            same = b.op("Equal", [xb, xa], "spline_same")
            w = b.op("Div", [previous[m - 1], b.op("Sub", [xb, xa], "spline_width")], "spline_w")
            updated = b.op("Add", [h[m - 1], b.op("Mul", [w, b.op("Sub", [xb, v], "spline_right")], "spline_wr")],
                           "spline_update")
            h[m - 1] = b.op("Where", [same, h[m - 1], updated], "spline_h")
            h[m] = b.op("Where", [same, zero, b.op("Mul", [w, b.op("Sub", [v, xa], "spline_left")], "spline_wl")],
                        "spline_h")
    first = b.op("Sub", [interval, b.const("k", np.array([[k]], dtype=np.int64))], "spline_first_basis")
    columns = b.const("spline_columns", np.arange(node.n_splines, dtype=np.int64).reshape(1, -1))
    targets = b.const("spline_basis_column", node.basis_column)
    out = b.op("Mul", [b.op("Cast", [b.op("Equal", [first, columns], "spline_at")], "spline_zeros",
                            to=onnx.TensorProto.DOUBLE), zero], "spline_zeros")
    for a in range(k + 1):
        basis = b.op("Add", [first, b.const("a", np.array([[a]], dtype=np.int64))], "spline_basis")
        column = b.op("Gather", [targets, basis], "spline_column")  # [N, 1]
        out = b.op("Where", [b.op("Equal", [column, columns], "spline_at"), h[a], out], "spline_values")
    return out


def _extrapolated(b: GraphBuilder, x: str, out: str, node: ir.BSplines, j: int) -> str:
    s = node.n_splines
    xmin, xmax = _scalar(b, float(node.lower[j])), _scalar(b, float(node.upper[j]))
    inside = b.op("And", [b.op("LessOrEqual", [xmin, x], "spline_ge_min"),
                          b.op("LessOrEqual", [x, xmax], "spline_le_max")], "spline_inside")
    out = b.op("Where", [inside, out, _scalar(b, 0.0)], "spline_inside_only")
    below = b.op("Less", [x, xmin], "spline_below")
    above = b.op("Greater", [x, xmax], "spline_above")
    count = int(node.n_extrapolated[j])
    if count == 0:
        return out
    first = np.zeros((1, s), dtype=bool)
    first[0, :count] = True
    last = np.zeros((1, s), dtype=bool)
    last[0, s - count:] = True
    f_min, f_max = node.f_min[j].reshape(1, -1), node.f_max[j].reshape(1, -1)
    if node.extrapolation == "constant":
        low, high = b.const("f_min", f_min), b.const("f_max", f_max)
    else:  # f + (x - bound) * slope
        low = b.op("Add", [b.const("f_min", f_min), b.op("Mul", [b.op("Sub", [x, xmin], "spline_dmin"), b.const(
            "slope_min", node.slope_min[j].reshape(1, -1))], "spline_rise_min")], "spline_low")
        high = b.op("Add", [b.const("f_max", f_max), b.op("Mul", [b.op("Sub", [x, xmax], "spline_dmax"), b.const(
            "slope_max", node.slope_max[j].reshape(1, -1))], "spline_rise_max")], "spline_high")
    out = b.op("Where", [b.op("And", [below, b.const("spline_first", first)], "spline_low_cols"), low, out], "sl")
    return b.op("Where", [b.op("And", [above, b.const("spline_last", last)], "spline_high_cols"), high, out], "sh")


def emit_bsplines(b: GraphBuilder, x: str, node: ir.BSplines) -> str:
    blocks = []
    for j, t in enumerate(node.knots):
        k = node.degree
        n = t.size - k - 1
        column = b.op("Gather", [x, b.const("feature", np.array([j], dtype=np.int64))], "spline_input", axis=1)
        v = _periodic(b, column, t, k, n) if node.extrapolation == "periodic" else column
        out = _basis(b, v, t, k, n, node)
        if node.extrapolation in ("constant", "linear"):
            out = _extrapolated(b, column, out, node, j)
        if node.zero_missing:
            out = b.op("Where", [b.op("IsNaN", [column], "spline_missing"), _scalar(b, 0.0), out], "spline_zeroed")
        if not node.include_bias:
            out = b.op("Gather", [out, b.const("kept", np.arange(node.n_splines - 1, dtype=np.int64))], "kept",
                       axis=1)
        blocks.append(out)
    return blocks[0] if len(blocks) == 1 else b.op("Concat", blocks, "splines", axis=1)
