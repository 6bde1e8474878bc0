"""Input step of the parity flow: read the user's rows (.npy, .csv with header, .parquet).

`load_table` / `user_rows` give a float64 matrix (numeric models). `read_frame` gives a DataFrame of typed columns for
models with string inputs: CSV columns the model takes as strings are read as text (so "007" stays "007"), Parquet
keeps its own dtypes (pandas 3 `str`, object, category, numbers). A numeric column holding strings, or a string column
holding only numbers (none of them a known category), is refused naming the column.
NaN is a legitimate missing value and is kept; ±inf is refused (scikit-learn refuses it at predict time too).
Every problem raises DataFileError with a one-line message naming the file and, where it applies, the column.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from parity.columns import numeric_values
from parity.errors import DataFileError

SUPPORTED_SUFFIXES = (".npy", ".csv", ".parquet")
# Metadata key (Core ML userDefined, ONNX metadata_props) under which an mlexport export records the training column
# names as a JSON list in input order: what data files and DataFrames are matched against by name.
FEATURE_NAMES_KEY = "mlexport.feature_names"


def load_table(
    path: str | os.PathLike[str], n_features: int, feature_names: Sequence[str] | None = None,
    aliases: Sequence[str] | None = None,
) -> tuple[np.ndarray, list[str] | None]:
    """(X float64 of shape (n, n_features), column names or None) from a .npy, .csv (with header) or .parquet.

    With `feature_names`, named columns are matched by name (any order; missing, extra or renamed columns are
    refused naming them). `aliases` are the same features under other names (a Core ML model's input names) and are
    accepted instead of `feature_names`. An empty table is refused: parity or predictions on no rows prove nothing.
    """
    path = Path(path)
    _existing_data_file(path, ".npy, .csv or .parquet")
    suffix = path.suffix.lower()
    names = list(feature_names) if feature_names is not None else None
    if names is not None and len(names) != n_features:
        raise DataFileError(f"{path}: {len(names)} feature names given for a model with {n_features} features")
    if suffix == ".npy":
        X = _load_npy(path, n_features)
    elif suffix in (".csv", ".parquet"):
        X, names = _load_frame(path, suffix, n_features, names, list(aliases) if aliases else None)
    else:
        raise DataFileError(f"{path}: unsupported data file type {suffix or '(none)'!r}; supported: "
                            f"{', '.join(SUPPORTED_SUFFIXES)}")
    if len(X) == 0:
        raise DataFileError(f"{path}: data file has no rows")
    return X, names


def match_columns(columns: Sequence[str], names: Sequence[str], aliases: Sequence[str] | None = None) -> list[int]:
    """For each expected feature (in `names` order), the index of the data column holding it: the data's columns
    must be exactly the model's features, in any order, spelled as `names` or (all of them) as `aliases`.

    Raises DataFileError without the source (callers prefix it) naming missing, unexpected and near-miss columns.
    """
    columns = [str(c) for c in columns]
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise DataFileError(f"column names {duplicated} appear more than once; each feature needs one column")
    for candidate in (list(names), list(aliases) if aliases else None):
        if candidate is not None and set(candidate) == set(columns) and len(candidate) == len(columns):
            position = {c: j for j, c in enumerate(columns)}
            return [position[n] for n in candidate]
    missing = [n for n in names if n not in columns]
    extra = [c for c in columns if c not in names]
    parts = []
    if missing:
        parts.append(f"missing columns {missing}")
    if extra:
        folded = {_fold(n): n for n in missing}
        hints = [f"{c!r} (did you mean {folded[_fold(c)]!r}?)" if _fold(c) in folded else repr(c) for c in extra]
        parts.append(f"unexpected columns [{', '.join(hints)}]")
    raise DataFileError(f"{'; '.join(parts)}; the model takes exactly {list(names)} (matched by name, any order)")


def _fold(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).casefold()


def header_looks_like_data(columns: Sequence[str]) -> bool:
    """True when every column name of a .csv is a number — the file has no header row, and pandas took the first
    data row for one. A header "0,1,...,n-1" (pandas' default column names, written by `to_csv`) names positions."""
    texts = [str(c) for c in columns]
    if texts == [str(j) for j in range(len(texts))]:
        return False
    for text in texts:
        try:
            float(re.sub(r"\.\d+$", "", text) if text.count(".") > 1 else text)
        except ValueError:
            return False
    return bool(texts)


def frame_to_matrix(frame: Any, n_features: int, names: Sequence[str] | None, source: str,
                    aliases: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """A pandas DataFrame as the (n, n_features) float64 matrix in feature order. String column names are matched
    by name when the model has `names`; a frame with non-string (positional) column names is taken in order, as
    scikit-learn does."""
    columns = list(frame.columns)
    named = names is not None and all(isinstance(c, str) for c in columns)
    if named:
        assert names is not None
        try:
            order = match_columns(columns, names, aliases)
        except DataFileError as exc:
            raise DataFileError(f"{source}: {exc}") from None
        frame = frame.iloc[:, order]
        columns = list(names)
    elif len(columns) != n_features:
        raise DataFileError(f"{source}: has {len(columns)} columns, the model expects {n_features}")
    columns = [str(c) for c in columns]
    X = np.empty((len(frame), len(columns)), dtype=np.float64)
    for j, column in enumerate(columns):  # one loop per column: convert and name the offending one
        X[:, j] = _numeric_column(source, column, frame.iloc[:, j])
    refuse_infinity(source, X, columns)
    return X, columns


def _load_npy(path: Path, n_features: int) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)  # never unpickle user files
    except ValueError as exc:
        raise DataFileError(f"{path}: not a plain numeric .npy array ({exc})") from exc
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read .npy ({exc})") from exc
    if array.ndim != 2:
        raise DataFileError(f"{path}: expected a 2-D array (rows × {n_features} features), got shape {array.shape}")
    if array.shape[1] != n_features:
        raise DataFileError(f"{path}: has {array.shape[1]} columns, the model expects {n_features}")
    if array.dtype.kind not in "biuf":
        raise DataFileError(f"{path}: array dtype {array.dtype} is not numeric; supported: integer, float, bool")
    X = array.astype(np.float64)
    refuse_infinity(path, X, None)
    return X


def _load_frame(path: Path, suffix: str, n_features: int, names: list[str] | None,
                aliases: list[str] | None) -> tuple[np.ndarray, list[str]]:
    return frame_to_matrix(_read_file_frame(path, suffix, names), n_features, names, str(path), aliases)


def _existing_data_file(path: Path, allowed: str) -> None:
    if path.is_dir():
        raise DataFileError(f"data file '{path}' is a directory; give a {allowed} file")
    if not path.is_file():
        raise DataFileError(f"data file '{path}' not found")


def _read_file_frame(path: Path, suffix: str, names: list[str] | None,
                     text_columns: dict[str, str] | None = None) -> Any:
    """A .csv (with a header row: one that looks like data is refused) or .parquet file as a DataFrame with str
    column names; `text_columns` are read as text from a CSV (so "007" stays "007")."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=text_columns) if suffix == ".csv" else pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{path}: data file is empty; a .csv needs a header row naming the columns") from None
    except Exception as exc:  # pandas/pyarrow raise many parser error types
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        raise DataFileError(f"{path}: cannot parse {suffix} ({reason})") from exc
    frame.columns = [str(c) for c in frame.columns]
    if suffix == ".csv" and header_looks_like_data(list(frame.columns)):
        shown = ", ".join(list(frame.columns)[:4]) + (", ..." if len(frame.columns) > 4 else "")
        expected = f" ({', '.join(names)})" if names else ""
        raise DataFileError(f"{path}: the first row ({shown}) looks like data, not a header; a .csv needs a header "
                            f"row naming the columns{expected}")
    return frame


def read_frame(path: str | os.PathLike[str], n_features: int, feature_names: Sequence[str] | None,
               kinds: dict[str, str], categories: dict[str, list[str]] | None = None) -> Any:
    """The user's .csv / .parquet as a DataFrame in model column order, each column of the kind the artifacts
    declare (`kinds`: column -> 'string' | 'double' | 'int64'; columns not listed are inferred). `categories`
    (column -> categories the artifacts know) lets a CSV string column of digits (zip codes) through when its
    values are known categories. Columns are matched by name exactly as `load_table` matches them."""
    path = Path(path)
    _existing_data_file(path, ".csv or .parquet")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise DataFileError(f"{path}: string inputs need a .csv or .parquet data file, got {suffix or '(none)'!r}")
    names = list(feature_names) if feature_names is not None else None
    frame = _read_file_frame(path, suffix, names, {name: "str" for name, kind in kinds.items() if kind == "string"})
    if names is not None:
        try:
            order = match_columns(list(frame.columns), names)
        except DataFileError as exc:
            raise DataFileError(f"{path}: {exc}") from None
        frame = frame.iloc[:, order]
    elif len(frame.columns) != n_features:
        raise DataFileError(f"{path}: has {len(frame.columns)} columns, the model expects {n_features}")
    if len(frame) == 0:
        raise DataFileError(f"{path}: data file has no rows")
    for name in frame.columns:
        kind = kinds.get(name)
        if kind in ("double", "int64"):
            frame[name] = _numeric_column(path, name, frame[name])
        elif kind == "string":
            _refuse_numbers_as_strings(path, name, frame[name], suffix == ".csv", (categories or {}).get(name, []))
    return frame


def _refuse_numbers_as_strings(path: Path, name: str, values: Any, csv: bool, categories: list[str]) -> None:
    """A string column holding numbers: a Parquet numeric dtype, or CSV text that is a number in every row while
    none of it is a category the model knows."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        raise DataFileError(f"{path}: column {name!r} holds numbers ({values.dtype}) where the model expects "
                            f"strings")
    present = values.dropna()
    known = set(categories)
    if (csv and len(present) and pd.to_numeric(present, errors="coerce").notna().all()
            and not any(value in known for value in present.tolist())):
        raise DataFileError(f"{path}: column {name!r} holds only numbers (e.g. {present.iloc[0]!r}) where the model "
                            f"expects strings")


def _numeric_column(path: Path | str, name: str, values: Any) -> np.ndarray:
    return numeric_values(values, name, str(path), DataFileError)


def refuse_infinity(source: Path | str, X: np.ndarray, names: Sequence[str] | None,
                    columns: np.ndarray | None = None, error: type[ValueError] = DataFileError) -> None:
    """Raise `error` naming the first infinite cell of X (only `columns` when given: string columns of a typed
    schema hold category codes, never infinities)."""
    checked = np.arange(X.shape[1]) if columns is None else np.asarray(columns, dtype=np.int64)
    infinite = np.isinf(X[:, checked])
    if infinite.any():
        row, k = (int(i) for i in np.argwhere(infinite)[0])
        column = int(checked[k])
        label = repr(names[column]) if names else str(column)
        raise error(f"{source}: column {label} row {row} is {X[row, column]}; infinite values are not "
                    f"supported (NaN is allowed: it is a missing value)")


def user_rows(inputs: Any, n_features: int, feature_names: Sequence[str] | None,
              source: str = "inputs") -> np.ndarray | None:
    """The user's rows as float64 (n, n_features), from a path, a pandas DataFrame (matched by name when the model
    has names), or a 2-D array-like (taken in feature order). One place for every entry point (`parity.check`,
    `export_model`, the CLI) so they accept and refuse the same data."""
    if inputs is None:
        return None
    if isinstance(inputs, str | os.PathLike):
        X, _ = load_table(inputs, n_features, feature_names)
        return X
    if hasattr(inputs, "columns") and hasattr(inputs, "iloc"):  # pandas DataFrame
        X, _ = frame_to_matrix(inputs, n_features, feature_names, source)
    elif hasattr(inputs, "to_numpy") and getattr(inputs, "ndim", 2) == 1:  # a pandas Series: one column or one row?
        raise DataFileError(f"{source}: a pandas Series is ambiguous (one row or one column?); pass a DataFrame "
                            f"or a 2-D array of shape (n, {n_features})")
    else:
        try:
            X = np.asarray(inputs, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataFileError(f"{source}: not numeric ({type(exc).__name__}: {str(exc)[:120]}); pass a DataFrame, "
                                f"a 2-D numeric array or a data file path") from None
        if X.ndim == 1:
            X = X.reshape(1, -1)
        if X.ndim != 2 or X.shape[1] != n_features:
            raise DataFileError(f"{source}: expected shape (n, {n_features}), got {X.shape}")
        refuse_infinity(source, X, list(feature_names) if feature_names is not None else None)
    if len(X) == 0:
        raise DataFileError(f"{source}: data has no rows")
    return X
