"""LightGBM as its own parity reference.

- Predicts with `Booster.predict` on float64 rows (what LGBMClassifier/LGBMRegressor.predict call); classifier
  outputs are the wrapper's: predict_proba = [1 - p, p] for binary, the softmax matrix for multiclass, label =
  classes_[argmax(predict_proba)] (`lightgbm/sklearn.py` LGBMClassifier.predict).
- Trees: the library's own `dump_model()` (double thresholds); LightGBM compares the double x (`x <= t`), so
  `compares_float32` is False: no float32 rounding boundaries are decision boundaries. Categorical splits
  (`decision_type` "==", bitsets) stop the walk: they have no threshold to probe.
- String columns (a model trained on pandas `category` columns, whose text model ends with `pandas_categorical`):
  parity hands the rows as a DataFrame; each string column becomes a pandas `category` column of its own values and
  LightGBM itself maps it onto the training categories (`_data_from_pandas`: `set_categories(pandas_categorical)`,
  an unknown category and a missing value both become NaN).
- Tolerance: raw scores are double sums in tree order, like the artifacts' (family "tree" rule, 1e-12 relative).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from parity.references import LibraryReference, WalkTree


class LightGBMReference(LibraryReference):
    reference_library = "lightgbm"
    library = "LightGBM"
    compares_float32 = False

    def __init__(self, booster: Any, feature_names: tuple[str, ...] | None, labels: np.ndarray | None) -> None:
        import lightgbm

        self.booster = booster
        self.version = str(lightgbm.__version__)
        self._dump = booster.dump_model()
        self.objective = str(self._dump.get("objective", "")).split()[0]
        self.n_features_in_ = int(booster.num_feature())
        if feature_names is not None:
            self.feature_names_in_ = np.asarray(feature_names, dtype=object)
        self.is_classifier = self.objective in ("binary", "multiclass")
        if self.is_classifier:
            n_class = int(self._dump.get("num_class", 1))
            self.classes_ = labels if labels is not None else np.arange(max(n_class, 2), dtype=np.int64)

    @staticmethod
    def _rows(X: Any) -> Any:
        """What Booster.predict receives: float64 rows, or a DataFrame whose string columns are pandas categories."""
        if not hasattr(X, "columns"):
            return np.ascontiguousarray(X, dtype=np.float64)
        import pandas as pd

        frame = X.copy()
        for name in frame.columns:
            column = frame[name]
            if not (isinstance(column.dtype, pd.CategoricalDtype) or pd.api.types.is_numeric_dtype(column)
                    or pd.api.types.is_bool_dtype(column)):
                frame[name] = column.astype("category")
        return frame

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        self.check_rows(X)
        p = np.asarray(self.booster.predict(self._rows(X)), dtype=np.float64)
        if self.objective == "binary":
            p = p.reshape(-1)
            return np.column_stack([1.0 - p, p])
        return p.reshape(len(X), -1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.is_classifier:
            return np.asarray(self.classes_).take(np.argmax(self.predict_proba(X), axis=1))
        self.check_rows(X)
        return np.asarray(self.booster.predict(self._rows(X)), dtype=np.float64)

    def _nodes(self) -> list[list[dict[str, Any]]]:
        """Per tree, its nodes in our numbering: split_index i -> i, leaf_index j -> n_splits + j."""
        trees = []
        for info in self._dump["tree_info"]:
            n_leaves = int(info["num_leaves"])
            n_inner = n_leaves - 1
            nodes: list[dict[str, Any]] = [{} for _ in range(n_inner + n_leaves)]
            stack = [info["tree_structure"]]
            while stack:
                node = stack.pop()
                if "split_index" in node:
                    nodes[int(node["split_index"])] = node
                    stack += [node["left_child"], node["right_child"]]
                else:
                    nodes[n_inner + int(node.get("leaf_index", 0))] = node
            trees.append(nodes)
        return trees

    @staticmethod
    def _index(node: dict[str, Any], n_inner: int) -> int:
        return int(node["split_index"]) if "split_index" in node else n_inner + int(node.get("leaf_index", 0))

    def walk_trees(self) -> list[WalkTree]:
        out = []
        for tree in self._nodes():
            n = len(tree)
            n_inner = sum(1 for node in tree if "split_index" in node)
            # a categorical split (decision_type "==") stops the walk like a leaf: no threshold to probe
            leaf = np.array(["split_index" not in node or node.get("decision_type") == "==" for node in tree])
            feature = np.array([int(node.get("split_feature", -1)) for node in tree], dtype=np.int64)
            threshold = np.array([float(node.get("threshold", 0.0)) if not isinstance(node.get("threshold"), str)
                                  else 0.0 for node in tree])
            true_child = np.array([self._index(node["left_child"], n_inner) if "left_child" in node else -1
                                   for node in tree], dtype=np.int64)
            false_child = np.array([self._index(node["right_child"], n_inner) if "right_child" in node else -1
                                    for node in tree], dtype=np.int64)
            true_child[leaf], false_child[leaf] = -1, -1
            missing = np.array([bool(node.get("default_left")) if node.get("missing_type") != "None"
                                else t >= 0.0 for node, t in zip(tree, threshold, strict=True)])
            out.append(WalkTree(np.arange(n), leaf, feature, threshold, ["BRANCH_LEQ"] * n, true_child, false_child,
                                missing & ~leaf, compares_float32=False))
        return out
