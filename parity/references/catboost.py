"""CatBoost as its own parity reference.

- Predicts with the model's own `predict`: prediction_type "Probability" (predict_proba), "Class" (labels),
  "Exponent" for Poisson/Tweedie and "RawFormulaVal" for the other regressions (what CatBoostClassifier /
  CatBoostRegressor.predict return).
- Splits: `get_borders()`, the float32 borders of every float feature; CatBoost compares `float32(x) > border`,
  so `compares_float32` is True and the probes include the float32 rounding boundaries.
- Tolerance: raw scores are double sums in tree order (family "tree" rule); MultiClass softmax uses CatBoost's
  FastExp (≤ 2.2e-16 from exp, boosting-semantics.md §4.3), inside that rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from parity.references import LibraryReference, Splits

EXP_LOSSES = ("Poisson", "Tweedie")


class CatBoostReference(LibraryReference):
    library = "CatBoost"
    compares_float32 = True

    def __init__(self, model: Any, feature_names: tuple[str, ...] | None, labels: np.ndarray | None) -> None:
        import catboost

        self.model = model
        self.version = str(catboost.__version__)
        params = model.get_all_params()
        self.objective = str(params.get("loss_function", "")).split(":")[0]
        self.n_features_in_ = len(model.feature_names_)
        if feature_names is not None:
            self.feature_names_in_ = np.asarray(feature_names, dtype=object)
        self.is_classifier = self.objective in ("Logloss", "CrossEntropy", "MultiClass")
        if self.is_classifier:
            self.classes_ = np.asarray(labels if labels is not None else model.classes_)

    def _predict(self, X: np.ndarray, kind: str) -> np.ndarray:
        self.check_rows(X)
        return np.asarray(self.model.predict(np.ascontiguousarray(X, dtype=np.float64), prediction_type=kind))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self._predict(X, "Probability").astype(np.float64).reshape(len(X), -1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.is_classifier:
            return np.asarray(self.classes_).take(np.argmax(self.predict_proba(X), axis=1))
        kind = "Exponent" if self.objective in EXP_LOSSES else "RawFormulaVal"
        return self._predict(X, kind).astype(np.float64)

    def splits(self) -> Splits:
        borders = self.model.get_borders()
        features = [int(j) for j, values in borders.items() for _ in values]
        thresholds = [float(np.float32(v)) for values in borders.values() for v in values]
        n = len(features)
        return Splits(np.asarray(features, dtype=np.int64), np.asarray(thresholds, dtype=np.float64),
                      np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64))
