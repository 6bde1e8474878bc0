"""Datasets that ship with scikit-learn, prepared as the converter tests use them (shared, not copied per file)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.preprocessing import StandardScaler

Dataset = Callable[[], tuple[np.ndarray, np.ndarray]]


def scaled(loader: Callable[..., tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Standardised features, so every solver converges quickly."""
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def wine_with_string_labels() -> tuple[np.ndarray, np.ndarray]:
    X, y = scaled(load_wine)
    return X, np.array(["barolo", "grignolino", "barbera"])[y]


SCALED_CLASSIFICATION: dict[str, Dataset] = {
    "breast_cancer": lambda: scaled(load_breast_cancer),
    "iris": lambda: scaled(load_iris),
    "wine_str": wine_with_string_labels,
}
