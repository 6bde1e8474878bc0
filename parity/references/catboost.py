"""CatBoost as its own parity reference.

- Predicts with the model's own `predict`: prediction_type "Probability" (predict_proba), "Class" (labels),
  "Exponent" for Poisson/Tweedie and "RawFormulaVal" for the other regressions (what CatBoostClassifier /
  CatBoostRegressor.predict return).
- Trees: from the library's own JSON export (`save_model(format="json")`): each oblivious tree as a full binary
  tree whose level-l nodes test split l (leaf index bit l, first split = lowest bit). CatBoost's `float32(x) >
  border` is written as the LEQ node `float32(x) <= border` with the children swapped, and NaN goes where its
  nan_value_treatment puts it (AsTrue: the bit-1 side, else bit 0); `compares_float32` is True.
- Categorical features: rows come as a DataFrame (the parity schema decodes string columns); they are passed in a
  `catboost.Pool` naming the categorical columns. CatBoost has no missing category (it refuses NaN in one), so a
  missing string is the empty string "" — what the exported artifact receives for it, hashed like any string.
  The walked trees are the float splits only: a one-hot or CTR level routes by a string's hash, which a numeric
  walk cannot replay, so those levels are left out (each float split keeps its place and its threshold, for the
  threshold probes).
- Tolerance: raw scores are double sums in tree order (family "tree" rule); MultiClass softmax uses CatBoost's
  FastExp (≤ 2.2e-16 from exp, boosting-semantics.md §4.3), inside that rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from parity.references import LibraryReference, WalkTree

EXP_LOSSES = ("Poisson", "Tweedie")


class CatBoostReference(LibraryReference):
    reference_library = "catboost"
    library = "CatBoost"
    compares_float32 = True

    def __init__(self, model: Any, feature_names: tuple[str, ...] | None, labels: np.ndarray | None) -> None:
        import catboost

        self.model = model
        self.version = str(catboost.__version__)
        params = model.get_all_params()
        self.objective = str(params.get("loss_function", "")).split(":")[0]
        self.n_features_in_ = len(model.feature_names_)
        self.cat_features = [int(j) for j in model.get_cat_feature_indices()]
        if feature_names is not None:
            self.feature_names_in_ = np.asarray(feature_names, dtype=object)
        self.is_classifier = self.objective in ("Logloss", "CrossEntropy", "MultiClass")
        if self.is_classifier:
            self.classes_ = np.asarray(labels if labels is not None else model.classes_)

    def _predict(self, X: Any, kind: str) -> np.ndarray:
        self.check_rows(X)
        if not self.cat_features:
            return np.asarray(self.model.predict(np.ascontiguousarray(X, dtype=np.float64), prediction_type=kind))
        import catboost
        import pandas as pd

        frame = pd.DataFrame(X).copy() if hasattr(X, "columns") else pd.DataFrame(np.asarray(X, dtype=object))
        for j in self.cat_features:
            column = frame.iloc[:, j]
            frame.isetitem(j, pd.Series([v if isinstance(v, str) else "" for v in column.tolist()],
                                        index=frame.index, dtype=object))
        pool = catboost.Pool(frame, cat_features=self.cat_features)
        return np.asarray(self.model.predict(pool, prediction_type=kind))

    def predict_proba(self, X: Any) -> np.ndarray:
        return self._predict(X, "Probability").astype(np.float64).reshape(len(X), -1)

    def predict(self, X: Any) -> np.ndarray:
        if self.is_classifier:
            return np.asarray(self.classes_).take(np.argmax(self.predict_proba(X), axis=1))
        kind = "Exponent" if self.objective in EXP_LOSSES else "RawFormulaVal"
        return self._predict(X, kind).astype(np.float64)

    def walk_trees(self) -> list[WalkTree]:
        import json
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory(prefix="mlexport-parity-catboost-") as tmp:
            path = Path(tmp) / "model.json"
            self.model.save_model(str(path), format="json")
            document = json.loads(path.read_text(encoding="utf-8"))
        floats = {int(f["feature_index"]): (int(f["flat_feature_index"]), f.get("nan_value_treatment") == "AsTrue")
                  for f in document["features_info"].get("float_features", [])}
        out = []
        for tree in document["oblivious_trees"]:
            splits = [s for s in tree["splits"] if s.get("split_type") == "FloatFeature"]
            depth = len(splits)
            n_inner, n = (1 << depth) - 1, (1 << (depth + 1)) - 1
            level = np.concatenate([np.full(1 << d, d) for d in range(depth)] + [np.full(1 << depth, depth)])
            path_bits = np.arange(n) - ((1 << level) - 1)
            inner = np.arange(n) < n_inner
            column = np.array([floats[int(s["float_feature_index"])][0] for s in splits] + [-1], dtype=np.int64)
            nan_true = np.array([floats[int(s["float_feature_index"])][1] for s in splits] + [False])
            border = np.array([float(np.float32(s["border"])) for s in splits] + [0.0])
            bit0 = np.where(inner, (1 << (level + 1)) - 1 + path_bits, -1)  # float32(x) <= border: bit 0
            bit1 = np.where(inner, bit0 + (1 << level), -1)
            out.append(WalkTree(np.arange(n), ~inner, np.where(inner, column[level], -1), np.where(inner, border[level],
                                0.0), ["BRANCH_LEQ"] * n, bit0, bit1, inner & ~nan_true[level], compares_float32=True))
        return out
