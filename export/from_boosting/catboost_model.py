"""CatBoost `.cbm` models -> BoostedForest (oblivious trees on float features and, through a string lookup,
categorical ones: catboost_categorical).

A `.cbm` is the `CBM1` magic plus a flatbuffers model that only the catboost package reads, so the package loads it
and we read its complete JSON export (`save_model(format="json")`, boosting-semantics.md §4.1) and check that.
Semantics (§4.2, `catboost/libs/model/cpu/quantization.h`): split i of an oblivious tree sets bit i of the leaf
index iff `float32(x) > border` (float32 border; the first split is the lowest bit); NaN is -inf under
nan_value_treatment AsFalse (nan_mode Min), +inf under AsTrue (Max), and compares false under AsIs; raw =
scale * (double sum of leaf values in tree order) + bias.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from export import ir
from export.errors import InputFileError, UnsupportedEstimatorError, describe_exception
from export.from_boosting.catboost_categorical import CatBoostCategories, read_categories
from export.from_boosting.forest import BoostedForest, BoostingHead, Op, check_structure, concatenate_trees

IDENTITY_LOSSES = ("RMSE", "MAE", "Quantile", "MAPE", "Huber", "Lq", "Expectile", "LogCosh")
EXP_LOSSES = ("Poisson", "Tweedie")
CLASSIFICATION_LOSSES = ("Logloss", "CrossEntropy", "MultiClass")
SUPPORTED = (*CLASSIFICATION_LOSSES, *IDENTITY_LOSSES, *EXP_LOSSES)
MAX_DEPTH = 16


def _corrupt(source: str, what: str) -> InputFileError:
    return InputFileError(f"model file '{source}' is not a valid CatBoost model: {what}")


def load_native(payload: bytes, source: str) -> tuple[Any, dict[str, Any]]:
    """(catboost.CatBoost loaded from the .cbm bytes, its JSON export as a dict)."""
    from export.from_boosting import require_library

    catboost = require_library("catboost")
    with tempfile.TemporaryDirectory(prefix="mlexport-catboost-") as tmp:
        cbm, exported = Path(tmp) / "model.cbm", Path(tmp) / "model.json"
        cbm.write_bytes(payload)
        try:
            model = catboost.CatBoost()
            model.load_model(str(cbm), format="cbm")
            model.save_model(str(exported), format="json")
            document = json.loads(exported.read_text(encoding="utf-8"))
        except Exception as exc:  # catboost.CatBoostError on truncated or edited flatbuffers
            raise InputFileError(f"model file '{source}': CatBoost cannot load it ({describe_exception(exc)})"
                                 ) from None
    return model, document


def trained_version(document: dict[str, Any]) -> str | None:
    """The CatBoost version that saved the model: `model_info.catboost_version_info` is the build's git info,
    whose summary line reads "CatBoost release 1.2.10" (and the branch "tags/v1.2.10"); None when absent."""
    info = str(document.get("model_info", {}).get("catboost_version_info", ""))
    found = re.search(r"CatBoost release (\d+(?:\.\d+)+)", info) or re.search(r"tags/v(\d+(?:\.\d+)+)", info)
    return found.group(1) if found else None


def _loss(document: dict[str, Any], source: str) -> str:
    params = document.get("model_info", {}).get("params", {})
    loss = str(params.get("loss_function", {}).get("type", "")) if isinstance(params, dict) else ""
    if loss not in SUPPORTED:
        raise UnsupportedEstimatorError(f"model file '{source}': CatBoost loss_function {loss or '(none)'!r} is not "
                                        f"supported; supported: {', '.join(SUPPORTED)}")
    return loss


def _float_features(document: dict[str, Any], source: str) -> dict[int, tuple[int, bool]]:
    """float_feature_index -> (tree feature: the feature's rank among the float columns, NaN goes to the bit-1
    side). Categorical columns are read through a lookup (catboost_categorical), so float columns come first."""
    info = document.get("features_info", {})
    if info.get("text_features") or info.get("embedding_features"):
        raise UnsupportedEstimatorError(
            f"model file '{source}': text and embedding features are not supported; supported: CatBoost models on "
            "numerical and categorical features")
    entries = info.get("float_features", [])
    flat = sorted(int(e["flat_feature_index"]) for e in entries)
    features: dict[int, tuple[int, bool]] = {}
    for entry in entries:
        treatment = entry.get("nan_value_treatment", "AsIs")
        if treatment not in ("AsIs", "AsFalse", "AsTrue"):
            raise _corrupt(source, f"unknown nan_value_treatment {treatment!r}")
        features[int(entry["feature_index"])] = (flat.index(int(entry["flat_feature_index"])), treatment == "AsTrue")
    if not features and not info.get("categorical_features"):
        raise _corrupt(source, "no features")
    return features


def _split(split: dict[str, Any], features: dict[int, tuple[int, bool]],
           derived: dict[tuple[str, int], tuple[int, float]], n_float: int, source: str, index: int
           ) -> tuple[int, float, bool]:
    """(tree feature, float32 border, NaN to the bit-1 side) of one split: a float column, or the lookup column a
    one-hot (`hash == value`, as the indicator > 0.5) or CTR (`value > border`) split reads."""
    kind = split.get("split_type")
    if kind == "FloatFeature" and int(split.get("float_feature_index", -1)) in features:
        column, nan_true = features[int(split["float_feature_index"])]
        return column, float(np.float32(split["border"])), nan_true  # float32 values printed as doubles
    key = {"OneHotFeature": "onehot", "OnlineCtr": "ctr"}.get(str(kind))
    if key is not None and (key, int(split.get("split_index", -1))) in derived:
        column, border = derived[(key, int(split["split_index"]))]
        if key == "ctr" and np.float32(split.get("border", np.nan)) != np.float32(border):
            raise _corrupt(source, f"tree {index}: a CTR split's border {split.get('border')} is not its CTR's")
        return n_float + column, border, False  # lookup values are never NaN
    raise UnsupportedEstimatorError(f"model file '{source}': tree {index} splits on {kind!r}; supported: "
                                    "FloatFeature, OneHotFeature, OnlineCtr")


def _tree(tree: dict[str, Any], dims: int, split_of: Any, scale: float, source: str,
          index: int) -> dict[str, np.ndarray]:
    """One oblivious tree of depth d as a full binary tree: the node at level l whose path bits are b_0..b_{l-1}
    (b_i = 1: split i held) has id 2^l - 1 + sum b_i 2^i and tests split l; leaves at level d are then ordered by
    CatBoost's leaf index sum b_i 2^i."""
    splits = tree.get("splits", [])
    depth = len(splits)
    if depth > MAX_DEPTH:
        raise UnsupportedEstimatorError(f"model file '{source}': tree {index} has depth {depth}; supported: <= "
                                        f"{MAX_DEPTH}")
    values = np.asarray(tree.get("leaf_values", []), dtype=np.float64)
    if values.size != (1 << depth) * dims or not np.all(np.isfinite(values)):
        raise _corrupt(source, f"tree {index} has {values.size} leaf values for depth {depth} and {dims} dimensions")
    column, border, nan_true = np.zeros(depth, dtype=np.int64), np.zeros(depth), np.zeros(depth, dtype=bool)
    for level, split in enumerate(splits):
        column[level], border[level], nan_true[level] = split_of(split, index)
    n_inner, n_leaves = (1 << depth) - 1, 1 << depth
    levels = np.concatenate([np.full(1 << level, level) for level in range(depth)]).astype(np.int64) \
        if depth else np.zeros(0, dtype=np.int64)
    path = np.arange(n_inner) - ((1 << levels) - 1)  # sum b_i 2^i of each inner node
    leaf_rows = np.zeros((n_inner + n_leaves, dims))
    leaf_rows[n_inner:] = values.reshape(n_leaves, dims) * scale
    return {
        "feature": np.r_[column[levels], np.full(n_leaves, -1)],
        "threshold": np.r_[border[levels], np.zeros(n_leaves)],
        "true_child": np.r_[(1 << (levels + 1)) - 1 + path + (1 << levels), np.full(n_leaves, -1)],
        "false_child": np.r_[(1 << (levels + 1)) - 1 + path, np.full(n_leaves, -1)],
        "missing_true": np.r_[nan_true[levels], np.zeros(n_leaves, dtype=bool)],
        "leaf": leaf_rows,
    }


def parse_catboost(document: dict[str, Any], source: str) -> tuple[BoostedForest, CatBoostCategories | None]:
    """The forest over [float columns in flat order, then the categorical lookup's columns], and the categorical
    part (None for a model on float features only)."""
    loss = _loss(document, source)
    features = _float_features(document, source)
    categories, derived = read_categories(document, source)
    n_float = len(features)
    n_features = n_float + (categories.width if categories is not None else 0)
    trees = document.get("oblivious_trees")
    if not isinstance(trees, list) or not trees:
        raise UnsupportedEstimatorError(f"model file '{source}': no oblivious trees (non-symmetric grow_policy "
                                        "Depthwise/Lossguide is not supported); supported: grow_policy="
                                        "'SymmetricTree'")
    try:
        scale, bias = document["scale_and_bias"]
        bias = np.atleast_1d(np.asarray(bias, dtype=np.float64))
        scale = float(scale)
    except (KeyError, TypeError, ValueError):
        raise _corrupt(source, "scale_and_bias is not [scale, [bias...]]") from None
    dims = int(bias.size)
    def split_of(split: dict[str, Any], index: int) -> tuple[int, float, bool]:
        return _split(split, features, derived, n_float, source, index)

    columns = concatenate_trees([_tree(t, dims, split_of, scale, source, i) for i, t in enumerate(trees)])
    check_structure(source, columns["tree"], columns["node"], columns["feature"], columns["true_child"],
                    columns["false_child"], n_features)
    class_names = document.get("model_info", {}).get("class_params", {}).get("class_names")
    task: BoostingHead
    if loss in CLASSIFICATION_LOSSES:
        labels = np.asarray(class_names if class_names else list(range(max(dims, 2))))
        if labels.dtype.kind == "f" and np.all(labels == np.round(labels)):
            labels = labels.astype(np.int64)
        task = ir.Classification(labels=labels, link="logistic" if dims == 1 else "softmax", has_proba=True)
    else:
        task = ir.Regression(n_targets=dims, link="exp" if loss in EXP_LOSSES else "identity")
    names = [str(e.get("feature_id") or "") for e in sorted(document["features_info"].get("float_features", []),
                                                            key=lambda e: int(e["flat_feature_index"]))]
    notes = (f"scale {scale:g} folded into the leaves (≤ 1 ulp per leaf)",) if scale != 1.0 else ()
    return BoostedForest(
        library="catboost", objective=loss, n_features=n_features,
        feature_names=tuple(names) if all(names) and len(names) == n_features and categories is None else None,
        precision="float32",
        sums_float32=False, tree=columns["tree"], node=columns["node"], feature=columns["feature"],
        threshold=columns["threshold"], op=np.full(columns["feature"].size, Op.GT, dtype=np.int64),
        true_child=columns["true_child"], false_child=columns["false_child"], missing_true=columns["missing_true"],
        leaf_value=columns["leaf"], leaf_target=np.full(columns["feature"].size, -1, dtype=np.int64), base=bias,
        head=task, notes=notes), categories
