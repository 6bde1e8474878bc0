"""CatBoost categorical features -> one string lookup (IR CategoryLookup) feeding the oblivious trees.

CatBoost never sees a category string at apply time, only its hash (`CalcCatFeatureHash`, CityHash-based, an int32),
and its model file holds only hashes (boosting-semantics.md §4.4). Two kinds of split read a categorical column:

- one-hot (`one_hot_max_size`): `OneHotFeature{cat_feature_index, value}` sets its bit iff hash(s) == value;
- CTR (`OnlineCtr{border, split_index}`): a float32 statistic of the category, looked up by the key
  CalcHash(0, sign_extend(hash(s))) in `ctr_data[identifier].hash_map` (flat [key, counts...] rows of
  `hash_stride`), turned into `float32((num + prior_num) / (den + prior_denom))`, then `float32((ctr + shift) *
  scale)` (`TModelCtr::Calc`, float arithmetic), and compared `value > border`. A key missing from the table (an
  unseen category) counts 0/0: the prior.

Both are functions of one column's string, so per column they are a table string -> row of doubles (a 0/1
indicator per one-hot value a split tests, the float32 CTR value per CTR): `ir.CategoryLookup`, whose default row is
what CatBoost computes for a hash in no table. The strings come from rows the user gives (the model has none):
CatBoost itself hashes them (`save_model(format="json", pool=...)` writes `cat_features_hash`), and a model whose
splits read a category no given string hashes to is refused, naming the column. Exact except for an unseen string
whose 32-bit hash collides with a training category's (CatBoost then treats it as that category; the artifact
cannot compute CityHash and uses the default row).

Refused, one line each: CTRs over feature combinations (`max_ctr_complexity` > 1 builds them: the key mixes several
columns and float bits) and CTR types other than Borders / Buckets / Counter (FeatureFreq trains on GPU only, so
it is unverified and refused).
"""

from __future__ import annotations

import json
import tempfile
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from export import ir
from export.errors import DataError, InputFileError, UnsupportedEstimatorError

MAGIC_MULT = 0x4906BA494954CB65  # CalcHash(a, b) = M * (a + M * b) mod 2^64 (catboost/libs/helpers/hash.h)
EMPTY_KEY = (1 << 64) - 1  # the dense hash map's empty-slot marker, exported as a row of its own
COUNT_TYPES = ("Counter",)  # FeatureFreq: GPU-only training, so never verified here
TARGET_TYPES = ("Borders", "Buckets")
SUPPORTED_CTRS = (*TARGET_TYPES, *COUNT_TYPES)


def ctr_key(hashes: np.ndarray) -> np.ndarray:
    """The single-column CTR table key of each int32 category hash: CalcHash(0, sign-extended hash) mod 2^64."""
    b = hashes.astype(np.int64).astype(np.uint64)  # two's complement: the sign extension CatBoost's ui64 cast does
    with np.errstate(over="ignore"):
        return (np.uint64(MAGIC_MULT) * (np.uint64(MAGIC_MULT) * b)).astype(np.uint64)


@dataclass(frozen=True)
class Ctr:
    """One `features_info.ctrs[]` entry on a single column: its table (key -> float32 value) and its prior."""

    ctr_type: str
    keys: np.ndarray  # uint64 table keys (the empty-slot marker dropped)
    values: np.ndarray  # float32 CTR value per key
    prior: float  # the value of a key not in the table
    borders: np.ndarray  # float32 borders the splits compare with


@dataclass(frozen=True)
class CategoricalColumn:
    """One categorical input column and the derived values its splits read, in lookup-row order: one indicator
    per tested one-hot hash, then one value per CTR."""

    column: int  # flat feature index (input column)
    name: str
    one_hot: tuple[int, ...]  # int32 hashes a OneHotFeature split tests
    ctrs: tuple[Ctr, ...]

    @property
    def width(self) -> int:
        return len(self.one_hot) + len(self.ctrs)


@dataclass(frozen=True)
class CatBoostCategories:
    """The categorical part of a CatBoost model: its categorical input columns (flat indices) and, per split, the
    derived lookup column it reads. `derived[(kind, cat_feature_index, item)]` = index into the lookup's output."""

    cat_columns: tuple[int, ...]  # every categorical flat feature index, used or not
    used: tuple[CategoricalColumn, ...]  # the columns some split reads, in flat order

    @property
    def width(self) -> int:
        return sum(c.width for c in self.used)

    def lookup(self, hashes: Mapping[str, Mapping[str, int]], source: str) -> ir.CategoryLookup:
        """The string -> derived-values table of every used column, from `hashes[name][string]` (CatBoost's own
        int32 hashes of the strings the user's rows hold). Refuses a column whose splits read a category no
        string hashes to (its row would silently be the default)."""
        keys, values, defaults = [], [], []
        for column in self.used:
            strings = sorted(hashes.get(column.name, {}))
            h = np.array([hashes[column.name][s] for s in strings], dtype=np.int64)
            rows = np.zeros((len(strings), column.width))
            default = np.zeros(column.width)
            for k, value in enumerate(column.one_hot):
                rows[:, k] = h == value
                if not np.any(h == value):
                    raise DataError(f"model file '{source}': a one-hot split of CatBoost categorical feature "
                                    f"{column.name!r} tests a category (hash {value}) that no string in the data "
                                    "hashes to; CatBoost stores only hashes, so give --data rows holding every "
                                    f"training category of {column.name!r}")
            key = ctr_key(h)
            for k, ctr in enumerate(column.ctrs, start=len(column.one_hot)):
                where = np.searchsorted(ctr.keys, key)
                found = (where < ctr.keys.size) & (ctr.keys[np.minimum(where, ctr.keys.size - 1)] == key)
                rows[:, k] = np.where(found, ctr.values[np.minimum(where, ctr.keys.size - 1)], ctr.prior)
                default[k] = ctr.prior
                unseen = ~np.isin(ctr.keys, key)
                # A training category without a string gets the prior in the artifact: harmless only where its
                # value lies on the prior's side of every border a split compares with.
                side = (ctr.values[unseen, None] > ctr.borders[None, :]) != (np.float32(ctr.prior) > ctr.borders)
                if np.any(side):
                    raise DataError(
                        f"model file '{source}': {int(np.any(side, axis=1).sum())} training categories of CatBoost "
                        f"categorical feature {column.name!r} ({ctr.ctr_type} CTR) have no string in the data; "
                        "CatBoost stores only hashes, so give --data rows holding every training category of "
                        f"{column.name!r}")
            keep = np.any(rows != default, axis=1)  # strings whose row is the default need no key
            keys.append(np.array(strings, dtype=object)[keep])
            values.append(rows[keep] if keep.any() else rows[:0])
            defaults.append(default)
        return ir.CategoryLookup(keys=tuple(keys), values=tuple(values), default=tuple(defaults))


def _corrupt(source: str, what: str) -> InputFileError:
    return InputFileError(f"model file '{source}' is not a valid CatBoost model: {what}")


def _float32_ctr(num: np.ndarray, den: np.ndarray, ctr: Mapping[str, Any]) -> np.ndarray:
    """TModelCtr::Calc in float32: ((num + prior_num) / (den + prior_denom) + shift) * scale."""
    f = np.float32
    prior_num, prior_den = f(ctr.get("prior_numerator", 0)), f(ctr.get("prior_denomerator", 1))  # sic
    shift, scale = f(ctr.get("shift", 0)), f(ctr.get("scale", 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (num.astype(f) + prior_num) / (den.astype(f) + prior_den)
        return (value.astype(f) + shift).astype(f) * scale


def _ctr(entry: Mapping[str, Any], data: Mapping[str, Any], name: str, source: str) -> Ctr:
    ctr_type = str(entry.get("ctr_type"))
    if ctr_type not in SUPPORTED_CTRS:
        raise UnsupportedEstimatorError(f"model file '{source}': CatBoost {ctr_type} CTR on categorical feature "
                                        f"{name!r} is not supported; supported CTR types: "
                                        f"{', '.join(SUPPORTED_CTRS)}")
    table = data.get(str(entry.get("identifier")))
    try:
        stride = int(table["hash_stride"])  # type: ignore[index]
        flat = table["hash_map"]  # type: ignore[index]
        rows = np.array([[int(v) for v in flat[i:i + stride]] for i in range(0, len(flat), stride)], dtype=object)
        keys = np.array([int(k) for k in rows[:, 0]], dtype=np.uint64) if len(rows) else np.zeros(0, np.uint64)
        counts = np.array(rows[:, 1:], dtype=np.float64) if len(rows) else np.zeros((0, stride - 1))
    except (KeyError, TypeError, ValueError, IndexError):
        raise _corrupt(source, f"the CTR table of feature {name!r} is not [hash, counts...] rows") from None
    real = keys != np.uint64(EMPTY_KEY)
    keys, counts = keys[real], counts[real]
    target = int(entry.get("target_border_idx", 0))
    if ctr_type in COUNT_TYPES:
        if counts.shape[1] != 1:
            raise _corrupt(source, f"a {ctr_type} CTR table of feature {name!r} has {counts.shape[1]} counts per key")
        num, den = counts[:, 0], np.full(len(keys), float(table.get("counter_denominator", 0)))  # type: ignore[union-attr]
    elif ctr_type == "Buckets":
        num, den = counts[:, target], counts.sum(axis=1)
    elif counts.shape[1] == 2:  # Borders, binary target: the second count is the positive class
        num, den = counts[:, 1], counts.sum(axis=1)
    else:  # Borders over a multi-class target: classes above the border are "good"
        num, den = counts[:, target + 1:].sum(axis=1), counts.sum(axis=1)
    if not 0 <= target < max(counts.shape[1], 1):
        raise _corrupt(source, f"a CTR of feature {name!r} has target_border_idx {target}")
    order = np.argsort(keys)
    values = _float32_ctr(num, den, entry)[order]
    prior = _float32_ctr(np.zeros(1), np.zeros(1), entry)[0]
    borders = np.asarray(entry.get("borders", []), dtype=np.float64).astype(np.float32)
    return Ctr(ctr_type, keys[order], values, float(prior), borders)


SplitItem = tuple[int, int, int, int]  # (cat feature index, 0 one-hot / 1 CTR, item within the column, border)


SplitKey = tuple[str, int]  # ("onehot" | "ctr", split_index)


def _binary_features(document: Mapping[str, Any], by_index: Mapping[int, Any], names: Mapping[int, str],
                     source: str) -> tuple[dict[int, list[int]], dict[int, list[Ctr]], dict[SplitKey, SplitItem]]:
    """(one-hot hashes per column, CTRs per column, split_index -> what it tests). CatBoost numbers binary
    features globally: every float border, then every one-hot value, then every CTR border in `ctrs[]` order."""
    info = document.get("features_info", {})
    index = sum(len(f.get("borders", [])) for f in info.get("float_features", []))
    one_hot: dict[int, list[int]] = {}
    split_of: dict[SplitKey, SplitItem] = {}
    for i in sorted(by_index):
        for value in by_index[i].get("values", []):
            one_hot.setdefault(i, []).append(int(value))
            split_of[("onehot", index)] = (i, 0, len(one_hot[i]) - 1, 0)
            index += 1
    ctrs: dict[int, list[Ctr]] = {}
    for entry in info.get("ctrs", []):
        elements = entry.get("elements", [])
        cat_elements = [e for e in elements if e.get("combination_element") == "cat_feature_value"]
        if len(elements) != 1 or len(cat_elements) != 1:
            parts = ", ".join(repr(names.get(int(e.get("cat_feature_index", -1)), "a float feature"))
                              for e in elements)
            raise UnsupportedEstimatorError(
                f"model file '{source}': CatBoost {entry.get('ctr_type')} CTR over the feature combination "
                f"({parts}) is not supported; supported: CTRs of one categorical feature (train with "
                "max_ctr_complexity=1)")
        i = int(cat_elements[0].get("cat_feature_index", -1))
        if i not in by_index:
            raise _corrupt(source, f"a CTR reads categorical feature {i}, which the model does not declare")
        ctr = _ctr(entry, document.get("ctr_data", {}), names[i], source)
        ctrs.setdefault(i, []).append(ctr)
        for border in range(ctr.borders.size):
            split_of[("ctr", index)] = (i, 1, len(ctrs[i]) - 1, border)
            index += 1
    return one_hot, ctrs, split_of


def read_categories(document: Mapping[str, Any], source: str
                    ) -> tuple[CatBoostCategories | None, dict[tuple[str, int], tuple[int, float]]]:
    """(the model's categorical part, or None without categorical features; per split key — ("onehot",
    split_index) or ("ctr", split_index) — the derived lookup column it reads and the float32 threshold)."""
    info = document.get("features_info", {})
    cats = info.get("categorical_features") or []
    if not cats:
        if info.get("ctrs"):
            raise _corrupt(source, "CTRs without categorical features")
        return None, {}
    by_index = {int(c["feature_index"]): c for c in cats}
    names = {i: str(c.get("feature_id") or c["flat_feature_index"]) for i, c in by_index.items()}
    one_hot, ctrs, split_of = _binary_features(document, by_index, names, source)
    reads: dict[int, set[tuple[int, int]]] = {}  # only what some split reads becomes a lookup column
    for tree in document.get("oblivious_trees", []):
        for split in tree.get("splits", []):
            kind = {"OneHotFeature": "onehot", "OnlineCtr": "ctr"}.get(str(split.get("split_type")))
            if kind is None:
                continue
            found = split_of.get((kind, int(split.get("split_index", -1))))
            if found is None:
                raise _corrupt(source, f"a {split.get('split_type')} split has split_index "
                                       f"{split.get('split_index')}, which no categorical feature holds")
            reads.setdefault(found[0], set()).add(found[1:3])
    columns: list[CategoricalColumn] = []
    position: dict[tuple[int, int, int], int] = {}
    for i in sorted(reads, key=lambda i: int(by_index[i]["flat_feature_index"])):
        for item in sorted(reads[i]):  # one-hot indicators first, then CTR values
            position[(i, *item)] = len(position)
        columns.append(CategoricalColumn(int(by_index[i]["flat_feature_index"]), names[i],
                                         tuple(one_hot[i][k] for kind, k in sorted(reads[i]) if kind == 0),
                                         tuple(ctrs[i][k] for kind, k in sorted(reads[i]) if kind == 1)))
    derived = {key: (position[(i, kind, item)], 0.5 if kind == 0 else float(ctrs[i][item].borders[border]))
               for key, (i, kind, item, border) in split_of.items() if (i, kind, item) in position}
    cat_columns = tuple(sorted(int(c["flat_feature_index"]) for c in cats))
    return CatBoostCategories(cat_columns, tuple(columns)), derived


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def catboost_hashes(native: Any, columns: Sequence[str], frame: Any, names: Sequence[str]) -> dict[str, dict[str, int]]:
    """{column: {string: CatBoost's int32 hash}} of the distinct strings of `frame`'s categorical `columns` (NFC,
    plus "" — the empty string is a category like any other to CatBoost), hashed by CatBoost itself: the JSON
    export with a pool writes `features_info.cat_features_hash` ({hash (uint32), value})."""
    import catboost
    import pandas as pd

    strings = {c: sorted({nfc(str(v)) for v in frame[c].tolist() if isinstance(v, str)} | {""}) for c in columns}
    n = max(len(s) for s in strings.values())
    pool_frame = pd.DataFrame({
        name: (pd.Series([s[k % len(s)] for k in range(n)], dtype=object) if (s := strings.get(name)) is not None
               else np.zeros(n))
        for name in names})
    pool = catboost.Pool(pool_frame, cat_features=[names.index(c) for c in columns] if columns else None)
    with tempfile.TemporaryDirectory(prefix="mlexport-catboost-hash-") as tmp:
        path = Path(tmp) / "model.json"
        native.save_model(str(path), format="json", pool=pool)
        table = json.loads(path.read_text(encoding="utf-8"))["features_info"].get("cat_features_hash", [])
    by_value = {str(e["value"]): int(np.uint32(int(e["hash"])).astype(np.int32)) for e in table}
    return {c: {s: by_value[s] for s in strings[c] if s in by_value} for c in columns}
