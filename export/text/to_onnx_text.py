"""ir.TextVectorizer -> ONNX: a string column [N] in, scikit-learn's vectorizer output as a double [N, V] tensor.

ONNX Runtime has no operator with CPython's string semantics: StringNormalizer lowers with the C++ locale (no
final sigma, no 'İ' -> 'i̇'), has no Unicode normalisation, and the com.microsoft Tokenizer's RE2 knows `\\w` as ASCII
only. So the graph never relies on them; it runs CPython's own tables (export.text.unicode_tables):

1. preprocessing (only when lowercase / strip_accents): Tokenizer `(?s).` splits each document into code points
   [N, M]; a LabelEncoder maps each to its preprocessed text (a per-code-point map; CAPITAL SIGMA's final form is
   computed from its neighbours' case classes with CumSum / ScatterElements / GatherElements, CPython's rule); a Loop
   joins the columns back pairwise (StringConcat, ceil(log2 M) rounds).
2. tokens: Tokenizer with the regex `[W]{k,}`, W = the explicit code point class of Python's `\\w` — exactly the
   accepted token patterns' matches (maximal runs of >= k word characters; leftmost-first greedy RE2 search).
3. stop words (for n-grams; removed before n-grams are formed, as scikit-learn does): a LabelEncoder flags them and a
   ScatterElements compacts each row.
4. columns: TfIdfVectorizer (mode TF) counts the vocabulary's n-grams; or, for HashingVectorizer, the n-gram strings
   are built with StringConcat and hashed by com.microsoft MurmurHash3 (seed 0, signed: scikit-learn's
   murmurhash3_32), bucketed |h| % n_features (h = -2**31 as scikit-learn's _hashing_fast) and summed with
   ScatterElements(add), signed by alternate_sign.
5. binary -> 1 where the count is > 0; sublinear_tf -> 1 + log(tf) where tf > 0.
The idf multiply and the norm are the steps after it (ir.Scaler / ir.Normalizer), written by the IR route like any
other. The IR route (export.to_onnx.ir_route) runs a model with a text column one row at a time (a Loop): see
`build_ir_model`.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from export import ir
from export.text import unicode_tables
from export.to_onnx.graph_builder import GraphBuilder, ScopedBuilder

TEXT_OPSET: dict[str, int] = {"com.microsoft": 1}  # Tokenizer, MurmurHash3; with the IR route's ai.onnx 21, ml 5

# Padding strings. Neither can be a single code point (step 1) nor contain a word character (step 2), so neither
# can collide with real text.
_CHAR_PAD = "#pad#"
_TOKEN_PAD = "#"
_KEEP = "<keep>"  # LabelEncoder default: "this code point is unchanged" (no single code point equals it)
_INT64 = onnx.TensorProto.INT64
_DOUBLE = onnx.TensorProto.DOUBLE


def _i64(b: GraphBuilder, hint: str, value: object) -> str:
    return b.const(hint, np.asarray(value, dtype=np.int64))


def _pad_column(b: GraphBuilder, matrix: str, pad: str) -> str:
    """`matrix` [N, M] with one more column of `pad` (so M >= 1 even when every row is empty)."""
    rows = b.op("Shape", [matrix], "rows", start=0, end=1)
    shape = b.op("Concat", [rows, _i64(b, "one", [1])], "pad_shape", axis=0)
    column = b.op("Expand", [b.const("pad", np.array([[pad]], dtype=object)), shape], "pad_column")
    return b.op("Concat", [matrix, column], "padded", axis=1)


def _word_class() -> str:
    return "".join(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}"
                   for a, b in unicode_tables.word_ranges())


def _join_columns(b: GraphBuilder, matrix: str) -> str:
    """[N, M] strings -> [N, 1] row-wise concatenation, by pairwise StringConcat rounds in a Loop."""
    inner = ScopedBuilder("join")
    acc = inner.fresh("acc")
    width = inner.op("Gather", [inner.op("Shape", [acc], "shape"), _i64(inner, "one", 1)], "width", axis=0)
    odd = inner.op("Reshape", [inner.op("Mod", [width, _i64(inner, "two", 2)], "odd"), _i64(inner, "v1", [1])],
                   "odd_v")
    rows = inner.op("Shape", [acc], "rows", start=0, end=1)
    filler = inner.op("Expand", [inner.const("empty", np.array([[""]], dtype=object)),
                                 inner.op("Concat", [rows, odd], "filler_shape", axis=0)], "filler")
    even = inner.op("Concat", [acc, filler], "even", axis=1)
    step, end, axis = _i64(inner, "step", [2]), _i64(inner, "end", [2**62]), _i64(inner, "axis", [1])
    left = inner.op("Slice", [even, _i64(inner, "zero", [0]), end, axis, step], "left")
    right = inner.op("Slice", [even, _i64(inner, "first", [1]), end, axis, step], "right")
    joined = inner.op("StringConcat", [left, right], "joined")
    new_width = inner.op("Gather", [inner.op("Shape", [joined], "new_shape"), _i64(inner, "one", 1)],
                         "new_width", axis=0)
    again = inner.op("Greater", [new_width, _i64(inner, "one", 1)], "again")
    body = helper.make_graph(
        inner.nodes, "join_round",
        [helper.make_tensor_value_info(inner.fresh("round"), _INT64, []),
         helper.make_tensor_value_info(inner.fresh("cond"), onnx.TensorProto.BOOL, []),
         helper.make_tensor_value_info(acc, onnx.TensorProto.STRING, ["N", "W"])],
        [helper.make_tensor_value_info(again, onnx.TensorProto.BOOL, []),
         helper.make_tensor_value_info(joined, onnx.TensorProto.STRING, ["N", "W2"])],
        initializer=inner.initializers)
    width0 = b.op("Gather", [b.op("Shape", [matrix], "shape"), _i64(b, "one", 1)], "width", axis=0)
    start = b.op("Greater", [width0, _i64(b, "one", 1)], "needs_join")
    return b.op("Loop", ["", start, matrix], "joined", body=body)


def _final_sigma(b: GraphBuilder, chars: str, mapped: str, rules: unicode_tables.PreprocessRules) -> str:
    """Where a code point is CAPITAL SIGMA, CPython's choice: final form iff the previous non-case-ignorable code
    point is cased and the next one is not cased (or absent). Padding counts as case-ignorable (it follows the text)."""
    classes = unicode_tables.sigma_classes()
    keys = [chr(cp) for cp in sorted(classes)] + [_CHAR_PAD]
    values = [classes[cp] for cp in sorted(classes)] + [unicode_tables.SIGMA_SKIPPED]
    kind = b.op("LabelEncoder", [chars], "case_class", domain="ai.onnx.ml", keys_strings=keys, values_int64s=values,
                default_int64=0)
    counted = b.op("Cast", [b.op("Not", [b.op("Equal", [kind, _i64(b, "skipped", unicode_tables.SIGMA_SKIPPED)],
                                              "is_skipped")], "is_counted")], "counted", to=_INT64)
    cased = b.op("Cast", [b.op("Equal", [kind, _i64(b, "cased", unicode_tables.SIGMA_CASED)], "is_cased")],
                 "cased_flag", to=_INT64)
    rank = b.op("CumSum", [counted, _i64(b, "axis", 1)], "rank")  # 1-based rank among counted code points
    before = b.op("Sub", [rank, counted], "rank_before")
    # cased_by_rank[r] = cased flag of the r-th counted code point; column 0 (and beyond the last) = not cased.
    rows = b.op("Shape", [chars], "rows", start=0, end=1)
    width = b.op("Add", [b.op("Shape", [chars], "width", start=1, end=2), _i64(b, "two", [2])], "rank_width")
    table = b.op("Expand", [_i64(b, "zero", [[0]]), b.op("Concat", [rows, width], "table_shape", axis=0)], "zeros")
    slot = b.op("Mul", [rank, counted], "slot")
    cased_by_rank = b.op("ScatterElements", [table, slot, cased], "cased_by_rank", axis=1, reduction="max")
    previous = b.op("GatherElements", [cased_by_rank, before], "previous_cased", axis=1)
    following = b.op("GatherElements", [cased_by_rank, b.op("Add", [rank, _i64(b, "one", 1)], "rank_next")],
                     "next_cased", axis=1)
    one = _i64(b, "one", 1)
    final = b.op("And", [b.op("Equal", [previous, one], "after_cased"),
                         b.op("Not", [b.op("Equal", [following, one], "before_cased")], "not_before_cased")],
                 "final_context")
    sigma = b.op("Equal", [chars, b.const("capital_sigma", np.array(["Σ"], dtype=object))], "is_sigma")
    forms = b.op("Where", [final, b.const("final", np.array([rules.sigma_final], dtype=object)),
                           b.const("medial", np.array([rules.sigma_medial], dtype=object))], "sigma_form")
    return b.op("Where", [sigma, forms, mapped], "sigma_resolved")


def _preprocessed(b: GraphBuilder, documents: str, features: ir.TextVectorizer) -> str:
    """[N] documents -> [N] lower()ed / accent-stripped documents (CPython's results, code point by code point)."""
    analyzer = features.analyzer
    if not analyzer.lowercase and analyzer.strip_accents is None:
        return documents
    rules = unicode_tables.preprocess_rules(analyzer.lowercase, analyzer.strip_accents)
    chars = b.op("Tokenizer", [documents], "code_points", domain="com.microsoft", mark=0, mincharnum=1,
                 pad_value=_CHAR_PAD, tokenexp="(?s).")
    chars = _pad_column(b, chars, _CHAR_PAD)
    table = {chr(cp): text for cp, text in rules.mapped.items()}
    if rules.drop_other_non_ascii:  # default '' (dropped); ASCII code points keep themselves unless mapped
        table = {chr(cp): chr(cp) for cp in range(0x80)} | table
        table[_CHAR_PAD] = ""
        mapped = b.op("LabelEncoder", [chars], "preprocessed_chars", domain="ai.onnx.ml",
                      keys_strings=list(table), values_strings=list(table.values()), default_string="")
    else:
        table[_CHAR_PAD] = ""
        looked_up = b.op("LabelEncoder", [chars], "mapped_chars", domain="ai.onnx.ml", keys_strings=list(table),
                         values_strings=list(table.values()), default_string=_KEEP)
        unchanged = b.op("Equal", [looked_up, b.const("keep", np.array([_KEEP], dtype=object))], "unchanged")
        mapped = b.op("Where", [unchanged, chars, looked_up], "preprocessed_chars")
    if rules.final_sigma:
        mapped = _final_sigma(b, chars, mapped, rules)
    joined = _join_columns(b, mapped)
    return b.op("Reshape", [joined, _i64(b, "flat", [-1])], "preprocessed")


def _tokens(b: GraphBuilder, documents: str, features: ir.TextVectorizer) -> str:
    """[N] documents -> [N, T] tokens (right-padded with _TOKEN_PAD), stop words removed when n-grams need it."""
    analyzer = features.analyzer
    tokens = b.op("Tokenizer", [documents], "tokens", domain="com.microsoft", mark=0, mincharnum=1,
                  pad_value=_TOKEN_PAD, tokenexp=f"[{_word_class()}]{{{analyzer.min_token_chars},}}")
    tokens = _pad_column(b, tokens, _TOKEN_PAD)
    unigrams_only = analyzer.ngram_range[1] == 1
    if not analyzer.stop_words or (unigrams_only and isinstance(features.columns, ir.Vocabulary)):
        return tokens  # a stop word is then simply never a counted term (see _vocabulary_counts)
    stop = b.op("LabelEncoder", [tokens], "is_stop_word", domain="ai.onnx.ml", keys_strings=list(analyzer.stop_words),
                values_int64s=[1] * len(analyzer.stop_words), default_int64=0)
    keep = b.op("Cast", [b.op("Equal", [stop, _i64(b, "zero", 0)], "keep_bool")], "keep", to=_INT64)
    position = b.op("Sub", [b.op("CumSum", [keep, _i64(b, "axis", 1)], "kept_so_far"), keep], "new_position")
    width = b.op("Shape", [tokens], "width", start=1, end=2)
    # Dropped tokens all go to one extra trash column (index T), sliced off afterwards.
    target = b.op("Where", [b.op("Cast", [keep], "keep_flag", to=onnx.TensorProto.BOOL), position,
                            b.op("Reshape", [width, _i64(b, "scalar", [])], "trash_index")], "target")
    rows = b.op("Shape", [tokens], "rows", start=0, end=1)
    wider = b.op("Add", [width, _i64(b, "one", [1])], "wider")
    blank = b.op("Expand", [b.const("pad", np.array([[_TOKEN_PAD]], dtype=object)),
                            b.op("Concat", [rows, wider], "blank_shape", axis=0)], "blank")
    scattered = b.op("ScatterElements", [blank, target, tokens], "compacted_wide", axis=1)
    return b.op("Slice", [scattered, _i64(b, "start", [0]), width, _i64(b, "axis1", [1])], "compacted")


def _vocabulary_counts(b: GraphBuilder, tokens: str, features: ir.TextVectorizer, columns: ir.Vocabulary) -> str:
    analyzer = features.analyzer
    stop = set(analyzer.stop_words)
    low, high = analyzer.ngram_range
    by_length: dict[int, list[tuple[list[str], int]]] = {}
    for index, term in enumerate(columns.terms):
        parts = term.split(" ")
        if not low <= len(parts) <= high:
            continue  # a term the analyzer never yields (a user-given vocabulary): its column stays 0
        if len(parts) == 1 and term in stop:
            continue
        by_length.setdefault(len(parts), []).append((parts, index))
    rows = b.op("Shape", [tokens], "rows", start=0, end=1)
    if not by_length:
        shape = b.op("Concat", [rows, _i64(b, "width", [columns.n_features])], "zero_shape", axis=0)
        return b.op("Expand", [b.const("zero", np.zeros((1, 1))), shape], "counts")
    longest = max(by_length)
    pool: list[str] = []
    starts: list[int] = []
    indexes: list[int] = []
    for n in range(1, longest + 1):
        starts.append(len(pool))  # an offset in pool items (strings), not in n-grams
        for parts, index in by_length.get(n, []):
            pool.extend(parts)
            indexes.append(index)
    counts = b.op("TfIdfVectorizer", [tokens], "term_counts", mode="TF", min_gram_length=min(by_length),
                  max_gram_length=longest, max_skip_count=0, pool_strings=pool, ngram_counts=starts,
                  ngram_indexes=indexes)
    counts = b.op("Cast", [counts], "counts_double", to=_DOUBLE)  # float counts: integers < 2**24, exact
    width = max(indexes) + 1
    if width < columns.n_features:  # TfIdfVectorizer's output ends at the largest index it counts
        counts = b.op("Pad", [counts, _i64(b, "pads", [0, 0, 0, columns.n_features - width])], "counts_padded")
    return counts


def _hashed_counts(b: GraphBuilder, tokens: str, features: ir.TextVectorizer, columns: ir.Hashing) -> str:
    low, high = features.analyzer.ngram_range
    width = b.op("Shape", [tokens], "width", start=1, end=2)
    axis = _i64(b, "axis", [1])
    is_token = b.op("Not", [b.op("Equal", [tokens, b.const("pad", np.array([_TOKEN_PAD], dtype=object))], "is_pad")],
                    "is_token")
    terms: list[str] = []
    valid: list[str] = []
    for n in range(low, high + 1):
        # n-gram i = tokens[i] + ' ' + ... + tokens[i+n-1]: columns shifted by 0..n-1, padded at the right.
        parts = []
        for shift in range(n):
            end = b.op("Sub", [width, _i64(b, "tail", [n - 1 - shift])], "end")
            parts.append((b.op("Slice", [tokens, _i64(b, "start", [shift]), end, axis], "part"),
                          b.op("Slice", [is_token, _i64(b, "start", [shift]), end, axis], "part_ok")))
        gram, ok = parts[0]
        for part, part_ok in parts[1:]:
            spaced = b.op("StringConcat", [gram, b.const("space", np.array([" "], dtype=object))], "spaced")
            gram = b.op("StringConcat", [spaced, part], "gram")
            ok = b.op("And", [ok, part_ok], "gram_ok")
        terms.append(gram)
        valid.append(ok)
    grams = b.op("Concat", terms, "grams", axis=1) if len(terms) > 1 else terms[0]
    present = b.op("Concat", valid, "grams_ok", axis=1) if len(valid) > 1 else valid[0]
    h = b.op("Cast", [b.op("MurmurHash3", [grams], "murmur", domain="com.microsoft", seed=0, positive=0)], "hash",
             to=_INT64)
    n_features = columns.n_features
    # scikit-learn _hashing_fast: abs(h) % n_features, except h = -2**31 -> (2**31 - 1 - (n_features - 1)) % n.
    bucket = b.op("Mod", [b.op("Abs", [h], "abs_hash"), _i64(b, "n_features", n_features)], "bucket")
    minimum = b.op("Equal", [h, _i64(b, "int32_min", -(2**31))], "is_int32_min")
    bucket = b.op("Where", [minimum, _i64(b, "min_bucket", (2**31 - 1 - (n_features - 1)) % n_features), bucket],
                  "bucket_exact")
    if features.binary:  # scikit-learn fills every stored entry with 1, even a bucket whose signs cancelled to 0
        value = b.op("Cast", [present], "one_per_gram", to=_DOUBLE)
    else:
        sign = b.const("plus", np.array([1.0]))
        if columns.alternate_sign:
            sign = b.op("Where", [b.op("Less", [h, _i64(b, "zero", 0)], "negative"), b.const("minus", np.array([-1.0])),
                                  sign], "sign")
        value = b.op("Mul", [b.op("Cast", [present], "gram_flag", to=_DOUBLE), sign], "signed_one")
    rows = b.op("Shape", [tokens], "rows", start=0, end=1)
    zeros = b.op("Expand", [b.const("zero", np.zeros((1, 1))),
                            b.op("Concat", [rows, _i64(b, "width", [n_features])], "hash_shape", axis=0)], "zeros")
    summed = b.op("ScatterElements", [zeros, bucket, value], "hashed", axis=1, reduction="add")
    if features.binary:
        summed = b.op("Cast", [b.op("Greater", [summed, b.const("zero", np.array([0.0]))], "occupied")], "binary",
                      to=_DOUBLE)
    return summed


def emit_text_features(b: GraphBuilder, documents: str, features: ir.TextVectorizer) -> str:
    """The double [N, n_features] tensor scikit-learn's vectorizer makes of the string tensor `documents` [N],
    before the idf multiply and the norm (the steps after it: export.text.pipeline.tail_of)."""
    tokens = _tokens(b, _preprocessed(b, documents, features), features)
    if isinstance(features.columns, ir.Hashing):
        values = _hashed_counts(b, tokens, features, features.columns)
        binary_done = True
    else:
        values = _vocabulary_counts(b, tokens, features, features.columns)
        binary_done = False
    if features.binary and not binary_done:
        present = b.op("Greater", [values, b.const("zero", np.array([0.0]))], "present")
        values = b.op("Cast", [present], "binary_counts", to=_DOUBLE)
    if features.sublinear_tf:
        positive = b.op("Greater", [values, b.const("zero", np.array([0.0]))], "positive")
        logged = b.op("Add", [b.op("Log", [values], "log_tf"), b.const("one", np.array([1.0]))], "sublinear")
        values = b.op("Where", [positive, logged, values], "sublinear_tf")
    return values
