"""Typed input columns of the parity flow: what the Python model receives and what each artifact is fed.

A model fitted on a DataFrame with string columns is checked through an `InputSchema`: ordered named columns, each
`double`, `int64` or `string`. Probe rows stay one float64 matrix X (so slicing, chunking, float32 rounding and the
numeric probes work unchanged): a numeric column holds its value, a string column holds an index into that
column's `vocabulary` (NaN = missing). Decoding happens only at the two edges:

* `python_rows(X)` — the DataFrame the Python model receives, with each column's pandas dtype as the user gave it
  (pandas 3 `str`, `object`, `category`, numbers); a missing string is the column's own missing marker (NaN for
  `str`/`category`, NaN or None for `object` — scikit-learn treats the two as different categories);
* `artifact_values(X, j)` — what an app feeds the artifact, by the export contract (README "String inputs"):
  numbers as double (float32-rounded under the float32 contract), strings NFC-normalised, **a missing string as the
  empty string ""** (Core ML String features and ONNX string tensors cannot hold NaN or None). Never None or NaN:
  onnxruntime's Python binding would turn them into the strings "None"/"nan", which no device can send
  (categorical-semantics.md §4.1).

Strings are NFC-normalised on both sides (Swift's `==` treats NFC and NFD as equal; scikit-learn and ONNX compare
code points), so the vocabulary holds NFC strings only.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from parity.errors import ParityInputError

Kind = Literal["double", "int64", "string"]
KINDS = ("double", "int64", "string")
# The unseen-category probe value: not a word any real category list is likely to hold.
UNSEEN_CATEGORY = "mlexport-unseen-category"
MISSING_STRING = ""  # the contract's encoding of a missing string


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def shorten(text: str, limit: int = 80) -> str:
    """A document as reports show it: at most `limit` characters, then how long it really is."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def is_missing(value: Any) -> bool:
    """None, NaN and pandas' NA are missing values; anything else (the empty string included) is a value."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


@dataclass
class InputColumn:
    """One named input column."""

    name: str
    kind: Kind
    python_dtype: str = "float64"  # pandas dtype the Python model receives: float64, int64, str, object, category
    vocabulary: list[Any] = field(default_factory=list)  # string columns: the values X's codes index
    categories: list[str] = field(default_factory=list)  # string columns: categories the artifacts know
    missing_marker: Any = math.nan  # what a missing string is to the Python model (NaN, or None in object columns)
    documents: list[str] = field(default_factory=list)  # a text column (parity/text_inputs.py): its probe documents
    term_counter: Any = None  # a text column: (documents, terms) -> scikit-learn's term counts (Core ML's input)

    @property
    def shown_kind(self) -> str:
        """The kind as reports show it: 'text' for a text column (a string column of documents)."""
        return "text" if self.documents else self.kind

    def code_of(self, value: Any) -> float:
        """The X code of a string column value (adds it to the vocabulary); NaN for a missing value."""
        if is_missing(value):  # None and NaN alike: the column's missing_marker says which the model gets
            return math.nan
        key = str(value) if self.documents else nfc(str(value))  # documents reach the analyzer as they are
        try:
            return float(self.vocabulary.index(key))
        except ValueError:
            self.vocabulary.append(key)
            return float(len(self.vocabulary) - 1)


@dataclass
class InputSchema:
    """Ordered named input columns; see the module docstring for how X encodes them."""

    columns: list[InputColumn]
    notes: list[str] = field(default_factory=list)
    takes_documents: bool = False  # the Python model reads column 0's documents themselves (a list), not a frame

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def has_strings(self) -> bool:
        return any(c.kind == "string" for c in self.columns)

    def numeric_indices(self) -> np.ndarray:
        return np.array([j for j, c in enumerate(self.columns) if c.kind != "string"], dtype=np.int64)

    def string_indices(self) -> np.ndarray:
        return np.array([j for j, c in enumerate(self.columns) if c.kind == "string"], dtype=np.int64)

    # ---- decoding

    def _strings(self, X: np.ndarray, j: int, missing: Any, only_strings: bool = False) -> np.ndarray:
        """Column j's values: its vocabulary indexed by X's codes, `missing` where the code is NaN (and, with
        `only_strings`, in place of any vocabulary entry that is not a str)."""
        column = self.columns[j]
        vocabulary = np.empty(len(column.vocabulary) + 1, dtype=object)
        vocabulary[:-1] = column.vocabulary
        vocabulary[-1] = missing
        if only_strings:  # checked on the vocabulary, once, not per row
            vocabulary[[not isinstance(v, str) for v in vocabulary.tolist()]] = missing
        codes = np.asarray(X[:, j], dtype=np.float64)
        index = np.where(np.isnan(codes), len(column.vocabulary), np.nan_to_num(codes)).astype(np.int64)
        return vocabulary[index]

    def is_text(self, j: int) -> bool:
        return bool(self.columns[j].documents)

    def python_rows(self, X: np.ndarray) -> Any:
        """What the Python model receives for rows X: a pandas DataFrame, or (`takes_documents`) the list of
        documents of column 0."""
        import pandas as pd

        if self.takes_documents:
            return self._strings(X, 0, self.columns[0].missing_marker).tolist()

        data: dict[str, Any] = {}
        for j, column in enumerate(self.columns):
            if column.kind == "string":
                values = self._strings(X, j, column.missing_marker)
                if column.python_dtype == "category":
                    data[column.name] = pd.Categorical(values)
                elif column.python_dtype == "object":
                    data[column.name] = pd.Series(values, dtype=object)
                else:
                    data[column.name] = pd.Series(values, dtype="str")
            elif column.python_dtype.startswith(("int", "uint")) and _fits_integers(X[:, j], column.python_dtype):
                data[column.name] = X[:, j].astype(column.python_dtype)
            else:
                data[column.name] = np.asarray(X[:, j], dtype=np.float64)
        return pd.DataFrame(data, index=pd.RangeIndex(len(X)))

    def artifact_values(self, X: np.ndarray, j: int) -> np.ndarray:
        """Column j as an app feeds it: float64 numbers, or an object array of str ("" for missing, None too)."""
        if self.columns[j].kind != "string":
            return np.asarray(X[:, j], dtype=np.float64)
        return self._strings(X, j, MISSING_STRING, only_strings=True)

    def display(self, X: np.ndarray, row: int) -> dict[str, Any]:
        """Row `row` of X as {column: value} for reports: strings quoted by the caller, missing strings None."""
        shown: dict[str, Any] = {}
        for j, column in enumerate(self.columns):
            if column.kind == "string":
                value = self._strings(X[row : row + 1], j, None)[0]
                shown[column.name] = (shorten(value) if column.documents else value) if isinstance(value, str) \
                    else None
            else:
                shown[column.name] = float(X[row, j])
        return shown

    def to_json(self) -> list[dict[str, Any]]:
        return [{"name": c.name, "kind": c.kind, "python_dtype": c.python_dtype,
                 **({"categories": list(c.categories)} if c.kind == "string" and not c.documents else {}),
                 **({"text": True, "probe_documents": [shorten(d) for d in c.documents]} if c.documents else {})}
                for c in self.columns]

    # ---- encoding

    def encode_frame(self, frame: Any, origin: str = "inputs") -> np.ndarray:
        """X for the rows of a DataFrame whose columns are already in schema order and of the schema's kinds."""
        X = np.empty((len(frame), len(self.columns)), dtype=np.float64)
        for j, column in enumerate(self.columns):
            series = frame[column.name]
            if column.kind == "string":
                X[:, j] = self._encode_strings(column, series)
            else:
                X[:, j] = numeric_values(series, column.name, origin)
        return X

    def _encode_strings(self, column: InputColumn, values: Any) -> np.ndarray:
        """X codes of a column's values: pandas factorizes the rows (vectorised; None, NaN and pd.NA are all
        missing), then each distinct value gets its vocabulary code once."""
        import pandas as pd

        row_codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
        unique_codes = np.array([column.code_of(v) for v in np.asarray(uniques, dtype=object).tolist()] + [np.nan],
                                dtype=np.float64)
        return unique_codes[row_codes]  # code -1 (missing) indexes the trailing NaN


def _fits_integers(values: np.ndarray, dtype: str) -> bool:
    """True when every value is an integer the column's integer dtype holds (probes put NaN, 1e30, t ± ulp in
    integer columns too: those rows reach the model as float64, which scikit-learn converts to anyway)."""
    info = np.iinfo(np.dtype(dtype))
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.isfinite(values)) and np.all(values == np.round(values))
                    and np.all((values >= info.min) & (values < float(info.max) + 1.0)))


def numeric_values(series: Any, name: str, origin: str,
                   error: type[ValueError] = ParityInputError) -> np.ndarray:
    """A pandas Series of numbers (bool, int, float; NaN/None missing) as float64; a string cell is refused
    (`error`, naming the column and row)."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    converted = pd.to_numeric(series, errors="coerce")
    bad = converted.isna() & series.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise error(f"{origin}: column {name!r} row {row} holds {series.iloc[row]!r} where a number is "
                    f"expected (empty cells and NaN are allowed as missing values)")
    return np.asarray(converted.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def python_dtype_of(series: Any) -> str:
    """How a user's column reaches the Python model: 'category', 'object', 'str', or the numeric dtype's name."""
    import pandas as pd

    if isinstance(series.dtype, pd.CategoricalDtype):
        return "category"
    if series.dtype == object:
        return "object"
    if pd.api.types.is_string_dtype(series.dtype):
        return "str"
    return str(series.dtype)


def is_string_series(series: Any) -> bool:
    """True for str/object/category columns whose non-missing values are strings (bool/number columns: False)."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return False
    if isinstance(series.dtype, pd.CategoricalDtype):
        return not pd.api.types.is_numeric_dtype(series.dtype.categories)
    if series.dtype != object and pd.api.types.is_string_dtype(series.dtype):
        return True  # pandas 3 `str` (or another string dtype): strings and missing values only
    # infer_dtype scans in C, skipping None/NaN/NA; "empty": an all-missing object column may be either
    return pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")


def frame_has_strings(frame: Any) -> bool:
    """True when some column of a DataFrame holds strings (str/object/category of strings, not all missing)."""
    return any(is_string_series(frame.iloc[:, j]) and frame.iloc[:, j].notna().any()
               for j in range(frame.shape[1]))


def missing_marker_of(series: Any, name: str, origin: str) -> Any:
    """The missing value of a string column: None for an object column holding None, else NaN. Refuses both."""
    if series.dtype != object:
        return math.nan
    values = series.tolist()
    has_none = any(v is None for v in values)
    has_nan = any(isinstance(v, float) and math.isnan(v) for v in values)
    if has_none and has_nan:
        raise ParityInputError(f"{origin}: column {name!r} holds both None and NaN; scikit-learn treats them as two "
                               f"different categories and the export contract has one missing string (\"\"): use "
                               f"one of them (pandas 3 'str' columns hold NaN)")
    return None if has_none else math.nan


def schema_from_frame(frame: Any, names: Sequence[str], kinds: dict[str, Kind] | None = None,
                      origin: str = "inputs") -> InputSchema:
    """An InputSchema for a user DataFrame: a column is a string column if the artifacts say so (`kinds`), else if
    its values are strings. A mismatch between the data and an artifact's input type names the column."""
    columns = []
    for name in names:
        series = frame[name]
        wanted = (kinds or {}).get(name)
        strings = is_string_series(series) and (series.notna().any() or wanted == "string")
        if wanted == "string" and not strings:
            raise ParityInputError(f"{origin}: column {name!r} holds numbers ({series.dtype}) where the model "
                                   f"expects strings (the artifact's input {name!r} is a string)")
        if wanted in ("double", "int64") and strings:
            example = next((v for v in series.tolist() if isinstance(v, str)), None)
            raise ParityInputError(f"{origin}: column {name!r} holds strings (e.g. {example!r}) where the model "
                                   f"expects numbers (the artifact's input {name!r} is a {wanted})")
        if strings:
            columns.append(InputColumn(name, "string", python_dtype_of(series),
                                       missing_marker=missing_marker_of(series, name, origin)))
        else:
            columns.append(InputColumn(name, wanted or "double", python_dtype_of(series)))
    return InputSchema(columns)


def schema_from_kinds(names: Sequence[str], kinds: dict[str, Kind]) -> InputSchema:
    """An InputSchema when no user data is given: kinds from the artifacts, pandas 3 defaults (str, float64)."""
    return InputSchema([InputColumn(n, kinds.get(n, "double"), "str" if kinds.get(n) == "string" else "float64")
                        for n in names])


def add_categories(schema: InputSchema, categories: Mapping[str, Iterable[str]]) -> None:
    """Record the categories artifacts know per column (NFC) and give every string column the unseen probe value."""
    for column in schema.columns:
        if column.kind != "string":
            continue
        if column.documents:  # a text column: probed with documents, not categories (parity/text_inputs.py)
            for document in column.documents:
                column.code_of(document)
            continue
        for category in categories.get(column.name, ()):
            value = nfc(str(category))
            if value != MISSING_STRING and value not in column.categories:
                column.categories.append(value)
        for value in [*column.categories, UNSEEN_CATEGORY]:
            column.code_of(value)
