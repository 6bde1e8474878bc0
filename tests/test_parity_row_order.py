"""parity/row_order.py: tree models' rows are fed to every runtime grouped by their split bins, and the outputs come
back in the rows' own order bit for bit — the premise that lets parity permute them (row-independent runtimes)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from export.frontends import to_ir
from export.to_coreml import CoreMLInterface, save_spec, to_spec
from export.to_onnx import OnnxOptions, save_onnx, to_onnx
from parity.coreml_reference.tree_ensemble import single_threaded
from parity.row_order import MIN_ROWS, in_row_order, locality_order, split_columns
from parity.runtimes import open_artifact


@pytest.fixture(scope="module")
def forest() -> tuple[RandomForestClassifier, np.ndarray]:
    X, y = make_classification(n_samples=3000, n_features=8, n_informative=5, random_state=3)
    X[::97, 2] = np.nan  # NaN rows sort into their own bin and must come back in place too
    return RandomForestClassifier(n_estimators=15, max_depth=8, random_state=0).fit(X, y), X


def test_order_is_a_permutation_grouping_rows_by_split_bins(forest: tuple[RandomForestClassifier, np.ndarray]) -> None:
    model, X = forest
    columns = split_columns(model, X.shape[1])
    assert columns is not None and len(columns) > 0
    counts = np.bincount(np.concatenate([e.tree_.feature[e.tree_.feature >= 0] for e in model.estimators_]),
                         minlength=X.shape[1])
    assert counts[columns[0]] == counts.max()  # the most-split column sorts first
    order = locality_order(X, columns)
    assert order is not None and np.array_equal(np.sort(order), np.arange(len(X)))
    # the first sort key: eight equal runs of rows, each run's values all below the next run's (NaN sorts last)
    runs = np.split(X[order, columns[0]], 8)
    assert all(np.nanmax(a) <= np.nanmin(b) for a, b in pairwise(runs))
    assert np.array_equal(in_row_order(X[order], order), X, equal_nan=True)


def test_no_order_where_nothing_is_gained(forest: tuple[RandomForestClassifier, np.ndarray]) -> None:
    model, X = forest
    columns = split_columns(model, X.shape[1])
    assert locality_order(X[: MIN_ROWS - 1], columns) is None
    assert split_columns(LogisticRegression().fit(X[:50, :2], np.arange(50) % 2), 2) is None
    assert locality_order(X, None) is None


def test_every_runtime_gives_the_same_bits_in_split_order(forest: tuple[RandomForestClassifier, np.ndarray],
                                                          tmp_path: Path) -> None:
    model, X = forest
    order = locality_order(X, split_columns(model, X.shape[1]))
    assert order is not None
    node = to_ir(model)
    save_spec(to_spec(node, CoreMLInterface()), tmp_path / "rf.mlmodel")
    save_onnx(to_onnx(model, node, OnnxOptions(input_dtype="float64")).model, tmp_path / "rf.onnx")
    np.testing.assert_array_equal(in_row_order(model.predict_proba(X[order]), order), model.predict_proba(X))
    for path in (tmp_path / "rf.mlmodel", tmp_path / "rf.onnx"):
        artifact = open_artifact(path)
        with single_threaded():
            given, permuted = artifact.predict(X), artifact.predict(X[order])
        for role, values in given.items():
            np.testing.assert_array_equal(in_row_order(permuted[role], order), values, err_msg=f"{path.name} {role}")
