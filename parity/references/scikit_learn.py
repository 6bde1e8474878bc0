"""Reference adapter for scikit-learn models (and Pipelines/ColumnTransformers of them).

Family, tree and float32 knowledge is keyed by the fitted model's class (exact type, like the exporter's table) and
read from its own attributes: `tree_` (sklearn.tree), `estimators_` (forests, gradient boosting), `_predictors`
(HistGradientBoosting's TreePredictor node arrays).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from parity.references import Family, WalkTree

# sklearn.tree-based models: scikit-learn casts X to float32 before walking (`check_input` -> DTYPE = float32).
_FLOAT32_TREE_MODELS = ("RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier",
                        "ExtraTreesRegressor", "DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier",
                        "ExtraTreeRegressor", "GradientBoostingClassifier", "GradientBoostingRegressor")
_AVERAGED_FORESTS = ("RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor")
# predict == classes_.take(argmax(predict_proba)) (ForestClassifier.predict, DecisionTreeClassifier.predict)
_LABEL_IS_ARGMAX = ("RandomForestClassifier", "ExtraTreesClassifier", "DecisionTreeClassifier", "ExtraTreeClassifier")
_LINEAR_SVM = ("LinearSVC", "LinearSVR")


def _is(model: Any, names: tuple[str, ...]) -> bool:
    return type(model).__module__.startswith("sklearn.") and type(model).__name__ in names


class ScikitLearnAdapter:
    library = "sklearn"

    # ---- family

    def family(self, model: Any) -> Family:
        module = type(model).__module__
        if module.startswith(("sklearn.tree", "sklearn.ensemble")):
            return "tree"
        if module.startswith("sklearn.svm"):
            return "linear" if type(model).__name__ in _LINEAR_SVM else "kernel"
        if module.startswith(("sklearn.linear_model", "sklearn.multiclass")):
            return "linear"
        if module.startswith("sklearn.neural_network"):
            return "network"
        if module.startswith("sklearn.neighbors"):
            return "neighbours"
        if module.startswith("sklearn.naive_bayes"):
            return "naive_bayes"
        if not hasattr(model, "predict") and hasattr(model, "transform"):
            return "transform"
        return "other"

    # ---- predicting

    def predict(self, estimator: Any, X: np.ndarray, roles: set[str]) -> dict[str, np.ndarray]:
        outputs: dict[str, np.ndarray] = {}
        if "probabilities" in roles:
            outputs["probabilities"] = np.asarray(estimator.predict_proba(X), dtype=np.float64)
        if "label" in roles:
            if "probabilities" in outputs and self._label_is_argmax(estimator):
                # The computation scikit-learn's own predict does for these models, without walking the trees twice.
                outputs["label"] = np.asarray(estimator.classes_).take(np.argmax(outputs["probabilities"], axis=1))
            else:
                outputs["label"] = np.asarray(estimator.predict(X)).ravel()
        if "prediction" in roles:
            outputs["prediction"] = np.asarray(estimator.predict(X), dtype=np.float64).reshape(len(X), -1)
        if "transformed" in roles:
            transformed = estimator.transform(X)
            if hasattr(transformed, "toarray"):  # sparse output (e.g. OneHotEncoder) -> dense for comparison
                transformed = transformed.toarray()
            outputs["transformed"] = np.asarray(transformed, dtype=np.float64).reshape(len(X), -1)
        return outputs

    @staticmethod
    def _label_is_argmax(estimator: Any) -> bool:
        return _is(estimator, _LABEL_IS_ARGMAX) and getattr(estimator, "n_outputs_", 1) == 1

    def input_cast_to_float32(self, estimator: Any) -> bool:
        return _is(estimator, _FLOAT32_TREE_MODELS)

    def nan_refusal(self, estimator: Any, rows: np.ndarray) -> str | None:
        method = estimator.predict if hasattr(estimator, "predict") else estimator.transform
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                method(rows)
        except (ValueError, TypeError, FloatingPointError, OverflowError) as exc:  # TypeError: encoders on strings
            return str(exc).splitlines()[0]
        return None

    # ---- trees

    def compares_float32(self, model: Any) -> bool:
        return not hasattr(model, "_predictors")  # HGB bins/compares float64 x; sklearn.tree compares float32

    def averaged_trees(self, model: Any) -> int | None:
        return len(model.estimators_) if _is(model, _AVERAGED_FORESTS) else None

    def trees(self, model: Any) -> list[WalkTree] | None:
        if hasattr(model, "_predictors"):  # HistGradientBoosting*: TreePredictor.nodes; NaN -> missing_go_to_left
            trees = []
            for iteration in model._predictors:
                for predictor in iteration:
                    nodes = predictor.nodes
                    # categorical splits route by bitset; they stop the walk (export refuses them)
                    leaf = nodes["is_leaf"].astype(bool) | nodes["is_categorical"].astype(bool)
                    trees.append(WalkTree(np.arange(len(nodes)), leaf, nodes["feature_idx"].astype(np.int64),
                                          nodes["num_threshold"].astype(np.float64), ["BRANCH_LEQ"] * len(nodes),
                                          np.where(leaf, -1, nodes["left"]).astype(np.int64),
                                          np.where(leaf, -1, nodes["right"]).astype(np.int64),
                                          nodes["missing_go_to_left"].astype(bool), compares_float32=False))
            return trees
        raw = self._tree_objects(model)
        if raw is None:
            return None
        trees = []
        for tree in raw:
            leaf = tree.children_left == -1
            missing_left = getattr(tree, "missing_go_to_left", np.zeros(tree.node_count, dtype=np.uint8))
            trees.append(WalkTree(np.arange(tree.node_count), leaf, tree.feature.astype(np.int64),
                                  tree.threshold.astype(np.float64), ["BRANCH_LEQ"] * tree.node_count,
                                  tree.children_left.astype(np.int64), tree.children_right.astype(np.int64),
                                  np.asarray(missing_left).astype(bool), compares_float32=True))
        return trees

    @staticmethod
    def _tree_objects(model: Any) -> list[Any] | None:
        """The `tree_` objects of a sklearn.tree-based model, in flattened estimators_ order; None otherwise."""
        if hasattr(model, "tree_"):
            return [model.tree_]
        if _is(model, _FLOAT32_TREE_MODELS) and hasattr(model, "estimators_"):
            return [e.tree_ for e in np.asarray(model.estimators_, dtype=object).ravel()]
        return None

    # ---- what pipeline steps do to raw columns

    def raw_columns(self, step: Any, n_in: int) -> np.ndarray | None:
        if step is None or step == "passthrough":
            return np.arange(n_in)
        name = type(step).__name__
        if name == "SimpleImputer":
            # Non-NaN values pass through unchanged; columns whose statistic is NaN are dropped unless kept.
            if getattr(step, "keep_empty_features", False):
                return np.arange(n_in)
            return np.flatnonzero(~np.isnan(np.asarray(step.statistics_, dtype=np.float64)))
        if name == "FunctionTransformer" and step.func is None:
            return np.arange(n_in)
        if hasattr(step, "get_support") and not hasattr(step, "transform_output_"):
            try:
                return np.asarray(step.get_support(indices=True), dtype=np.int64)
            except (AttributeError, ValueError):
                return None
        if name == "ColumnTransformer":
            return self._column_transformer_columns(step)
        return None

    @staticmethod
    def _column_transformer_columns(transformer: Any) -> np.ndarray | None:
        indices = getattr(transformer, "_transformer_to_input_indices", None)
        if indices is None:
            return None
        pieces = []
        for name, inner, _columns in transformer.transformers_:
            if inner == "drop":
                continue
            if inner != "passthrough":
                return None
            pieces.append(np.asarray(indices[name], dtype=np.int64))
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)

    def unseen_category_columns(self, estimator: Any, n_features: int) -> list[tuple[Any, np.ndarray]]:
        first = estimator.steps[0][1] if hasattr(estimator, "steps") else estimator
        if type(first).__name__ == "OneHotEncoder":
            return [(first, np.arange(n_features))]
        if type(first).__name__ == "ColumnTransformer":
            indices = getattr(first, "_transformer_to_input_indices", {})
            return [(inner, np.asarray(indices[name])) for name, inner, _ in first.transformers_
                    if type(inner).__name__ == "OneHotEncoder" and name in indices]
        return []


ADAPTER = ScikitLearnAdapter()
