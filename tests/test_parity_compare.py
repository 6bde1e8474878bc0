"""Element rule, label/tie rule, jumps and tolerance choice of the parity comparison (golden.md rules)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from parity.compare import compare_labels, compare_numeric, element_failures, jump_rows, output_scale
from parity.tolerances import Tolerance, choose_tolerance, model_family, tie_tolerance

TIGHT = Tolerance(rtol=1e-9, atol=1e-12, reason="test")


@pytest.mark.parametrize(
    ("expected", "got", "fails"),
    [
        (np.nan, np.nan, False),  # both NaN pass
        (np.nan, 1.0, True),
        (1.0, np.nan, True),
        (np.inf, np.inf, False),  # got == expected covers equal infinities
        (np.inf, -np.inf, True),  # a non-finite expected value must be matched exactly (as in ios_stub's Swift core)
        (np.inf, 1.0, True),  # atol + rtol·inf would accept anything; exact match required instead
        (-np.inf, -np.inf, False),
        (1.0, np.inf, True),
        (0.0, -0.0, False),
        (1.0, 1.0 + 1e-9, False),  # |Δ| = 1e-9 <= 1e-12 + 1e-9·1
        (1.0, 1.0 + 1.1e-9, True),
        (0.0, 1e-12, False),  # atol at zero
        (0.0, 2e-12, True),
        (1e300, 1e300 * (1 + 5e-10), False),
    ],
)
def test_element_rule_edges(expected: float, got: float, fails: bool) -> None:
    assert bool(element_failures(np.array([expected]), np.array([got]), TIGHT)[0]) is fails


def test_opposite_infinities_are_counted_as_jumps() -> None:
    assert jump_rows(np.array([[np.inf]]), np.array([[-np.inf]]), 1.0)[0]


def test_element_rule_is_atol_plus_rtol_times_expected_not_got() -> None:
    # |g - e| <= atol + rtol·|e| uses |e|: e=1, g=3 with rtol 1 passes only because 2 <= 0 + 1·1 is false -> fails;
    # swapping them (e=3, g=1) passes since 2 <= 3.
    tolerance = Tolerance(rtol=1.0, atol=0.0, reason="test")
    assert element_failures(np.array([1.0]), np.array([3.0]), tolerance)[0]
    assert not element_failures(np.array([3.0]), np.array([1.0]), tolerance)[0]


def test_numeric_comparison_counts_rows_and_first_failures() -> None:
    expected = np.zeros((5, 2))
    got = expected.copy()
    got[1, 0] = 1e-6  # rounding-size violation
    got[3, 1] = 0.5  # a jump
    result = compare_numeric("p", "probabilities", expected, got, TIGHT, scale=1.0)
    assert result.violations == 2
    assert result.jumps == 1
    assert result.failing_rows == [1, 3]
    assert result.max_abs_error == 0.5
    assert not result.passed


def test_shape_mismatch_is_a_failure_with_cause() -> None:
    result = compare_numeric("p", "prediction", np.zeros((3, 1)), np.zeros((3, 2)), TIGHT, scale=1.0)
    assert result.violations == 3 and "shape mismatch" in (result.cause or "")


def test_jumps_scale_with_output_range() -> None:
    expected = np.linspace(0, 1000, 101).reshape(-1, 1)
    got = expected + 0.5  # 0.5 < 1e-3 × ~980 -> rounding, not a jump
    assert not jump_rows(expected, got, output_scale(expected)).any()
    got[7] += 5.0
    assert np.flatnonzero(jump_rows(expected, got, output_scale(expected))).tolist() == [7]
    assert output_scale(np.zeros(10)) == 1.0  # scale is at least 1


def test_label_mismatch_excused_only_for_reference_ties() -> None:
    classes = np.array([0, 1, 2])
    probabilities = np.array([[0.5, 0.5, 0.0], [0.6, 0.4, 0.0], [0.4, 0.3, 0.3]])
    expected = np.array([0, 0, 0])
    got = np.array([1, 1, 0])  # row 0: a true tie (excused); row 1: no tie (failure)
    result = compare_labels("classLabel", expected, got, classes, probabilities, tie_tolerance=1e-12)
    assert result.tie_excused == 1
    assert result.label_mismatches == 1
    assert result.failing_rows == [1]


def test_labels_without_probabilities_are_exact() -> None:
    result = compare_labels("classLabel", np.array(["a", "b"]), np.array(["a", "a"]), None, None, 1e-12)
    assert result.label_mismatches == 1


def test_string_labels_from_bytes_compare_equal() -> None:
    result = compare_labels("classLabel", np.array(["setosa"], dtype=object), np.array([b"setosa"]), None, None, 0.0)
    assert result.label_mismatches == 0


def test_tolerance_table_reasons_and_families() -> None:
    X = np.random.default_rng(0).normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    svc = SVC(probability=True, random_state=0).fit(X, y)
    mlp = MLPClassifier(max_iter=20, random_state=0).fit(X, y)
    logistic = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    assert model_family(forest) == "tree" and model_family(logistic) == "linear" and model_family(mlp) == "network"
    tree = choose_tolerance("probabilities", "coreml", "float64", forest)
    assert (tree.rtol, tree.atol) == (1e-12, 1e-12) and "different order" in tree.reason
    assert choose_tolerance("probabilities", "coreml", "float64", svc).atol == 5e-3
    assert choose_tolerance("probabilities", "onnx", "float64", svc).atol <= 1e-6  # libsvm coupling is Core ML only
    assert "float32" in choose_tolerance("probabilities", "coreml", "float64", mlp).reason
    assert choose_tolerance("probabilities", "onnx", "float32", logistic).atol == 1e-5
    regression32 = choose_tolerance("prediction", "onnx", "float32", forest, output_scale=300.0)
    assert regression32.atol == pytest.approx(3e-4)  # scales with the output's range
    assert choose_tolerance("label", "onnx", "float64", forest).atol == 0.0
    assert tie_tolerance(None) == 1e-12 and tie_tolerance(Tolerance(0, 1e-5, "x")) == 1e-5
