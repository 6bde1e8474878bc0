"""Reference adapters: a model library predicting on its own model object, behind one small protocol parity uses.

scikit-learn estimators are used by parity directly (their own predict / predict_proba); every other library gets
one module here that knows (1) how that library predicts under the dtype contract, (2) its split thresholds per
feature, in the precision it compares them, for the threshold probes, (3) whether it compares float32(x) and accepts
NaN, (4) its tolerance family and the bound its own arithmetic imposes, and (5) its trees as `diagnose.WalkTree`s
for naming the tree/node/threshold where an artifact leaves the library's path.

An adapter quacks like a fitted scikit-learn estimator where parity reads one (`n_features_in_`,
`feature_names_in_`, `classes_`, `predict`, `predict_proba`), so probes, runtimes and reports need no second path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from parity.errors import ParityInputError

if TYPE_CHECKING:
    from parity.diagnose import WalkTree
    from parity.tolerances import Tolerance


@dataclass(frozen=True)
class Splits:
    """Every numerical split: raw input column, threshold (as the library stores it), tree and node index."""

    feature: np.ndarray
    threshold: np.ndarray
    tree: np.ndarray
    node: np.ndarray


class LibraryReference:
    """Base of the adapters. Subclasses set the attributes in __init__ and implement the methods."""

    library: str = ""
    version: str = ""
    family: str = "tree"  # parity.tolerances family for outputs no adapter-specific rule covers
    compares_float32: bool = False
    accepts_nan: bool = True
    is_classifier: bool = False
    n_features_in_: int = 0
    classes_: np.ndarray

    objective: str = ""

    def describe(self) -> str:
        """The runtime name in reports, e.g. "XGBoost 3.2.0"."""
        return f"{self.library} {self.version}"

    def describe_model(self) -> str:
        """The model in reports, e.g. "XGBoost binary:logistic"."""
        return f"{self.library} {self.objective}"

    def predict(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def splits(self) -> Splits:
        raise NotImplementedError

    def walk_trees(self) -> list[WalkTree] | None:
        return None

    def tolerance(self, role: str, artifact: str, dtype: str, output_scale: float) -> Tolerance | None:
        """An adapter-specific tolerance (None: parity.tolerances' family rule applies)."""
        return None

    def check_rows(self, X: np.ndarray) -> None:
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"{self.library}: expected (n, {self.n_features_in_}) rows, got {X.shape}")


def reference_for(native: Any, feature_names: tuple[str, ...] | None = None,
                  labels: np.ndarray | None = None) -> LibraryReference:
    """The adapter for a library's model object (xgboost.Booster, lightgbm.Booster, catboost.CatBoost); `labels`:
    the class labels the model's class indices stand for (an sklearn wrapper's classes_), default 0..K-1."""
    module = type(native).__module__.split(".")[0]
    if module == "xgboost":
        from parity.references.xgboost import XGBoostReference

        return XGBoostReference(native, feature_names)
    if module == "lightgbm":
        from parity.references.lightgbm import LightGBMReference

        return LightGBMReference(native, feature_names, labels)
    if module == "catboost":
        from parity.references.catboost import CatBoostReference

        return CatBoostReference(native, feature_names, labels)
    raise ParityInputError(f"no parity reference for {type(native).__module__}.{type(native).__name__}; supported: "
                           "xgboost.Booster, lightgbm.Booster, catboost.CatBoost")


def is_reference(obj: Any) -> bool:
    return isinstance(obj, LibraryReference)
