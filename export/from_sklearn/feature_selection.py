"""sklearn feature selectors (`SelectorMixin`: VarianceThreshold, SelectKBest, SelectFromModel, …) → IR
`ColumnSelect` of the fitted support mask; RFE/RFECV, which also predict, → ColumnSelect then their `estimator_`."""

from __future__ import annotations

from typing import Any

import numpy as np

from export import ir
from export.from_sklearn.estimator_checks import refuse
from export.frontends import Converted, convert


def _support(est: Any) -> ir.ColumnSelect:
    """`transform(X)` = X[:, get_support()] — the fitted mask (`_get_support_mask`), in column order."""
    indices = np.flatnonzero(np.asarray(est.get_support(), dtype=bool))
    if indices.size == 0:
        raise refuse(est, "it selected no features (scikit-learn's transform returns an empty array); supported: "
                          "at least one selected feature")
    return ir.ColumnSelect(indices=indices, n_features=int(est.n_features_in_))


def selector_to_ir(est: Any) -> Converted:
    return Converted(_support(est), ir.Transformed())


def recursive_elimination_to_ir(est: Any) -> Converted:
    """RFE / RFECV: predict = `estimator_.predict(transform(X))` (the model refitted on the kept features)."""
    member = convert(est.estimator_)
    return Converted(ir.Pipeline(steps=(_support(est), member.node)), member.head)
