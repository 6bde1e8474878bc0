"""Input step of the parity flow: read the user's rows (.npy, .csv with header, .parquet) into a float64 matrix.

NaN is a legitimate missing value and is kept; ±inf is refused (scikit-learn refuses it at predict time too).
Every problem raises DataFileError with a one-line message naming the file and, where it applies, the column.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

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


def _numeric_column(path: Path, name: str, values: Any) -> np.ndarray:
    import pandas as pd

    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    converted = pd.to_numeric(values, errors="coerce")
    bad = converted.isna() & values.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataFileError(f"{path}: column {name!r} row {row} holds {values.iloc[row]!r} where a number is "
                            f"expected (empty cells and NaN are allowed as missing values)")
    return converted.to_numpy(dtype=np.float64, na_value=np.nan)


def _refuse_infinity(path: Path, X: np.ndarray, names: list[str] | None) -> None:
    infinite = np.isinf(X)
    if infinite.any():
        row, column = (int(i) for i in np.argwhere(infinite)[0])
        label = repr(names[column]) if names else str(column)
        raise DataFileError(f"{path}: column {label} row {row} is {X[row, column]}; infinite values are not "
                            f"supported (NaN is allowed: it is a missing value)")
