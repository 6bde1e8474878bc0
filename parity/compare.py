"""Comparison step of the parity flow: artifact outputs vs the scikit-learn reference, element rule of golden.md."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from parity.tolerances import Tolerance

MAX_FAILING_ROWS_LISTED = 10
JUMP_FRACTION = 1e-3  # |Δ| > 1e-3 × scale is a routing difference (a "jump"), not rounding (onnx-parity.md §6)


def as_2d(values: np.ndarray) -> np.ndarray:
    array = np.asarray(values)
    return array.reshape(len(array), -1) if array.ndim != 2 else array


def element_failures(expected: np.ndarray, got: np.ndarray, tolerance: Tolerance) -> np.ndarray:
    """Boolean mask of failing elements: pass iff both NaN, or got == expected, or (expected finite and
    |g-e| <= atol + rtol*|e|). A non-finite expected value must be matched exactly: with rtol > 0 the bound
    atol + rtol*inf would otherwise accept any got, -inf and finite values included (numpy.isclose's rule too)."""
    expected = np.asarray(expected, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        both_nan = np.isnan(expected) & np.isnan(got)
        equal = got == expected  # covers equal infinities
        close = np.isfinite(expected) & (np.abs(got - expected) <= tolerance.atol + tolerance.rtol * np.abs(expected))
    return ~(both_nan | equal | close)


def output_scale(expected: np.ndarray) -> float:
    """max(1, robust range of the reference output): the 1st-99th percentile spread of its finite values."""
    finite = np.asarray(expected, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 1.0
    low, high = np.percentile(finite, [1.0, 99.0])
    return float(max(1.0, high - low))


def jump_rows(expected: np.ndarray, got: np.ndarray, scale: float) -> np.ndarray:
    """Rows where some element differs by more than JUMP_FRACTION × scale (or only one side is NaN/inf)."""
    expected = as_2d(np.asarray(expected, dtype=np.float64))
    got = as_2d(np.asarray(got, dtype=np.float64))
    with np.errstate(invalid="ignore", over="ignore"):
        delta = np.abs(got - expected)
        mismatched_nonfinite = (np.isnan(expected) != np.isnan(got)) | (
            np.isinf(expected) & np.isinf(got) & (expected != got)
        )
        big = np.where(np.isnan(delta), False, delta > JUMP_FRACTION * scale)
    return np.any(big | mismatched_nonfinite, axis=1)


@dataclass
class OutputComparison:
    """One artifact output compared on one probe set."""

    output: str
    role: str
    n_rows: int
    tolerance: Tolerance | None
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    violations: int = 0
    jumps: int = 0
    label_mismatches: int = 0
    tie_excused: int = 0
    failing_rows: list[int] = field(default_factory=list)
    failing_mask: np.ndarray | None = None
    cause: str | None = None
    # Bounded outputs (parity/bounds.py): worst |Δ| / bound over the rows, the largest bound, and what it assumes
    bound_ratio: float | None = None
    bound_max: float | None = None
    bound_reason: str | None = None
    bound: np.ndarray | None = None  # the per-element bound itself (for the report's plots; not serialised)

    @property
    def passed(self) -> bool:
        return self.violations == 0 and self.label_mismatches == 0


def _errors(expected: np.ndarray, got: np.ndarray) -> tuple[float, float]:
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        delta = np.abs(np.asarray(got, dtype=np.float64) - np.asarray(expected, dtype=np.float64))
        finite = np.isfinite(delta)
        if not finite.any():
            return 0.0, 0.0
        nonzero = finite & (np.asarray(expected, dtype=np.float64) != 0)  # relative error is undefined at 0
        rel = delta[nonzero] / np.abs(np.asarray(expected, dtype=np.float64)[nonzero])
    return float(delta[finite].max()), float(rel.max()) if rel.size else 0.0


def compare_numeric(
    output: str, role: str, expected: np.ndarray, got: np.ndarray, tolerance: Tolerance, scale: float
) -> OutputComparison:
    """Probabilities, predictions, transformed features: element rule per element, row fails if any element fails."""
    expected = as_2d(np.asarray(expected, dtype=np.float64))
    got = as_2d(np.asarray(got, dtype=np.float64))
    result = OutputComparison(output=output, role=role, n_rows=len(expected), tolerance=tolerance)
    if expected.shape != got.shape:
        return _shape_mismatch(result, expected, got)
    failing = np.any(element_failures(expected, got, tolerance), axis=1)
    result.max_abs_error, result.max_rel_error = _errors(expected, got)
    result.violations = int(failing.sum())
    result.jumps = int(jump_rows(expected, got, scale).sum())
    result.failing_mask = failing
    result.failing_rows = np.flatnonzero(failing)[:MAX_FAILING_ROWS_LISTED].tolist()
    return result


def _shape_mismatch(result: OutputComparison, expected: np.ndarray, got: np.ndarray) -> OutputComparison:
    """Every row fails when the artifact's output has another shape than the reference's."""
    result.violations = len(expected)
    result.failing_mask = np.ones(len(expected), dtype=bool)
    result.failing_rows = list(range(min(len(expected), MAX_FAILING_ROWS_LISTED)))
    result.cause = f"shape mismatch: artifact gives {got.shape}, scikit-learn {expected.shape}"
    return result


def compare_bounded(output: str, role: str, expected: np.ndarray, got: np.ndarray, bound: np.ndarray, scale: float,
                    reason: str, safety: float) -> OutputComparison:
    """Element rule against per-element error bounds: pass iff both NaN, or got == expected, or expected finite and
    |got - expected| <= safety × bound. Records the worst |Δ| / bound (inf where the bound is 0 and Δ is not)."""
    expected = as_2d(np.asarray(expected, dtype=np.float64))
    got = as_2d(np.asarray(got, dtype=np.float64))
    result = OutputComparison(output=output, role=role, n_rows=len(expected), tolerance=None, bound_reason=reason)
    if expected.shape != got.shape:
        return _shape_mismatch(result, expected, got)
    bound = np.broadcast_to(np.asarray(bound, dtype=np.float64), expected.shape)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        delta = np.abs(got - expected)
        both_nan = np.isnan(expected) & np.isnan(got)
        equal = got == expected
        within = np.isfinite(expected) & (delta <= safety * bound)
        failing_elements = ~(both_nan | equal | within)
        measured = np.isfinite(expected) & ~equal & ~both_nan
        ratio = np.where(measured, np.where(bound > 0, delta / bound, np.inf), 0.0)
    ratio = np.where(np.isnan(ratio), np.inf, ratio)  # NaN where a finite value was expected
    failing = np.any(failing_elements, axis=1)
    result.max_abs_error, result.max_rel_error = _errors(expected, got)
    result.bound_ratio = float(ratio.max()) if ratio.size else 0.0
    finite_bound = bound[np.isfinite(bound)]
    result.bound_max = float(finite_bound.max()) if finite_bound.size else 0.0
    result.bound = bound
    result.violations = int(failing.sum())
    result.jumps = int(jump_rows(expected, got, scale).sum())
    result.failing_mask = failing
    result.failing_rows = np.flatnonzero(failing)[:MAX_FAILING_ROWS_LISTED].tolist()
    return result


def compare_labels(
    output: str,
    expected: np.ndarray,
    got: np.ndarray,
    class_labels: np.ndarray | None,
    expected_probabilities: np.ndarray | None,
    tie_tolerance: float | np.ndarray,
) -> OutputComparison:
    """Exact labels; a mismatch is excused iff expected_probs[got] >= max(expected_probs) - tie_tolerance (a scalar,
    or one per row: what the probabilities' error bounds allow)."""
    expected = np.asarray(expected).ravel()
    got = np.asarray(got).ravel()
    result = OutputComparison(output=output, role="label", n_rows=len(expected), tolerance=None)
    mismatch = _label_mismatch(expected, got)
    excused = np.zeros_like(mismatch)
    if expected_probabilities is not None and class_labels is not None and mismatch.any():
        probs = as_2d(np.asarray(expected_probabilities, dtype=np.float64))
        rows = np.flatnonzero(mismatch)  # only mismatched rows need a label -> column lookup
        column = _label_columns(got[rows], class_labels)
        known = column >= 0
        got_prob = np.full(len(rows), -np.inf)
        got_prob[known] = probs[rows[known], column[known]]
        tie = np.broadcast_to(np.asarray(tie_tolerance, dtype=np.float64), mismatch.shape)[rows]
        excused[rows] = got_prob >= probs[rows].max(axis=1) - tie
    failing = mismatch & ~excused
    result.label_mismatches = int(failing.sum())
    result.tie_excused = int(excused.sum())
    result.violations = 0
    result.failing_mask = failing
    result.failing_rows = np.flatnonzero(failing)[:MAX_FAILING_ROWS_LISTED].tolist()
    return result


def _normalise_labels(values: np.ndarray) -> np.ndarray:
    # Core ML returns Int64 labels, ONNX int64 tensors, scikit-learn may hold numpy ints or str objects: compare
    # as Python-level values via str for strings and int64 for integers.
    array = np.asarray(values)
    if array.dtype.kind in "iub":
        return array.astype(np.int64)
    if array.dtype.kind == "f":
        return array
    return _as_strings(array)


def _as_strings(values: np.ndarray) -> np.ndarray:
    """Labels as an object array of str (bytes decoded): converted once per distinct label, not per row."""
    import pandas as pd

    codes, uniques = pd.factorize(np.asarray(values, dtype=object).ravel(), use_na_sentinel=False)
    texts = np.array([v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(uniques).tolist()],
                     dtype=object)
    return texts[codes]


def _label_mismatch(expected: np.ndarray, got: np.ndarray) -> np.ndarray:
    left, right = _normalise_labels(expected), _normalise_labels(got)
    if left.dtype == object or right.dtype == object:
        return np.asarray(_as_strings(left) != _as_strings(right), dtype=bool)
    return np.asarray(left != right, dtype=bool)


def _label_columns(labels: np.ndarray, class_labels: np.ndarray) -> np.ndarray:
    """Column index of each label in class_labels (-1 if absent)."""
    import pandas as pd

    keys = pd.Index(_as_strings(_normalise_labels(np.asarray(class_labels))))
    return np.asarray(keys.get_indexer(_as_strings(_normalise_labels(labels))), dtype=np.int64)
