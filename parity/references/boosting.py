"""Reference adapter for the boosting libraries (XGBoost, LightGBM, CatBoost).

parity compares exported artifacts against the library predicting on its own model object. export hands parity a
`LibraryReference` (parity/references/xgboost.py, lightgbm.py, catboost.py: one module per library, built from the
library's model object by `reference_for`), which knows how that library predicts under the dtype contract, its
trees (numeric splits as LEQ nodes: XGBoost's `float32(x) < t` as `float32(x) <= prev32(t)`, CatBoost's
`float32(x) > b` as `float32(x) <= b` with the children swapped — the same routing for every input), whether it
compares float32(x) and its own error bound. This module is the `ReferenceAdapter` the protocol looks up for them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from parity.bounds import Chain
from parity.references import Family, LibraryReference, WalkTree, final_model, library_reference, outputs_by_role
from parity.references.scikit_learn import ADAPTER as SCIKIT_LEARN_ADAPTER


def _reference(model: Any) -> LibraryReference:
    reference = library_reference(model)
    if reference is None:  # pragma: no cover - ADAPTERS routes only the boosting libraries here
        raise TypeError(f"{type(model).__name__} is not a boosting model")
    return reference


class BoostingAdapter:
    library = "boosting"

    def family(self, model: Any) -> Family:
        return "tree"

    def predict(self, estimator: Any, X: np.ndarray, roles: set[str]) -> dict[str, np.ndarray]:
        # `estimator` is a LibraryReference, or a user's Pipeline ending in a library's wrapper (which predicts)
        return outputs_by_role(estimator, X, roles, _reference(final_model(estimator)).label_is_argmax)

    def trees(self, model: Any) -> list[WalkTree] | None:
        return _reference(model).walk_trees()

    def compares_float32(self, model: Any) -> bool:
        return bool(_reference(model).compares_float32)

    def input_cast_to_float32(self, estimator: Any) -> bool:
        # XGBoost and CatBoost read float32(x) and nothing else; a Pipeline's earlier steps read the double x
        return estimator is final_model(estimator) and bool(_reference(estimator).compares_float32)

    def nan_refusal(self, estimator: Any, rows: np.ndarray) -> str | None:
        if isinstance(estimator, LibraryReference):
            return estimator.refusal(rows)  # NaN is routed; XGBoost refuses unseen categories
        # a user's Pipeline ending in a library's wrapper: its earlier steps decide, as in any scikit-learn pipeline
        return SCIKIT_LEARN_ADAPTER.nan_refusal(estimator, rows)

    def raw_columns(self, step: Any, n_in: int) -> np.ndarray | None:
        return None

    def unseen_category_columns(self, estimator: Any, n_features: int) -> list[tuple[Any, np.ndarray]]:
        return []

    def critical_points(self, step: Any) -> tuple[np.ndarray, np.ndarray] | None:
        return None  # boosting models are trees: their thresholds are the threshold probes

    def averaged_trees(self, model: Any) -> int | None:
        return None

    def chain(self, estimator: Any) -> Chain | None:
        # No parity.bounds chain: each library reference states its own bound from the library's arithmetic
        # (LibraryReference.tolerance, e.g. XGBoost's float32 margin sum (N+1)·2⁻²⁴·S), which choose_tolerance uses.
        return None


ADAPTER = BoostingAdapter()
