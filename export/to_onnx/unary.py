"""Elementwise numpy functions in ONNX (double): IR UnaryFunction (FunctionTransformer) and PowerTransform
(PowerTransformer's scipy formulas). ONNX has no log1p / expm1; they are built from Log / Exp in forms whose one
subtraction is exact, so they stay within a few ulp of numpy's for every double (measured: log1p ≤ 2, expm1 ≤ 3)."""

from __future__ import annotations

import numpy as np

from export import ir
from export.to_onnx.graph_builder import GraphBuilder
from export.to_onnx.heads import emit_expm1  # one np.expm1 lowering: the regression link's

_OPERATORS = {"abs": "Abs", "negative": "Neg", "sqrt": "Sqrt", "reciprocal": "Reciprocal", "exp": "Exp", "log": "Log",
              "tanh": "Tanh", "floor": "Floor", "ceil": "Ceil", "rint": "Round"}  # Round: half to even, as np.rint


def _scalar(b: GraphBuilder, value: float) -> str:
    return b.const("c", np.array([[value]]))


def emit_log1p(b: GraphBuilder, x: str) -> str:
    """Goldberg's form (What every computer scientist should know about floating-point arithmetic, thm. 4):
    u = 1 + x; log1p(x) = x if u == 1 else log(u) * x / (u - 1) — u - 1 is exact, so the result is a few ulp from
    the true log1p for every x (Log(1 + x) would lose every digit for tiny x); u = inf gives inf."""
    one = _scalar(b, 1.0)
    u = b.op("Add", [x, one], "log1p_u")
    ratio = b.op("Div", [b.op("Mul", [b.op("Log", [u], "log1p_log"), x], "log1p_num"),
                         b.op("Sub", [u, one], "log1p_den")], "log1p_ratio")
    out = b.op("Where", [b.op("Equal", [u, one], "log1p_tiny"), x, ratio], "log1p_small")
    return b.op("Where", [b.op("Equal", [u, _scalar(b, np.inf)], "log1p_inf"), u, out], "log1p")


def emit_unary_function(b: GraphBuilder, x: str, name: ir.UnaryName) -> str:
    if name in _OPERATORS:
        return b.op(_OPERATORS[name], [x], name)
    if name == "square":
        return b.op("Mul", [x, x], "square")  # np.square is x * x, one rounding
    if name == "log1p":
        return emit_log1p(b, x)
    assert name == "expm1"
    return emit_expm1(b, x)


def _row(b: GraphBuilder, values: np.ndarray) -> str:
    return b.const("per_feature", np.asarray(values, dtype=np.float64).reshape(1, -1))


def _mask(b: GraphBuilder, values: np.ndarray) -> str:
    return b.const("per_feature_case", np.asarray(values, dtype=bool).reshape(1, -1))


def emit_power_transform(b: GraphBuilder, x: str, node: ir.PowerTransform) -> str:
    """scipy's formulas with per-feature lambda, every case computed and the feature's case selected (the lambda
    cases are fixed at export, the sign case per value); a divisor that a feature's case never uses is 1."""
    lam = node.lambdas
    if node.method == "yeo-johnson":
        zero_case, two_case = node.yeo_johnson_log_cases()
        positive = b.op("GreaterOrEqual", [x, _scalar(b, 0.0)], "yj_positive")  # NaN: the x < 0 branch, NaN
        up = emit_log1p(b, x)  # x >= 0: log1p(x), or expm1(lmbda * log1p(x)) / lmbda
        up_power = b.op("Div", [emit_expm1(b, b.op("Mul", [_row(b, lam), up], "yj_t")),
                                _row(b, np.where(zero_case, 1.0, lam))], "yj_up_power")
        up = b.op("Where", [_mask(b, zero_case), up, up_power], "yj_up")
        down = emit_log1p(b, b.op("Neg", [x], "yj_minus_x"))  # x < 0: -log1p(-x), or -expm1((2-l) log1p(-x)) / (2-l)
        two_minus = 2.0 - lam
        down_power = b.op("Div", [emit_expm1(b, b.op("Mul", [_row(b, two_minus), down], "yj_s")),
                                  _row(b, np.where(two_case, 1.0, two_minus))], "yj_down_power")
        down = b.op("Neg", [b.op("Where", [_mask(b, two_case), down, down_power], "yj_down_abs")], "yj_down")
        return b.op("Where", [positive, up, down], "yeo_johnson")
    # Box-Cox: |l| < 1e-19: log(x); l log(x) < 709.78: expm1(l log x) / l; else sign(l) exp(l log x - log|l|) - 1/l
    zero_case = node.box_cox_log_case()
    log_x = b.op("Log", [x], "bc_log")
    t = b.op("Mul", [_row(b, lam), log_x], "bc_t")
    safe = np.where(zero_case, 1.0, lam)
    power = b.op("Div", [emit_expm1(b, t), _row(b, safe)], "bc_power")
    with np.errstate(divide="ignore"):
        log_abs, sign, inverse = np.log(np.abs(safe)), np.copysign(1.0, safe), 1.0 / safe
    huge = b.op("Sub", [b.op("Mul", [_row(b, sign), b.op("Exp", [b.op("Sub", [t, _row(b, log_abs)], "bc_shift")],
                                                            "bc_exp")], "bc_signed"), _row(b, inverse)], "bc_huge")
    power = b.op("Where", [b.op("Less", [t, _scalar(b, 709.78)], "bc_small_t"), power, huge], "bc_power_case")
    return b.op("Where", [_mask(b, zero_case), log_x, power], "box_cox")
