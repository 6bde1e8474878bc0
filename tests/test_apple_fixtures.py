"""Independent proof of the Core ML reference evaluator: Apple-converted specs must reproduce scikit-learn.

Each fixture in tests/fixtures/apple/ is a .mlmodel written by Apple's own converter
(`coremltools.converters.sklearn.convert`, scikit-learn 1.5.1) plus scikit-learn's outputs on the same rows — neither
comes from mlexport. `parity.coreml_reference.predict` must turn the spec + rows into scikit-learn's answers:
labels exactly, scores/probabilities to 1e-9 (every spec here stores doubles; no case needs a looser bound).

Where Apple's converter is known to write a spec that does NOT mean what scikit-learn computes
(../shared/docs/coreml-semantics.md §2.4), the expectation is what Core ML computes from that spec, derived here
from scikit-learn's outputs by the rule the fixture names (`meta["rule"]`); each rule says why next to its code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures" / "apple"
CASES = sorted(path.stem for path in FIXTURE_DIR.glob("*.npz"))

# Every spec in this battery stores double weights/thresholds and the math is double: the only differences left
# are summation order and reciprocal-vs-division (~1e-15 relative), so 1e-9 is already a generous bound.
RTOL = 1e-9
ATOL = 1e-9


@dataclass(frozen=True)
class Fixture:
    """One Apple-converted case: the .mlmodel path, the stored arrays and the generator's meta record."""

    name: str
    mlmodel: Path
    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]

    @classmethod
    def load(cls, name: str) -> Fixture:
        with np.load(FIXTURE_DIR / f"{name}.npz") as stored:  # no allow_pickle: fixtures hold plain arrays only
            arrays = {key: stored[key] for key in stored.files}
        return cls(name, FIXTURE_DIR / f"{name}.mlmodel", arrays, json.loads(str(arrays.pop("meta"))))

    @property
    def X(self) -> np.ndarray:
        return self.arrays["X"]

    def model_inputs(self) -> Any:
        """The evaluator's input: the 2-D row matrix, or for a Dictionary input one dict per row."""
        if not self.meta["dict_rows"]:
            return self.X
        # DictVectorizer: row i's dictionary = its nonzero columns under sklearn's feature_names_ (the generator
        # built X with sklearn's transform of exactly those dicts).
        names = [str(name) for name in self.arrays["feature_names"]]
        rows = [{names[j]: float(row[j]) for j in np.flatnonzero(row)} for row in self.X]
        return {self.meta["input_names"][0]: rows}


# ---------------------------------------------------------------------------------------------------------------
# expected outputs per rule. Each returns {"label": ..., "probabilities": ..., "scores": ...} (only the keys the
# case has), derived from scikit-learn's stored outputs.


def _sklearn_as_is(fx: Fixture) -> dict[str, np.ndarray]:
    """Apple's spec means what scikit-learn computes."""
    expected = {}
    if "classes" in fx.arrays:
        expected["label"] = fx.arrays["predict"]
        if "predict_proba" in fx.arrays:
            expected["probabilities"] = fx.arrays["predict_proba"]
    elif "predict" in fx.arrays:
        expected["scores"] = fx.arrays["predict"]
    else:
        expected["scores"] = fx.arrays["transform"]
    return expected


def _dt_binary_nudge(fx: Fixture) -> dict[str, np.ndarray]:
    """coremltools `_tree_ensemble._get_value` writes a binary leaf P(class 1) of exactly 0.5 as 0.5 - 1e-7 so that
    Core ML's `p >= 0.5 -> labels[1]` reproduces sklearn's tie -> classes_[0]; P(class 0) is Core ML's 1 - p."""
    expected = _sklearn_as_is(fx)
    p1 = expected["probabilities"][:, 1].copy()
    tied = p1 == 0.5
    assert tied.any(), "fixture must contain a row in a 50/50 leaf, or this rule proves nothing"
    p1[tied] = 0.5 - 1e-7
    expected["probabilities"] = np.stack([1.0 - p1, p1], axis=1)
    return expected


def _rf_multiclass_sum(fx: Fixture) -> dict[str, np.ndarray]:
    """Apple's converter scales forest leaves by 1/n_estimators only in the binary branch (coremltools issue #1541):
    multiclass leaves are per-tree probabilities and Core ML sums them -> n_estimators x predict_proba."""
    expected = _sklearn_as_is(fx)
    n_estimators = int(fx.arrays["n_estimators"])
    expected["probabilities"] = n_estimators * expected["probabilities"]
    np.testing.assert_allclose(expected["probabilities"].sum(axis=1), n_estimators, rtol=1e-12)
    return expected


def _gbr_huber_base(fx: Fixture) -> dict[str, np.ndarray]:
    """For loss='huber' Apple writes basePredictionValue = init_.quantile (the DummyRegressor parameter, 0.5) instead
    of the fitted init_.constant_: Core ML = sklearn predict - init_constant + 0.5."""
    init_constant = float(fx.arrays["init_constant"])
    assert init_constant != 0.5, "a fitted median of exactly 0.5 would hide the converter's bug"
    return {"scores": fx.arrays["predict"] - init_constant + 0.5}


def _linear_svc_sigmoid(fx: Fixture) -> dict[str, np.ndarray]:
    """LinearSVC has no predict_proba, yet Apple emits GLMClassifier OneVsRest + Logit with classProbability:
    binary P(classes_[1]) = sigmoid(decision_function); K > 2: sigmoid per class, L1-normalised (GLMClassifier.proto
    OneVsRest)."""
    expected = _sklearn_as_is(fx)
    margins = fx.arrays["decision_function"]
    sigmoid = 1.0 / (1.0 + np.exp(-margins))
    if margins.ndim == 1:
        expected["probabilities"] = np.stack([1.0 - sigmoid, sigmoid], axis=1)
    else:
        expected["probabilities"] = sigmoid / sigmoid.sum(axis=1, keepdims=True)
    return expected


def _svc_binary_pairwise(fx: Fixture) -> dict[str, np.ndarray]:
    """Core ML (libsvm semantics, SVM.proto) returns a 2-class SVC's Platt pairwise probability directly:
    r = clip(1 / (1 + exp(f * probA + probB)), 1e-7, 1 - 1e-7) = P(classes_[0]) with libsvm's decision value
    f = -sklearn decision_function. sklearn's bundled libsvm runs the iterative pairwise coupling even for 2 classes,
    so its predict_proba differs slightly (coremltools' own test allows 0.005)."""
    expected = _sklearn_as_is(fx)
    libsvm_decision = -fx.arrays["decision_function"]
    p0 = 1.0 / (1.0 + np.exp(libsvm_decision * fx.arrays["probA"][0] + fx.arrays["probB"][0]))
    p0 = np.clip(p0, 1e-7, 1.0 - 1e-7)
    derived = np.stack([p0, 1.0 - p0], axis=1)
    # The derivation must stay within coremltools' documented bound of sklearn, or it is not the same model.
    assert np.abs(derived - expected["probabilities"]).max() < 0.005
    expected["probabilities"] = derived
    return expected


def _ohe_shifted(fx: Fixture) -> dict[str, np.ndarray]:
    """Apple writes int64Categories = 0..n_j-1 instead of categories_[j] (IgnoreUnknown): Core ML puts the 1 at
    position v for input value v < n_j and leaves the block empty otherwise. From sklearn's block, a 1 at position i
    means value categories_[j][i], so it moves to position categories_[j][i] (or vanishes when >= n_j)."""
    sklearn_blocks = fx.arrays["transform"]
    expected = np.zeros_like(sklearn_blocks)
    offset = 0
    for j in range(fx.X.shape[1]):
        categories = fx.arrays[f"categories_{j}"]
        width = len(categories)
        assert not np.array_equal(categories, np.arange(width)), "shifted-categories fixture must not be 0..n-1"
        for i, value in enumerate(categories):
            if value < width:
                expected[:, offset + int(value)] = sklearn_blocks[:, offset + i]
        offset += width
    return {"scores": expected}


def _nan_to_false_child(fx: Fixture) -> dict[str, np.ndarray]:
    """Apple's converter ignores tree_.missing_go_to_left: every NaN takes the false (right) child
    (missingValueTracksTrueChild defaults to false, TreeEnsemble.proto). The generator stored scikit-learn's own
    outputs with NaN replaced by float32 max, which takes that same right-hand path at every split."""
    assert np.isnan(fx.X).any()
    relabelled = fx.arrays["predict_nan_right"] != fx.arrays["predict"]
    assert relabelled.any(), "the fixture must contain rows where sklearn's NaN routing changes the label"
    return {"label": fx.arrays["predict_nan_right"], "probabilities": fx.arrays["predict_proba_nan_right"]}


def _knn_index(fx: Fixture) -> dict[str, np.ndarray]:
    """Apple stores KNeighborsClassifier._y (encoded indices 0..K-1) as int64ClassLabels and declares an Int64
    label, so Core ML answers the position of sklearn's label in classes_ (sorted, as sklearn keeps them)."""
    classes = fx.arrays["classes"]
    assert np.all(classes[:-1] < classes[1:])
    return {"label": np.searchsorted(classes, fx.arrays["predict"]).astype(np.int64)}


RULES: dict[str, Callable[[Fixture], dict[str, np.ndarray]]] = {
    "sklearn": _sklearn_as_is,
    "dt_binary_nudge": _dt_binary_nudge,
    "rf_multiclass_sum": _rf_multiclass_sum,
    "gbr_huber_base": _gbr_huber_base,
    "linear_svc_sigmoid": _linear_svc_sigmoid,
    "svc_binary_pairwise": _svc_binary_pairwise,
    "ohe_shifted": _ohe_shifted,
    "knn_index": _knn_index,
    "nan_to_false_child": _nan_to_false_child,
}


def _output_role(kind: str) -> str:
    """Which expected array a Core ML output is compared with, from its declared FeatureType."""
    if kind in ("int64", "string"):
        return "label"
    if kind.startswith("dictionary"):
        return "probabilities"
    return "scores"  # double or multiarray


def _assert_matches(fx: Fixture, got: dict[str, np.ndarray]) -> None:
    expected = RULES[fx.meta["rule"]](fx)
    n_rows = len(fx.X)
    assert set(got) == set(fx.meta["output_names"]), f"{fx.name}: outputs {sorted(got)}"
    roles = {}
    for name, kind in zip(fx.meta["output_names"], fx.meta["output_kinds"], strict=True):
        role = _output_role(kind)
        roles[role] = name
        value = np.asarray(got[name])
        want = expected[role]
        assert len(value) == n_rows, f"{fx.name}.{name}: {len(value)} rows, expected {n_rows}"
        if role == "label":
            # An Int64 label output can only equal integer labels; a string/int mix-up is a failure, not a crash.
            assert kind == "string" or want.dtype.kind in "iu", (
                f"{fx.name}.{name}: Core ML declares {kind} labels but the expected labels are {want.dtype}"
            )
            want_labels = want.astype(str) if kind == "string" else want.astype(np.int64)
            got_labels = value.astype(str) if kind == "string" else value.astype(np.int64)
            mismatched = np.flatnonzero(got_labels != want_labels)
            assert mismatched.size == 0, (
                f"{fx.name}.{name}: {mismatched.size} label mismatches, first rows {mismatched[:5].tolist()}: "
                f"got {got_labels[mismatched[:5]].tolist()} expected {want_labels[mismatched[:5]].tolist()}"
            )
        else:
            value = value.astype(np.float64).reshape(want.shape)
            np.testing.assert_allclose(value, want, rtol=RTOL, atol=ATOL, err_msg=f"{fx.name}.{name}")
    assert set(roles) == set(expected), f"{fx.name}: compared {sorted(roles)}, derived {sorted(expected)}"


# ---------------------------------------------------------------------------------------------------------------
# tests


def _evaluator_predict() -> Callable[..., dict[str, np.ndarray]]:
    from parity.coreml_reference import predict

    return predict


@pytest.mark.parametrize("case", CASES)
def test_reference_evaluator_reproduces_sklearn(case: str) -> None:
    """parity.coreml_reference.predict(Apple's spec, rows) == scikit-learn (or the documented converter deviation)."""
    fx = Fixture.load(case)
    got = _evaluator_predict()(fx.mlmodel, fx.model_inputs())
    _assert_matches(fx, got)


def _multi_input_cases() -> list[str]:
    return [case for case in CASES if len(Fixture.load(case).meta["input_names"]) > 1]


@pytest.mark.parametrize("case", _multi_input_cases())
def test_named_inputs_by_dict_match_columns(case: str) -> None:
    """Named Double inputs given as {name: column} must evaluate like the same columns in a 2-D array."""
    fx = Fixture.load(case)
    by_name = {name: fx.X[:, j] for j, name in enumerate(fx.meta["input_names"])}
    _assert_matches(fx, _evaluator_predict()(fx.mlmodel, by_name))


def test_battery_covers_required_cases() -> None:
    """The fixture set is the battery the brief asks for (guards against a partial regeneration)."""
    required = {
        "dt_classifier_binary", "dt_classifier_3class", "dt_classifier_3class_strings", "dt_regressor",
        "rf_classifier_binary", "rf_classifier_3class", "rf_regressor", "gb_classifier_binary",
        "gb_classifier_3class", "gb_regressor_squared_error", "gb_regressor_huber", "logistic_binary",
        "logistic_ovr_3class", "linear_regression_array", "linear_regression_named", "ridge", "linear_svc_binary",
        "linear_svr", "svc_rbf_binary", "svc_rbf_binary_proba", "svc_rbf_3class", "svc_rbf_3class_proba",
        "svc_poly_3class", "nusvc_3class", "svr_rbf", "nusvr_poly", "standard_scaler", "normalizer_l1",
        "normalizer_l2", "normalizer_max", "simple_imputer", "one_hot_dense_categories",
        "one_hot_shifted_categories", "knn_classifier", "pipeline_scaler_svr", "pipeline_scaler_logistic",
    }
    assert required <= set(CASES), f"missing fixtures: {sorted(required - set(CASES))}"
    for case in CASES:
        assert (FIXTURE_DIR / f"{case}.mlmodel").is_file(), f"{case}.mlmodel missing"


@pytest.mark.parametrize("case", CASES)
def test_fixture_meta_matches_apple_spec(case: str) -> None:
    """The meta record names exactly the spec's inputs/outputs and a rule this test knows; rows are sane."""
    from coremltools.proto import Model_pb2

    fx = Fixture.load(case)
    spec = Model_pb2.Model()
    spec.ParseFromString(fx.mlmodel.read_bytes())
    assert [f.name for f in spec.description.input] == fx.meta["input_names"]
    assert [f.name for f in spec.description.output] == fx.meta["output_names"]
    assert spec.WhichOneof("Type") == fx.meta["coreml_type"]
    assert fx.meta["rule"] in RULES, f"unknown rule {fx.meta['rule']!r}; known: {sorted(RULES)}"
    assert fx.meta["versions"]["scikit-learn"] == "1.5.1" and fx.meta["versions"]["coremltools"] == "9.0"
    assert fx.X.dtype == np.float64 and fx.X.ndim == 2 and 0 < len(fx.X) <= 200
    assert spec.description.metadata.userDefined["com.github.apple.coremltools.source"] == "scikit-learn==1.5.1"


def test_generator_refuses_other_versions() -> None:
    """The generator must stop with a clear message under this (non-pinned) environment, writing nothing."""
    import sklearn

    if sklearn.__version__ == "1.5.1":
        pytest.skip("running inside the pinned side venv; the refusal path is not reachable here")
    result = subprocess.run(
        [sys.executable, str(FIXTURE_DIR / "generate_fixtures.py"), "--out", "/nonexistent/never-written"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode != 0
    assert "scikit-learn==1.5.1" in result.stderr and "refusing" in result.stderr
