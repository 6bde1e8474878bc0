"""The one sub-estimator walker (parity.sub_estimators) and its users: loading's post-load index checks, the skl2onnx
route's refusal rules and parity's final step.

Independent truth for "reaches every nested tree": pickle. Whatever a model file holds is what pickling the model
serialises, so a Pickler's `persistent_id` hook (called for every object it writes) lists every scikit-learn Tree,
HistGradientBoosting TreePredictor and KD/ball tree in the model — no attribute names involved. Loading's checks
must visit exactly those objects, for every row of the supported table and for scikit-learn's meta-estimators.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.datasets import load_iris
from sklearn.ensemble import (
    AdaBoostClassifier,
    BaggingClassifier,
    BaggingRegressor,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    IsolationForest,
    RandomForestClassifier,
    RandomForestRegressor,
    StackingClassifier,
    StackingRegressor,
    VotingClassifier,
    VotingRegressor,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import RFE, SelectFromModel
from sklearn.linear_model import LinearRegression, LogisticRegression, RANSACRegressor
from sklearn.model_selection import GridSearchCV
from sklearn.multiclass import OneVsOneClassifier, OneVsRestClassifier
from sklearn.multioutput import ClassifierChain, MultiOutputClassifier, MultiOutputRegressor, RegressorChain
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor, NearestNeighbors
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from test_from_sklearn_table import _fitted_instance
from test_loading import corrupt_child_index

import export.loading as loading
from export.errors import InputFileError
from export.frontends import supported
from export.to_onnx.options import OnnxOptions
from export.to_onnx.skl2onnx_route import refusal_reason
from parity.sub_estimators import final_step, sub_estimators, walk

X, Y = load_iris(return_X_y=True)
Y2 = np.column_stack([Y, (X[:, 0] > 5.8).astype(int)])  # two-output classification target
R = X[:, 3]
R2 = np.column_stack([X[:, 2], X[:, 3]])

_TREE_TYPES = ("Tree", "TreePredictor", "KDTree", "BallTree")


def _dt(**kw: Any) -> DecisionTreeClassifier:
    return DecisionTreeClassifier(max_depth=3, random_state=0, **kw)


def _dtr() -> DecisionTreeRegressor:
    return DecisionTreeRegressor(max_depth=3, random_state=0)


def _rf() -> RandomForestClassifier:
    return RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0)


def _knn() -> KNeighborsClassifier:
    return KNeighborsClassifier(n_neighbors=3, algorithm="kd_tree")


# Meta-estimators scikit-learn has, each holding trees / KD-trees somewhere loading's old walker did not look.
META: dict[str, Any] = {
    "stacking-final-tree": lambda: StackingClassifier([("rf", _rf()), ("knn", _knn())], final_estimator=_dt(), cv=2),
    "stacking-final-forest": lambda: StackingRegressor([("lr", LinearRegression())],
                                                       final_estimator=RandomForestRegressor(n_estimators=2), cv=2),
    "stacking-hgb": lambda: StackingClassifier([("hgb", HistGradientBoostingClassifier(max_iter=3))],
                                               final_estimator=LogisticRegression(max_iter=300), cv=2),
    "voting-classifier": lambda: VotingClassifier([("dt", _dt()), ("knn", _knn())], voting="soft"),
    "voting-regressor": lambda: VotingRegressor([("dt", _dtr()), ("knn", KNeighborsRegressor(algorithm="ball_tree"))]),
    "bagging-knn": lambda: BaggingClassifier(_knn(), n_estimators=2, max_features=2, random_state=0),
    "bagging-tree": lambda: BaggingRegressor(_dtr(), n_estimators=3, random_state=0),
    "calibrated-forest": lambda: CalibratedClassifierCV(_rf(), cv=2),
    "calibrated-isotonic-tree": lambda: CalibratedClassifierCV(_dt(), cv=2, method="isotonic"),
    "multi-output-classifier": lambda: MultiOutputClassifier(_dt()),
    "multi-output-regressor": lambda: MultiOutputRegressor(_dtr()),
    "classifier-chain": lambda: ClassifierChain(_dt(), random_state=0),
    "regressor-chain": lambda: RegressorChain(_dtr()),
    "transformed-target": lambda: TransformedTargetRegressor(regressor=_dtr(), transformer=StandardScaler()),
    "adaboost": lambda: AdaBoostClassifier(_dt(), n_estimators=2, random_state=0),
    "isolation-forest": lambda: IsolationForest(n_estimators=2, random_state=0),
    "one-vs-rest-tree": lambda: OneVsRestClassifier(_dt()),
    "one-vs-one-knn": lambda: OneVsOneClassifier(_knn()),
    "rfe-tree": lambda: RFE(_dt(), n_features_to_select=2),
    "select-from-forest": lambda: make_pipeline(SelectFromModel(_rf()), _dt()),
    "ransac-tree": lambda: RANSACRegressor(_dtr(), min_samples=20, random_state=0),
    "grid-search": lambda: GridSearchCV(_dt(), {"max_depth": [2, 3]}, cv=2),
    "feature-union": lambda: make_pipeline(FeatureUnion([("s", StandardScaler()), ("sel", SelectFromModel(_rf()))]),
                                           _knn()),
    "nested-pipeline-in-columns": lambda: Pipeline([
        ("ct", ColumnTransformer([("p", make_pipeline(StandardScaler(), SelectFromModel(_rf())), [0, 1, 2])],
                                 remainder="passthrough")),
        ("stack", StackingClassifier([("gb", GradientBoostingClassifier(n_estimators=2))], final_estimator=_dt(),
                                     cv=2))]),
    "nearest-neighbors": lambda: NearestNeighbors(n_neighbors=2, algorithm="kd_tree"),
}
_MULTI_OUTPUT = {"multi-output-classifier", "classifier-chain"}
_REGRESSION = {"stacking-final-forest", "voting-regressor", "bagging-tree", "multi-output-regressor",
               "regressor-chain", "transformed-target", "ransac-tree"}


def _fit_meta(name: str) -> Any:
    est = META[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, FutureWarning, UserWarning))
        if name in _MULTI_OUTPUT:
            return est.fit(X, Y2)
        if name in ("multi-output-regressor", "regressor-chain"):
            return est.fit(X[:, :2], R2)
        if name in _REGRESSION:
            return est.fit(X[:, :3], R)
        if name in ("isolation-forest", "nearest-neighbors"):
            return est.fit(X)
        return est.fit(X, Y)


def _models() -> list[Any]:
    rows = [pytest.param(lambda row=row: _fitted_instance(row.cls), id=f"table-{row.name}") for row in supported()]
    meta = [pytest.param(lambda name=name: _fit_meta(name), id=name) for name in META]
    return rows + meta


def _trees_in_the_file(estimator: Any) -> dict[int, Any]:
    """Every tree-like object pickling `estimator` writes (the independent oracle, see the module docstring)."""
    found: dict[int, Any] = {}

    class Recorder(pickle.Pickler):
        def persistent_id(self, obj: Any) -> None:
            if type(obj).__name__ in _TREE_TYPES and type(obj).__module__.startswith("sklearn."):
                found[id(obj)] = obj
            return None

    Recorder(io.BytesIO()).dump(estimator)
    return found


def _trees_checked(estimator: Any, monkeypatch: pytest.MonkeyPatch) -> dict[int, str]:
    """id -> type name of every tree object loading's post-load checks looked at."""
    checked: dict[int, str] = {}
    for check in ("_check_sklearn_tree", "_check_tree_predictor", "_check_binary_tree"):
        original = getattr(loading, check)

        def spy(tree: Any, *args: Any, _original: Any = original) -> None:
            checked[id(tree)] = type(tree).__name__
            _original(tree, *args)

        monkeypatch.setattr(loading, check, spy)
    loading.check_internal_indices(estimator, source="model.skops")
    return checked


@pytest.mark.parametrize("make", _models())
def test_loading_checks_every_tree_the_model_file_holds(make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    estimator = make()
    in_file = _trees_in_the_file(estimator)
    checked = _trees_checked(estimator, monkeypatch)
    assert set(checked) == set(in_file), (
        sorted(type(in_file[i]).__name__ for i in set(in_file) - set(checked)), "not checked")


def test_the_meta_table_really_holds_trees_everywhere() -> None:
    # The oracle test above is only as strong as the models: each meta-estimator case must hold trees.
    for name in META:
        assert _trees_in_the_file(_fit_meta(name)), name


@pytest.mark.parametrize("name", [n for n in META if n not in ("stacking-hgb", "bagging-knn", "one-vs-one-knn",
                                                                 "nearest-neighbors")])
def test_a_crafted_index_in_the_last_nested_tree_is_refused(name: str) -> None:
    estimator = _fit_meta(name)
    trees = [t for t in _trees_in_the_file(estimator).values() if type(t).__name__ == "Tree"]
    corrupt_child_index(trees[-1])
    with pytest.raises(InputFileError, match="corrupt: a tree child index is out of range"):
        loading.check_internal_indices(estimator, source="evil.skops")


def test_crafted_tree_index_in_a_stacking_final_estimator_is_refused_on_load(tmp_path: Path) -> None:
    """End to end through load_model (a trusted pickle: skops does not yet allow Stacking's Bunch): the bad index
    sits in `final_estimator_`, the attribute loading's old walker skipped."""
    stack = _fit_meta("stacking-final-tree")
    corrupt_child_index(stack.final_estimator_.tree_)
    path = tmp_path / "stack.pkl"
    path.write_bytes(pickle.dumps(stack))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(InputFileError, match=r"corrupt: a tree child index is out of range \(in final_estimator_\)"):
        loading.load_model(path, trust_pickle=sha)


def test_crafted_kd_tree_inside_bagging_is_refused() -> None:
    bagging = _fit_meta("bagging-knn")
    kd = bagging.estimators_[1]._tree
    state = list(kd.__getstate__())
    state[1] = state[1][::-1].copy()  # idx_array
    state[1][0] = 10 ** 6  # not a permutation of the training rows any more
    kd.__setstate__(tuple(state))
    with pytest.raises(InputFileError, match=r"neighbour index .*\(in estimators_\[1\]\)"):
        loading.check_internal_indices(bagging, source="evil.skops")


def test_walk_yields_root_first_each_estimator_once_with_paths() -> None:
    stack = _fit_meta("stacking-final-tree")
    members = list(walk(stack))
    assert members[0].estimator is stack and members[0].path == "" and members[0].depth == 0
    ids = [id(m.estimator) for m in members]
    assert len(ids) == len(set(ids))  # estimators_ and named_estimators_ hold the same objects
    by_id = {id(m.estimator): m for m in members}
    assert by_id[id(stack.final_estimator_)].path == "final_estimator_"
    rf = stack.estimators_[0]
    assert by_id[id(rf)].path == "estimators_[0]"
    assert by_id[id(rf.estimators_[1])].path == "estimators_[0].estimators_[1]"
    assert by_id[id(rf.estimators_[1])].depth == 2


def test_walk_reaches_calibrated_members_and_target_transformers() -> None:
    calibrated = _fit_meta("calibrated-forest")
    found = {id(e) for e in sub_estimators(calibrated)}
    for member in calibrated.calibrated_classifiers_:  # sklearn's private _CalibratedClassifier holders
        assert id(member.estimator) in found
        assert all(id(c) in found for c in member.calibrators)
    ttr = _fit_meta("transformed-target")
    assert {id(ttr.regressor_), id(ttr.transformer_)} <= {id(e) for e in sub_estimators(ttr)}


def test_walk_keeps_gradient_boosting_stage_order() -> None:
    gb = GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0).fit(X, Y)
    trees = [e for e in sub_estimators(gb) if hasattr(e, "tree_")]
    assert trees == list(np.asarray(gb.estimators_, dtype=object).ravel())


def test_skl2onnx_refusals_see_a_tree_in_a_stacking_final_estimator() -> None:
    stack = _fit_meta("stacking-final-tree")
    reason = refusal_reason(stack, OnnxOptions(input_dtype="float64"))
    assert reason is not None and "decision trees via skl2onnx with double input" in reason


def test_final_step_follows_nested_pipelines() -> None:
    inner = make_pipeline(StandardScaler(), _dt())
    outer = Pipeline([("scale", StandardScaler()), ("inner", inner)]).fit(X, Y)
    assert final_step(outer) is inner.steps[-1][1]
    tree = _dt().fit(X, Y)
    assert final_step(tree) is tree
