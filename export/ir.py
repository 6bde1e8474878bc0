"""Model IR: the one normalised form between the front-ends (`from_sklearn`, later other libraries) and the writers
(`to_coreml`, `to_onnx`).

Pure data: frozen dataclasses of numpy arrays, validated on construction. No scikit-learn, onnx or coremltools
imports. A front-end lowers a fitted model *exactly* into these nodes (forest averaging and learning rates folded
into leaves, float32 threshold snapping done); writers only map fields, they never fix up semantics.

The root is `Model` = `inputs` (a `Schema`: ordered, named, typed columns) + `body` (a graph of `Step`s, each
producing one named vector from named inputs) + `head` (what the body's last vector means: `Regression`,
`Classification`, `Anomaly`, `MultiOutput` or `Transformed`). Body nodes are transforms (vector in, vector out) and
score producers (vector in, raw scores out: trees, linear, networks, kernels, neighbours, naive Bayes); a producer
never knows its task — the head does, and writers lower the head once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal, TypeAlias, assert_never

import numpy as np
from numpy.typing import NDArray

from export.errors import ExportFailedError, UnsupportedEstimatorError

FloatArray: TypeAlias = NDArray[np.float64]
IntArray: TypeAlias = NDArray[np.int64]
BoolArray: TypeAlias = NDArray[np.bool_]


class IRError(ExportFailedError):
    """An IR node was built with inconsistent fields: a converter bug, never a user error."""


def _check(condition: bool, node: str, message: str) -> None:
    if not condition:
        raise IRError(f"invalid {node}: {message}")


def _float_array(value: object, ndim: int, node: str, name: str) -> FloatArray:
    array = np.array(value, dtype=np.float64)
    _check(array.ndim == ndim, node, f"{name} must be {ndim}-D, got shape {array.shape}")
    array.setflags(write=False)
    return array


def _int_array(value: object, node: str, name: str) -> IntArray:
    array = np.array(value, dtype=np.int64)
    _check(array.ndim == 1, node, f"{name} must be 1-D, got shape {array.shape}")
    array.setflags(write=False)
    return array


def _freeze(array: np.ndarray) -> np.ndarray:
    array = np.array(array)
    array.setflags(write=False)
    return array


# ----------------------------------------------------------------------------------------------------------------
# Heads: what the body's final vector means.

Link = Literal["identity", "logistic", "softmax", "ovr_logistic", "none", "ovo_votes", "neighbour_votes"]
"""How a classifier's raw scores become probabilities and a label — scikit-learn's rule, ties included (the
first maximum wins, as numpy's argmax; binary: labels[1] only when strictly above the cut):

- ``identity``: scores are already probabilities. One column (binary) = P(labels[1]); label = labels[1] iff p > 0.5
  (scikit-learn's argmax over [1-p, p] takes the first class on a tie). K columns: label = labels[argmax(p)].
- ``logistic``: one column z (binary): P(labels[1]) = 1/(1+exp(-z)); label = labels[1] iff z > 0.
- ``softmax``: K columns: probabilities = softmax(scores); label = labels[argmax(scores)] (first max wins).
- ``ovr_logistic``: K columns: p_k = sigmoid(z_k) / sum_j sigmoid(z_j) (scikit-learn's one-vs-rest normalisation);
  label = labels[argmax(z)]. One column: as ``logistic``. A row whose sigmoids all underflow to 0 follows
  `Classification.all_zero`: 'uniform' 1/K (`LinearClassifierMixin._predict_proba_lr`) or 'zeros'
  (`OneVsRestClassifier.predict_proba` leaves zero-sum rows as they are).
- ``none``: no probabilities (scikit-learn has no predict_proba). One column: label = labels[1] iff z > 0;
  K columns: labels[argmax(z)].
- ``ovo_votes``: support vector machines (libsvm): the K(K-1)/2 one-vs-one decision values, majority vote, ties to
  the lowest class index; probabilities by pairwise coupling with the producer's probA/probB when present.
- ``neighbour_votes``: k-nearest neighbours, labels only (Core ML's kNearestNeighborsClassifier votes itself): K
  vote fractions; label = first class with the most votes (scikit-learn's mode). Front-ends emit ``identity`` over
  the same vote fractions (they are `predict_proba`); this link remains for labels-only IR built by hand.
"""

RegressionLink = Literal["identity", "exp", "logistic", "expm1"]
"""prediction = link(score): identity; exp (Poisson/Gamma/Tweedie GLMs, `count:poisson`, a TransformedTargetRegressor
with inverse_func=np.exp); logistic (a regressor predicting a probability, e.g. XGBoost `reg:logistic`); expm1
(exp(x) - 1 accurate near 0, as np.expm1: TransformedTargetRegressor with inverse_func=np.expm1)."""


@dataclass(frozen=True)
class Regression:
    """The model predicts `n_targets` real values (scikit-learn `predict`): link(score) per target."""

    n_targets: int = 1
    link: RegressionLink = "identity"

    def __post_init__(self) -> None:
        _check(self.n_targets >= 1, "Regression", "n_targets must be >= 1")
        _check(self.link in ("identity", "exp", "logistic", "expm1"), "Regression", f"unknown link {self.link!r}")

    def score_width(self) -> int:
        return self.n_targets


@dataclass(frozen=True)
class Classification:
    """The model predicts one of `labels` (scikit-learn `classes_`, in that order; integers or strings) and, if
    `has_proba`, one probability per label in the same order, by the rule `link` (see `Link`)."""

    labels: np.ndarray
    link: Link
    has_proba: bool
    all_zero: Literal["uniform", "zeros"] = "uniform"  # ovr_logistic rows whose sigmoids all underflow (see Link)
    # ovo_votes only: SVC(break_ties=True, decision_function_shape='ovr', K > 2) — the label is the first maximum of
    # scikit-learn's `_ovr_decision_function` (pair (i, j) votes i unless f_p < 0, plus Σ confidences / (3(|Σ| + 1)))
    break_ties: bool = False
    # 'scores': the link's label rule (see Link); 'probabilities': labels[argmax(probabilities)], first maximum —
    # scikit-learn's predict when it is defined by predict_proba (CalibratedClassifierCV: sigmoids saturated to 1.0,
    # or all underflowed to the uniform row, tie in probability although their scores differ)
    label_from: Literal["scores", "probabilities"] = "scores"

    def __post_init__(self) -> None:
        _check(self.all_zero in ("uniform", "zeros"), "Classification", f"unknown all_zero rule {self.all_zero!r}")
        _check(self.label_from in ("scores", "probabilities"), "Classification",
               f"unknown label rule {self.label_from!r}")
        _check(self.label_from == "scores" or self.has_proba, "Classification",
               "a label from probabilities needs probabilities")
        labels = np.asarray(self.labels)
        if labels.dtype.kind in "iub":
            labels = labels.astype(np.int64)
        elif labels.dtype.kind in "UO" or labels.dtype.kind == "T":
            _check(all(isinstance(v, str) for v in labels.tolist()), "Classification",
                   "labels must be all integers or all strings")
            labels = labels.astype(object)
        else:
            raise IRError(f"invalid Classification: labels of dtype {labels.dtype}; allowed: integers or strings")
        _check(labels.ndim == 1 and labels.size >= 2, "Classification", "need at least two labels")
        _check(len(set(labels.tolist())) == labels.size, "Classification", "labels must be unique")
        object.__setattr__(self, "labels", _freeze(labels))
        _check(not (self.link == "none" and self.has_proba), "Classification", "link 'none' has no probabilities")
        _check(not (self.link == "neighbour_votes" and self.has_proba), "Classification",
               "link 'neighbour_votes' exports labels only")
        _check(not self.break_ties or self.link == "ovo_votes", "Classification", "break_ties needs link 'ovo_votes'")

    @property
    def n_classes(self) -> int:
        return int(self.labels.size)

    @property
    def string_labels(self) -> bool:
        return self.labels.dtype == object

    def score_widths(self) -> tuple[int, ...]:
        """The score-vector widths this rule reads (the body's last vector must have one of them)."""
        k = self.n_classes
        if self.link == "ovo_votes":
            return (k * (k - 1) // 2,)
        if self.link == "logistic":
            return (1,)
        if self.link in ("identity", "ovr_logistic", "none"):
            return (1, k) if k == 2 else (k,)
        return (k,)  # softmax, neighbour_votes


AnomalyScore = Literal["identity", "isolation"]
"""How the body's one raw column r becomes scikit-learn's `decision_function` s: ``identity`` s = r (OneClassSVM:
libsvm's decision value); ``isolation`` (IsolationForest, `_compute_score_samples`): r is the summed path length
`depths`, s = -(2 ** -(r / denominator)) - offset, denominator = n_estimators · c(max_samples), offset = `offset_`."""


@dataclass(frozen=True)
class Anomaly:
    """Outlier detection (IsolationForest, OneClassSVM, LocalOutlierFactor(novelty=True)): one score column s =
    scikit-learn's `decision_function` (from the raw column by `score`); label = 1 (inlier) iff s >= threshold,
    else -1 (`predict`; a strict s > 0 is threshold = the smallest positive double)."""

    threshold: float = 0.0
    score: AnomalyScore = "identity"
    denominator: float = 1.0
    offset: float = 0.0

    def __post_init__(self) -> None:
        _check(self.score in ("identity", "isolation"), "Anomaly", f"unknown score rule {self.score!r}")
        _check(self.score != "isolation" or (np.isfinite(self.denominator) and self.denominator > 0), "Anomaly",
               "the isolation score needs a positive denominator")

    def score_width(self) -> int:
        return 1


@dataclass(frozen=True)
class MultiOutput:
    """Several heads over consecutive slices of one score vector (MultiOutputClassifier / Regressor): head i reads
    the next `widths[i]` columns."""

    heads: tuple[Head, ...]
    widths: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "heads", tuple(self.heads))
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        _check(len(self.heads) >= 2, "MultiOutput", "needs at least two heads")
        _check(len(self.heads) == len(self.widths), "MultiOutput", "one width per head")
        for head, width in zip(self.heads, self.widths, strict=True):
            _check(not isinstance(head, (MultiOutput, Transformed)), "MultiOutput", "heads must be single-output")
            _check(width in (head_score_widths(head) or ()), "MultiOutput",
                   f"width {width} does not fit {type(head).__name__}")


@dataclass(frozen=True)
class Transformed:
    """No head: the body's last vector is the output (a transformer export)."""


Head: TypeAlias = Regression | Classification | Anomaly | MultiOutput | Transformed


def head_score_widths(head: Head) -> tuple[int, ...] | None:
    """Widths of the score vector `head` can read; None for any width (Transformed)."""
    match head:
        case Regression() | Anomaly():
            return (head.score_width(),)
        case Classification():
            return head.score_widths()
        case MultiOutput():
            return (sum(head.widths),)
        case Transformed():
            return None
        case _:
            assert_never(head)


# ----------------------------------------------------------------------------------------------------------------
# Transforms: row vector in, row vector out.


@dataclass(frozen=True)
class Scaler:
    """y = (x - offset) * scale + bias, elementwise (StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler).

    `divide`: y = (x - offset) / scale + bias instead — `scale` then holds the divisor (scikit-learn's `scale_`).
    `clip` (lo, hi): the result is then clamped to [lo, hi] as np.clip does (MinMaxScaler(clip=True) clips to
    feature_range; NaN stays NaN).
    scikit-learn divides (`X /= scale_`); multiplying by a rounded 1/scale_ is up to 1 ulp off, and a later model
    that sums near-cancelling terms (a linear SVC on rows with 1e30 in one feature) turns that ulp into a different
    label. `bias` (None: no addition) is added last, so MinMaxScaler's `X *= scale_; X += min_` is one Scaler with
    offset 0, scale scale_, bias min_ — the same two roundings as scikit-learn. Writers that can only multiply (Core
    ML's scaleValue · (x + shiftValue)) approximate; the ONNX writer reproduces each operation.
    """

    offset: FloatArray
    scale: FloatArray
    divide: bool = False
    bias: FloatArray | None = None
    clip: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.clip is not None:
            lo, hi = (float(v) for v in self.clip)
            _check(lo <= hi, "Scaler", f"clip bounds ({lo}, {hi}) are not ordered")
            object.__setattr__(self, "clip", (lo, hi))
        object.__setattr__(self, "offset", _float_array(self.offset, 1, "Scaler", "offset"))
        object.__setattr__(self, "scale", _float_array(self.scale, 1, "Scaler", "scale"))
        _check(self.offset.shape == self.scale.shape, "Scaler", "offset and scale lengths differ")
        _check(not (self.divide and bool(np.any(self.scale == 0))), "Scaler",
               "divide=True with a zero in scale (a divisor)")
        if self.bias is not None:
            object.__setattr__(self, "bias", _float_array(self.bias, 1, "Scaler", "bias"))
            _check(self.bias.shape == self.scale.shape, "Scaler", "bias and scale lengths differ")

    @property
    def n_features(self) -> int:
        return int(self.offset.size)


@dataclass(frozen=True)
class Normalizer:
    """y = x / norm(x) per row; a zero norm leaves the row unchanged (scikit-learn's `normalize`), or with
    `zero_rows='uniform'` becomes 1/n_features everywhere (CalibratedClassifierCV's multiclass normalisation:
    `np.divide(proba, denominator, out=uniform_proba, where=denominator != 0)`). `max` is max(|x_i|)."""

    norm: Literal["l1", "l2", "max"]
    n_features: int
    zero_rows: Literal["unchanged", "uniform"] = "unchanged"

    def __post_init__(self) -> None:
        _check(self.zero_rows in ("unchanged", "uniform"), "Normalizer", f"unknown zero_rows {self.zero_rows!r}")


@dataclass(frozen=True)
class Imputer:
    """Entries equal to `missing_value` (NaN matches NaN) are replaced by `fill[i]` (SimpleImputer statistics_)."""

    missing_value: float
    fill: FloatArray

    def __post_init__(self) -> None:
        object.__setattr__(self, "fill", _float_array(self.fill, 1, "Imputer", "fill"))

    @property
    def n_features(self) -> int:
        return int(self.fill.size)


@dataclass(frozen=True)
class OneHotEncoder:
    """Each input column j becomes len(categories[j]) indicator columns, in category order; a value in no category
    gives all zeros (handle_unknown='ignore'). Categories are the fitted `categories_` values (int64 or str)."""

    categories: tuple[np.ndarray, ...]

    def __post_init__(self) -> None:
        frozen = []
        for j, cats in enumerate(self.categories):
            cats = np.asarray(cats)
            if cats.dtype.kind in "iub":
                cats = cats.astype(np.int64)
            elif cats.dtype.kind in "UO":
                cats = cats.astype(object)
            elif cats.dtype.kind == "f" and np.all(np.isfinite(cats)) and np.all(cats == np.round(cats)):
                cats = cats.astype(np.int64)  # integer-valued float columns: Core ML one-hot takes Int64 only
            else:
                raise IRError(f"invalid OneHotEncoder: column {j} categories must be integers or strings")
            _check(cats.ndim == 1 and cats.size >= 1, "OneHotEncoder", f"column {j} has no categories")
            frozen.append(_freeze(cats))
        object.__setattr__(self, "categories", tuple(frozen))

    @property
    def n_features(self) -> int:
        return len(self.categories)

    @property
    def n_outputs(self) -> int:
        return int(sum(c.size for c in self.categories))


@dataclass(frozen=True)
class CategoryLookup:
    """String columns read one by one, each replaced by a fixed row of doubles: column j's value v becomes
    `values[j][keys[j].index(v)]`, or `default[j]` for a value in no key; the blocks are side by side.

    One table form for every scikit-learn string encoder, computed from the fitted encoder's own `transform`
    (OneHotEncoder with any drop / infrequent / handle_unknown setting: one-hot or all-zero rows; OrdinalEncoder:
    its code, `unknown_value` or `encoded_missing_value`, NaN included; TargetEncoder: `encodings_` rows with
    `target_mean_` as the default). The key "" is the missing-string contract: it holds what scikit-learn does with
    a missing value in that column (a SimpleImputer before the encoder is folded in as "" -> the fill's row). Keys
    are NFC-normalised, unique strings; values are copied, never recomputed, so writers only look rows up."""

    keys: tuple[np.ndarray, ...]
    values: tuple[FloatArray, ...]
    default: tuple[FloatArray, ...]

    def __post_init__(self) -> None:
        name = "CategoryLookup"
        _check(len(self.keys) >= 1, name, "needs at least one column")
        _check(len(self.keys) == len(self.values) == len(self.default), name, "one key list, table, default per column")
        keys, values, defaults = [], [], []
        for j, (k, v, d) in enumerate(zip(self.keys, self.values, self.default, strict=True)):
            k = np.asarray(k, dtype=object)
            _check(k.ndim == 1 and all(isinstance(x, str) for x in k.tolist()), name,
                   f"column {j} keys must be strings")
            _check(len(set(k.tolist())) == k.size, name, f"column {j} keys must be unique")
            v = _float_array(v, 2, name, f"values[{j}]")
            d = _float_array(d, 1, name, f"default[{j}]")
            _check(v.shape == (k.size, d.size) and d.size >= 1, name, f"column {j}: values must be (n_keys, width)")
            keys.append(_freeze(k))
            values.append(v)
            defaults.append(d)
        object.__setattr__(self, "keys", tuple(keys))
        object.__setattr__(self, "values", tuple(values))
        object.__setattr__(self, "default", tuple(defaults))

    @property
    def n_features(self) -> int:
        return len(self.keys)

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(int(d.size) for d in self.default)

    @property
    def n_outputs(self) -> int:
        return sum(self.widths)

    def one_hot_block(self, j: int) -> bool:
        """Whether column j's rows (and default) are one-hot or all zero: a plain one-hot encoding."""
        rows = np.vstack([self.values[j], self.default[j][np.newaxis, :]])
        return bool(np.all((rows == 0) | (rows == 1)) and np.all((rows == 1).sum(axis=1) <= 1))


@dataclass(frozen=True)
class TextAnalyzer:
    """scikit-learn's word analyzer on str documents (the settings `build_analyzer()` reads): lower() when
    `lowercase`, then strip_accents ('ascii' | 'unicode'), tokens = maximal runs of >= `min_token_chars` word
    characters (the accepted token patterns), stop words dropped, word n-grams (`ngram_range`, joined by ' ')."""

    lowercase: bool
    strip_accents: Literal["ascii", "unicode"] | None
    min_token_chars: int
    ngram_range: tuple[int, int]
    stop_words: tuple[str, ...]  # sorted; empty = none

    def __post_init__(self) -> None:
        low, high = self.ngram_range
        if not 1 <= low <= high:
            raise UnsupportedEstimatorError(f"ngram_range={self.ngram_range}: need 1 <= min_n <= max_n")
        _check(self.min_token_chars >= 1, "TextAnalyzer", "min_token_chars must be >= 1")
        _check(self.strip_accents in (None, "ascii", "unicode"), "TextAnalyzer",
               f"unknown strip_accents {self.strip_accents!r}")


@dataclass(frozen=True)
class Vocabulary:
    """CountVectorizer's vocabulary_: terms[i] is the term counted in column i."""

    terms: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "terms", tuple(self.terms))
        _check(len(self.terms) >= 1, "Vocabulary", "needs at least one term")
        _check(len(set(self.terms)) == len(self.terms), "Vocabulary", "terms must be unique")

    @property
    def n_features(self) -> int:
        return len(self.terms)


@dataclass(frozen=True)
class Hashing:
    """HashingVectorizer's column rule: murmurhash3_32(term utf-8, seed 0) -> |h| % n_features, sign of h if
    alternate_sign (scikit-learn's _hashing_fast, with h = -2**31 mapped as documented there)."""

    n_features: int
    alternate_sign: bool

    def __post_init__(self) -> None:
        _check(self.n_features >= 1, "Hashing", "n_features must be >= 1")


@dataclass(frozen=True)
class TextVectorizer:
    """One string column of documents -> scikit-learn's term counts (CountVectorizer / HashingVectorizer
    `transform`, densified): the `analyzer`'s terms counted in `columns` (vocabulary or hashing), then 0/1 when
    `binary`, then 1 + log(tf) for tf > 0 when `sublinear_tf` (TfidfTransformer's, folded in here because it
    needs the counts). The idf multiply and the norm are ordinary `Scaler` / `Normalizer` steps after it.

    Reads one string column as a body step of its own (like `CategoryLookup`). Writers: ONNX reproduces the
    analyzer on the raw string (export.text.to_onnx_text); Core ML has no tokenizer, so the column's input is the
    [String: Double] term counts the app computes with ios_stub's TextFeatures (vocabulary columns only)."""

    analyzer: TextAnalyzer
    columns: Vocabulary | Hashing
    binary: bool = False
    sublinear_tf: bool = False
    source: str = "CountVectorizer"  # the scikit-learn class name(s), for messages

    def __post_init__(self) -> None:
        _check(not (self.sublinear_tf and isinstance(self.columns, Hashing)), "TextVectorizer",
               "sublinear_tf with hashed columns (signed counts have no log)")

    @property
    def n_features(self) -> int:
        return 1  # one column of documents

    @property
    def n_outputs(self) -> int:
        return self.columns.n_features


@dataclass(frozen=True)
class DictVectorizer:
    """One dictionary column (string key -> number per row) -> scikit-learn's DictVectorizer `transform`,
    densified: output j is the value of key `terms[j]` (`feature_names_`, in `vocabulary_` order), 0 when the key is
    absent; keys not in `terms` are ignored, as scikit-learn ignores them. A string value v of key k is scikit-learn's
    key f"{k}{separator}{v}" with value 1: that mapping is the input contract (whoever feeds the artifact applies it,
    README "DictVectorizer inputs"), so the node sees numbers only.

    Reads one dictionary column as a body step of its own (like `TextVectorizer`). Writers: Core ML's input is the
    [String: Double] dictionary itself (DictVectorizer + FeatureVectorizer); ONNX, whose DictVectorizer reads one map
    and not a batch, takes two [N, K] tensors, keys (string, "" = padding) and values (double), and sums each key's
    values into its column (export/to_onnx/dict_vectorizer.py)."""

    terms: tuple[str, ...]
    source: str = "DictVectorizer"

    def __post_init__(self) -> None:
        object.__setattr__(self, "terms", tuple(str(t) for t in self.terms))
        _check(len(self.terms) >= 1, "DictVectorizer", "needs at least one term")
        _check(len(set(self.terms)) == len(self.terms), "DictVectorizer", "terms must be unique")
        _check("" not in self.terms, "DictVectorizer", 'the key "" is the padding of the ONNX input')

    @property
    def n_features(self) -> int:
        return 1  # one dictionary column

    @property
    def n_outputs(self) -> int:
        return len(self.terms)


@dataclass(frozen=True)
class Linear:
    """y = x @ weights.T + bias (PCA: weights = components_, bias = -components_ @ mean_)."""

    weights: FloatArray  # (n_out, n_in)
    bias: FloatArray  # (n_out,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _float_array(self.weights, 2, "Linear", "weights"))
        object.__setattr__(self, "bias", _float_array(self.bias, 1, "Linear", "bias"))
        _check(self.weights.shape[0] == self.bias.size, "Linear", "weights rows != bias length")

    @property
    def n_features(self) -> int:
        return int(self.weights.shape[1])


@dataclass(frozen=True)
class ColumnSelect:
    """y = x[indices] (ColumnTransformer column selections, passthrough)."""

    indices: IntArray
    n_features: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "indices", _int_array(self.indices, "ColumnSelect", "indices"))
        _check(bool(np.all((self.indices >= 0) & (self.indices < self.n_features))), "ColumnSelect",
               "index out of range")


@dataclass(frozen=True)
class Concat:
    """y = concatenate([part(x) for part in parts]) — every part reads the same input row (ColumnTransformer)."""

    parts: tuple[Node, ...]

    def __post_init__(self) -> None:
        _check(len(self.parts) >= 1, "Concat", "needs at least one part")


@dataclass(frozen=True)
class PiecewiseLinear:
    """Per column j: y_j = np.interp(x_j, knots_x[j], knots_y[j]) — linear interpolation between knots, clipped to
    the end values outside them (IsotonicRegression.predict with out_of_bounds='clip': `np.clip` to [X_min_, X_max_]
    then scipy's interp1d, which delegates to `np.interp`). numpy's rule, reproduced operation for operation: find j
    with knots_x[j] <= x < knots_x[j+1]; x equal to a knot gives that knot's y; else
    slope[j] * (x - knots_x[j]) + knots_y[j] with slope[j] = (y[j+1] - y[j]) / (x[j+1] - x[j]) (computed by the
    writer as numpy precomputes it). Knots strictly increasing, at least two per column."""

    knots_x: tuple[FloatArray, ...]
    knots_y: tuple[FloatArray, ...]

    def __post_init__(self) -> None:
        name = "PiecewiseLinear"
        _check(len(self.knots_x) >= 1 and len(self.knots_x) == len(self.knots_y), name, "one knot list per column")
        xs = tuple(_float_array(x, 1, name, "knots_x") for x in self.knots_x)
        ys = tuple(_float_array(y, 1, name, "knots_y") for y in self.knots_y)
        for j, (x, y) in enumerate(zip(xs, ys, strict=True)):
            _check(x.size >= 2 and x.size == y.size, name, f"column {j}: at least two knots, one y per x")
            _check(bool(np.all(np.isfinite(x)) and np.all(np.isfinite(y))), name, f"column {j}: knots must be finite")
            _check(bool(np.all(np.diff(x) > 0)), name, f"column {j}: knots_x must be strictly increasing")
        object.__setattr__(self, "knots_x", xs)
        object.__setattr__(self, "knots_y", ys)

    @property
    def n_features(self) -> int:
        return len(self.knots_x)


ClassifierOutputKind = Literal["probabilities", "votes"]


@dataclass(frozen=True)
class ClassifierOutput:
    """A member classifier inside a combination (VotingClassifier, StackingClassifier, BaggingClassifier,
    CalibratedClassifierCV): `member` computes its raw scores and `rule` (the member's own Classification head)
    turns them into what the combination reads — `probabilities`: its predict_proba (K columns, labels order), or
    `votes`: its predicted label one-hot (K columns; hard voting counts them). The member and its rule stay together
    because Core ML fuses a producer with its label/probability rule (its classifier models); ONNX applies the
    head's rule to the member's scores in the body."""

    member: Node
    rule: Classification
    output: ClassifierOutputKind

    def __post_init__(self) -> None:
        _check(self.output in ("probabilities", "votes"), "ClassifierOutput", f"unknown output {self.output!r}")
        _check(self.output == "votes" or self.rule.has_proba, "ClassifierOutput",
               "probabilities need a rule with probabilities")
        _check(output_width(self.member) in self.rule.score_widths(), "ClassifierOutput",
               f"the member gives {output_width(self.member)} scores, its rule reads {self.rule.score_widths()}")

    @property
    def n_classes(self) -> int:
        return self.rule.n_classes


@dataclass(frozen=True)
class Bins:
    """y_j = the number of `edges[j]` that are <= x_j, as a double (np.searchsorted(edges[j], x_j, side='right')):
    KBinsDiscretizer's ordinal code (its edges are bin_edges_[j][1:-1]); Binarizer's x > t is the one edge
    nextafter(t, +inf) (for doubles x > t <=> x >= nextafter(t, +inf)). Comparisons are exact in double; a NaN
    compares false everywhere (y_j = 0 — both front-ends' models refuse NaN, so the schema refuses it first). A
    feature with no edges is the constant 0 (KBinsDiscretizer's one-bin features)."""

    edges: tuple[FloatArray, ...]

    def __post_init__(self) -> None:
        edges = tuple(_float_array(e, 1, "Bins", f"edges[{j}]") for j, e in enumerate(self.edges))
        _check(len(edges) >= 1, "Bins", "needs at least one feature")
        for j, e in enumerate(edges):
            _check(not bool(np.any(np.isnan(e))), "Bins", f"edges[{j}] holds NaN")
            _check(bool(np.all(np.diff(e) >= 0)), "Bins", f"edges[{j}] must be sorted ascending")
        object.__setattr__(self, "edges", edges)

    @property
    def n_features(self) -> int:
        return len(self.edges)


@dataclass(frozen=True)
class MissingIndicator:
    """y = [x[f] is missing for f in features] as 0.0 / 1.0 (scikit-learn MissingIndicator, and the indicator block
    of SimpleImputer(add_indicator=True)): missing is NaN when `missing_value` is NaN, else x == missing_value."""

    missing_value: float
    features: IntArray
    n_features: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", _int_array(self.features, "MissingIndicator", "features"))
        _check(self.features.size >= 1, "MissingIndicator", "needs at least one feature")
        _check(bool(np.all((self.features >= 0) & (self.features < self.n_features))), "MissingIndicator",
               "feature index out of range")


@dataclass(frozen=True)
class Monomials:
    """Products of input features, in the order scikit-learn multiplies them (PolynomialFeatures): term t is the
    constant 1 when `factor[t]` < 0, x[factor[t]] when `rest[t]` < 0, else term[rest[t]] * x[factor[t]] (one
    rounded product; rest[t] < t). The output is the terms `outputs`, in that order (intermediate terms that the
    output leaves out, e.g. below min_degree, are still computed as scikit-learn computes them)."""

    n_features: int
    factor: IntArray
    rest: IntArray
    outputs: IntArray

    def __post_init__(self) -> None:
        for attr in ("factor", "rest", "outputs"):
            object.__setattr__(self, attr, _int_array(getattr(self, attr), "Monomials", attr))
        n = self.factor.size
        _check(self.rest.size == n and n >= 1, "Monomials", "one factor and rest per term")
        _check(bool(np.all(self.factor < self.n_features)), "Monomials", "factor out of range")
        _check(bool(np.all((self.rest < np.arange(n)) & ((self.rest < 0) | (self.factor >= 0)))), "Monomials",
               "rest must be an earlier term, and a product needs a factor")
        _check(self.outputs.size >= 1 and bool(np.all((self.outputs >= 0) & (self.outputs < n))), "Monomials",
               "outputs out of range")


@dataclass(frozen=True)
class QuantileMap:
    """scikit-learn QuantileTransformer.transform, per feature j with q = quantiles[:, j] (ascending) and
    r = references (ascending, 0..1), in its own operations (`_transform_col`):

    - p = 0.5 * (interp(x, q, r) - interp(-x, -q[::-1], -r[::-1])), interp being np.interp exactly: k = the last
      index with q[k] <= x; x < q[0] → r[0]; x >= q[-1] → r[-1]; x == q[k] → r[k]; else
      slope_k * (x - q[k]) + r[k] with slope_k = (r[k+1] - r[k]) / (q[k+1] - q[k]);
    - uniform (`normal_clip` None): p = 1 where x == q[-1], then p = 0 where x == q[0];
    - normal: p = 1 where x + bounds_threshold > q[-1], then 0 where x - bounds_threshold < q[0]; y = ndtri(p)
      (scipy's Cephes ndtri: -inf at 0, inf at 1), then np.clip(y, *normal_clip);
    - NaN stays NaN."""

    quantiles: FloatArray  # (n_quantiles, n_features)
    references: FloatArray  # (n_quantiles,)
    normal_clip: tuple[float, float] | None
    bounds_threshold: float

    def __post_init__(self) -> None:
        name = "QuantileMap"
        object.__setattr__(self, "quantiles", _float_array(self.quantiles, 2, name, "quantiles"))
        object.__setattr__(self, "references", _float_array(self.references, 1, name, "references"))
        _check(self.quantiles.shape[0] == self.references.size >= 2, name, "one reference per quantile, at least 2")
        _check(bool(np.all(np.isfinite(self.quantiles)) and np.all(np.diff(self.quantiles, axis=0) >= 0)), name,
               "quantiles must be finite and ascending per feature")
        _check(bool(np.all(np.diff(self.references) >= 0)), name, "references must be ascending")

    @property
    def n_features(self) -> int:
        return int(self.quantiles.shape[1])


@dataclass(frozen=True)
class PowerTransform:
    """PowerTransformer's per-feature power maps as scipy computes them (lambdas = `lambdas_`):

    - yeo-johnson (scipy.stats.yeojohnson): x >= 0: log1p(x) if |l| < eps else expm1(l * log1p(x)) / l;
      x < 0 (and NaN): -log1p(-x) if |l - 2| <= eps else -expm1((2 - l) * log1p(-x)) / (2 - l); eps = 2**-52;
    - box-cox (scipy.special.boxcox, x > 0): log(x) if |l| < 1e-19; else with t = l * log(x):
      expm1(t) / l if t < 709.78, else copysign(1, l) * exp(t - log|l|) - 1 / l.
    standardize is a following Scaler."""

    method: Literal["yeo-johnson", "box-cox"]
    lambdas: FloatArray

    def __post_init__(self) -> None:
        object.__setattr__(self, "lambdas", _float_array(self.lambdas, 1, "PowerTransform", "lambdas"))
        _check(self.method in ("yeo-johnson", "box-cox"), "PowerTransform", f"unknown method {self.method!r}")
        _check(bool(np.all(np.isfinite(self.lambdas))), "PowerTransform", "lambdas must be finite")

    @property
    def n_features(self) -> int:
        return int(self.lambdas.size)

    def yeo_johnson_log_cases(self) -> tuple[BoolArray, BoolArray]:
        """Per feature: (x >= 0 takes log1p: |l| < eps, x < 0 takes -log1p(-x): |l - 2| <= eps)."""
        eps = np.finfo(np.float64).eps
        return np.abs(self.lambdas) < eps, ~(np.abs(self.lambdas - 2) > eps)

    def box_cox_log_case(self) -> BoolArray:
        """Per feature: Box-Cox is log(x) (|l| < 1e-19)."""
        return np.abs(self.lambdas) < 1e-19


SplineExtrapolation = Literal["constant", "linear", "continue", "periodic", "error"]


@dataclass(frozen=True)
class BSplines:
    """SplineTransformer.transform, per feature j: the B-spline bases of degree k on `knots[j]` evaluated as scipy's
    evaluate_spline does — interval l = k + #{i in k+1..n-1 : t[i] <= x} (n = len(t) - k - 1), de Boor's recursion
    h = [1]; for d in 1..k: for m in 1..d, xa = t[l+m-d], xb = t[l+m]: if xb == xa: h[m] = 0, else
    w = h_old[m-1] / (xb - xa); h[m-1] += w * (xb - x); h[m] = w * (x - xa) — basis i = l - k + a is h[a] and lands in
    output column `basis_column[i]` (identity; periodic splines wrap their last k bases onto the first k), the other
    columns 0. Then scikit-learn's extrapolation outside [lower[j], upper[j]]: `constant` — 0 except the first /
    last n_extrapolated[j] columns at f_min / f_max; `linear` — those columns f + (x - bound) * slope; `continue` /
    `error` — the end pieces (scikit-learn raises for `error`); `periodic` — x first mapped to
    t[k] + (x - t[k]) mod (t[n] - t[k]) (numpy's remainder). lower / upper / n_extrapolated are what scikit-learn's
    loop uses (its linear extrapolation with degree <= 1 raises a degree variable that carries over to later
    features). `zero_missing`: NaN rows give 0 (handle_missing='zeros'). include_bias=False drops the last column
    per feature."""

    knots: tuple[FloatArray, ...]
    degree: int
    basis_column: IntArray  # (n_bases,) -> output column of the feature's block
    n_splines: int
    extrapolation: SplineExtrapolation
    lower: FloatArray  # (n_features,)
    upper: FloatArray
    n_extrapolated: IntArray  # (n_features,)
    f_min: tuple[FloatArray, ...]  # per feature, (n_splines,): the splines and their slopes at lower / upper
    f_max: tuple[FloatArray, ...]
    slope_min: tuple[FloatArray, ...]
    slope_max: tuple[FloatArray, ...]
    zero_missing: bool
    include_bias: bool

    def __post_init__(self) -> None:
        name = "BSplines"
        for attr in ("knots", "f_min", "f_max", "slope_min", "slope_max"):
            object.__setattr__(self, attr, tuple(_float_array(v, 1, name, attr) for v in getattr(self, attr)))
        for attr in ("lower", "upper"):
            object.__setattr__(self, attr, _float_array(getattr(self, attr), 1, name, attr))
        for attr in ("basis_column", "n_extrapolated"):
            object.__setattr__(self, attr, _int_array(getattr(self, attr), name, attr))
        _check(len(self.knots) >= 1 and self.degree >= 0, name, "needs a feature and degree >= 0")
        for j, t in enumerate(self.knots):
            _check(bool(np.all(np.isfinite(t)) and np.all(np.diff(t) >= 0)), name, f"knots[{j}] must be ascending")
            _check(t.size - self.degree - 1 == self.basis_column.size, name, "one output column per basis")
        _check(bool(np.all((self.basis_column >= 0) & (self.basis_column < self.n_splines))), name,
               "basis_column out of range")
        _check(self.lower.size == self.upper.size == self.n_extrapolated.size == len(self.knots), name,
               "one lower / upper / n_extrapolated per feature")
        _check(self.extrapolation in ("constant", "linear", "continue", "periodic", "error"), name,
               f"unknown extrapolation {self.extrapolation!r}")

    @property
    def n_features(self) -> int:
        return len(self.knots)

    @property
    def n_outputs(self) -> int:
        return self.n_features * (self.n_splines - (0 if self.include_bias else 1))


UnaryName = Literal["abs", "negative", "square", "sqrt", "reciprocal", "exp", "log", "log1p", "expm1", "tanh",
                    "floor", "ceil", "rint"]
UNARY_FUNCTIONS: tuple[UnaryName, ...] = ("abs", "negative", "square", "sqrt", "reciprocal", "exp", "log", "log1p",
                                          "expm1", "tanh", "floor", "ceil", "rint")


@dataclass(frozen=True)
class UnaryFunction:
    """y = f(x) elementwise, f the numpy ufunc of that name (FunctionTransformer(func=np.<name>)): IEEE semantics
    for NaN, infinities and out-of-domain values (log of a negative is NaN, log(0) is -inf, rint rounds half to
    even)."""

    function: UnaryName
    n_features: int

    def __post_init__(self) -> None:
        _check(self.function in UNARY_FUNCTIONS, "UnaryFunction",
               f"unknown function {self.function!r}; known: {', '.join(UNARY_FUNCTIONS)}")


# ----------------------------------------------------------------------------------------------------------------
# Models: row vector in, prediction out.


class BranchMode(IntEnum):
    """Which comparison sends a row to the true child. Values match Core ML's TreeNodeBehavior."""

    LEQ = 0  # x <= threshold
    LT = 1  # x < threshold


@dataclass(frozen=True)
class TreeEnsemble:
    """Sum of decision trees: scores = base + sum over trees of the reached leaf's values.

    Nodes of all trees are flattened into parallel arrays; `node_id` is unique within its `tree_id`, the root of
    every tree is node 0. A branch sends x to `true_child` when `x[feature] <mode> threshold`, and a NaN to
    `true_child` iff `missing_tracks_true`. Thresholds are already exact for double inputs (scikit-learn trees
    compare float32(x): the front-end snapped them to the float32 rounding boundary and chose LEQ or LT), so no
    writer may cast or round them. Leaves add `leaf_value[i]` (all `n_outputs` dims) — or only dimension
    `leaf_target[i]` when that is >= 0 (gradient boosting: one tree per class).
    """

    n_features: int
    tree_id: IntArray
    node_id: IntArray
    feature: IntArray  # -1 at leaves
    threshold: FloatArray  # 0.0 at leaves; may be +-inf (scikit-learn's split-on-missing uses +inf)
    mode: IntArray  # BranchMode per node (ignored at leaves)
    true_child: IntArray  # node id within the same tree, -1 at leaves
    false_child: IntArray
    missing_tracks_true: BoolArray
    leaf_value: FloatArray  # (n_nodes, n_outputs); zero rows at branches
    leaf_target: IntArray  # -1: all dims of leaf_value; k >= 0: only dim k
    base: FloatArray  # (n_outputs,)
    compares_float32: bool  # provenance: the source model compares float32(x); thresholds are snapped for it
    hit_rate: FloatArray | None = None  # fraction of training weight reaching each node (optimisation hint)

    def __post_init__(self) -> None:
        name = "TreeEnsemble"
        for attr in ("tree_id", "node_id", "feature", "mode", "true_child", "false_child", "leaf_target"):
            object.__setattr__(self, attr, _int_array(getattr(self, attr), name, attr))
        object.__setattr__(self, "threshold", _float_array(self.threshold, 1, name, "threshold"))
        object.__setattr__(self, "leaf_value", _float_array(self.leaf_value, 2, name, "leaf_value"))
        object.__setattr__(self, "base", _float_array(self.base, 1, name, "base"))
        missing = np.array(self.missing_tracks_true, dtype=bool)
        missing.setflags(write=False)
        object.__setattr__(self, "missing_tracks_true", missing)
        if self.hit_rate is not None:
            object.__setattr__(self, "hit_rate", _float_array(self.hit_rate, 1, name, "hit_rate"))
        n = self.tree_id.size
        for attr in ("node_id", "feature", "threshold", "mode", "true_child", "false_child", "leaf_target",
                     "missing_tracks_true"):
            _check(getattr(self, attr).shape == (n,), name, f"{attr} has length {getattr(self, attr).size}, not {n}")
        _check(self.leaf_value.shape == (n, self.base.size), name, "leaf_value must be (n_nodes, n_outputs)")
        _check(self.base.size >= 1, name, "need at least one output dimension")
        leaf = self.feature < 0
        _check(bool(np.all((self.true_child[leaf] == -1) & (self.false_child[leaf] == -1))), name,
               "leaves must have no children")
        _check(bool(np.all((self.true_child[~leaf] >= 0) & (self.false_child[~leaf] >= 0))), name,
               "branches need two children")
        _check(bool(np.all(self.feature < self.n_features)), name, "feature index out of range")
        _check(bool(np.all(np.isin(self.mode[~leaf], [BranchMode.LEQ, BranchMode.LT]))), name, "unknown mode")
        _check(bool(np.all(self.leaf_target < self.base.size)), name, "leaf_target out of range")
        # +inf is a real scikit-learn threshold (a split that sends only NaN to one side); NaN never is.
        _check(not bool(np.any(np.isnan(self.threshold))), name, "thresholds must not be NaN")

    @property
    def n_outputs(self) -> int:
        return int(self.base.size)

    @property
    def n_trees(self) -> int:
        return int(np.unique(self.tree_id).size)

    @property
    def is_leaf(self) -> BoolArray:
        return self.feature < 0


@dataclass(frozen=True)
class LinearModel:
    """scores = x @ coef.T + intercept (GLMs, linear SVMs, ridge/perceptron/SGD classifiers)."""

    coef: FloatArray  # (n_scores, n_features)
    intercept: FloatArray  # (n_scores,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "coef", _float_array(self.coef, 2, "LinearModel", "coef"))
        object.__setattr__(self, "intercept", _float_array(self.intercept, 1, "LinearModel", "intercept"))
        _check(self.coef.shape[0] == self.intercept.size, "LinearModel", "coef rows != intercept length")

    @property
    def n_features(self) -> int:
        return int(self.coef.shape[1])


Activation = Literal["identity", "relu", "tanh", "logistic"]


@dataclass(frozen=True)
class DenseLayer:
    """y = activation(x @ weights.T + bias); weights are (n_out, n_in) like Core ML's innerProduct."""

    weights: FloatArray
    bias: FloatArray
    activation: Activation

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _float_array(self.weights, 2, "DenseLayer", "weights"))
        object.__setattr__(self, "bias", _float_array(self.bias, 1, "DenseLayer", "bias"))
        _check(self.weights.shape[0] == self.bias.size, "DenseLayer", "weights rows != bias length")


@dataclass(frozen=True)
class NeuralNetwork:
    """A stack of dense layers (MLP; multinomial logistic regression as one layer). The last layer's output are the
    scores."""

    layers: tuple[DenseLayer, ...]

    def __post_init__(self) -> None:
        _check(len(self.layers) >= 1, "NeuralNetwork", "needs at least one layer")
        for a, b in zip(self.layers, self.layers[1:], strict=False):
            _check(a.weights.shape[0] == b.weights.shape[1], "NeuralNetwork", "layer widths do not chain")

    @property
    def n_features(self) -> int:
        return int(self.layers[0].weights.shape[1])


Kernel = Literal["linear", "rbf", "poly", "sigmoid"]


@dataclass(frozen=True)
class SupportVectorMachine:
    """libsvm model. Kernels: linear x·x', rbf exp(-gamma|x-x'|^2), poly (gamma x·x' + coef0)^degree,
    sigmoid tanh(gamma x·x' + coef0).

    Regression: y = sum_i dual_coef[0, i] K(sv_i, x) - rho[0].
    Classification (K classes, support vectors grouped by class in label order, `n_support` per class): libsvm's
    one-vs-one layout — `dual_coef` is (K-1, n_sv), `rho` has K(K-1)/2 entries in pair order (0,1),(0,2)..(1,2)..,
    and decision f_p = sum over class-i SVs of dual_coef[j-1] K + sum over class-j SVs of dual_coef[i] K - rho[p];
    f_p > 0 votes for i. prob_a/prob_b (length K(K-1)/2 or empty) enable libsvm probabilities.
    """

    kernel: Kernel
    gamma: float
    coef0: float
    degree: int
    support_vectors: FloatArray  # (n_sv, n_features)
    dual_coef: FloatArray  # (K-1, n_sv) or (1, n_sv) for regression
    rho: FloatArray
    n_support: IntArray  # per class; empty for regression
    prob_a: FloatArray
    prob_b: FloatArray

    def __post_init__(self) -> None:
        name = "SupportVectorMachine"
        object.__setattr__(self, "support_vectors", _float_array(self.support_vectors, 2, name, "support_vectors"))
        object.__setattr__(self, "dual_coef", _float_array(self.dual_coef, 2, name, "dual_coef"))
        for attr in ("rho", "prob_a", "prob_b"):
            object.__setattr__(self, attr, _float_array(getattr(self, attr), 1, name, attr))
        object.__setattr__(self, "n_support", _int_array(self.n_support, name, "n_support"))
        n_sv = self.support_vectors.shape[0]
        _check(self.dual_coef.shape[1] == n_sv, name, "dual_coef columns != number of support vectors")
        _check(self.kernel in ("linear", "rbf", "poly", "sigmoid"), name, f"unknown kernel {self.kernel!r}")
        if self.is_classifier:
            k = self.n_classes
            pairs = k * (k - 1) // 2
            _check(self.n_support.size == k and int(self.n_support.sum()) == n_sv, name, "n_support mismatch")
            _check(self.dual_coef.shape[0] == k - 1, name, "dual_coef must have K-1 rows")
            _check(self.rho.size == pairs, name, "rho must have K(K-1)/2 entries")
            _check(self.prob_a.size in (0, pairs) and self.prob_b.size == self.prob_a.size, name,
                   "probA/probB must be empty or K(K-1)/2 long")
        else:
            _check(self.dual_coef.shape[0] == 1 and self.rho.size == 1, name, "regression needs 1 row and 1 rho")

    @property
    def n_features(self) -> int:
        return int(self.support_vectors.shape[1])

    @property
    def is_classifier(self) -> bool:
        """libsvm classification (one-vs-one decision values) vs regression (one value): `n_support` is per class."""
        return self.n_support.size > 0

    @property
    def n_classes(self) -> int:
        return int(self.n_support.size)

    @property
    def n_scores(self) -> int:
        k = self.n_classes
        return k * (k - 1) // 2 if self.is_classifier else 1


NeighbourMetric = Literal["euclidean", "manhattan", "chebyshev", "minkowski"]
NeighbourWeights = Literal["uniform", "distance"]


@dataclass(frozen=True)
class NearestNeighbors:
    """k-nearest neighbours over the stored `samples`, in scikit-learn's arithmetic (its tree searches compute each
    distance from the row difference d = x - sample): the ranking key is the reduced distance — euclidean Σ d²,
    manhattan Σ |d|, chebyshev max |d|, minkowski Σ |d|^p — and the distance itself sqrt(Σ d²), (Σ |d|^p)^(1/p) or
    the key. The k nearest are taken in key order, equal keys by the lower sample index. Weights (`weights`):
    uniform 1, or distance w = 1/dist where a row with any infinite 1/dist (distance 0, or so small its reciprocal
    overflows) weights exactly those neighbours 1 and the rest 0 (`neighbors._base._get_weights`).

    Classification (`sample_class` indexes the head's labels, `targets` None): scores = the K weighted vote
    fractions, Σ_i w_i [class_i = c] / Σ_i w_i — `predict_proba`; the head's link 'identity' takes the first
    maximum as the label (scikit-learn's mode / weighted_mode: the lowest class among the most voted). A head with
    link 'neighbour_votes' (Core ML's labels-only KNN) reads the same vector. Regression (`targets` (n_samples,
    n_targets), `sample_class` empty, n_classes 0): scores = Σ_i w_i y_i / Σ_i w_i per target (uniform: Σ y_i / k)."""

    samples: FloatArray  # (n_samples, n_features)
    sample_class: IntArray  # (n_samples,) index into the head's labels; empty for regression
    k: int
    n_classes: int
    metric: NeighbourMetric = "euclidean"
    p: float = 2.0  # the minkowski power (metric 'minkowski' only)
    weights: NeighbourWeights = "uniform"
    targets: FloatArray | None = None  # (n_samples, n_targets): regression
    # Radius neighbours (RadiusNeighbors*): every sample whose ranking key is <= the radius's key (radius² for
    # euclidean, radius^p for minkowski, the radius otherwise — `_dist_to_rdist`) instead of the k nearest (k is
    # then n_samples, unused); the zero-distance rule is an exact 0 among them (`_get_weights` on object arrays); a
    # row with none gets NaN (regression) or the one-hot row of `outlier_class` (classification).
    radius: float | None = None
    outlier_class: int = -1

    def __post_init__(self) -> None:
        name = "NearestNeighbors"
        object.__setattr__(self, "samples", _float_array(self.samples, 2, name, "samples"))
        object.__setattr__(self, "sample_class", _int_array(self.sample_class, name, "sample_class"))
        n = self.samples.shape[0]
        if self.targets is not None:
            object.__setattr__(self, "targets", _float_array(self.targets, 2, name, "targets"))
            assert self.targets is not None
            _check(self.targets.shape[0] == n and self.targets.shape[1] >= 1, name, "targets must be (n_samples, "
                                                                                     "n_targets >= 1)")
            _check(self.sample_class.size == 0 and self.n_classes == 0, name,
                   "a regressor has targets and no sample classes")
        else:
            _check(self.sample_class.size == n, name, "one class per sample")
            _check(bool(np.all((self.sample_class >= 0) & (self.sample_class < self.n_classes))), name,
                   "sample_class out of range")
        _check(1 <= self.k <= n, name, "k out of range")
        _check(self.metric in ("euclidean", "manhattan", "chebyshev", "minkowski"), name,
               f"unknown metric {self.metric!r}")
        _check(self.weights in ("uniform", "distance"), name, f"unknown weights {self.weights!r}")
        _check(self.metric != "minkowski" or (np.isfinite(self.p) and self.p > 0), name, "minkowski p must be > 0")
        _check(self.radius is None or (np.isfinite(self.radius) and self.radius >= 0), name, "radius must be >= 0")
        _check(self.radius is None or self.targets is not None or 0 <= self.outlier_class < self.n_classes, name,
               "a radius classifier needs an outlier class index")

    @property
    def n_features(self) -> int:
        return int(self.samples.shape[1])

    @property
    def n_scores(self) -> int:
        return self.n_classes if self.targets is None else int(self.targets.shape[1])


@dataclass(frozen=True)
class GaussianNaiveBayes:
    """Gaussian naive Bayes joint log-likelihoods, one score per class k, in scikit-learn's own order of operations
    (`GaussianNB._joint_log_likelihood`): scores_k = log_prior[k] + (log_normaliser[k] - 0.5 * sum_j (x_j - theta[k, j])
    ** 2 / var[k, j]), with log_normaliser[k] = -0.5 * sum_j log(2 pi var[k, j]) (computed by the front-end from
    `var_`, as scikit-learn does). Head: link 'softmax' (predict_proba = exp(jll - logsumexp(jll)), label = argmax)."""

    theta: FloatArray  # (n_classes, n_features) class means
    var: FloatArray  # (n_classes, n_features) class variances, var_smoothing included
    log_prior: FloatArray  # (n_classes,)
    log_normaliser: FloatArray  # (n_classes,)

    def __post_init__(self) -> None:
        name = "GaussianNaiveBayes"
        object.__setattr__(self, "theta", _float_array(self.theta, 2, name, "theta"))
        object.__setattr__(self, "var", _float_array(self.var, 2, name, "var"))
        object.__setattr__(self, "log_prior", _float_array(self.log_prior, 1, name, "log_prior"))
        object.__setattr__(self, "log_normaliser", _float_array(self.log_normaliser, 1, name, "log_normaliser"))
        _check(self.theta.shape == self.var.shape, name, "theta and var shapes differ")
        _check(self.log_prior.size == self.log_normaliser.size == self.theta.shape[0], name,
               "one log_prior and log_normaliser per class")
        _check(bool(np.all(self.var > 0)), name, "variances must be > 0")

    @property
    def n_features(self) -> int:
        return int(self.theta.shape[1])

    @property
    def n_classes(self) -> int:
        return int(self.theta.shape[0])


@dataclass(frozen=True)
class QuadraticDiscriminant:
    """Quadratic discriminant scores, one per class k, in scikit-learn's order of operations
    (`QuadraticDiscriminantAnalysis._decision_function`): scores_k = -0.5 * (sum_j ((x - means[k]) @
    transforms[k])_j ** 2 + log_det[k]) + log_prior[k], where transforms[k] = rotations_[k] * scalings_[k] ** -0.5
    (n_features, rank) and log_det[k] = sum(log(scalings_[k])), both computed by the front-end as scikit-learn
    computes them. Head: link 'softmax' (predict_proba = exp of the normalised log posterior, label = argmax)."""

    means: FloatArray  # (n_classes, n_features)
    transforms: tuple[FloatArray, ...]  # per class (n_features, rank_k)
    log_det: FloatArray  # (n_classes,)
    log_prior: FloatArray  # (n_classes,)

    def __post_init__(self) -> None:
        name = "QuadraticDiscriminant"
        object.__setattr__(self, "means", _float_array(self.means, 2, name, "means"))
        object.__setattr__(self, "transforms", tuple(_float_array(t, 2, name, "transforms[k]")
                                                     for t in self.transforms))
        object.__setattr__(self, "log_det", _float_array(self.log_det, 1, name, "log_det"))
        object.__setattr__(self, "log_prior", _float_array(self.log_prior, 1, name, "log_prior"))
        k, n = self.means.shape
        _check(len(self.transforms) == k and self.log_det.size == k and self.log_prior.size == k, name,
               "one transform, log_det and log_prior per class")
        _check(all(t.shape[0] == n and t.shape[1] >= 1 for t in self.transforms), name,
               "transforms[k] must be (n_features, rank >= 1)")

    @property
    def n_features(self) -> int:
        return int(self.means.shape[1])

    @property
    def n_classes(self) -> int:
        return int(self.means.shape[0])


@dataclass(frozen=True)
class Average:
    """A weighted mean of `len(weights)` blocks of `width` values side by side, in numpy's order of operations:
    (w_0 * b_0 + w_1 * b_1 + ...) summed block by block in order, then divided by `divisor` (np.average over axis 0:
    `np.multiply(a, wgt).sum(axis=0) / scl`; CalibratedClassifierCV's `mean_proba += proba` then `/= n`, the weights
    all 1). Used as the score producer of averaged probabilities (soft voting, calibration, bagging)."""

    weights: FloatArray
    divisor: float
    width: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _float_array(self.weights, 1, "Average", "weights"))
        _check(self.weights.size >= 1 and self.width >= 1, "Average", "needs at least one block of width >= 1")
        _check(self.divisor != 0 and bool(np.isfinite(self.divisor)), "Average", "divisor must be finite, nonzero")

    @property
    def n_features(self) -> int:
        return int(self.weights.size) * self.width


@dataclass(frozen=True)
class OneVsOneDecision:
    """scikit-learn's `_ovr_decision_function` (OneVsOneClassifier.decision_function) over its K(K-1)/2 pairwise
    members in pair order (0,1),(0,2)..(1,2)..: reads their predictions (0 = first class of the pair, 1 = second)
    then their confidences, side by side; gives per class votes + s / (3 (|s| + 1)) where the votes count the
    pairs it won and s sums the confidences (+ as the pair's second class, - as its first), pair by pair in order
    from 0, as scikit-learn does."""

    n_classes: int

    def __post_init__(self) -> None:
        _check(self.n_classes >= 2, "OneVsOneDecision", "needs at least two classes")

    @property
    def n_pairs(self) -> int:
        return self.n_classes * (self.n_classes - 1) // 2

    @property
    def n_features(self) -> int:
        return 2 * self.n_pairs


@dataclass(frozen=True)
class Pipeline:
    """steps[0] reads the step's input vector; each next step reads the previous one's output. Any step may be a
    score producer (its scores are a vector like any other); the last step's output is the pipeline's."""

    steps: tuple[Node, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(self.steps))
        _check(len(self.steps) >= 1, "Pipeline", "needs at least one step")

    @property
    def final(self) -> Node:
        return self.steps[-1]


Transform: TypeAlias = (Scaler | Normalizer | Imputer | OneHotEncoder | CategoryLookup | TextVectorizer | Linear
                        | DictVectorizer
                        | ColumnSelect | Concat | PiecewiseLinear | ClassifierOutput | Bins | MissingIndicator
                        | Monomials | UnaryFunction | QuantileMap | PowerTransform | BSplines)
Producer: TypeAlias = (TreeEnsemble | LinearModel | NeuralNetwork | SupportVectorMachine | NearestNeighbors
                       | GaussianNaiveBayes | QuadraticDiscriminant | Average | OneVsOneDecision)
Node: TypeAlias = Transform | Producer | Pipeline

PRODUCER_TYPES = (TreeEnsemble, LinearModel, NeuralNetwork, SupportVectorMachine, NearestNeighbors,
                  GaussianNaiveBayes, QuadraticDiscriminant, Average, OneVsOneDecision)


def input_width(node: Node) -> int | None:
    """How many values `node` reads, when the node states it (None: any width, e.g. a Normalizer has it, a Concat
    part decides)."""
    match node:
        case Pipeline():
            return input_width(node.steps[0])
        case Concat():
            return input_width(node.parts[0])
        case ClassifierOutput():
            return input_width(node.member)
        case LinearModel() | Linear() | TreeEnsemble() | NeuralNetwork() | SupportVectorMachine() \
                | NearestNeighbors() | GaussianNaiveBayes() | QuadraticDiscriminant() | Scaler() | Normalizer() \
                | Imputer() | OneHotEncoder() | ColumnSelect() | CategoryLookup() | TextVectorizer() \
                | DictVectorizer() | PiecewiseLinear() | Average() | Bins() | MissingIndicator() | Monomials() \
                | UnaryFunction() | QuantileMap() | PowerTransform() | BSplines() | OneVsOneDecision():
            return node.n_features
        case _:
            assert_never(node)


def output_width(node: Node) -> int:
    """How many values `node` produces per row (for a producer: its raw scores, see each producer's docstring)."""
    match node:
        case Scaler() | Normalizer() | Imputer() | PiecewiseLinear() | Bins() | UnaryFunction() | QuantileMap() \
                | PowerTransform():
            return node.n_features
        case ClassifierOutput() | GaussianNaiveBayes() | QuadraticDiscriminant() | OneVsOneDecision():
            return node.n_classes
        case Average():
            return node.width
        case MissingIndicator():
            return int(node.features.size)
        case Monomials():
            return int(node.outputs.size)
        case OneHotEncoder() | CategoryLookup() | TextVectorizer() | DictVectorizer() | TreeEnsemble() | BSplines():
            return node.n_outputs
        case Linear():
            return int(node.weights.shape[0])
        case ColumnSelect():
            return int(node.indices.size)
        case Concat():
            return sum(output_width(part) for part in node.parts)
        case Pipeline():
            return output_width(node.final)
        case LinearModel():
            return int(node.coef.shape[0])
        case NeuralNetwork():
            return int(node.layers[-1].weights.shape[0])
        case SupportVectorMachine() | NearestNeighbors():
            return node.n_scores
        case _:
            assert_never(node)


def walk(node: Node) -> list[Node]:
    """Every node in `node`, depth first, parents before children."""
    out: list[Node] = [node]
    if isinstance(node, Pipeline):
        for step in node.steps:
            out.extend(walk(step))
    elif isinstance(node, Concat):
        for part in node.parts:
            out.extend(walk(part))
    elif isinstance(node, ClassifierOutput):
        out.extend(walk(node.member))
    return out


def final_producer(node: Node) -> Node:
    """The node whose output is `node`'s output (the last step of nested pipelines)."""
    while isinstance(node, Pipeline):
        node = node.final
    return node


# ----------------------------------------------------------------------------------------------------------------
# The input schema.

ColumnKind = Literal["double", "int64", "string", "dictionary"]
MissingRule = Literal["nan", "refused"]
"""What a missing value is in a column: ``nan`` — NaN is a legitimate value the body handles (trees route it,
imputers fill it; double columns only); ``refused`` — the model does not accept missing values and data holding
them is refused before anything predicts."""


@dataclass(frozen=True)
class Column:
    """One input of the exported model.

    `name` is the name the model was trained with (`feature_names_in_`; for a numpy-fitted model the block's name);
    `input_name` is the artifact's input name (Swift-safe and unique, see `export.signature.coreml_input_names`), kept
    next to the original. `width` is None for one value per row (a Core ML Double/Int64/String feature, an ONNX
    [N, 1] tensor) or n for a block of n values (a numpy-fitted model: Core ML MultiArray [n], ONNX [N, n])."""

    name: str
    kind: ColumnKind
    input_name: str
    width: int | None = None
    missing: MissingRule = "refused"

    def __post_init__(self) -> None:
        _check(bool(self.name) and bool(self.input_name), "Column", "names must be non-empty")
        # "dictionary": string key -> number per row, read by one DictVectorizer step only
        _check(self.kind in ("double", "int64", "string", "dictionary"), "Column", f"unknown kind {self.kind!r}")
        _check(self.missing in ("nan", "refused"), "Column", f"unknown missing rule {self.missing!r}")
        _check(not (self.missing == "nan" and self.kind != "double"), "Column",
               f"column {self.name!r}: missing rule 'nan' needs kind 'double', got {self.kind!r}")
        _check(self.width is None or (self.width >= 1 and self.kind == "double"), "Column",
               f"column {self.name!r}: a block needs width >= 1 and kind 'double'")

    @property
    def n_values(self) -> int:
        return 1 if self.width is None else self.width

    @property
    def is_block(self) -> bool:
        return self.width is not None


@dataclass(frozen=True)
class Schema:
    """The ordered inputs of the exported model; it decides the artifact's inputs in both formats."""

    columns: tuple[Column, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        _check(len(self.columns) >= 1, "Schema", "needs at least one column")
        for attr in ("name", "input_name"):
            values = [getattr(c, attr) for c in self.columns]
            _check(len(set(values)) == len(values), "Schema", f"column {attr}s must be unique")

    @classmethod
    def block(cls, n_features: int, name: str = "input", missing: MissingRule = "refused") -> Schema:
        """A numpy-fitted model's one block of `n_features` doubles."""
        return cls((Column(name, "double", name, width=int(n_features), missing=missing),))

    @classmethod
    def doubles(cls, names: tuple[str, ...], input_names: tuple[str, ...] | None = None,
                missing: MissingRule = "refused") -> Schema:
        """One double column per name (a DataFrame-fitted numeric model)."""
        input_names = input_names if input_names is not None else names
        _check(len(input_names) == len(names), "Schema", "one input name per column")
        return cls(tuple(Column(n, "double", i, missing=missing) for n, i in zip(names, input_names, strict=True)))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def n_values(self) -> int:
        """Values per row over all columns (the width of the columns side by side)."""
        return sum(c.n_values for c in self.columns)

    @property
    def is_block(self) -> bool:
        return len(self.columns) == 1 and self.columns[0].is_block

    @property
    def all_double(self) -> bool:
        return all(c.kind == "double" for c in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise IRError(f"invalid Schema: no column {name!r}; columns: {', '.join(self.names)}")


# ----------------------------------------------------------------------------------------------------------------
# The root.


@dataclass(frozen=True)
class Step:
    """One body node: reads the named vectors `inputs` (schema columns or earlier steps), side by side in that order
    (numeric columns as doubles), and produces the vector `name`. A OneHotEncoder whose inputs are single columns
    reads them one by one instead (category list j for input j): that is how string columns are encoded."""

    name: str
    node: Node
    inputs: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(self.inputs))
        _check(bool(self.name), "Step", "name must be non-empty")
        _check(len(self.inputs) >= 1, "Step", f"step {self.name!r} reads nothing")


@dataclass(frozen=True)
class Model:
    """The exported model: `inputs` → `body` (steps in order, each reading earlier names) → `head` reading the last
    step's vector."""

    inputs: Schema
    body: tuple[Step, ...]
    head: Head

    def __post_init__(self) -> None:
        object.__setattr__(self, "body", tuple(self.body))
        _check(len(self.body) >= 1, "Model", "the body needs at least one step")
        widths: dict[str, int] = {c.name: c.n_values for c in self.inputs.columns}
        for step in self.body:
            _check(step.name not in widths, "Model", f"step name {step.name!r} is already taken")
            unknown = [name for name in step.inputs if name not in widths]
            _check(not unknown, "Model", f"step {step.name!r} reads unknown {unknown}; known: {sorted(widths)}")
            strings = [n for n in step.inputs if n in self.inputs.names and self.inputs.column(n).kind == "string"]
            if isinstance(step.node, CategoryLookup):
                _check(list(step.inputs) == strings and step.node.n_features == len(step.inputs), "Model",
                       f"step {step.name!r}: a CategoryLookup reads string columns only, one key list each")
            elif isinstance(step.node, TextVectorizer):
                _check(len(step.inputs) == 1 and list(step.inputs) == strings, "Model",
                       f"step {step.name!r}: a TextVectorizer reads one string column")
            elif isinstance(step.node, DictVectorizer):
                _check(len(step.inputs) == 1 and step.inputs[0] in self.inputs.names
                       and self.inputs.column(step.inputs[0]).kind == "dictionary", "Model",
                       f"step {step.name!r}: a DictVectorizer reads one dictionary column")
            elif any(n in self.inputs.names and self.inputs.column(n).kind == "dictionary" for n in step.inputs):
                _check(False, "Model", f"step {step.name!r} reads a dictionary column; only a DictVectorizer can")
            elif isinstance(step.node, OneHotEncoder) and self.reads_columns_one_by_one(step):
                _check(step.node.n_features == len(step.inputs), "Model",
                       f"step {step.name!r}: {step.node.n_features} category lists for {len(step.inputs)} inputs")
                for name, categories in zip(step.inputs, step.node.categories, strict=True):
                    is_string = name in strings
                    _check(is_string == (categories.dtype == object), "Model",
                           f"step {step.name!r}: input {name!r} and its categories differ in kind (string vs number)")
            else:
                _check(not strings, "Model", f"step {step.name!r} reads string columns {strings} as numbers; "
                                             "only a OneHotEncoder reading them one by one can")
                width = sum(widths[name] for name in step.inputs)
                expected = input_width(step.node)
                _check(expected is None or expected == width, "Model",
                       f"step {step.name!r}: {type(step.node).__name__} reads {expected} values, its inputs have "
                       f"{width}")
            widths[step.name] = output_width(step.node)
        readers: dict[str, int] = {}
        for step in self.body:
            for name in step.inputs:
                readers[name] = readers.get(name, 0) + 1
        for name in self.dictionary_columns():
            _check(readers.get(name) == 1, "Model", f"dictionary column {name!r} must be read by one DictVectorizer")
        for name in self.text_columns():
            # Core ML feeds a text column as its term counts (a Dictionary input), so nothing else can read it
            _check(readers[name] == 1, "Model", f"text column {name!r} is read by a TextVectorizer and another step")
        allowed = head_score_widths(self.head)
        final = widths[self.body[-1].name]
        _check(allowed is None or final in allowed, "Model",
               f"{type(self.head).__name__} head reads {allowed} score columns, the body gives {final}")

    def reads_columns_one_by_one(self, step: Step) -> bool:
        """Whether `step` reads its inputs as separate single columns — a OneHotEncoder over schema columns, one of
        them string or int64 — rather than side by side as one double vector (numeric one-hot compares doubles)."""
        if isinstance(step.node, (CategoryLookup, TextVectorizer, DictVectorizer)):
            return True
        if not isinstance(step.node, OneHotEncoder):
            return False
        columns = [self.inputs.column(n) for n in step.inputs if n in self.inputs.names]
        return len(columns) == len(step.inputs) and any(c.kind != "double" for c in columns) and not any(
            c.is_block for c in columns)

    def text_columns(self) -> dict[str, TextVectorizer]:
        """{string column: the TextVectorizer reading it}: the columns that hold documents (Core ML: term counts)."""
        return {step.inputs[0]: step.node for step in self.body if isinstance(step.node, TextVectorizer)}

    def dictionary_columns(self) -> dict[str, DictVectorizer]:
        """{dictionary column: the DictVectorizer reading it} (Core ML: a Dictionary input; ONNX: keys + values)."""
        return {step.inputs[0]: step.node for step in self.body if isinstance(step.node, DictVectorizer)}

    @property
    def output(self) -> Step:
        return self.body[-1]

    @classmethod
    def single(cls, node: Node, head: Head, inputs: Schema) -> Model:
        """One step reading every schema column side by side (what a front-end produces for one estimator)."""
        return cls(inputs=inputs, body=(Step("scores" if not isinstance(head, Transformed) else "transformed", node,
                                             inputs.names),), head=head)

    def nodes(self) -> list[Node]:
        """Every node of the body, depth first."""
        return [part for step in self.body for part in walk(step.node)]
