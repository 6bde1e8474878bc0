"""Real data for the boosting-library tests (tests/data/README.md says where each slice comes from), and helpers
that run an exported artifact on rows and put values exactly at and next to a model's split thresholds."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).parent / "data"
TELCO_NUMERIC = ["tenure", "monthly_charges", "total_charges", "senior_citizen", "partner", "dependents"]
HOMES_NUMERIC = ["beds", "baths", "sqft", "latitude", "longitude"]


@cache
def telco() -> pd.DataFrame:
    """411 customers; `total_charges` is missing (NaN) for 11 of them."""
    return pd.read_csv(DATA / "telco_churn_boosting.csv")


@cache
def homes() -> pd.DataFrame:
    return pd.read_csv(DATA / "sacramento_homes_boosting.csv")


def telco_xy() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X with NaN, churn 0/1, contract 0/1/2)."""
    frame = telco()
    X = frame[TELCO_NUMERIC].to_numpy(dtype=np.float64)
    churn = (frame["churn"] == "Yes").to_numpy().astype(np.int64)
    contract = pd.Categorical(frame["contract"]).codes.astype(np.int64)
    return X, churn, contract


def homes_xy() -> tuple[np.ndarray, np.ndarray]:
    frame = homes()
    return frame[HOMES_NUMERIC].to_numpy(dtype=np.float64), frame["price"].to_numpy(dtype=np.float64) / 1e5


def at_thresholds(X: np.ndarray, features: np.ndarray, thresholds: np.ndarray, float32: bool) -> np.ndarray:
    """Rows of X with one feature set to each threshold, its double neighbours and (float32 models) the float32
    neighbours and the float32 rounding boundaries around it."""
    rng = np.random.default_rng(0)
    t = thresholds.astype(np.float64)
    values = [t, np.nextafter(t, -np.inf), np.nextafter(t, np.inf)]
    if float32:
        t32 = t.astype(np.float32)
        with np.errstate(over="ignore"):  # CatBoost's -FLT_MAX border steps to -inf
            below = np.nextafter(t32, np.float32(-np.inf)).astype(np.float64)
            above = np.nextafter(t32, np.float32(np.inf)).astype(np.float64)
        values += [below, above, (below + t) / 2, (t + above) / 2, np.nextafter((below + t) / 2, np.inf),
                   np.nextafter((t + above) / 2, -np.inf)]
    rows = X[rng.integers(0, len(X), len(t) * len(values))].copy()
    rows[np.arange(len(rows)), np.tile(features, len(values))] = np.concatenate(values)
    return rows


def run_artifact(path: Path, X: np.ndarray) -> dict[str, np.ndarray]:
    """Outputs by role of an exported artifact (ONNX Runtime, or the Core ML reference evaluator)."""
    from parity.runtimes import open_artifact

    return open_artifact(path).predict(np.asarray(X, dtype=np.float64))


CHURN_STRINGS = ["contract", "internet_service", "payment_method"]
CHURN_NUMBERS = ["tenure", "monthly_charges", "total_charges"]
UNSEEN = "never seen in training"


def churn_categories() -> tuple[pd.DataFrame, pd.Series]:
    """Real telco rows (tests/data/telco_churn_slice.csv) with the string columns as pandas `category` (what the
    boosting libraries' native categorical support reads), six missing payment methods and 11 missing
    total_charges; the `churn` labels "No"/"Yes"."""
    frame = pd.read_csv(DATA / "telco_churn_slice.csv")
    X = frame[CHURN_STRINGS + CHURN_NUMBERS].copy()
    X.loc[X.index[3:9], "payment_method"] = np.nan
    for column in CHURN_STRINGS:
        X[column] = X[column].astype("category")
    return X, frame["churn"]


def string_probe_frame(X: pd.DataFrame, columns: list[str], rows: int = 8) -> pd.DataFrame:
    """The first `rows` rows of X, then those rows again with each string column set to each of its categories, to
    an unseen string and to missing (NaN): every value an app can feed. String columns come back as `str`."""
    base = X.head(rows).copy()
    for column in columns:
        base[column] = base[column].astype("str")
    parts = [base]
    for column in columns:
        for value in [*X[column].cat.categories.tolist(), UNSEEN, np.nan]:
            part = base.copy()
            part[column] = value
            parts.append(part)
    return pd.concat(parts, ignore_index=True)


def as_categories(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The frame with its string columns as pandas `category` of their own values (the library remaps them)."""
    out = frame.copy()
    for column in columns:
        out[column] = out[column].astype("category")
    return out


def run_artifact_frame(path: Path, frame: pd.DataFrame, strings: list[str]) -> dict[str, np.ndarray]:
    """Outputs by role of an artifact fed the frame's columns by name: numbers as doubles, the `strings` columns as
    strings with "" for a missing value (the export contract)."""
    from parity.columns import schema_from_frame
    from parity.runtimes import open_artifact

    schema = schema_from_frame(frame, list(frame.columns), dict.fromkeys(strings, "string"))
    X = schema.encode_frame(frame)
    artifact = open_artifact(path)
    artifact.bind(list(frame.columns), frame.shape[1], schema)
    return artifact.predict(X)
