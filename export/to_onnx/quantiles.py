"""IR QuantileMap → ONNX (double): np.interp in numpy's own operations and order, and scipy's Cephes ndtri
(S. L. Moshier's rational approximations, the algorithm scipy.special.ndtri uses) for the normal output."""

from __future__ import annotations

import numpy as np
import onnx

from export import ir
from export.to_onnx.graph_builder import GraphBuilder

# Cephes ndtri coefficients (ndtri.c: P0/Q0 for |y - 0.5| <= 3/8, P1/Q1 for sqrt(-2 log y) in [2, 8), P2/Q2 beyond);
# Q* omit their leading 1.0 (p1evl).
_P0 = (-5.99633501014107895267E1, 9.80010754185999661536E1, -5.66762857469070293439E1, 1.39312609387279679503E1,
       -1.23916583867381258016E0)
_Q0 = (1.95448858338141759834E0, 4.67627912898881538453E0, 8.63602421390890590575E1, -2.25462687854119370527E2,
       2.00260212380060660359E2, -8.20372256168333339912E1, 1.59056225126211695515E1, -1.18331621121330003142E0)
_P1 = (4.05544892305962419923E0, 3.15251094599893866154E1, 5.71628192246421288162E1, 4.40805073893200834700E1,
       1.46849561928858024014E1, 2.18663306850790267539E0, -1.40256079171354495875E-1, -3.50424626827848203418E-2,
       -8.57456785154685413611E-4)
_Q1 = (1.57799883256466749731E1, 4.53907635128879210584E1, 4.13172038254672030440E1, 1.50425385692907503408E1,
       2.50464946208309415979E0, -1.42182922854787788574E-1, -3.80806407691578277194E-2, -9.33259480895457427372E-4)
_P2 = (3.23774891776946035970E0, 6.91522889068984211695E0, 3.93881025292474443415E0, 1.33303460815807542389E0,
       2.01485389549179081538E-1, 1.23716634817820021358E-2, 3.01581553508235416007E-4, 2.65806974686737550832E-6,
       6.23974539184983293730E-9)
_Q2 = (6.02427039364742014255E0, 3.67983563856160859403E0, 1.37702099489081330271E0, 2.16236993594496635890E-1,
       1.34204006088543189037E-2, 3.28014464682127739104E-4, 2.89247864745380683936E-6, 6.79019408009981274425E-9)
_S2PI = 2.50662827463100050242E0  # sqrt(2 pi)
EXP_MINUS_2 = 0.13533528323661269189  # exp(-2)


def _scalar(b: GraphBuilder, value: float) -> str:
    return b.const("c", np.array([[value]]))


def _horner(b: GraphBuilder, x: str, coefficients: tuple[float, ...], monic: bool) -> str:
    """Cephes polevl (ans = c0; ans = ans * x + c_i) or p1evl (ans = x + c0; ...): one Mul and one Add per step, as
    the C code rounds them (no fused multiply-add)."""
    first, rest = coefficients[0], coefficients[1:]
    ans = b.op("Add", [x, _scalar(b, first)], "p1evl") if monic else _scalar(b, first)
    for c in rest:
        ans = b.op("Add", [b.op("Mul", [ans, x], "horner"), _scalar(b, c)], "horner")
    return ans


def emit_ndtri(b: GraphBuilder, p: str) -> str:
    """Cephes ndtri on p in (0, 1) (the caller replaces p <= 0 and p >= 1)."""
    one, half = _scalar(b, 1.0), _scalar(b, 0.5)
    flip = b.op("Greater", [p, _scalar(b, 1.0 - EXP_MINUS_2)], "ndtri_flip")
    y = b.op("Where", [flip, b.op("Sub", [one, p], "ndtri_complement"), p], "ndtri_y")
    central = b.op("Greater", [y, _scalar(b, EXP_MINUS_2)], "ndtri_central")
    # centre: y -= 0.5; x = (y + y * (y2 * P0(y2) / Q0(y2))) * sqrt(2 pi)
    c = b.op("Sub", [y, half], "ndtri_c")
    c2 = b.op("Mul", [c, c], "ndtri_c2")
    ratio = b.op("Div", [b.op("Mul", [c2, _horner(b, c2, _P0, False)], "ndtri_num"), _horner(b, c2, _Q0, True)],
                 "ndtri_ratio")
    x_central = b.op("Mul", [b.op("Add", [c, b.op("Mul", [c, ratio], "ndtri_cr")], "ndtri_sum"), _scalar(b, _S2PI)],
                     "ndtri_centre")
    # tails: x = sqrt(-2 log y); x0 = x - log(x) / x; z = 1 / x; x1 = z P(z) / Q(z); result x0 - x1, negated unless
    # flipped (y stands in for 1 - p). Central rows take y = 0.5 here so no NaN is computed, then are not selected.
    y_tail = b.op("Where", [central, half, y], "ndtri_y_tail")
    t = b.op("Sqrt", [b.op("Mul", [_scalar(b, -2.0), b.op("Log", [y_tail], "ndtri_log_y")], "ndtri_m2log")],
             "ndtri_t")
    x0 = b.op("Sub", [t, b.op("Div", [b.op("Log", [t], "ndtri_log_t"), t], "ndtri_log_ratio")], "ndtri_x0")
    z = b.op("Div", [one, t], "ndtri_z")
    near = b.op("Div", [b.op("Mul", [z, _horner(b, z, _P1, False)], "ndtri_p1"), _horner(b, z, _Q1, True)], "x1")
    far = b.op("Div", [b.op("Mul", [z, _horner(b, z, _P2, False)], "ndtri_p2"), _horner(b, z, _Q2, True)], "x1")
    x1 = b.op("Where", [b.op("Less", [t, _scalar(b, 8.0)], "ndtri_near"), near, far], "ndtri_x1")
    tail = b.op("Sub", [x0, x1], "ndtri_tail")
    tail = b.op("Where", [flip, tail, b.op("Neg", [tail], "ndtri_neg")], "ndtri_signed")
    return b.op("Where", [central, x_central, tail], "ndtri")


def _interp(b: GraphBuilder, x: str, xp: np.ndarray, fp: np.ndarray) -> str:
    """np.interp(x[:, j], xp[:, j], fp[:, j]) for every feature j at once (numpy's compiled_base.c arr_interp): k =
    the last index with xp[k] <= x (its binary search); below xp[0] fp[0]; from xp[-1] on fp[-1]; x == xp[k] gives
    fp[k]; else slope_k * (x - xp[k]) + fp[k], slope_k = (fp[k+1] - fp[k]) / (xp[k+1] - xp[k]) as numpy
    precomputes it. NaN rows give garbage here; the caller keeps NaN."""
    n_q, n_features = xp.shape
    counts = b.op("ReduceSum", [
        b.op("Cast", [b.op("GreaterOrEqual", [b.op("Unsqueeze", [x, b.const("axes", np.array([2], dtype=np.int64))],
                                                  "interp_x"), b.const("interp_xp", xp.T[np.newaxis])],
                           "interp_ge")], "interp_ge_double", to=onnx.TensorProto.DOUBLE),
        b.const("axes", np.array([2], dtype=np.int64))], "interp_count", keepdims=0)  # [N, F], 0..n_q
    index = b.op("Cast", [counts], "interp_count_int", to=onnx.TensorProto.INT64)
    k = b.op("Clip", [b.op("Sub", [index, b.const("one", np.array(1, dtype=np.int64))], "interp_k"),
                      b.const("lo", np.array(0, dtype=np.int64)), b.const("hi", np.array(n_q - 2, dtype=np.int64))],
             "interp_k_clipped")
    flat = b.op("Add", [k, b.const("feature_offset", (np.arange(n_features, dtype=np.int64) * n_q)[np.newaxis])],
                "interp_flat")
    with np.errstate(divide="ignore", invalid="ignore"):  # zero-width intervals are never selected
        slopes = np.vstack([(fp[1:] - fp[:-1]) / (xp[1:] - xp[:-1]), np.zeros((1, n_features))])
    xp_k = b.op("Gather", [b.const("interp_xp_flat", xp.T.ravel()), flat], "interp_xp_k")
    fp_k = b.op("Gather", [b.const("interp_fp_flat", fp.T.ravel()), flat], "interp_fp_k")
    slope_k = b.op("Gather", [b.const("interp_slopes", slopes.T.ravel()), flat], "interp_slope_k")
    line = b.op("Add", [b.op("Mul", [slope_k, b.op("Sub", [x, xp_k], "interp_dx")], "interp_rise"), fp_k], "line")
    value = b.op("Where", [b.op("Equal", [x, xp_k], "interp_at_knot"), fp_k, line], "interp_inner")
    value = b.op("Where", [b.op("Equal", [counts, b.const("zero", np.array([[0.0]]))], "interp_below"),
                           b.const("interp_left", fp[:1]), value], "interp_left_clamped")
    return b.op("Where", [b.op("Equal", [counts, b.const("n_q", np.array([[float(n_q)]]))], "interp_above"),
                          b.const("interp_right", fp[-1:]), value], "interp")


def emit_quantile_map(b: GraphBuilder, x: str, node: ir.QuantileMap) -> str:
    q = node.quantiles
    r = np.broadcast_to(node.references[:, np.newaxis], q.shape)
    forward = _interp(b, x, q, r)
    backward = _interp(b, b.op("Neg", [x], "minus_x"), -q[::-1], -r[::-1])
    p = b.op("Mul", [_scalar(b, 0.5), b.op("Sub", [forward, backward], "interp_difference")], "quantile_p")
    zero, one = _scalar(b, 0.0), _scalar(b, 1.0)
    low, high = b.const("q_low", q[:1]), b.const("q_high", q[-1:])
    if node.normal_clip is None:
        upper = b.op("Equal", [x, high], "at_upper")
        lower = b.op("Equal", [x, low], "at_lower")
    else:
        threshold = _scalar(b, node.bounds_threshold)
        upper = b.op("Greater", [b.op("Add", [x, threshold], "x_plus"), high], "at_upper")
        lower = b.op("Less", [b.op("Sub", [x, threshold], "x_minus"), low], "at_lower")
    p = b.op("Where", [lower, zero, b.op("Where", [upper, one, p], "upper_set")], "bounded_p")
    if node.normal_clip is not None:
        lo, hi = (_scalar(b, v) for v in node.normal_clip)
        # ndtri(0) = -inf and ndtri(1) = inf are clipped to the bounds; in between, np.clip(ndtri(p), lo, hi)
        inside = b.op("Where", [b.op("Less", [p, one], "below_one"), p, _scalar(b, 0.5)], "p_inside")
        inside = b.op("Where", [b.op("Greater", [inside, zero], "above_zero"), inside, _scalar(b, 0.5)], "p_inside")
        y = emit_ndtri(b, inside)
        y = b.op("Where", [b.op("Less", [y, lo], "y_low"), lo, y], "y_clipped_low")
        y = b.op("Where", [b.op("Greater", [y, hi], "y_high"), hi, y], "y_clipped")
        y = b.op("Where", [b.op("LessOrEqual", [p, zero], "p_zero"), lo, y], "y_at_zero")
        p = b.op("Where", [b.op("GreaterOrEqual", [p, one], "p_one"), hi, y], "y_at_one")
    return b.op("Where", [b.op("IsNaN", [x], "x_nan"), x, p], "quantile")
