"""Reference adapters: what parity needs to know about the Python model, one module per library.

parity compares artifacts against the Python model itself, so everything it asks of that model goes through one
small protocol (`ReferenceAdapter`): how to predict (outputs by role), the numeric split thresholds of its trees (for
threshold probes and tree diagnosis), whether it compares in float32, whether it accepts NaN, its family (for error
bounds and diagnosis) and its arithmetic as `parity.bounds` steps (for per-row error bounds and sensitivity probes).

The adapter for an estimator is chosen by the library of its final model (the last step of a Pipeline):
`type(model).__module__`'s top-level package, looked up in `ADAPTERS`. Adding a library = one module here with an
`ADAPTER` object and one line in `ADAPTERS`. parity never imports `export`, and adapters never read export's IR:
they read the fitted model's own attributes.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

if TYPE_CHECKING:
    from parity.bounds import Chain
from parity.sub_estimators import final_step as final_model  # the one walker decides what "the final model" is

# Families, as in the supported table: they decide which probes and which diagnosis apply.
Family = Literal["tree", "linear", "kernel", "network", "neighbours", "naive_bayes", "transform", "other"]
FAMILIES: tuple[Family, ...] = ("tree", "linear", "kernel", "network", "neighbours", "naive_bayes", "transform",
                                "other")

# top-level module of the model's class -> adapter module (each defines ADAPTER)
ADAPTERS: dict[str, str] = {
    "sklearn": "parity.references.scikit_learn",
    # the boosting libraries: parity receives a LibraryReference built from the library's model object
    "xgboost": "parity.references.boosting",
    "lightgbm": "parity.references.boosting",
    "catboost": "parity.references.boosting",
}


@dataclass
class WalkTree:
    """One binary tree: per node index, leaf flag, feature, threshold, mode, true/false child, NaN -> true child.

    Mode strings follow ONNX: BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT, BRANCH_EQ, BRANCH_NEQ.
    `compares_float32`: the tree sees float32(x).
    """

    node_ids: np.ndarray
    leaf: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    mode: list[str]
    true_child: np.ndarray  # node index (position), -1 at leaves
    false_child: np.ndarray
    missing_true: np.ndarray
    compares_float32: bool

    def goes_true(self, node: int, x: float) -> bool:
        value = np.float64(np.float32(x)) if self.compares_float32 else np.float64(x)
        if np.isnan(value):
            return bool(self.missing_true[node])
        t = self.threshold[node]
        mode = self.mode[node]
        return bool({"BRANCH_LEQ": value <= t, "BRANCH_LT": value < t, "BRANCH_GTE": value >= t,
                     "BRANCH_GT": value > t, "BRANCH_EQ": value == t, "BRANCH_NEQ": value != t}[mode])

    def visits(self, X: np.ndarray) -> np.ndarray:
        """(n_rows, n_nodes) boolean: the nodes each row of X passes through (vectorised over rows, one step per
        level). Only LEQ trees (every Python model's own trees) are walked."""
        visited = np.zeros((len(X), len(self.leaf)), dtype=bool)
        current = np.zeros(len(X), dtype=np.int64)
        active = np.ones(len(X), dtype=bool)
        rows = np.arange(len(X))
        values = X.astype(np.float32).astype(np.float64) if self.compares_float32 else X
        while active.any():
            visited[rows[active], current[active]] = True
            active &= ~self.leaf[current]
            x = values[rows, np.maximum(self.feature[current], 0)]
            with np.errstate(invalid="ignore"):
                left = np.where(np.isnan(x), self.missing_true[current], x <= self.threshold[current])
            step = np.where(left, self.true_child[current], self.false_child[current])
            current = np.where(active & (step >= 0), step, current).astype(np.int64)
            active &= step >= 0
        return visited


class ReferenceAdapter(Protocol):
    """What parity asks of one library's fitted models. `estimator` is what the user passed (maybe a Pipeline);
    `model` is its final model (`final_model(estimator)`)."""

    library: str

    def family(self, model: Any) -> Family:
        """The family producing the outputs (decides probes, bounds and diagnosis)."""

    def predict(self, estimator: Any, X: np.ndarray, roles: set[str]) -> dict[str, np.ndarray]:
        """Outputs by canonical role (label, probabilities, prediction, transformed) on rows X (contract dtype)."""

    def trees(self, model: Any) -> list[WalkTree] | None:
        """The model's trees in its own iteration order (numeric splits as LEQ nodes), or None if not a tree model."""

    def compares_float32(self, model: Any) -> bool:
        """True when the model's trees compare float32(x) against float32 thresholds."""

    def input_cast_to_float32(self, estimator: Any) -> bool:
        """True when the library casts X to float32 before anything else (predict(X) == predict(float32(X)))."""

    def nan_refusal(self, estimator: Any, rows: np.ndarray) -> str | None:
        """None if the model predicts on rows (NaN included), else the one-line reason it refuses."""

    def raw_columns(self, step: Any, n_in: int) -> np.ndarray | None:
        """For a pipeline step that only selects/passes raw columns: output j <- input map[j]; else None."""

    def unseen_category_columns(self, estimator: Any, n_features: int) -> list[tuple[Any, np.ndarray]]:
        """(encoder with categories_ and handle_unknown, raw columns it reads) for encoders reading raw input."""

    def critical_points(self, step: Any) -> tuple[np.ndarray, np.ndarray] | None:
        """(input column, value) pairs where a transformer step's output jumps or changes formula (a Binarizer
        threshold, a KBinsDiscretizer bin edge, a clip bound), in the step's input space; None if it has none."""

    def averaged_trees(self, model: Any) -> int | None:
        """Number of trees whose leaves are averaged into probabilities (forests), for the 'not averaged' hint."""

    def chain(self, estimator: Any) -> Chain | None:
        """The estimator's arithmetic as bound steps (parity.bounds), or None where no bound can be derived."""


def outputs_by_role(estimator: Any, X: Any, roles: set[str], label_is_argmax: bool) -> dict[str, np.ndarray]:
    """The Python model's outputs by canonical role, through the sklearn estimator API every supported library's
    Python model follows. `label_is_argmax`: its predict is classes_[argmax(predict_proba)], so the label is taken
    from the probabilities already computed instead of walking the trees twice."""
    outputs: dict[str, np.ndarray] = {}
    if "probabilities" in roles:
        outputs["probabilities"] = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    if "label" in roles:
        if "probabilities" in outputs and label_is_argmax:
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


def library_of(model: Any) -> str:
    own = getattr(type(model), "reference_library", None)  # a LibraryReference names the library it stands for
    return own if isinstance(own, str) and own else type(model).__module__.split(".")[0]


def adapter_for(estimator: Any) -> ReferenceAdapter:
    """The adapter of the library of the estimator's final model (scikit-learn's for anything not listed: the
    sklearn estimator API is the protocol every supported library's Python model follows)."""
    library = library_of(final_model(estimator))
    module = importlib.import_module(ADAPTERS.get(library, ADAPTERS["sklearn"]))
    adapter: ReferenceAdapter = module.ADAPTER
    return adapter


def family(estimator: Any) -> Family:
    return adapter_for(estimator).family(final_model(estimator))


# ----------------------------------------------------------------------------------------------------------------
# Library references: a boosting library predicting on its own model object (xgboost.py, lightgbm.py, catboost.py)


class LibraryReference:
    """What export hands parity for a boosting model: the library's model object behind the estimator API parity
    reads (`n_features_in_`, `feature_names_in_`, `classes_`, `predict`, `predict_proba`) plus its trees and its own
    error bound. Subclasses set the attributes in __init__; `parity.references.boosting.ADAPTER` serves them."""

    reference_library: str = ""  # the ADAPTERS key: "xgboost" | "lightgbm" | "catboost"
    library: str = ""  # as reports name it, e.g. "XGBoost"
    version: str = ""
    objective: str = ""
    compares_float32: bool = False
    is_classifier: bool = False
    label_is_argmax: bool = True  # predict == classes_[argmax(predict_proba)] (the wrappers' rule)
    n_features_in_: int = 0
    classes_: np.ndarray

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

    def walk_trees(self) -> list[WalkTree] | None:
        """The library's trees with numeric splits as LEQ nodes (the protocol's `trees`)."""
        return None

    def tolerance(self, role: str, artifact: str, dtype: str, output_scale: float) -> Any:
        """A `parity.tolerances.Tolerance` the library's own arithmetic needs, or None for the family rule."""
        return None

    def refusal(self, rows: Any) -> str | None:
        """Why the library refuses these rows (the protocol's `nan_refusal`), or None when it predicts on them."""
        return None

    def check_rows(self, X: np.ndarray) -> None:
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"{self.library}: expected (n, {self.n_features_in_}) rows, got {X.shape}")


def reference_for(native: Any, feature_names: tuple[str, ...] | None = None,
                  labels: np.ndarray | None = None, missing: float = float("nan")) -> LibraryReference:
    """The reference for a library's model object (xgboost.Booster, lightgbm.Booster, catboost.CatBoost); `labels`:
    the class labels the model's class indices stand for (an sklearn wrapper's classes_), default 0..K-1;
    `missing`: XGBoost's call-time missing value (NaN is missing whatever it is)."""
    library = type(native).__module__.split(".")[0]
    if library == "xgboost":
        from parity.references.xgboost import XGBoostReference

        return XGBoostReference(native, feature_names, missing)
    if library == "lightgbm":
        from parity.references.lightgbm import LightGBMReference

        return LightGBMReference(native, feature_names, labels)
    if library == "catboost":
        from parity.references.catboost import CatBoostReference

        return CatBoostReference(native, feature_names, labels)
    from parity.errors import ParityInputError

    raise ParityInputError(f"no parity reference for {type(native).__module__}.{type(native).__name__}; supported: "
                           "xgboost.Booster, lightgbm.Booster, catboost.CatBoost")


def is_reference(obj: Any) -> bool:
    return isinstance(obj, LibraryReference)


BOOSTING_LIBRARIES = ("xgboost", "lightgbm", "catboost")
_WRAPPER_REFERENCES: dict[int, tuple[Any, LibraryReference]] = {}


def library_reference(model: Any) -> LibraryReference | None:
    """The LibraryReference standing for a boosting model's trees, arithmetic and error bound: the model itself, or
    — for a library's sklearn-API wrapper as the final step of a user's Pipeline (XGBClassifier, LGBMRegressor,
    CatBoostClassifier, …) — one built from the wrapper's own booster. None for any other model. The Pipeline still
    predicts for itself (its `predict`/`predict_proba` are the truth); this only answers what parity asks of its
    final model."""
    if is_reference(model):
        return model  # type: ignore[no-any-return]
    library = type(model).__module__.split(".")[0]
    if library not in BOOSTING_LIBRARIES:
        return None
    cached = _WRAPPER_REFERENCES.get(id(model))
    if cached is not None and cached[0] is model:
        return cached[1]
    labels = getattr(model, "classes_", None)
    missing = float("nan")
    if library == "xgboost":
        native, labels = model.get_booster() if hasattr(model, "get_booster") else model, None
        if hasattr(model, "get_params") and model.get_params().get("missing") is not None:
            missing = float(model.get_params()["missing"])  # the wrapper's own call-time missing value
    elif library == "lightgbm":
        native = model.booster_ if hasattr(model, "booster_") else model
    else:
        native = model
    reference = reference_for(native, labels=None if labels is None else np.asarray(labels), missing=missing)
    _WRAPPER_REFERENCES.clear()  # one wrapper per parity run: no growth across runs
    _WRAPPER_REFERENCES[id(model)] = (model, reference)
    return reference
