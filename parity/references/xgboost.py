"""XGBoost as its own parity reference.

- Predicts with `Booster.inplace_predict` (the path XGBClassifier/XGBRegressor.predict take), missing = the export's
  `missing` value (default NaN; NaN is missing whatever it is); the
  classifier outputs are the wrapper's: predict_proba = [1 - p, p] in float32 for binary:logistic, the softprob
  matrix for multi:softprob, label = p > 0.5 / argmax (`xgboost/sklearn.py` XGBClassifier.predict).
- Trees: `split_conditions` of the library's own JSON serialisation (`save_raw("json")`), float32; XGBoost compares
  `float32(x) < t32`, so `compares_float32` is True and the probes include the float32 rounding boundaries.
  Categorical splits (`split_type` 1) stop the walk: they have no threshold to probe.
- String columns (XGBoost >= 3.1 records the training categories, `cats`): parity hands the rows as a DataFrame;
  each string column becomes a pandas `category` column over the training categories and XGBoost re-codes it by
  name itself. A category XGBoost never saw is refused (`refusal`): XGBoost 3.2 has no defined result for one (it
  raises for some strings and silently re-codes others), so parity leaves unseen strings out of its probes.
- Tolerance: XGBoost sums float32 leaves in float32 onto a float32 margin start; an artifact that sums the same
  float32 leaves in double (Core ML's TreeEnsemble, the ONNX double TreeEnsemble) differs by at most the float32
  rounding of each partial sum: |Δm| <= (N + 1) · 2^-24 · S, S = |base| + Σ_t max_leaf |leaf_t| per output
  (the largest partial sum any row can reach), N trees per output (Higham, sequential summation). A logistic
  output moves by at most |Δm| / 4, a softmax probability by at most |Δm| / 2 per margin (its Jacobian rows sum
  to <= 1/2 in absolute value), exp(m) by a factor exp(|Δm|); XGBoost computes the link itself in float32, which
  adds a relative 2^-22 (a few ulps of expf and the division) on top.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np

from parity.references import LibraryReference, WalkTree
from parity.tolerances import Tolerance

_U32 = 2.0**-24  # float32 unit roundoff
_FLOAT32_LINK = 2.0**-22  # relative error of XGBoost's float32 expf / division in its links (a few ulps)


class XGBoostReference(LibraryReference):
    reference_library = "xgboost"
    library = "XGBoost"
    compares_float32 = True

    def __init__(self, booster: Any, feature_names: tuple[str, ...] | None, missing: float = float("nan")) -> None:
        import xgboost

        self.booster = booster
        self.missing_value = float(missing)  # XGBoost's call-time `missing` (parity probes it: parity.probes)
        self.version = str(xgboost.__version__)
        model = json.loads(bytes(booster.save_raw(raw_format="json")))["learner"]
        self.objective = str(model["objective"]["name"])
        param = self._param = model["learner_model_param"]
        self.n_features_in_ = int(param["num_feature"])
        if feature_names is not None:
            self.feature_names_in_ = np.asarray(feature_names, dtype=object)
        n_class = int(param.get("num_class", 0) or 0)
        self.is_classifier = self.objective in ("binary:logistic", "binary:hinge", "multi:softprob", "multi:softmax")
        if self.is_classifier:
            self.classes_ = np.arange(max(n_class, 2), dtype=np.int64)
        # XGBClassifier.predict is p > 0.5 = argmax([1 - p, p]) for float32 p (1 - p is exact for p >= 0.5)
        self.label_is_argmax = self.objective in ("binary:logistic", "multi:softprob")
        booster_json = model["gradient_booster"]
        gbtree = booster_json["gbtree"]["model"] if booster_json["name"] == "dart" else booster_json["model"]
        self._trees = gbtree["trees"]
        self._categories = _training_categories(gbtree.get("cats"), model.get("feature_names") or [])
        self._tree_info = np.asarray(gbtree["tree_info"], dtype=np.int64)
        self._margin_bound = self._float32_sum_bound()

    # -- predictions, as the sklearn wrappers compute them

    def _rows(self, X: Any) -> Any:
        """What inplace_predict receives: float64 rows, or a DataFrame whose string columns are pandas categories
        (over the training categories, so an all-missing chunk keeps string categories)."""
        if not hasattr(X, "columns"):
            return np.ascontiguousarray(X, dtype=np.float64)
        import pandas as pd

        problem = self.refusal(X)
        if problem:
            raise ValueError(problem)
        frame = X.copy()
        for name, categories in self._categories.items():
            if name in frame.columns:
                frame[name] = pd.Categorical(frame[name].astype(object), categories=list(categories))
        return frame

    def refusal(self, rows: Any) -> str | None:
        if not hasattr(rows, "columns"):
            return None
        for name, categories in self._categories.items():
            if name in rows.columns:
                values = rows[name].astype(object)
                unseen = sorted({str(v) for v in values[values.notna()].tolist()} - set(categories))
                if unseen:
                    return (f"XGBoost refuses categories not seen in training (column {name!r}: "
                            f"{', '.join(repr(u) for u in unseen[:3])})")
        return None

    def _raw(self, X: Any, margin: bool = False) -> np.ndarray:
        self.check_rows(X)
        return np.asarray(self.booster.inplace_predict(self._rows(X), missing=self.missing_value,
                                                       predict_type="margin" if margin else "value"))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if self.objective == "binary:logistic":
            p = self._raw(X).astype(np.float32).reshape(-1)
            return np.column_stack([np.float32(1.0) - p, p])  # XGBClassifier.predict_proba, float32
        if self.objective == "multi:softprob":
            return self._raw(X).reshape(len(X), -1)
        raise ValueError(f"XGBoost objective {self.objective} has no predict_proba")

    def predict(self, X: np.ndarray) -> np.ndarray:
        raw = self._raw(X)
        if self.objective == "binary:logistic":
            return (raw.reshape(-1) > 0.5).astype(np.int64)
        if self.objective == "multi:softprob":
            return np.argmax(raw.reshape(len(X), -1), axis=1).astype(np.int64)
        if self.objective in ("multi:softmax", "binary:hinge"):
            return raw.reshape(-1).astype(np.int64)
        return raw.reshape(len(X), -1) if raw.ndim > 1 else raw

    def margin(self, X: np.ndarray) -> np.ndarray:
        return self._raw(X, margin=True).reshape(len(X), -1)

    # -- what the probes and the diagnosis need

    def walk_trees(self) -> list[WalkTree]:
        """`float32(x) < t32` as the LEQ node `float32(x) <= prev32(t32)` (no float32 lies between the two), from
        XGBoost's own JSON (`split_conditions`, `default_left`)."""
        out = []
        for tree in self._trees:
            left = np.asarray(tree["left_children"], dtype=np.int64)
            split_type = np.asarray(tree.get("split_type", np.zeros(left.size)), dtype=np.int64)
            leaf = (left == -1) | (split_type == 1)  # a categorical split stops the walk like a leaf
            t32 = np.asarray(tree["split_conditions"], dtype=np.float64).astype(np.float32)
            with np.errstate(over="ignore"):
                below = np.where(leaf, t32, np.nextafter(t32, np.float32(-np.inf))).astype(np.float64)
            right = np.asarray(tree["right_children"], dtype=np.int64)
            out.append(WalkTree(np.arange(left.size), leaf, np.asarray(tree["split_indices"], dtype=np.int64), below,
                                ["BRANCH_LEQ"] * left.size, np.where(leaf, -1, left), np.where(leaf, -1, right),
                                np.asarray(tree["default_left"], dtype=bool) & ~leaf, compares_float32=True))
        return out

    def _float32_sum_bound(self) -> float:
        """(N + 1) · 2^-24 · S over the output groups (module docstring), from the model's own leaves."""
        n_groups = int(self._tree_info.max()) + 1 if self._tree_info.size else 1
        largest = np.zeros(n_groups)
        counts = np.bincount(self._tree_info, minlength=n_groups)
        for tree, group in zip(self._trees, self._tree_info, strict=True):
            left = np.asarray(tree["left_children"], dtype=np.int64)
            leaves = np.abs(np.asarray(tree["split_conditions"], dtype=np.float64)[left == -1])
            largest[group] += float(leaves.max()) if leaves.size else 0.0
        base = self._margin_start_magnitude()
        return float(np.max((counts + 1) * _U32 * (largest + base)))

    def _margin_start_magnitude(self) -> float:
        """max |margin start|: base_score ("5E-1" or "[...]") mapped like ProbToMargin, in double (a bound only)."""
        raw = str(self._param["base_score"]).strip()
        scores = np.abs(np.asarray(json.loads(raw) if raw.startswith("[") else [float(raw)], dtype=np.float64))
        if self.objective in ("binary:logistic", "reg:logistic"):
            p = np.clip(scores, 1e-6, 1 - 1e-6)
            return float(np.max(np.abs(np.log(p / (1 - p)))))
        if self.objective in ("count:poisson", "reg:gamma", "reg:tweedie"):
            return float(np.max(np.abs(np.log(np.maximum(scores, 1e-300)))))
        return float(np.max(scores))

    def tolerance(self, role: str, artifact: str, dtype: str, output_scale: float) -> Tolerance | None:
        bound = self._margin_bound
        if role == "label":
            return None
        if role == "probabilities":
            factor = 0.25 if self.objective == "binary:logistic" else 0.5
            return Tolerance(_FLOAT32_LINK, factor * bound,
                             "XGBoost sums float32 leaves in float32, the artifact in double: |Δmargin| ≤ "
                             f"(N+1)·2⁻²⁴·S = {bound:.3g}; probability moves ≤ {factor}·|Δmargin|; XGBoost's "
                             "float32 link adds ≤ 2⁻²² relative")
        if self.objective in ("count:poisson", "reg:gamma", "reg:tweedie"):
            return Tolerance(float(np.expm1(bound)) + _FLOAT32_LINK, 0.0,
                             f"exp(margin): XGBoost's float32 margin sum differs from a double sum by ≤ {bound:.3g} "
                             "(relative exp(Δ)-1), float32 expf ≤ 2⁻²²")
        if self.objective == "reg:logistic":
            return Tolerance(_FLOAT32_LINK, 0.25 * bound, f"sigmoid of a margin within {bound:.3g} (float32 sums)")
        return Tolerance(_U32, bound, f"XGBoost sums float32 leaves in float32: |Δ| ≤ (N+1)·2⁻²⁴·S = {bound:.3g} vs a "
                                      "double sum")


def _training_categories(cats: Any, feature_names: list[Any]) -> dict[str, tuple[str, ...]]:
    """{feature name: training categories} of the string features XGBoost >= 3.1 records (`cats.enc`: UTF-8
    bytes `values` cut at `offsets`), read from the library's own JSON serialisation."""
    out: dict[str, tuple[str, ...]] = {}
    encodings = cats.get("enc") if isinstance(cats, dict) else None
    for name, entry in zip(feature_names, encodings or [], strict=False):
        if isinstance(entry, dict) and "offsets" in entry and entry.get("values"):
            data = (np.asarray(entry["values"], dtype=np.int64) & 0xFF).astype(np.uint8).tobytes()
            offsets = [int(o) for o in entry["offsets"]]
            out[str(name)] = tuple(data[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets))
    return out
