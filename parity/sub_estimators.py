"""The one walker over a scikit-learn estimator's sub-estimators (fitted members and parameter templates).

Used by export's post-load index checks (`export.loading`), export's skl2onnx route (its refusal rules look at every
nested estimator) and parity (the step that decides a pipeline's output). It lives in parity because parity never
imports `export` while export may import parity: this way both sides share one walker without breaking parity's
independence, and it needs nothing but the estimator object itself (no IR).

Why it reads an estimator's attributes (`vars()`) instead of a list of attribute names: a list has to be kept in
step with every meta-estimator scikit-learn adds, and the one loading used missed `final_estimator_` (Stacking),
`estimator_` (RFE, SelectFromModel, RANSAC), `calibrated_classifiers_` (CalibratedClassifierCV), `regressor_` /
`transformer_` (TransformedTargetRegressor) and `best_estimator_` (search CVs) — a tree inside one of those was never
bounds-checked. Walking every attribute reaches all of them, and any future one, by construction:
- it descends through containers (list, tuple, dict incl. `Bunch`, object ndarrays such as GradientBoosting's
  `estimators_[stage, k]`), so Pipeline `steps`, ColumnTransformer `transformers_` / `named_transformers_`,
  FeatureUnion `transformer_list`, Voting/Stacking `estimators_` / `named_estimators_` are all covered;
- it descends through scikit-learn's private helper objects that are not estimators but hold them (e.g.
  `sklearn.calibration._CalibratedClassifier`, which holds the fitted `estimator` and its `calibrators`);
- it yields each estimator once (by identity), even when reachable twice (`estimators_` and `named_estimators_`).
Parameter templates (an unfitted `estimator` / `estimators` parameter) are yielded too: the security checks and the
skl2onnx refusal rules must see everything reachable; a caller that wants fitted members checks for them itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

# A crafted file could nest estimators arbitrarily deep; real models nest a handful of levels.
MAX_DEPTH = 64


@dataclass(frozen=True)
class SubEstimator:
    """One estimator reached from the root, with the attribute path that reached it (for error messages)."""

    path: str  # e.g. "final_estimator_", "estimators_[3]", "steps[1][1].transformers_[0][1]"; "" for the root
    estimator: Any
    depth: int  # how many estimators lie between the root and this one (the root is 0)


def _holds_estimators(obj: Any) -> bool:
    """An object whose attributes we read: an estimator (any library's, via scikit-learn's base class) or one of
    scikit-learn's own helper objects that hold estimators (`_CalibratedClassifier`)."""
    if isinstance(obj, type) or not hasattr(obj, "__dict__"):
        return False
    return isinstance(obj, BaseEstimator) or type(obj).__module__.startswith("sklearn.")


def walk(estimator: Any) -> Iterator[SubEstimator]:
    """Every estimator reachable from `estimator` (itself first), depth first in attribute order."""
    seen: set[int] = set()
    # Stack of (object, path, estimator depth); pushed in reverse so the walk follows attribute order.
    stack: list[tuple[Any, str, int]] = [(estimator, "", 0)]
    while stack:
        obj, path, depth = stack.pop()
        if id(obj) in seen or depth > MAX_DEPTH:
            continue
        children: list[tuple[Any, str]]
        if isinstance(obj, np.ndarray):
            if obj.dtype != object:
                continue
            seen.add(id(obj))
            children = [(item, f"{path}[{', '.join(map(str, index))}]") for index, item in np.ndenumerate(obj)]
        elif isinstance(obj, (list, tuple)):
            seen.add(id(obj))
            children = [(item, f"{path}[{i}]") for i, item in enumerate(obj)]
        elif isinstance(obj, dict):
            seen.add(id(obj))
            children = [(item, f"{path}[{key!r}]") for key, item in obj.items()]
        elif _holds_estimators(obj):
            seen.add(id(obj))
            if isinstance(obj, BaseEstimator):
                yield SubEstimator(path, obj, depth)
                depth += 1
            children = [(value, f"{path}.{name}" if path else name) for name, value in vars(obj).items()]
        else:
            continue
        stack.extend((child, child_path, depth) for child, child_path in reversed(children)
                     if _may_hold_estimators(child))


def _may_hold_estimators(value: Any) -> bool:
    # Cheap pre-filter: skip numbers, strings, numeric arrays (the bulk of an estimator's attributes).
    if isinstance(value, np.ndarray):
        return value.dtype == object
    return isinstance(value, (list, tuple, dict)) or _holds_estimators(value)


def sub_estimators(estimator: Any) -> list[Any]:
    """The estimators reachable from `estimator`, itself first (see `walk`)."""
    return [member.estimator for member in walk(estimator)]


def final_step(estimator: Any) -> Any:
    """The estimator that produces a (possibly nested) Pipeline's output: its last step, recursively; the
    estimator itself when it is not a Pipeline (`Pipeline.steps[-1]` is what `predict` / `transform` end in)."""
    while hasattr(estimator, "steps"):
        estimator = estimator.steps[-1][1]
    return estimator
