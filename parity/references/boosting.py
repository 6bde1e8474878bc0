"""Reference adapter for the boosting libraries (XGBoost, LightGBM, CatBoost).

parity compares exported artifacts against the library predicting on its own model object. export hands parity a
`LibraryReference` (parity/references/xgboost.py, lightgbm.py, catboost.py: one module per library, built from the
library's model object by `reference_for`), which knows how that library predicts under the dtype contract, its
trees (numeric splits as LEQ nodes: XGBoost's `float32(x) < t` as `float32(x) <= prev32(t)`, CatBoost's
`float32(x) > b` as `float32(x) <= b` with the children swapped — the same routing for every input), whether it
compares float32(x) and its arithmetic as error-bound steps. This module is the `ReferenceAdapter` the protocol
looks up for them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from parity.bounds import Chain
from parity.references import Family, WalkTree, outputs_by_role


class BoostingAdapter:
    library = "boosting"

    def family(self, model: Any) -> Family:
        return "tree"

    def predict(self, estimator: Any, X: np.ndarray, roles: set[str]) -> dict[str, np.ndarray]:
        return outputs_by_role(estimator, X, roles, estimator.label_is_argmax)

    def trees(self, model: Any) -> list[WalkTree] | None:
        return model.walk_trees()  # type: ignore[no-any-return]

    def compares_float32(self, model: Any) -> bool:
        return bool(model.compares_float32)

    def input_cast_to_float32(self, estimator: Any) -> bool:
        return bool(estimator.compares_float32)  # XGBoost and CatBoost read float32(x) and nothing else

    def nan_refusal(self, estimator: Any, rows: np.ndarray) -> str | None:
        return None  # all three route NaN as a missing value

    def raw_columns(self, step: Any, n_in: int) -> np.ndarray | None:
        return None

    def unseen_category_columns(self, estimator: Any, n_features: int) -> list[tuple[Any, np.ndarray]]:
        return []

    def averaged_trees(self, model: Any) -> int | None:
        return None

    def chain(self, estimator: Any) -> Chain | None:
        # Each library reference states its arithmetic as parity.bounds steps (LibraryReference.chain): the tree sum in
        # its own precision (XGBoost float32, LightGBM / CatBoost double), its link and its own output rounding.
        chain: Chain | None = estimator.chain()
        return chain


ADAPTER = BoostingAdapter()
