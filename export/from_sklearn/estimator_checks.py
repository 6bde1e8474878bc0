"""Front-end guards shared by the sklearn → IR converters: parameter allowlists and the classification task."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import numpy as np

from export import ir
from export.errors import UnsupportedEstimatorError


def estimator_name(est: Any) -> str:
    return type(est).__name__


def refuse(est: Any, message: str) -> UnsupportedEstimatorError:
    """The one error a converter raises for a fitted estimator it cannot lower exactly (caller raises it)."""
    return UnsupportedEstimatorError(f"{estimator_name(est)}: {message}")


def require_param(est: Any, name: str, allowed: Iterable[object]) -> None:
    """Refuse unless `est.<name>` (a constructor parameter) is one of `allowed`."""
    allowed = tuple(allowed)
    value = getattr(est, name)
    if not any(value is a or (type(value) is type(a) and value == a) for a in allowed):
        raise refuse(est, f"parameter {name}={value!r} is not supported; allowed: "
                          + ", ".join(repr(a) for a in allowed))


def dense(array: Any) -> np.ndarray:
    """A fitted attribute as a dense float64 array (libsvm keeps sparse copies when fitted on sparse X)."""
    if hasattr(array, "toarray"):
        array = array.toarray()
    return np.asarray(array, dtype=np.float64)


def class_labels(est: Any, classes: Any) -> np.ndarray:
    """`classes_` as IR labels: integers or strings. Integer-valued float labels become int64 (same numbers);
    other kinds (fractional floats, mixed objects, multi-output lists) are refused."""
    if isinstance(classes, list):
        raise refuse(est, "multi-output classification (classes_ is a list) is not supported; "
                          "supported: a single target column")
    labels = np.asarray(classes)
    if labels.ndim != 1:
        raise refuse(est, f"classes_ has shape {labels.shape}; supported: one label column")
    if labels.size < 2:
        raise refuse(est, f"it was fitted on {labels.size} class; supported: at least two classes")
    if labels.dtype.kind == "f":
        if not (np.all(np.isfinite(labels)) and np.all(labels == np.round(labels))):
            raise refuse(est, "fractional float class labels are not supported; supported: integer or string labels")
        return labels.astype(np.int64)
    if labels.dtype.kind == "O" and not all(isinstance(v, str) for v in labels.tolist()):
        raise refuse(est, "class labels mixing types are not supported; supported: all integers or all strings")
    if labels.dtype.kind not in "iubUO":
        raise refuse(est, f"class labels of dtype {labels.dtype} are not supported; supported: integers or strings")
    return labels


def classification(est: Any, link: ir.Link, has_proba: bool,
                   all_zero: Literal["uniform", "zeros"] = "uniform") -> ir.Classification:
    """The head of a single-output classifier, labels from its fitted `classes_` (order kept)."""
    return ir.Classification(labels=class_labels(est, est.classes_), link=link, has_proba=has_proba,
                             all_zero=all_zero)


def refuse_multilabel(est: Any) -> None:
    """Classifiers that binarise y (RidgeClassifier, MLPClassifier, OneVsRest) also fit multilabel targets, whose
    output is an indicator matrix, not one label: refuse those."""
    binarizer = getattr(est, "_label_binarizer", None) or getattr(est, "label_binarizer_", None)
    y_type = getattr(binarizer, "y_type_", "")
    if isinstance(y_type, str) and y_type.startswith("multilabel"):
        raise refuse(est, "multilabel targets are not supported; supported: binary and multiclass targets")
