"""Fault-injection battery: faithful exports pass; each injected fault is caught and its cause named.

Faults are injected into the IR between `export.from_sklearn.to_ir` and the writers (`export.to_coreml.to_spec`,
`export.to_onnx.to_onnx`), so every artifact is otherwise exactly what the exporter writes. The truth is
scikit-learn's own predictions; nothing here compares our output with our output.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

import parity

pytest.importorskip("export.to_coreml")
pytest.importorskip("export.to_onnx")

from export import ir
from export.frontends import to_ir
from export.to_coreml import CoreMLInterface, save_spec, to_spec
from export.to_onnx import save_onnx, to_onnx
from export.to_onnx.options import OnnxOptions

X, Y = make_classification(n_samples=300, n_features=5, n_informative=3, random_state=3)
FOREST = RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, Y)
HGB = HistGradientBoostingClassifier(max_iter=6, max_depth=3, random_state=0).fit(X, Y)
LOGISTIC = LogisticRegression().fit(X, Y)


def write(estimator: Any, node: ir.Model, directory: Path, kind: str, dtype: str = "float64") -> Path:
    if kind == "coreml":
        path = directory / "model.mlmodel"
        save_spec(to_spec(node, CoreMLInterface()), path)
        return path
    exported = to_onnx(estimator, node, OnnxOptions(input_dtype=dtype))  # type: ignore[arg-type]
    assert exported.route == "ir"  # the fault must reach the graph
    path = directory / f"model_{dtype}.onnx"
    save_onnx(exported.model, path)
    if kind == "ort":
        from export.to_onnx import to_ort

        ort_path, _config = to_ort(path, directory)
        return Path(ort_path)
    return path


def replace_arrays(node: ir.TreeEnsemble, **changes: Any) -> ir.TreeEnsemble:
    return dataclasses.replace(node, **changes)


def root_of_tree0(node: ir.TreeEnsemble) -> int:
    return int(np.flatnonzero((node.tree_id == 0) & (node.node_id == 0))[0])


def move_root(step: Callable[[float], float]) -> Callable[[ir.TreeEnsemble], ir.TreeEnsemble]:
    def fault(node: ir.TreeEnsemble) -> ir.TreeEnsemble:
        threshold = node.threshold.copy()
        i = root_of_tree0(node)
        threshold[i] = step(float(threshold[i]))
        return replace_arrays(node, threshold=threshold)

    return fault


def float32_ulp_up(value: float) -> float:
    return value + float(np.spacing(np.float32(value)))


def change_leaf(node: ir.TreeEnsemble) -> ir.TreeEnsemble:
    leaf_value = node.leaf_value.copy()
    first_leaf = int(np.flatnonzero((node.tree_id == 0) & (node.feature < 0))[0])
    leaf_value[first_leaf] += 0.05
    return replace_arrays(node, leaf_value=leaf_value)


def drop_last_tree(node: ir.TreeEnsemble) -> ir.TreeEnsemble:
    keep = node.tree_id != node.tree_id.max()
    fields = ("tree_id", "node_id", "feature", "threshold", "mode", "true_child", "false_child", "missing_tracks_true",
              "leaf_value", "leaf_target")
    changes = {name: getattr(node, name)[keep] for name in fields}
    if node.hit_rate is not None:
        changes["hit_rate"] = node.hit_rate[keep]
    return replace_arrays(node, **changes)


def swap_labels(model: ir.Model) -> ir.Model:
    head = model.head
    assert isinstance(head, ir.Classification)
    return dataclasses.replace(model, head=dataclasses.replace(head, labels=head.labels[::-1].copy()))


def in_body(fault: Callable[[Any], Any]) -> Callable[[ir.Model], ir.Model]:
    """The fault applied to the model's one body node (front-ends build one step)."""
    def inject(model: ir.Model) -> ir.Model:
        (step,) = model.body
        return dataclasses.replace(model, body=(dataclasses.replace(step, node=fault(step.node)),))

    return inject


def flip_nan_routing(node: ir.TreeEnsemble) -> ir.TreeEnsemble:
    branch = node.feature >= 0
    missing = node.missing_tracks_true.copy()
    missing[branch] = ~missing[branch]
    return replace_arrays(node, missing_tracks_true=missing)


def float32_thresholds_without_snapping(node: ir.TreeEnsemble) -> ir.TreeEnsemble:
    # What a naive writer does: take scikit-learn's t, store float32(t), compare x <= it.
    trees = [e.tree_ for e in FOREST.estimators_]
    branch = np.flatnonzero(node.feature >= 0)
    original = np.array([trees[node.tree_id[i]].threshold[node.node_id[i]] for i in branch])
    assert np.all(np.abs(original - node.threshold[branch]) <= np.abs(np.spacing(np.float32(original))))  # same nodes
    threshold = node.threshold.copy()
    mode = node.mode.copy()
    threshold[branch] = original.astype(np.float32).astype(np.float64)
    mode[branch] = ir.BranchMode.LEQ
    return replace_arrays(node, threshold=threshold, mode=mode)


def shift_base(node: ir.TreeEnsemble) -> ir.TreeEnsemble:
    return replace_arrays(node, base=node.base + 0.5)


def scale_coefficients(node: Any) -> Any:
    return dataclasses.replace(node, coef=node.coef * (1 + 1e-4))


FAULTS: dict[str, tuple[Any, Callable[[Any], Any], tuple[str, ...]]] = {
    "threshold +1 float64 ulp": (FOREST, in_body(move_root(lambda t: float(np.nextafter(t, np.inf)))),
                                 ("routing diverges at tree 0 node 0",)),
    "threshold -1 float64 ulp": (FOREST, in_body(move_root(lambda t: float(np.nextafter(t, -np.inf)))),
                                 ("routing diverges at tree 0 node 0",)),
    "threshold +1 float32 ulp": (FOREST, in_body(move_root(float32_ulp_up)), ("routing diverges at tree 0 node 0",)),
    "leaf value changed": (FOREST, in_body(change_leaf), ("leaf value differs", "tree 0")),
    "tree dropped": (FOREST, in_body(drop_last_tree), ("tree count differs",)),
    "class labels swapped": (FOREST, swap_labels, ("class-label order swapped",)),
    "NaN routing flipped": (FOREST, in_body(flip_nan_routing), ("NaN routing",)),
    "float32 thresholds without snapping": (FOREST, in_body(float32_thresholds_without_snapping),
                                            ("routing diverges", "float32 threshold rounding")),
    "coefficient × (1+1e-4)": (LOGISTIC, in_body(scale_coefficients), ("scale factor", "1.0001")),
    # HGB compares float64 x: a one-ulp move is visible at t's own float64 neighbours.
    "HGB threshold +1 float64 ulp": (HGB, in_body(move_root(lambda t: float(np.nextafter(t, np.inf)))),
                                     ("routing diverges at tree 0 node 0",)),
    "HGB base value shifted": (HGB, in_body(shift_base), ("constant offset", "+0.5")),
}


@pytest.mark.parametrize("kind", ["coreml", "onnx", "ort"])
@pytest.mark.parametrize("estimator", [FOREST, LOGISTIC, HGB], ids=["forest", "logistic", "hgb"])
def test_faithful_exports_pass(estimator: Any, kind: str, tmp_path: Path) -> None:
    path = write(estimator, to_ir(estimator), tmp_path, kind)
    report = parity.check(estimator, [path], inputs=X)
    assert report.verdict == "passed", parity.to_markdown(report)


def test_faithful_float32_onnx_forest_passes_both_contracts(tmp_path: Path) -> None:
    path = write(FOREST, to_ir(FOREST), tmp_path, "onnx", dtype="float32")
    for contract in ("float32", "float64"):  # scikit-learn trees cast to float32 themselves
        report = parity.check(FOREST, [path], inputs=X, contract=contract)
        assert report.verdict == "passed", parity.to_markdown(report)


@pytest.mark.parametrize("kind", ["coreml", "onnx", "ort"])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_injected_fault_is_caught_and_named(fault: str, kind: str, tmp_path: Path) -> None:
    estimator, inject, words = FAULTS[fault]
    path = write(estimator, inject(to_ir(estimator)), tmp_path, kind)
    report = parity.check(estimator, [path], inputs=X)
    assert report.verdict == "failed", f"{fault} not caught in {kind}"
    causes = [c.comparison.cause or "" for c in report.failures()] + [p for a in report.artifacts for p in a.problems]
    assert any(all(word in cause for word in words) for cause in causes), (fault, kind, causes)


# ---------------------------------------------------------------------------------------------------------------
# Faithful exports across families pass under both input contracts.


def _families() -> dict[str, tuple[Any, np.ndarray, np.ndarray | None]]:
    from sklearn.datasets import load_iris, make_regression
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeRegressor

    iris_X, iris_y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[iris_y]
    reg_X, reg_y = make_regression(n_samples=150, n_features=4, random_state=0)
    return {
        "forest-string-labels": (RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0), iris_X, names),
        "gradient-boosting-3-class": (GradientBoostingClassifier(n_estimators=8, random_state=0), iris_X, iris_y),
        "hist-gradient-boosting": (HistGradientBoostingRegressor(max_iter=8), reg_X, reg_y),
        "scaler-logistic-3-class": (make_pipeline(StandardScaler(), LogisticRegression()), iris_X, iris_y),
        "linear-regression": (LinearRegression(), reg_X, reg_y),
        "scaler-svc-probability": (make_pipeline(StandardScaler(), SVC(probability=True, random_state=0)), iris_X,
                                   iris_y),
        "knn": (KNeighborsClassifier(), iris_X, iris_y),
        "scaler-mlp": (make_pipeline(StandardScaler(), MLPClassifier(max_iter=200, random_state=0)), iris_X, iris_y),
        "scaler": (StandardScaler(), reg_X, None),
        "imputer-tree": (make_pipeline(SimpleImputer(), DecisionTreeRegressor(max_depth=4)), reg_X, reg_y),
    }


FAMILIES = _families()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("contract", ["float64", "float32"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_faithful_exports_of_every_family_pass(family: str, contract: str, tmp_path: Path) -> None:
    estimator, features, target = FAMILIES[family]
    estimator = estimator.fit(features, target) if target is not None else estimator.fit(features)
    node = to_ir(estimator)
    paths = [write(estimator, node, tmp_path, "coreml")]
    exported = to_onnx(estimator, node, OnnxOptions(input_dtype=contract))  # type: ignore[arg-type]
    save_onnx(exported.model, tmp_path / "model.onnx")
    paths.append(tmp_path / "model.onnx")
    report = parity.check(estimator, paths, inputs=features, contract=contract)
    assert report.verdict == "passed", parity.to_markdown(report)


def test_float32_hgb_artifact_under_float64_contract_fails_with_reason(tmp_path: Path) -> None:
    # A float32 artifact cannot reproduce float64 HGB routing (docs/onnx-parity.md §1.4 reading 2).
    estimator, features, target = FAMILIES["hist-gradient-boosting"]
    estimator = estimator.fit(features, target)
    path = write(estimator, to_ir(estimator), tmp_path, "onnx", dtype="float32")
    report = parity.check(estimator, [path], inputs=features, contract="float64")
    assert report.verdict == "failed"
    causes = [c.comparison.cause or "" for c in report.failures()]
    assert any("routing diverges" in c and "float32 input under a float64 contract" in c for c in causes), causes
