"""Per-row error bounds: how far a faithful artifact's output may be from the Python model's, from the artifact's
own precision.

The Python model's arithmetic is a `Chain` of steps (built by its reference adapter, parity/references/): affine maps
(scalers, PCA, linear models, network layers), elementwise activations, the logistic/softmax/normalising links, tree
sums. A chain evaluates the model forward in float64 and, alongside, a bound on |Δ| per element, given the artifact's
`Precision` (read from the artifact itself: Core ML NeuralNetwork weights are float32; an ONNX graph with float32
tensors computes in float32; a float32 input under a float64 contract rounds the input):

- affine y = (x - c)·W + b: |Δy| ≤ |Δx|·|W| + (u_w + u_c + γ_m)·S with S = (|x| + |c|)·|W| + |b|, u_w the storage
  unit of the weights, u_c the compute unit (inputs rounded to it), γ_m = m·u/(1 - m·u) for the m nonzero terms
  summed in any order (Higham, Accuracy and Stability, §3.1), u = u_c + 2⁻⁵³ (the Python model's own double rounding);
- activations: |Δf| ≤ max|f'| on [x - Δx, x + Δx]·Δx + (ulps of exp/tanh)·|f|;
- softmax: |Δ log p_i| ≤ Δz_i + max_j Δz_j + u·|z_i - z_max|, plus (K + ulps)·u relative for exp, sum and divide,
  plus the smallest normal number of the compute type absolute (exp underflows there: float32 exp(-104) is 0);
- tree sums: the leaves summed in another order and stored once rounded: (u_w + γ_{T+1})·Σ_t max|leaf_t|, with the
  library's own summation unit (XGBoost sums in float32), then the link (logistic, softmax, exp) on the reference
  output and the library's own output rounding (XGBoost's float32 links, CatBoost's FastExp).

An element fails when |got - expected| > SAFETY × bound (NaN only matches NaN). Outputs without a chain (k-NN,
libsvm probabilities, encoders) keep a fixed tolerance with its reason (parity/tolerances.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

U64 = 2.0**-53  # unit roundoff of IEEE double
U32 = 2.0**-24  # unit roundoff of IEEE single
SAFETY = 2.0  # flag |Δ| > SAFETY × bound: first-order terms and libm ulp counts are not tight to the last bit
TRANSCENDENTAL_ULPS = 4.0  # exp/log/tanh of any libm or ML runtime used here: within 4 ulps (glibc ≤ 1, MLAS ≤ 4)


def underflow(p: Precision) -> float:
    """The absolute error floor of a probability computed at precision `p`: below the smallest normal number of its
    compute/output type, exp() and the final division round to subnormals or flush to 0 (float32 exp(-104) is 0), so
    a relative bound alone would flag p = 1e-79 computed as 0. Every such value is below this floor."""
    single = max(p.compute, p.output) >= U32
    return float(np.finfo(np.float32 if single else np.float64).tiny)


def gamma(m: np.ndarray | float, u: float) -> np.ndarray:
    """Higham's γ_m = m·u / (1 - m·u): the relative error bound of m rounded operations."""
    m = np.asarray(m, dtype=np.float64)
    return m * u / np.maximum(1.0 - m * u, 0.5)


@dataclass(frozen=True)
class Precision:
    """What an artifact stores and computes in, as unit roundoffs (0 = exact)."""

    weights: float  # stored weights/leaves/thresholds
    compute: float  # arithmetic (and the rounding of each step's inputs to it)
    input: float  # the artifact's input rounding under the contract (float32 input, float64 contract: 2⁻²⁴)
    output: float  # the output tensor's rounding
    description: str

    @property
    def unit(self) -> float:
        """Per-operation rounding: the artifact's plus the Python model's own (double)."""
        return self.compute + U64


class Step(Protocol):
    def propagate(self, x: np.ndarray | None, dx: np.ndarray, p: Precision,
                  reference: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        """(values, bound) after this step from (values, bound) before it. `x` is None after a step whose values are
        not recomputed (tree sums): link steps then read the reference output."""


def _magnitude(x: np.ndarray) -> np.ndarray:
    return np.nan_to_num(np.abs(x), nan=0.0, posinf=np.finfo(np.float64).max)


@dataclass
class Elementwise:
    """y = (x - centre) · factor + offset per column (Standard/Robust/MaxAbs/MinMax scalers)."""

    centre: np.ndarray
    factor: np.ndarray
    offset: np.ndarray

    def forward(self, x: np.ndarray) -> np.ndarray:
        return (x - self.centre) * self.factor + self.offset

    def propagate(self, x: np.ndarray | None, dx: np.ndarray, p: Precision,
                  reference: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        assert x is not None
        with np.errstate(over="ignore", invalid="ignore"):
            magnitude = (_magnitude(x) + np.abs(self.centre)) * np.abs(self.factor) + np.abs(self.offset)
            # subtract, multiply/divide (a stored reciprocal is one more rounding: in u_w), add
            dy = dx * np.abs(self.factor) + (p.weights + p.compute + gamma(3, p.unit)) * magnitude
            return self.forward(x), dy

    def inverse(self, y: np.ndarray) -> np.ndarray:
        factor = np.where(self.factor != 0, self.factor, 1.0)
        return (y - self.offset) / factor + self.centre


@dataclass
class Impute:
    """NaN -> statistic per column, then keep some columns (SimpleImputer)."""

    statistics: np.ndarray
    keep: np.ndarray

    def propagate(self, x: np.ndarray | None, dx: np.ndarray, p: Precision,
                  reference: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        assert x is not None
        missing = np.isnan(x)
        y = np.where(missing, self.statistics, x)[:, self.keep]
        dy = np.where(missing, p.weights * np.abs(self.statistics), dx)[:, self.keep]
        return y, dy

    def inverse(self, y: np.ndarray) -> np.ndarray:
        x = np.broadcast_to(np.nan_to_num(self.statistics), (len(y), len(self.statistics))).copy()
        x[:, self.keep] = y
        return x


@dataclass
class Affine:
    """y = (x - centre) @ weight + bias; weight (n_in, n_out) (linear models, PCA, network layers)."""

    weight: np.ndarray
    bias: np.ndarray
    centre: np.ndarray | None = None

    def propagate(self, x: np.ndarray | None, dx: np.ndarray, p: Precision,
                  reference: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        assert x is not None
        centre = np.zeros(self.weight.shape[0]) if self.centre is None else self.centre
        with np.errstate(over="ignore", invalid="ignore"):
            shifted = x - centre
            y = shifted @ self.weight + self.bias
            magnitude = (_magnitude(x) + np.abs(centre)) @ np.abs(self.weight) + np.abs(self.bias)
            # m: the nonzero products per output (exact zeros add exactly), + bias, + centring subtraction
            terms = (np.nan_to_num(shifted, nan=1.0) != 0).astype(np.float64) @ (self.weight != 0) + 2.0
            dy = np.nan_to_num(dx, nan=0.0) @ np.abs(self.weight) + (
                p.weights + p.compute + gamma(terms, p.unit)) * magnitude
        return y, dy

    def isolating_rows(self, max_inputs: int) -> np.ndarray:
        """Rows at this layer's input isolating each coefficient: ±c·e_j (every other input exactly 0, so w_j·x_j
        is the only product besides the bias) with |w_j·c| ≈ 1× and 8× (|b| + 1), plus the origin (the bias
        alone); the centre added back, since (x - centre) is the isolated vector."""
        size = np.abs(self.weight).max(axis=1)
        bias = float(np.abs(self.bias).max()) if np.size(self.bias) else 0.0
        active = np.flatnonzero(size > 0)
        if len(active) > max_inputs:
            active = active[np.linspace(0, len(active) - 1, max_inputs).astype(np.int64)]
        rows = [np.zeros((1, len(size)))]
        for magnitude in (1.0, 8.0):
            for sign in (1.0, -1.0):
                block = np.zeros((len(active), len(size)))
                block[np.arange(len(active)), active] = sign * magnitude * (bias + 1.0) / size[active]
                rows.append(block)
        isolated = np.vstack(rows)
        return isolated if self.centre is None else isolated + self.centre


@dataclass
class KernelExpansion:
    """y = Σ_i α_i K(x, sv_i) + b with an rbf or linear kernel (SVR, NuSVR): dual_coef (n_sv, n_out)."""

    kernel: str
    gamma: float
    support_vectors: np.ndarray
    dual_coef: np.ndarray
    intercept: np.ndarray

    def propagate(self, x: np.ndarray | None, dx: np.ndarray, p: Precision,
                  reference: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        assert x is not None
        sv = self.support_vectors
        d = sv.shape[1]
        ax, asv = _magnitude(x), np.abs(sv)
        with np.errstate(over="ignore", invalid="ignore"):
            cross = ax @ asv.T  # Σ_j |x_j||sv_ij|
            if self.kernel == "linear":
                K = x @ sv.T
                dK = np.nan_to_num(dx) @ asv.T + (p.weights + p.compute + gamma(d, p.unit)) * cross
            else:  # rbf: D = |x - sv|², however expanded or centred; K = exp(-γ D)
                D = np.maximum((x**2).sum(axis=1)[:, None] - 2.0 * (x @ sv.T) + (sv**2).sum(axis=1)[None, :], 0.0)
                spread = (ax**2).sum(axis=1)[:, None] + 2.0 * cross + (asv**2).sum(axis=1)[None, :]
                dD = 2.0 * (np.nan_to_num(dx * ax).sum(axis=1)[:, None] + np.nan_to_num(dx) @ asv.T) + (
                    p.weights + p.compute + gamma(2 * d + 3, p.unit)) * spread
                K = np.exp(-self.gamma * D)
                dK = K * np.expm1(self.gamma * dD + p.unit * self.gamma * D) + (TRANSCENDENTAL_ULPS + 1) * p.unit * K
            y = K @ self.dual_coef + self.intercept
            magnitude = np.abs(K) @ np.abs(self.dual_coef) + np.abs(self.intercept)
            dy = dK @ np.abs(self.dual_coef) + (p.weights + gamma(len(sv) + 1, p.unit)) * magnitude
        return y, dy

    def isolating_rows(self, max_inputs: int) -> np.ndarray:
        """The support vectors themselves: K(sv_i, sv_i) = 1 carries α_i (others decay with distance)."""
        step = max(1, len(self.support_vectors) // max_inputs)
        return np.asarray(self.support_vectors[::step], dtype=np.float64)


@dataclass
class Binarize:
    """y = 1 where x > threshold else 0 (BernoulliNB's `binarize`): exact, except that a row within its input bound
    of the threshold may land on either side (bound 1 there)."""

    threshold: float

    def propagate(self, x: np.ndarray | None, dx: np.ndarray, p: Precision,
                  reference: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        assert x is not None
        with np.errstate(invalid="ignore"):
            crosses = (dx > 0) & (np.abs(x - self.threshold) <= dx)
            return (x > self.threshold).astype(np.float64), crosses.astype(np.float64)


@dataclass
class QuadraticForms:
    """y_k = -0.5 * (Σ_i ((x - means_k) @ transforms_k)_i² + log_det_k) + log_prior_k per class k
    (QuadraticDiscriminantAnalysis). Per class: the projection z = (x - m)·T is an affine map (bound as `Affine`:
    |Δz| ≤ |Δx|·|T| + (u_w + u_c + γ_{n+1})·(|x| + |m|)·|T|), its square adds 2|z||Δz| + Δz² + u·z², the sum of r
    squares γ_r·Σz², and the last add/scale/add γ_3·(0.5·(Σz² + |log_det|) + |log_prior|)."""

    means: np.ndarray  # (K, n)
    transforms: list[np.ndarray]  # (n, r_k) each
    log_det: np.ndarray  # (K,)
    log_prior: np.ndarray  # (K,)

    def propagate(self, x: np.ndarray | None, dx: np.ndarray, p: Precision,
                  reference: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        assert x is not None
        n = x.shape[1]
        ys, dys = [], []
        with np.errstate(over="ignore", invalid="ignore"):
            for mean, transform, log_det, log_prior in zip(self.means, self.transforms, self.log_det,
                                                           self.log_prior, strict=True):
                z = (x - mean) @ transform
                magnitude = (_magnitude(x) + np.abs(mean)) @ np.abs(transform)
                dz = np.nan_to_num(dx, nan=0.0) @ np.abs(transform) + (
                    p.weights + p.compute + gamma(n + 1, p.unit)) * magnitude
                squares = z**2
                norm2 = squares.sum(axis=1)
                d_norm2 = (2.0 * np.abs(z) * dz + dz**2 + p.unit * squares).sum(axis=1) + gamma(
                    transform.shape[1], p.unit) * norm2
                ys.append(-0.5 * (norm2 + log_det) + log_prior)
                dys.append(0.5 * d_norm2 + (p.weights + gamma(3, p.unit)) * (
                    0.5 * (norm2 + abs(log_det)) + abs(log_prior)))
        return np.column_stack(ys), np.column_stack(dys)


@dataclass
class Activation:
    """Hidden-layer activation (scikit-learn MLP names): identity, relu, tanh, logistic; exp (log link). After a tree
    sum (values not recomputed) identity, logistic and exp read the reference output y = f(z) instead."""

    kind: str

    def propagate(self, x: np.ndarray | None, dx: np.ndarray, p: Precision,
                  reference: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        ulps = (TRANSCENDENTAL_ULPS + 2.0) * p.unit
        if x is None:
            return None, self._from_output(dx, p, reference, ulps)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.kind == "identity":
                return x, dx
            if self.kind == "relu":  # Lipschitz 1, exact
                return np.maximum(x, 0.0), dx
            nearest = np.maximum(np.abs(x) - dx, 0.0)  # where |f'| is largest within x ± Δx
            if self.kind == "tanh":
                y = np.tanh(x)
                return y, dx * (1.0 - np.tanh(nearest) ** 2) + ulps * np.abs(y)
            if self.kind == "logistic":
                y = 0.5 * (1.0 + np.tanh(0.5 * x))
                s = 0.5 * (1.0 + np.tanh(0.5 * nearest))
                # + one absolute unit: a runtime's σ may be accurate only absolutely (ONNX Runtime 1.32's double
                # Sigmoid gives 2.22e-16 for σ(-36) = 2.32e-16 and 0 for σ(-40) = 4.2e-18), and σ may underflow
                return y, dx * s * (1.0 - s) + ulps * y + p.unit + underflow(p)
            if self.kind == "exp":
                y = np.exp(x)
                return y, y * np.expm1(dx) + ulps * y
        raise ValueError(f"activation {self.kind!r} has no bound; supported: identity, relu, tanh, logistic, exp")

    def _from_output(self, dz: np.ndarray, p: Precision, reference: np.ndarray | None, ulps: float) -> np.ndarray:
        """|Δy| from |Δz| and the reference y = f(z) itself: f' is y(1 - y) (logistic) or y (exp), and within
        z ± Δz it grows by at most e^Δz (|d log f'/dz| ≤ 1 for both)."""
        assert reference is not None
        y = reference.reshape(dz.shape)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.kind == "identity":
                return dz
            if self.kind == "logistic":
                slope = y * (1.0 - y) * np.exp(np.minimum(dz, 700.0))
                return np.minimum(slope * dz, 1.0) + ulps * np.abs(y) + p.unit + underflow(p)
            if self.kind == "exp":
                return np.abs(y) * np.expm1(dz) + ulps * np.abs(y)
        raise ValueError(f"activation {self.kind!r} after a tree sum has no bound; supported: identity, logistic, exp")


CORRECTLY_ROUNDED_UFUNCS = ("absolute", "negative", "square", "sqrt", "reciprocal", "floor", "ceil", "rint")  # IEEE ops


@dataclass
class Ufunc:
    """y = f(x) elementwise, f the numpy ufunc `name` (FunctionTransformer): the input error moves y by at most
    max |f(x ± Δx) - f(x)| (every supported f is monotone or convex between x and the interval's ends, so the
    ends bound it; a floor/rint jump across an integer shows there too), plus the function's own rounding: one unit
    for IEEE-exact operations, TRANSCENDENTAL_ULPS + 2 for exp/log/tanh/log1p/expm1 (another libm; the ONNX writer's
    log1p/expm1 exact-difference forms add a few)."""

    name: str

    def propagate(self, x: np.ndarray | None, dx: np.ndarray, p: Precision,
                  reference: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        assert x is not None
        f = getattr(np, self.name)
        ulps = (1.0 if self.name in CORRECTLY_ROUNDED_UFUNCS else TRANSCENDENTAL_ULPS + 2.0) * p.unit
        with np.errstate(all="ignore"):
            y = f(x)
            moved = np.where(dx > 0, np.maximum(np.abs(f(x + dx) - y), np.abs(f(x - dx) - y)), 0.0)
            return y, moved + ulps * _magnitude(y)


@dataclass
class PowerMap:
    """PowerTransformer's per-feature maps as scipy computes them (yeo-johnson: expm1(t) / l with
    t = l * log1p(x), mirrored for x < 0 with 2 - l; box-cox: expm1(t) / l with t = l * log(x); the log cases when
    l is 0 (or 2)). The input error moves y by max |f(x ± Δx) - f(x)| (f is monotone); the rounding is the log's
    and expm1's of another libm (TRANSCENDENTAL_ULPS each) plus the divide, where the log's relative error is
    amplified through expm1 by |t|·e^t/|l| (d expm1(t)/dt = e^t): (TRANSCENDENTAL_ULPS + 2)·u·(|y| + |t|·e^t/|l|)."""

    method: str
    lambdas: np.ndarray

    def _apply(self, x: np.ndarray) -> np.ndarray:
        from scipy import special, stats

        columns = [stats.yeojohnson(x[:, j], lam) if self.method == "yeo-johnson" else special.boxcox(x[:, j], lam)
                   for j, lam in enumerate(self.lambdas)]
        return np.column_stack(columns) if columns else np.zeros_like(x)

    def propagate(self, x: np.ndarray | None, dx: np.ndarray, p: Precision,
                  reference: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        assert x is not None
        ulps = (TRANSCENDENTAL_ULPS + 2.0) * p.unit
        lam = self.lambdas[np.newaxis, :]
        with np.errstate(all="ignore"):
            y = self._apply(x)
            moved = np.where(dx > 0, np.maximum(np.abs(self._apply(x + dx) - y), np.abs(self._apply(x - dx) - y)),
                             0.0)
            if self.method == "yeo-johnson":
                power = np.where(x >= 0, lam, 2.0 - lam)
                t = power * np.log1p(np.abs(x))
            else:
                power = np.broadcast_to(lam, x.shape)
                t = power * np.log(x)
            amplified = np.where(power != 0, np.abs(t) * np.exp(t) / np.abs(np.where(power != 0, power, 1.0)), 0.0)
            return y, moved + ulps * (_magnitude(y) + _magnitude(amplified))


@dataclass
class BinaryLogistic:
    """z (n, 1) -> [1 - σ(z), σ(z)] (binary logistic classifiers)."""

    def propagate(self, x: np.ndarray | None, dx: np.ndarray, p: Precision,
                  reference: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        ulps = (TRANSCENDENTAL_ULPS + 2.0) * p.unit
        dz = dx[:, -1]
        if x is not None:
            p1 = 0.5 * (1.0 + np.tanh(0.5 * x[:, -1]))
        else:
            assert reference is not None
            p1 = reference[:, -1]
        with np.errstate(over="ignore", invalid="ignore"):
            # σ' = p(1-p), and |d log σ'/dz| ≤ 1, so max σ' on z ± Δz ≤ σ'(z)·e^Δz
            dp1 = np.minimum(p1 * (1.0 - p1) * dz * np.exp(np.minimum(dz, 700.0)), 1.0) + ulps * p1
        dp = dp1 + p.unit + underflow(p)  # 1 - p1 (or σ(-z)) adds one absolute rounding; σ(z) may underflow
        y = np.column_stack([1.0 - p1, p1])
        return y, np.column_stack([dp, dp])


@dataclass
class Softmax:
    """z (n, K) -> softmax(z) (multinomial logistic regression, MLP, gradient boosting)."""

    def propagate(self, x: np.ndarray | None, dx: np.ndarray, p: Precision,
                  reference: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if x is not None:
                shifted = x - x.max(axis=1, keepdims=True)
                log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            else:
                assert reference is not None
                log_p = np.log(reference)
                shifted = log_p - log_p.max(axis=1, keepdims=True)
            y = np.exp(log_p)
            spread = dx + dx.max(axis=1, keepdims=True) + p.unit * np.abs(shifted)
            spread = np.nan_to_num(spread, nan=0.0)
            width = np.exp(np.minimum(log_p + spread, 0.0)) - np.exp(log_p - spread)
            dy = np.nan_to_num(width, nan=0.0) + (dx.shape[1] + TRANSCENDENTAL_ULPS + 2.0) * p.unit * y
            if dx.shape[1] == 2:
                # Two classes may be computed as [1 - σ(z1 - z0), σ(z1 - z0)] (Core ML's GLMClassifier over the
                # scores, `glm.classifier_on_scores`): the complement carries σ's rounding absolutely.
                dy = dy + (TRANSCENDENTAL_ULPS + 2.0) * p.unit
        return y, np.minimum(dy + underflow(p), 1.0)


@dataclass
class Normalise:
    """y_i / Σ_j y_j per row (one-vs-rest probabilities; all-zero rows become uniform, as scikit-learn does)."""

    def propagate(self, x: np.ndarray | None, dx: np.ndarray, p: Precision,
                  reference: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        assert x is not None
        total = x.sum(axis=1, keepdims=True)
        safe = np.where(total > 0, total, 1.0)
        y = np.where(total > 0, x / safe, 1.0 / x.shape[1])
        with np.errstate(over="ignore", invalid="ignore"):
            dy = (dx + y * dx.sum(axis=1, keepdims=True)) / safe + (x.shape[1] + 2.0) * p.unit * y
        return y, np.where(total > dx.sum(axis=1, keepdims=True), np.minimum(dy, 1.0), 1.0)


@dataclass
class TreeSum:
    """Σ_t leaf_t(x) + offset per output column; values are not recomputed (the link reads the reference).

    `reference_unit` is the unit roundoff the Python model itself sums in: double for scikit-learn, LightGBM and
    CatBoost, float32 for XGBoost (float32 leaves summed in float32 onto a float32 margin start): both sums round
    each of their n_trees + 1 partial sums, so |Δ| ≤ (u_w + γ_{T+1}(u_c + u_ref))·Σ_t max|leaf_t|."""

    leaf_magnitude: np.ndarray  # (n_out,) Σ_t max |leaf value| of tree t in that column, + |offset|
    n_trees: int
    reference_unit: float = U64

    def propagate(self, x: np.ndarray | None, dx: np.ndarray, p: Precision,
                  reference: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        unit = (p.weights + gamma(self.n_trees + 1, p.compute + self.reference_unit)) * self.leaf_magnitude
        return None, np.broadcast_to(unit, (len(dx), len(self.leaf_magnitude))).copy()


@dataclass
class LibraryRounding:
    """The Python model's own rounding of its final output, beyond a double computation: XGBoost's links in float32
    (expf and the division within a few ulps, the float32 result), CatBoost's FastExp.
    |Δy| += relative·|y| + of_last_column·|y[:, -1]| + absolute; the middle term is for [1 - p, p] computed from p,
    where 1 - p inherits p's rounding as an absolute error."""

    relative: float
    absolute: float = 0.0
    of_last_column: float = 0.0

    def propagate(self, x: np.ndarray | None, dx: np.ndarray, p: Precision,
                  reference: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        y = x if x is not None else reference
        assert y is not None
        y = _magnitude(y.reshape(dx.shape))
        return x, dx + self.relative * y + self.of_last_column * y[:, -1:] + self.absolute


@dataclass
class MemberAverage:
    """Σ_i w_i · p_i / divisor over members' outputs (soft voting, bagging, calibration folds): each member's own
    steps run from this step's input (on its `columns`, None = all), its values recomputed or, after a step that
    does not recompute them (tree sums), read from the member itself (`values`: the member's predict_proba).
    Bound: Σ |w_i| Δp_i / divisor, plus the weighted sum's M additions, the division and the stored w_i / divisor
    (writers that fold the weights) relative to Σ |w_i| |p_i| / divisor."""

    members: list[tuple[Any, list[Any], np.ndarray | None]]  # (values(x) -> p, bound steps, columns)
    weights: np.ndarray
    divisor: float

    def propagate(self, x: np.ndarray | None, dx: np.ndarray, p: Precision,
                  reference: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        assert x is not None
        total: np.ndarray | None = None
        bound: np.ndarray | None = None
        magnitude: np.ndarray | None = None
        for (values, steps, columns), weight in zip(self.members, self.weights.tolist(), strict=True):
            xi, dxi = (x, dx) if columns is None else (x[:, columns], dx[:, columns])
            own = np.asarray(values(xi), dtype=np.float64)
            for step in steps:
                xi, dxi = step.propagate(xi, dxi, p, own)
            yi = own if xi is None else xi
            term, term_bound = weight * yi, abs(weight) * dxi
            total = term if total is None else total + term
            bound = term_bound if bound is None else bound + term_bound
            magnitude = np.abs(term) if magnitude is None else magnitude + np.abs(term)
        assert total is not None and bound is not None and magnitude is not None
        scale = abs(self.divisor)
        rounding = (p.weights + gamma(len(self.members) + 2, p.unit)) * magnitude / scale
        return total / self.divisor, bound / scale + rounding


@dataclass
class Chain:
    """The Python model's arithmetic as bound steps; its output is the reference output of `role`."""

    steps: list[Any]
    role: str
    description: str
    notes: list[str] = field(default_factory=list)

    def bound(self, X: np.ndarray, reference: np.ndarray, precision: Precision) -> np.ndarray:
        """Per-element bound on |artifact - Python model| for rows X (contract dtype), shaped like `reference`."""
        x: np.ndarray | None = np.asarray(X, dtype=np.float64)
        assert x is not None
        # (_magnitude is finite, so a zero unit gives exact zeros: skipped, it is two passes over every element)
        dx = precision.input * _magnitude(x) if precision.input else np.zeros_like(x)
        ref2d = np.asarray(reference, dtype=np.float64).reshape(len(X), -1)
        for step in self.steps:
            x, dx = step.propagate(x, dx, precision, ref2d)
        dx = dx.reshape(ref2d.shape)
        if precision.output:
            dx = dx + precision.output * _magnitude(ref2d)
        return np.where(np.isfinite(dx), dx, np.inf)

    @property
    def reads_inputs(self) -> bool:
        """Whether the bound reads the input values: not when the first step is a tree sum (its bound depends on the
        leaves alone), so it holds for rows whose string columns are carried as codes too."""
        return not (self.steps and isinstance(self.steps[0], TreeSum))

    def model_space(self) -> tuple[int, Any] | None:
        """(index of the first weighted step, its weight-holder) reached through invertible steps only."""
        for index, step in enumerate(self.steps):
            if isinstance(step, Affine | KernelExpansion):
                return index, step
            if not isinstance(step, Elementwise | Impute):
                return None
        return None

    def to_raw(self, rows: np.ndarray, upto: int) -> np.ndarray:
        """Map rows given at the input of step `upto` back to raw inputs through the invertible steps before it."""
        for step in reversed(self.steps[:upto]):
            rows = step.inverse(rows)
        return rows


# ----------------------------------------------------------------------------------------------------------------
# Reading an artifact's precision


def artifact_precision(artifact: Any, contract: str) -> Precision:
    """The storage/compute precision of an opened artifact (parity.runtimes.Artifact), read from the file itself."""
    if artifact.kind == "coreml":
        if artifact.float32_weights:
            return Precision(U32, U32, 0.0, U32, "Core ML NeuralNetwork: float32 weights and arithmetic")
        return Precision(U64, U64, 0.0, 0.0, "Core ML models in double (GLM, scaler, tree ensemble, SVM)")
    float32 = _onnx_has_float32(artifact)
    input_rounding = U32 if artifact.dtype == "float32" and contract == "float64" else 0.0
    if float32:
        return Precision(U32, U32, input_rounding, U32, "ONNX graph with float32 tensors: float32 arithmetic")
    return Precision(U64, U64, input_rounding, 0.0, "ONNX graph in double")


def _onnx_has_float32(artifact: Any) -> bool:
    from pathlib import Path

    path = Path(artifact.path)
    if path.suffix.lower() == ".ort":  # a flatbuffer we don't parse: its sibling .onnx, else its tensor types
        path = path.with_suffix(".onnx")
        if not path.is_file():
            return bool(artifact.dtype == "float32")
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    graph = model.graph
    FLOAT = onnx.TensorProto.FLOAT
    if any(v.type.tensor_type.elem_type == FLOAT for v in list(graph.input) + list(graph.output)):
        return True
    if any(t.data_type == FLOAT for t in graph.initializer):
        return True
    for node in graph.node:
        if node.op_type == "Cast" and any(a.name == "to" and a.i == FLOAT for a in node.attribute):
            return True
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR and attribute.t.data_type == FLOAT:
                return True
            if attribute.type == onnx.AttributeProto.FLOATS and attribute.name in ("nodes_values", "target_weights",
                                                                                  "class_weights", "coefficients"):
                return True  # ai.onnx.ml float lists are float32 storage
    return False
