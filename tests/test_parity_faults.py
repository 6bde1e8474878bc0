"""Fault-injection battery: faithful exports pass; each injected fault is caught and its cause named.

Faults are injected into the IR between `export.frontends.to_ir` and the writers (`export.to_coreml.to_spec`,
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


# ---------------------------------------------------------------------------------------------------------------
# The table-driven battery: every family × format, each fault caught with the user's data and without it
# (probes built from the model alone), and no false alarm on any faithful export.


def _final(node: Any) -> Any:
    """The producer a battery fault edits: the last body step's node (the last step of its pipeline)."""
    if isinstance(node, ir.Model):
        node = node.body[-1].node
    return node.steps[-1] if isinstance(node, ir.Pipeline) else node


def _with_final(node: Any, final: Any) -> Any:
    if isinstance(node, ir.Model):
        step = node.body[-1]
        return dataclasses.replace(node, body=(*node.body[:-1], dataclasses.replace(step, node=_with_final(step.node,
                                                                                                          final))))
    return dataclasses.replace(node, steps=(*node.steps[:-1], final)) if isinstance(node, ir.Pipeline) else final


def _bumped(array: np.ndarray, change: Callable[[float], float]) -> np.ndarray:
    """A copy with its first nonzero element changed."""
    out = np.array(array, dtype=np.float64, order="C", copy=True)
    flat = out.reshape(-1)  # a view: out is C-contiguous
    index = int(np.flatnonzero(flat)[0]) if np.any(flat) else 0
    flat[index] = change(float(flat[index]))
    return out


def one_coefficient(node: Any) -> Any:
    """One coefficient × (1 + 1e-6): the first nonzero weight of the model (or the scaler's first scale)."""
    model = _final(node)
    times = lambda v: v * (1 + 1e-6)  # noqa: E731
    if isinstance(model, ir.LinearModel):
        return _with_final(node, dataclasses.replace(model, coef=_bumped(model.coef, times)))
    if isinstance(model, ir.NeuralNetwork):
        first = dataclasses.replace(model.layers[0], weights=_bumped(model.layers[0].weights, times))
        return _with_final(node, dataclasses.replace(model, layers=(first, *model.layers[1:])))
    if isinstance(model, ir.SupportVectorMachine):
        return _with_final(node, dataclasses.replace(model, dual_coef=_bumped(model.dual_coef, times)))
    if isinstance(model, ir.Scaler):
        return _with_final(node, dataclasses.replace(model, scale=_bumped(model.scale, times)))
    if isinstance(model, ir.Linear):
        return _with_final(node, dataclasses.replace(model, weights=_bumped(model.weights, times)))
    if isinstance(model, ir.QuadraticDiscriminant):
        transforms = (_bumped(model.transforms[0], times), *model.transforms[1:])
        return _with_final(node, dataclasses.replace(model, transforms=transforms))
    raise AssertionError(f"no coefficient fault for {type(model).__name__}")


def bias_shift(node: Any) -> Any:
    """The first bias + 1e-6 × its scale (max(1, |bias|))."""
    model = _final(node)
    plus = lambda v: v + 1e-6 * max(1.0, abs(v))  # noqa: E731
    if isinstance(model, ir.LinearModel):
        return _with_final(node, dataclasses.replace(model, intercept=_bumped(model.intercept, plus)))
    if isinstance(model, ir.NeuralNetwork):
        last = dataclasses.replace(model.layers[-1], bias=_bumped(model.layers[-1].bias, plus))
        return _with_final(node, dataclasses.replace(model, layers=(*model.layers[:-1], last)))
    if isinstance(model, ir.SupportVectorMachine):
        return _with_final(node, dataclasses.replace(model, rho=_bumped(model.rho, plus)))
    if isinstance(model, ir.Scaler):
        return _with_final(node, dataclasses.replace(model, offset=_bumped(model.offset, plus)))
    if isinstance(model, ir.Linear):
        return _with_final(node, dataclasses.replace(model, bias=_bumped(model.bias, plus)))
    if isinstance(model, ir.TreeEnsemble):
        return _with_final(node, dataclasses.replace(model, base=model.base + 1e-6 * np.maximum(1, abs(model.base))))
    if isinstance(model, ir.QuadraticDiscriminant):
        return _with_final(node, dataclasses.replace(model, log_prior=_bumped(model.log_prior, plus)))
    raise AssertionError(f"no bias fault for {type(model).__name__}")


def _float32(values: Any) -> Any:
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        with np.errstate(over="ignore"):
            return values.astype(np.float32).astype(np.float64)
    return values


def float32_cast(node: Any) -> Any:
    """What a writer that went through float32 stores: every float array of the model rounded to float32."""
    model = _final(node)
    if isinstance(model, ir.NeuralNetwork):
        layers = tuple(dataclasses.replace(layer, weights=_float32(layer.weights), bias=_float32(layer.bias))
                       for layer in model.layers)
        return _with_final(node, dataclasses.replace(model, layers=layers))
    changes = {f.name: _float32(getattr(model, f.name)) for f in dataclasses.fields(model)
               if isinstance(getattr(model, f.name), np.ndarray) and getattr(model, f.name).dtype == np.float64}
    if isinstance(model, ir.QuadraticDiscriminant):
        changes["transforms"] = tuple(_float32(t) for t in model.transforms)
    return _with_final(node, dataclasses.replace(model, **changes))


def leaf_epsilon(node: Any) -> Any:
    """One leaf value + 1e-9 (far below any output's resolution, far above a double sum's rounding)."""
    model = _final(node)
    leaf_value = model.leaf_value.copy()
    first_leaf = int(np.flatnonzero((model.tree_id == 0) & (model.feature < 0))[0])
    leaf_value[first_leaf] += 1e-9
    return _with_final(node, replace_arrays(model, leaf_value=leaf_value))


def one_leaf_entry(node: Any) -> Any:
    """One class's entry of one leaf + 1e-9: unlike `leaf_epsilon` (a whole leaf row, which a softmax over
    per-class sums cancels when every class gets it), this moves one class's score."""
    model = _final(node)
    leaf_value = model.leaf_value.copy()
    leaf, column = np.argwhere((model.feature[:, None] < 0) & (leaf_value != 0))[0]
    leaf_value[leaf, column] += 1e-9
    return _with_final(node, replace_arrays(model, leaf_value=leaf_value))


def _on_final(fault: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda node: _with_final(node, fault(_final(node)))


TREE_FAULTS: dict[str, Callable[[Any], Any]] = {
    "leaf +1e-9": leaf_epsilon,
    "threshold +1 float64 ulp": _on_final(move_root(lambda t: float(np.nextafter(t, np.inf)))),
    "threshold -1 float32 ulp": _on_final(move_root(lambda t: t - float(np.spacing(np.float32(abs(t)))))),
    "tree dropped": _on_final(drop_last_tree),
    "NaN routing flipped": _on_final(flip_nan_routing),
    "float32 cast": float32_cast,
}
ARITHMETIC_FAULTS: dict[str, Callable[[Any], Any]] = {
    "coefficient × (1+1e-6)": one_coefficient,
    "bias + 1e-6·scale": bias_shift,
    "float32 cast": float32_cast,
}
LABEL_FAULTS: dict[str, Callable[[Any], Any]] = {"label swap": swap_labels}  # the head holds the labels


def _battery_cases() -> dict[str, tuple[Any, np.ndarray, dict[str, Callable[[Any], Any]]]]:
    from sklearn.datasets import load_iris, load_wine, make_regression
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import LinearRegression
    from sklearn.naive_bayes import BernoulliNB
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR
    from supported_cases import applications_counts, credit_student

    counts_X, counts_y = applications_counts()  # real rows, many exact zeros at BernoulliNB's threshold 0
    credit_X, credit_y = credit_student()
    wine_X, wine_y = load_wine(return_X_y=True)
    iris_X, iris_y = load_iris(return_X_y=True)
    reg_X, reg_y = make_regression(n_samples=120, n_features=4, noise=1.0, random_state=0)
    nan_X = X.copy()
    nan_X[::9, 1] = np.nan
    return {
        "forest": (FOREST, X, {**TREE_FAULTS, **LABEL_FAULTS}),
        "hist-gradient-boosting": (HGB, X, {k: v for k, v in {**TREE_FAULTS, **LABEL_FAULTS}.items()
                                            if "float32 ulp" not in k}),  # HGB compares float64: no float32 ulp
        "gradient-boosting-regressor": (GradientBoostingRegressor(n_estimators=5, max_depth=3, random_state=0)
                                        .fit(reg_X, reg_y), reg_X, {**TREE_FAULTS, "bias + 1e-6·scale": bias_shift}),
        "logistic-binary": (LOGISTIC, X, {**ARITHMETIC_FAULTS, **LABEL_FAULTS}),
        "scaler-multinomial-logistic-wine": (make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
                                             .fit(wine_X, wine_y), wine_X, {**ARITHMETIC_FAULTS, **LABEL_FAULTS}),
        "linear-regression": (LinearRegression().fit(reg_X, reg_y), reg_X, ARITHMETIC_FAULTS),
        "scaler-mlp": (make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), max_iter=300,
                                                                     random_state=0)).fit(iris_X, iris_y), iris_X,
                       {**ARITHMETIC_FAULTS, **LABEL_FAULTS}),
        "scaler-svr": (make_pipeline(StandardScaler(), SVR()).fit(reg_X, reg_y), reg_X, ARITHMETIC_FAULTS),
        "standard-scaler": (StandardScaler().fit(reg_X), reg_X, ARITHMETIC_FAULTS),
        "pca": (PCA(n_components=3).fit(reg_X), reg_X, ARITHMETIC_FAULTS),
        # threshold +1 float64 ulp (0 -> 5e-324) changes only rows holding that subnormal: none in data or probes
        "bernoulli-nb": (BernoulliNB().fit(counts_X, counts_y), counts_X, {
            "one class's leaf entry +1e-9": one_leaf_entry, **{k: v for k, v in {**TREE_FAULTS, **LABEL_FAULTS}.items()
                                                             if k not in ("threshold +1 float64 ulp", "leaf +1e-9")}}),
        "qda-binary": (QuadraticDiscriminantAnalysis().fit(credit_X, credit_y), credit_X,
                       {**ARITHMETIC_FAULTS, **LABEL_FAULTS}),
    }


BATTERY = _battery_cases()
BATTERY_FAULTS = [(case, fault) for case, (_, _, faults) in BATTERY.items() for fault in faults]


def _write_battery(estimator: Any, node: Any, directory: Path, kind: str) -> Path:
    if kind == "coreml":  # the IR's schema decides the inputs
        path = directory / "model.mlmodel"
        save_spec(to_spec(node, CoreMLInterface()), path)
        return path
    exported = to_onnx(estimator, node, OnnxOptions(input_dtype="float64"))
    assert exported.route == "ir"  # the fault must reach the graph
    path = directory / "model.onnx"
    save_onnx(exported.model, path)
    return path


def _effect_within_faithful_bound(estimator: Any, faithful: Path, faulty: Path, report: Any) -> bool:
    """True when the faulty artifact's outputs stay within SAFETY × the faithful bound of the faithful artifact's on
    every probe row: a fault the artifact's own precision cannot resolve (issue 13: only faults beyond it must be
    caught)."""
    from parity.bounds import SAFETY, artifact_precision
    from parity.references import adapter_for
    from parity.runtimes import open_artifact

    chain = adapter_for(estimator).chain(estimator)
    good, bad = open_artifact(faithful), open_artifact(faulty)
    if chain is None:
        return False
    precision = artifact_precision(good, report.contract)
    for _raw, X_probe, reference in report.probe_data.values():
        expected, got = good.predict(X_probe), bad.predict(X_probe)
        if chain.role not in expected:
            return False
        bound = chain.bound(X_probe, reference[chain.role], precision)
        if not np.all(np.abs(got[chain.role] - expected[chain.role]) <= SAFETY * bound):
            return False
        if "label" in expected and not np.array_equal(expected["label"], got["label"]):
            return False
    return True


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", ["coreml", "onnx"])
@pytest.mark.parametrize("case", list(BATTERY))
def test_battery_faithful_exports_raise_no_false_alarm(case: str, kind: str, tmp_path: Path) -> None:
    estimator, features, _ = BATTERY[case]
    path = _write_battery(estimator, to_ir(estimator), tmp_path, kind)
    for data in (features, None):
        report = parity.check(estimator, [path], inputs=data)
        assert report.verdict == "passed", parity.to_markdown(report)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", ["coreml", "onnx"])
@pytest.mark.parametrize(("case", "fault"), BATTERY_FAULTS)
def test_battery_fault_is_caught_with_and_without_user_data(case: str, fault: str, kind: str,
                                                            tmp_path: Path) -> None:
    from parity.bounds import U32, artifact_precision
    from parity.probes import refusal_reason

    estimator, features, faults = BATTERY[case]
    if fault == "NaN routing flipped" and refusal_reason(estimator, np.full((1, features.shape[1]), np.nan)):
        pytest.skip("the model refuses NaN: its NaN routing is outside what it predicts on")
    node = to_ir(estimator)
    faithful = tmp_path / "faithful"
    faithful.mkdir()
    faithful = _write_battery(estimator, node, faithful, kind)
    if fault == "float32 cast" and kind == "coreml" and parity.runtimes.open_artifact(faithful).float32_weights:
        pytest.skip("the Core ML NeuralNetwork already stores float32 weights: there is no double artifact to cast")
    faulty = _write_battery(estimator, faults[fault](node), tmp_path, kind)
    for data in (features, None):
        report = parity.check(estimator, [faulty], inputs=data)
        if report.verdict == "failed":
            continue
        # Not caught: allowed only where the artifact's own float32 precision cannot resolve the fault.
        where = f"{fault} not caught in {kind} {'with' if data is not None else 'without'} user data"
        precision = artifact_precision(parity.runtimes.open_artifact(faithful), "float64")
        assert precision.weights >= U32, f"{where} (a double artifact): {parity.to_markdown(report)}"
        assert _effect_within_faithful_bound(estimator, faithful, faulty, report), where
