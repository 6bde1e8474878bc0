"""Faults injected into boosting exports are caught by parity against the library itself and named down to the
tree and node (the references' own trees are walked beside the artifact's)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import parity
from export.from_boosting import from_object
from export.to_coreml import CoreMLInterface, save_spec, to_spec
from export.to_onnx import OnnxOptions, save_onnx, to_onnx
from tests.boosting_data import telco_xy

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")
cb = pytest.importorskip("catboost")


def _models() -> dict[str, object]:
    X, churn, _ = telco_xy()
    return {
        "xgboost": xgb.XGBClassifier(n_estimators=3, max_depth=3).fit(X, churn),
        "lightgbm": lgb.LGBMClassifier(n_estimators=3, num_leaves=6, verbose=-1).fit(X, churn),
        "catboost": cb.CatBoostClassifier(iterations=3, depth=3, verbose=0, allow_writing_files=False).fit(X, churn),
    }


MODELS = _models()


def _first_root(node: object) -> int:
    return int(np.flatnonzero((node.tree_id == 0) & (node.node_id == 0))[0])  # type: ignore[attr-defined]


def _threshold_one_ulp_down(node: object) -> object:
    threshold = node.threshold.copy()  # type: ignore[attr-defined]
    i = _first_root(node)
    threshold[i] = np.nextafter(np.float32(threshold[i]), np.float32(-np.inf)).astype(np.float64) \
        if node.compares_float32 else np.nextafter(threshold[i], -np.inf)  # type: ignore[attr-defined]
    return dataclasses.replace(node, threshold=threshold)  # type: ignore[type-var]


def _nan_flipped(node: object) -> object:
    branch = node.feature >= 0  # type: ignore[attr-defined]
    missing = node.missing_tracks_true.copy()  # type: ignore[attr-defined]
    missing[branch] = ~missing[branch]
    return dataclasses.replace(node, missing_tracks_true=missing)  # type: ignore[type-var]


@pytest.mark.parametrize("library", list(MODELS))
@pytest.mark.parametrize(("fault", "words"), [(_threshold_one_ulp_down, ("diverges at tree 0 node 0",)),
                                              (_nan_flipped, ("NaN",))], ids=["threshold-ulp", "nan-routing"])
def test_fault_is_caught_and_named(tmp_path: Path, library: str, fault: object, words: tuple[str, ...]) -> None:
    X, _, _ = telco_xy()
    model = from_object(MODELS[library])
    exported = model.to_ir()
    (step,) = exported.body
    faulty = dataclasses.replace(exported, body=(dataclasses.replace(step, node=fault(step.node)),))  # type: ignore[operator]
    coreml, onnx_path = tmp_path / "m.mlmodel", tmp_path / "m.onnx"
    save_spec(to_spec(faulty, CoreMLInterface()), coreml)
    save_onnx(to_onnx(None, faulty, OnnxOptions(input_dtype="float64")).model, onnx_path)
    report = parity.check(model.reference(), [coreml, onnx_path], inputs=X)
    assert report.verdict == "failed"
    causes = [c.comparison.cause or "" for c in report.failures()]
    assert any(all(word in cause for word in words) for cause in causes), causes
    assert {Path(c.artifact).name for c in report.failures()} == {"m.mlmodel", "m.onnx"}


@pytest.mark.parametrize("library", ["xgboost", "lightgbm"])
def test_wrong_category_code_rule_is_caught_by_the_category_code_probes(tmp_path: Path, library: str) -> None:
    """Integer-coded categoricals lowered with the other library's code rule (LightGBM truncates -0.5 to code 0,
    XGBoost treats it as no category): the category-codes probes catch it against the library itself, even on
    user rows that only hold valid codes."""
    features, churn, contract = telco_xy()
    X = np.column_stack([features[:, [0, 3, 4, 5]], contract.astype(np.float64)])
    if library == "xgboost":
        native = xgb.train({"objective": "binary:logistic", "max_depth": 3, "max_cat_to_onehot": 1},
                           xgb.DMatrix(X, churn, feature_types=["c", "q", "q", "q", "c"], enable_categorical=True),
                           num_boost_round=4)
    else:
        native = lgb.train({"objective": "binary", "num_leaves": 7, "min_data_per_group": 5, "cat_smooth": 1.0,
                            "verbose": -1}, lgb.Dataset(X, churn, categorical_feature=[0, 4]), num_boost_round=4)
    from export.from_boosting.forest import to_ir

    model = from_object(native)
    other = {"xgboost": "lightgbm", "lightgbm": "xgboost"}[library]
    exported = to_ir(dataclasses.replace(model.forest, code_rule=other))  # the same forest, the other code rule
    coreml, onnx_path = tmp_path / "m.mlmodel", tmp_path / "m.onnx"
    save_spec(to_spec(exported, CoreMLInterface()), coreml)
    save_onnx(to_onnx(None, exported, OnnxOptions(input_dtype="float64")).model, onnx_path)
    report = parity.check(model.reference(), [coreml, onnx_path], inputs=X)
    assert report.verdict == "failed"
    assert {c.probe for c in report.failures()} == {"category-codes"}
    assert all("membership lookups" in (c.comparison.cause or "") for c in report.failures())


# Arithmetic faults: caught because each library's outputs are compared against per-row error bounds built from its
# own arithmetic (parity/bounds.py steps: XGBoost's float32 tree sums, LightGBM's and CatBoost's double sums, links).
# The XGBoost leaf change is 1e-5 (its float32 sums resolve ~(N + 1)·2⁻²⁴·S ≈ 1e-7 here); the double libraries'
# 1e-9 is far below any output's resolution and far above a double sum's rounding.
LEAF_EPSILON = {"xgboost": 1e-5, "lightgbm": 1e-9, "catboost": 1e-9}


def _first_leaf_plus(epsilon: float) -> object:
    def fault(node: object) -> object:
        leaf_value = node.leaf_value.copy()  # type: ignore[attr-defined]
        leaf_value[int(np.flatnonzero((node.tree_id == 0) & (node.feature < 0))[0])] += epsilon  # type: ignore[attr-defined]
        return dataclasses.replace(node, leaf_value=leaf_value)  # type: ignore[type-var]
    return fault


def _export(tmp_path: Path, library: str, fault: object = None) -> tuple[object, list[Path]]:
    model = from_object(MODELS[library])
    exported = model.to_ir()
    if fault is not None:
        (step,) = exported.body
        exported = dataclasses.replace(exported, body=(dataclasses.replace(step, node=fault(step.node)),))  # type: ignore[operator]
    coreml, onnx_path = tmp_path / "m.mlmodel", tmp_path / "m.onnx"
    save_spec(to_spec(exported, CoreMLInterface()), coreml)
    save_onnx(to_onnx(None, exported, OnnxOptions(input_dtype="float64")).model, onnx_path)
    return model, [coreml, onnx_path]


@pytest.mark.parametrize("library", list(MODELS))
def test_leaf_change_beyond_the_librarys_own_precision_is_caught(tmp_path: Path, library: str) -> None:
    from parity.bounds import SAFETY

    X, _, _ = telco_xy()
    model, artifacts = _export(tmp_path, library, _first_leaf_plus(LEAF_EPSILON[library]))
    for data in (X, None):
        report = parity.check(model.reference(), artifacts, inputs=data)  # type: ignore[attr-defined]
        assert report.verdict == "failed", parity.to_markdown(report)
        assert {Path(c.artifact).name for c in report.failures()} == {"m.mlmodel", "m.onnx"}
        assert max(c.comparison.bound_ratio or 0.0 for c in report.failures()) > SAFETY


@pytest.mark.parametrize("library", list(MODELS))
def test_faithful_boosting_reports_show_error_over_bound(tmp_path: Path, library: str) -> None:
    X, _, _ = telco_xy()
    model, artifacts = _export(tmp_path, library)
    report = parity.check(model.reference(), artifacts, inputs=X)  # type: ignore[attr-defined]
    assert report.verdict == "passed", parity.to_markdown(report)
    bounded = [c for c in report.checks if c.comparison.role == "probabilities"]
    assert bounded and all(c.comparison.bound_ratio is not None and c.comparison.bound_ratio <= 1.0 for c in bounded)
    assert all(c.comparison.tolerance is None for c in bounded)  # bounds, not a fixed tolerance
    assert "## Error bounds (worst observed error ÷ bound per output" in parity.to_markdown(report)


def test_labels_only_objective_runs_every_probe_set(tmp_path: Path) -> None:
    """XGBoost multi:softmax has labels only (its predict_proba raises): the reference work parity starts before the
    artifacts open (with the roles the model's API suggests, label + probabilities) must be dropped for what the
    artifacts need, never skip a probe set."""
    X, _, contract = telco_xy()
    booster = xgb.train({"objective": "multi:softmax", "num_class": 3, "max_depth": 3, "seed": 0},
                        xgb.DMatrix(X, label=contract, missing=np.nan), num_boost_round=3)
    model = from_object(booster)
    exported = model.to_ir()
    coreml, onnx_path = tmp_path / "m.mlmodel", tmp_path / "m.onnx"
    save_spec(to_spec(exported, CoreMLInterface()), coreml)
    save_onnx(to_onnx(None, exported, OnnxOptions(input_dtype="float64")).model, onnx_path)
    report = parity.check(model.reference(), [coreml, onnx_path], inputs=X)
    assert report.verdict == "passed", parity.to_markdown(report)
    assert not [n for n in report.notes if "skipped" in n], report.notes
    assert {"user-data", "thresholds", "nan", "extremes"} <= {p.name for p in report.probes}
    assert {c.comparison.role for c in report.checks} == {"label"}
