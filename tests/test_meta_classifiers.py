"""Meta-classifiers (VotingClassifier, CalibratedClassifierCV): scikit-learn's tie rules and orders of operations,
checked against scikit-learn itself (and np.interp) on real rows and on rows built to hit the edge cases."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from ir_models import array_model
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier
from supported_cases import credit_band, credit_student

import parity
from export import ir
from export.errors import UnsupportedEstimatorError
from export.frontends import to_ir
from export.to_coreml import CoreMLInterface, save_spec, to_spec
from export.to_onnx import OnnxOptions, save_onnx, to_onnx
from parity.coreml_reference import predict as coreml_predict


def _onnx_outputs(estimator: Any, model: ir.Model, X: np.ndarray) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(to_onnx(estimator, model, OnnxOptions()).model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"input": X}), strict=True))


def _wide_rows(X: np.ndarray, n: int = 3000) -> np.ndarray:
    """Rows spread well beyond the data (members disagree there), plus the data itself."""
    rng = np.random.default_rng(0)
    return np.vstack([X, rng.normal(0.0, 3.0, size=(n, X.shape[1]))])


def test_piecewise_linear_is_np_interp_bit_for_bit() -> None:
    """ONNX's PiecewiseLinear against np.interp itself: on the knots, between them, outside them, at ±inf and NaN."""
    knots_x = (np.array([-1.0, 0.3, 2.5, 7.0]), np.array([0.0, 1e-3, 1.0]))
    knots_y = (np.array([0.0, 0.1, 0.85, 1.0]), np.array([1.0, 0.5, 0.0]))
    node = ir.PiecewiseLinear(knots_x=knots_x, knots_y=knots_y)
    rng = np.random.default_rng(1)
    column = np.concatenate([knots_x[0], knots_x[1], (knots_x[0][1:] + knots_x[0][:-1]) / 2,
                             rng.uniform(-3.0, 9.0, 200), [-np.inf, np.inf, np.nan, -1e300, 1e300],
                             np.nextafter(knots_x[0], np.inf), np.nextafter(knots_x[0], -np.inf)])
    X = np.column_stack([column, column[::-1]])
    got = _onnx_outputs(None, array_model(node), X)["transformed_features"]
    expected = np.column_stack([np.interp(X[:, j], knots_x[j], knots_y[j]) for j in range(2)])
    np.testing.assert_array_equal(got, expected)


def test_isotonic_calibrator_is_scikit_learns_bit_for_bit() -> None:
    """A fitted calibrator's own predict (np.clip + interp1d) on its thresholds, between them and outside."""
    X, y = credit_student()
    calibrated = CalibratedClassifierCV(GaussianNB(), method="isotonic", cv=3).fit(X, y)
    calibrator = calibrated.calibrated_classifiers_[0].calibrators[0]
    knots = calibrator.X_thresholds_
    T = np.concatenate([knots, (knots[1:] + knots[:-1]) / 2, knots - 1e-3, knots + 1e-3, [-1e9, 1e9]])
    node = ir.PiecewiseLinear(knots_x=(knots,), knots_y=(calibrator.y_thresholds_,))
    got = _onnx_outputs(None, array_model(node), T[:, None])["transformed_features"][:, 0]
    np.testing.assert_array_equal(got, calibrator.predict(T))


def test_hard_voting_ties_go_to_the_lowest_class_in_both_formats() -> None:
    """argmax(np.bincount(...)): three members voting three different classes tie, and class 0 wins — in ONNX and
    in Core ML, whose classifiers never see an exact tie (the offsets split them)."""
    X, y = credit_band()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        voting = VotingClassifier([("lr", LogisticRegression()), ("svc", LinearSVC()),
                                   ("tree", DecisionTreeClassifier(max_depth=2, random_state=0))],
                                  voting="hard").fit(X, y)
    rows = _wide_rows(X)
    votes = np.column_stack([m.predict(rows) for m in voting.estimators_])
    three_way = np.array([len(set(v)) == 3 for v in votes.tolist()])
    assert three_way.sum() >= 5  # the tie rule is really exercised
    expected = voting.predict(rows)
    model = to_ir(voting)
    assert np.array_equal(_onnx_outputs(voting, model, rows)["classLabel"], expected)
    assert np.array_equal(coreml_predict(to_spec(model, CoreMLInterface()), rows)["classLabel"], expected)


def test_binary_hard_voting_tie_goes_to_the_first_class() -> None:
    X, y = credit_student()
    voting = VotingClassifier([("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=1))],
                              voting="hard", weights=[0.5, 0.5]).fit(X, y)
    rows = _wide_rows(X)
    votes = np.column_stack([m.predict(rows) for m in voting.estimators_])
    assert (votes[:, 0] != votes[:, 1]).sum() >= 5
    expected = voting.predict(rows)
    model = to_ir(voting)
    assert np.array_equal(_onnx_outputs(voting, model, rows)["classLabel"], expected)
    assert np.array_equal(coreml_predict(to_spec(model, CoreMLInterface()), rows)["classLabel"], expected)


def test_hard_voting_weights_whose_sums_round_add_as_bincount() -> None:
    """weights [0.1, 0.2, 0.3]: 0.1 + 0.2 = 0.30000000000000004 > 0.3, so where the first two members agree and the
    third votes otherwise, scikit-learn picks the pair's class — ONNX adds in np.bincount's order and agrees; Core ML
    (GLM addition order undocumented) refuses these weights."""
    X, y = credit_band()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        voting = VotingClassifier([("lr", LogisticRegression()), ("svc", LinearSVC()),
                                   ("tree", DecisionTreeClassifier(max_depth=2, random_state=0))], voting="hard",
                                  weights=[0.1, 0.2, 0.3]).fit(X, y)
    rows = _wide_rows(X)
    votes = np.column_stack([m.predict(rows) for m in voting.estimators_])
    pair_against_third = (votes[:, 0] == votes[:, 1]) & (votes[:, 1] != votes[:, 2])
    assert pair_against_third.sum() >= 5
    expected = voting.predict(rows)
    assert np.array_equal(expected[pair_against_third], voting.classes_[votes[pair_against_third, 0]])
    model = to_ir(voting)
    assert np.array_equal(_onnx_outputs(voting, model, rows)["classLabel"], expected)
    with pytest.raises(UnsupportedEstimatorError, match="sums round"):
        to_spec(model, CoreMLInterface())


def test_soft_voting_averages_in_numpy_order() -> None:
    """Trees' probabilities are copied leaf values, so the ONNX average can be compared bit for bit with
    np.average's weighted sum-then-divide (weights 2 and 0.7 make the division inexact)."""
    X, y = credit_band()
    voting = VotingClassifier([("a", DecisionTreeClassifier(max_depth=3, random_state=0)),
                               ("b", DecisionTreeClassifier(max_depth=5, random_state=1))],
                              voting="soft", weights=[2.0, 0.7]).fit(X, y)
    rows = _wide_rows(X, 500)
    got = _onnx_outputs(voting, to_ir(voting), rows)
    np.testing.assert_array_equal(got["classProbability"], voting.predict_proba(rows))
    assert np.array_equal(got["classLabel"], voting.predict(rows))


def test_calibrated_rows_whose_sigmoids_all_underflow_are_uniform() -> None:
    """K > 2 sigmoid calibration divides by the sum of the calibrated columns; where all are 0 scikit-learn gives
    1/K (ONNX follows; Core ML's GLMClassifier would divide 0 by 0, the documented limit)."""
    X, y = credit_band()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calibrated = CalibratedClassifierCV(LinearSVC(), cv=3, ensemble=False).fit(X, y)
    directions = np.random.default_rng(2).normal(size=(400, X.shape[1]))
    candidates = np.vstack([directions * 1e6, X[:20]])
    expected = calibrated.predict_proba(candidates)
    uniform = np.all(expected == 1.0 / 3, axis=1)
    assert uniform.any()
    got = _onnx_outputs(calibrated, to_ir(calibrated), candidates)
    np.testing.assert_allclose(got["classProbability"], expected, rtol=1e-12, atol=1e-15)
    assert np.array_equal(got["classLabel"], calibrated.predict(candidates))


def test_bounds_catch_a_slightly_wrong_vote_weight(tmp_path: Path) -> None:
    """Soft voting probabilities are checked against per-row bounds (MemberAverage over the members' chains): an
    averaging weight off by 1e-7 relative fails parity in ONNX (double), 1e-3 in Core ML (its last stage is
    float32); the faithful artifacts pass."""
    X, y = credit_band()
    voting = VotingClassifier([("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3,
                                                                                            random_state=0))],
                              voting="soft", weights=[2.0, 0.5]).fit(X, y)
    model = to_ir(voting)

    def with_weight_error(relative: float) -> ir.Model:
        step = model.body[-1]
        assert isinstance(step.node, ir.Pipeline) and isinstance(step.node.final, ir.Average)
        average = step.node.final
        wrong = replace(average, weights=average.weights * np.array([1.0, 1.0 + relative]))
        return replace(model, body=(replace(step, node=ir.Pipeline(steps=(*step.node.steps[:-1], wrong))),))

    faithful = [save_spec(to_spec(model, CoreMLInterface()), tmp_path / "ok.mlmodel"),
                save_onnx(to_onnx(voting, model, OnnxOptions()).model, tmp_path / "ok.onnx")]
    assert parity.check(voting, faithful, inputs=X).verdict == "passed"
    onnx_fault = save_onnx(to_onnx(voting, with_weight_error(1e-7), OnnxOptions()).model, tmp_path / "bad.onnx")
    coreml_fault = save_spec(to_spec(with_weight_error(1e-3), CoreMLInterface()), tmp_path / "bad.mlmodel")
    for fault in (onnx_fault, coreml_fault):
        report = parity.check(voting, [fault], inputs=X)
        assert report.verdict == "failed" and {c.comparison.role for c in report.failures()} == {"probabilities"}


def test_expm1_link_is_np_expm1_within_an_ulp() -> None:
    """TransformedTargetRegressor(inverse_func=np.expm1): ONNX has no Expm1; the link's exp(x) - 1 near 0 would lose
    every digit. Against np.expm1 itself from -800 to 1e300, 1e-300 included; overflow and NaN as numpy's."""
    node = ir.LinearModel(coef=np.eye(1), intercept=np.zeros(1))
    x = np.concatenate([np.linspace(-50.0, 50.0, 2001), 10.0 ** np.arange(-300, 2.5, 0.5),
                        -(10.0 ** np.arange(-300, 2.5, 0.5)), [709.0, 710.0, -745.0, -800.0, 1e300, np.nan]])
    got = _onnx_outputs(None, array_model(node, ir.Regression(1, "expm1")), x[:, None])["prediction"][:, 0]
    with np.errstate(over="ignore"):
        expected = np.expm1(x)
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=4 * 2.0**-52, atol=0)
    np.testing.assert_array_equal(got[~finite], expected[~finite])


def test_one_vs_one_vote_ties_are_broken_by_the_confidence_sums() -> None:
    """OneVsOneClassifier: rows where every class wins one pair (a 3-way vote tie) are decided by the transformed
    confidence sums; ONNX agrees with scikit-learn on all of them (and on the data)."""
    from sklearn.multiclass import OneVsOneClassifier

    X, y = credit_band()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ovo = OneVsOneClassifier(LinearSVC()).fit(X, y)
    rows = _wide_rows(X)
    votes = np.floor(ovo.decision_function(rows) + 0.5)  # votes + f(s), |f(s)| < 1/3
    tied = (votes == 1.0).all(axis=1)
    assert tied.sum() >= 5
    assert np.array_equal(_onnx_outputs(ovo, to_ir(ovo), rows)["classLabel"], ovo.predict(rows))


def test_core_ml_refuses_a_binary_svc_members_probabilities() -> None:
    """Core ML's binary SVC probability is libsvm's Platt value, scikit-learn's is coupled (≤ 0.5 % apart): accepted
    with a stated tolerance for an SVC alone, refused inside a soft vote (ONNX exports it exactly)."""
    from sklearn.svm import SVC

    X, y = credit_student()
    voting = VotingClassifier([("svc", SVC(probability=True, random_state=0)), ("lr", LogisticRegression())],
                              voting="soft").fit(X, y)
    model = to_ir(voting)
    with pytest.raises(UnsupportedEstimatorError, match="binary SVC member"):
        to_spec(model, CoreMLInterface())
    got = _onnx_outputs(voting, model, X)
    np.testing.assert_allclose(got["classProbability"], voting.predict_proba(X), rtol=1e-9, atol=1e-12)


def test_hard_vote_of_a_tree_at_exactly_one_half_is_scikit_learns_first_class() -> None:
    """A binary tree leaf with p = 0.5 votes labels[0] in scikit-learn (argmax over [1-p, p]); Core ML's tree
    classifier would say labels[1]. The vote is a stump on p (p > 0.5), so both formats follow scikit-learn."""
    X = np.array([[0.0], [0.0], [1.0], [1.0], [2.0], [2.0], [2.0]])
    y = np.array(["a", "b", "a", "a", "b", "b", "b"])
    voting = VotingClassifier([("tree", DecisionTreeClassifier(random_state=0)),
                               ("other", DecisionTreeClassifier(max_depth=1, random_state=0))],
                              voting="hard", weights=[2.0, 1.0]).fit(X, y)
    assert 0.5 in voting.estimators_[0].predict_proba(X)[:, 1]  # the tie leaf exists
    rows = np.array([[0.0], [1.0], [2.0], [-5.0], [0.4]])
    expected = voting.predict(rows)
    model = to_ir(voting)
    assert np.array_equal(_onnx_outputs(voting, model, rows)["classLabel"], expected)
    assert np.array_equal(coreml_predict(to_spec(model, CoreMLInterface()), rows)["classLabel"], expected)


@pytest.mark.parametrize("make", [
    lambda: VotingClassifier([("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=2))],
                             voting="soft"),
    lambda: CalibratedClassifierCV(LogisticRegression(), cv=3),
    lambda: CalibratedClassifierCV(GaussianNB(), method="isotonic", cv=3),
], ids=["voting", "calibrated-sigmoid", "calibrated-isotonic"])
def test_meta_estimators_load_from_skops(make: Any, tmp_path: Path) -> None:
    """Their helper types (named_estimators_'s Bunch, _CalibratedClassifier, _SigmoidCalibration) are on the
    reviewed skops allowlist: the file loads and predicts as the original."""
    import skops.io as sio

    from export.loading import load_model

    X, y = credit_band()
    estimator = make().fit(X, y)
    sio.dump(estimator, tmp_path / "model.skops")
    loaded = load_model(tmp_path / "model.skops")
    np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))


def test_function_transformer_expm1_is_finite_below_overflow() -> None:
    """FunctionTransformer(np.expm1) shares the link's lowering: for 702.9 < x < 709.8, (u - 1) * x overflows while
    np.expm1(x) is finite."""
    from sklearn.preprocessing import FunctionTransformer

    X = np.array([[700.0], [705.0], [709.0], [709.7], [0.5], [-3.0]])
    transformer = FunctionTransformer(np.expm1).fit(X)
    got = _onnx_outputs(transformer, to_ir(transformer), X)["transformed_features"]
    np.testing.assert_allclose(got, transformer.transform(X), rtol=4 * 2.0**-52, atol=0)
