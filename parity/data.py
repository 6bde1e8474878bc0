"""Input step of the parity flow: read the user's rows (.npy, .csv with header, .parquet).

`load_table` gives a float64 matrix (numeric models). `read_frame` gives a DataFrame of typed columns for models
with string inputs: CSV columns the model takes as strings are read as text (so "007" stays "007"), Parquet keeps
its own dtypes (pandas 3 `str`, object, category, numbers). A numeric column holding strings, or a string column
holding only numbers, is refused naming the column.
NaN is a legitimate missing value and is kept; ±inf is refused (scikit-learn refuses it at predict time too).
Every problem raises DataFileError with a one-line message naming the file and, where it applies, the column.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from parity.columns import numeric_values
from parity.errors import DataFileError

SUPPORTED_SUFFIXES = (".npy", ".csv", ".parquet")


def load_table(
    path: str | os.PathLike[str], n_features: int, feature_names: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str] | None]:
    """(X float64 of shape (n, n_features), column names or None) from a .npy, .csv (with header) or .parquet."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: data file not found")
    suffix = path.suffix.lower()
    names = list(feature_names) if feature_names is not None else None
    if names is not None and len(names) != n_features:
        raise DataFileError(f"{path}: {len(names)} feature names given for a model with {n_features} features")
    if suffix == ".npy":
        return _load_npy(path, n_features), names
    if suffix in (".csv", ".parquet"):
        return _load_frame(path, suffix, n_features, names)
    raise DataFileError(f"{path}: unsupported data file type {suffix or '(none)'!r}; supported: "
                        f"{', '.join(SUPPORTED_SUFFIXES)}")


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
    _refuse_infinity(path, X, None)
    return X


def _load_frame(path: Path, suffix: str, n_features: int, names: list[str] | None) -> tuple[np.ndarray, list[str]]:
    import pandas as pd

    try:
        frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    except Exception as exc:  # pandas/pyarrow raise many parser error types
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        raise DataFileError(f"{path}: cannot parse {suffix} ({reason})") from exc
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if names is not None:
        missing = [n for n in names if n not in columns]
        if missing:
            raise DataFileError(f"{path}: missing feature columns {missing}; the model expects {names}")
        extra = [c for c in columns if c not in names]
        if extra:
            raise DataFileError(f"{path}: unexpected columns {extra}; the model expects exactly {names}")
        frame = frame[names]
    elif len(columns) != n_features:
        raise DataFileError(f"{path}: has {len(columns)} columns, the model expects {n_features}")
    X = np.empty((len(frame), len(frame.columns)), dtype=np.float64)
    for j, column in enumerate(frame.columns):  # one loop per column: convert and name the offending one
        X[:, j] = _numeric_column(path, column, frame[column])
    _refuse_infinity(path, X, list(frame.columns))
    return X, list(frame.columns)


def read_frame(path: str | os.PathLike[str], n_features: int, feature_names: Sequence[str] | None,
               kinds: dict[str, str], categories: dict[str, list[str]] | None = None) -> Any:
    """The user's .csv / .parquet as a DataFrame in model column order, each column of the kind the artifacts
    declare (`kinds`: column -> 'string' | 'double' | 'int64'; columns not listed are inferred). `categories`
    (column -> categories the artifacts know) lets a CSV string column of digits (zip codes) through when its
    values are known categories."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: data file not found")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise DataFileError(f"{path}: string inputs need a .csv or .parquet data file, got {suffix or '(none)'!r}")
    text_columns = {name: "str" for name, kind in kinds.items() if kind == "string"}
    try:
        frame = pd.read_csv(path, dtype=text_columns) if suffix == ".csv" else pd.read_parquet(path)
    except Exception as exc:  # pandas/pyarrow raise many parser error types
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        raise DataFileError(f"{path}: cannot parse {suffix} ({reason})") from exc
    frame.columns = [str(c) for c in frame.columns]
    names = list(feature_names) if feature_names is not None else None
    if names is not None:
        missing = [n for n in names if n not in frame.columns]
        if missing:
            raise DataFileError(f"{path}: missing feature columns {missing}; the model expects {names}")
        frame = frame[names]
    elif len(frame.columns) != n_features:
        raise DataFileError(f"{path}: has {len(frame.columns)} columns, the model expects {n_features}")
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


def _numeric_column(path: Path, name: str, values: Any) -> np.ndarray:
    return numeric_values(values, name, str(path), DataFileError)


def _refuse_infinity(path: Path, X: np.ndarray, names: list[str] | None) -> None:
    infinite = np.isinf(X)
    if infinite.any():
        row, column = (int(i) for i in np.argwhere(infinite)[0])
        label = repr(names[column]) if names else str(column)
        raise DataFileError(f"{path}: column {label} row {row} is {X[row, column]}; infinite values are not "
                            f"supported (NaN is allowed: it is a missing value)")
