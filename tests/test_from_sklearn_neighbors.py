"""KNeighborsClassifier → IR, checked by the independent oracle (tests/ir_oracle.py) against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from ir_oracle import assert_labels, evaluate
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from export import ir
from export.errors import UnsupportedEstimatorError
from export.frontends import to_ir


def _split(loader, labels=None):
    X, y = loader(return_X_y=True)
    if labels is not None:
        y = np.asarray(labels)[y]
    return train_test_split(X, y, test_size=0.3, random_state=0)


DATA = {
    "iris": lambda: _split(load_iris),
    "wine_str": lambda: _split(load_wine, ["barolo", "grignolino", "barbera"]),
    "breast_cancer": lambda: _split(load_breast_cancer),
    "digits": lambda: _split(load_digits),
}


@pytest.mark.parametrize("data", sorted(DATA))
@pytest.mark.parametrize("params", [{"n_neighbors": 1}, {"n_neighbors": 5}, {"n_neighbors": 4, "algorithm": "kd_tree"},
                                    {"n_neighbors": 7, "metric": "minkowski", "p": 2, "algorithm": "brute"},
                                    {"n_neighbors": 3, "metric": "euclidean", "algorithm": "ball_tree"}],
                         ids=["k1", "k5", "k4_kdtree", "k7_minkowski2", "k3_euclidean_balltree"])
def test_knn_labels(data, params):
    X_train, X_test, y_train, _ = DATA[data]()
    est = KNeighborsClassifier(**params).fit(X_train, y_train)
    model = to_ir(est)
    node = model.output.node
    assert isinstance(node, ir.NearestNeighbors) and node.k == params["n_neighbors"]
    assert list(model.head.labels) == list(est.classes_) and model.head.link == "identity" and model.head.has_proba
    X = np.vstack([X_test, X_train[:50]])  # held-out rows and training rows (distance 0 to themselves)
    ev = evaluate(model, X)
    n_ties = assert_labels(ev, est.predict(X))
    # Ties (equal k-th/(k+1)-th distances or equal votes) are where sklearn's neighbour order decides; even k
    # ties votes often — bound them so the check stays meaningful.
    assert n_ties <= 0.25 * len(X)


@pytest.mark.parametrize("params, field", [({"weights": lambda d: 1.0 / (1.0 + d)}, "weights"),
                                           ({"metric": "cosine"}, "metric"),
                                           ({"metric": "minkowski", "metric_params": {"w": [1.0, 2.0, 1.0, 1.0]}},
                                            "metric"),
                                           ({"weights": "distance", "algorithm": "brute"}, "brute")])
def test_knn_unsupported_params_refused(params, field):
    X_train, _, y_train, _ = DATA["iris"]()
    est = KNeighborsClassifier(**params).fit(X_train, y_train)
    with pytest.raises(UnsupportedEstimatorError, match=rf"KNeighborsClassifier: .*{field}.*(allowed|supported)"):
        to_ir(est)


def test_knn_degenerate_fits_refused():
    X_train, _, y_train, _ = DATA["iris"]()
    with pytest.raises(UnsupportedEstimatorError, match="at least two classes"):
        to_ir(KNeighborsClassifier(n_neighbors=3).fit(X_train, np.zeros(len(X_train), dtype=int)))
    with pytest.raises(UnsupportedEstimatorError, match="n_neighbors=200 exceeds"):
        to_ir(KNeighborsClassifier(n_neighbors=200).fit(X_train, y_train))


def test_knn_multi_output_refused():
    X_train, _, y_train, _ = DATA["iris"]()
    est = KNeighborsClassifier().fit(X_train, np.column_stack([y_train, y_train]))
    with pytest.raises(UnsupportedEstimatorError, match="multi-output"):
        to_ir(est)
