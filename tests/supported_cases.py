"""THE table-driven list of end-to-end cases: at least one small fitted instance of every supported type (every row
of `export.frontends.supported()`), on data that ships with scikit-learn. tests/test_end_to_end.py sends each
through both writers and `parity.check` against the Python model; a row without a case fails there.

Adding a model type: add its row to the front-end registry and one `Case` here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Perceptron,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.multiclass import OneVsRestClassifier
from sklearn.naive_bayes import ComplementNB, GaussianNB, MultinomialNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    OneHotEncoder,
    RobustScaler,
    StandardScaler,
)
from sklearn.svm import SVC, SVR, LinearSVC, LinearSVR, NuSVC, NuSVR
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

Data = tuple[np.ndarray, np.ndarray | None]


@cache
def iris() -> Data:
    X, y = load_iris(return_X_y=True)
    return X, y


@cache
def binary() -> Data:
    """Breast cancer, 8 standardised features, 200 rows: a binary problem every solver fits quickly."""
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X[:200, :8]), y[:200]


@cache
def regression() -> Data:
    X, y = load_diabetes(return_X_y=True)
    return X[:200], y[:200]


def unlabelled(data: Callable[[], Data]) -> Callable[[], Data]:
    return lambda: (data()[0], None)


def iris_with_nan() -> Data:
    X = iris()[0].copy()
    X[np.random.default_rng(0).random(X.shape) < 0.1] = np.nan
    return X, None


def iris_rounded() -> Data:
    return np.round(iris()[0]), None


@dataclass(frozen=True)
class Case:
    """One estimator fitted on one dataset. Documented Core ML format limits (the row's `coreml` note):
    `coreml_refusal` — the Core ML writer must refuse this case with an error matching it; `coreml_fails_only_on` —
    the Core ML artifact is written, and parity must fail on exactly this (output role, probe set) and nowhere else
    (a limit that is measured, never hidden)."""

    name: str
    make: Callable[[], Any]
    data: Callable[[], Data]
    coreml_refusal: str | None = None
    coreml_fails_only_on: tuple[str, str] | None = None

    def fit(self) -> tuple[Any, np.ndarray]:
        X, y = self.data()
        estimator = self.make()
        estimator.fit(X) if y is None else estimator.fit(X, y)
        return estimator, X


# Core ML's GLMClassifier (OneVsRest + Logit, K > 2) divides by the sum of the sigmoids: where every decision value
# is below ~-745 (the ±1e30 extremes probes) all sigmoids underflow to 0 and Core ML computes 0/0; scikit-learn
# returns zeros (OneVsRestClassifier) or 1/K (_predict_proba_lr). The ONNX writer follows scikit-learn.
OVR_ALL_SIGMOIDS_UNDERFLOW = ("probabilities", "extremes")

CASES: tuple[Case, ...] = (
    Case("decision-tree-classifier", lambda: DecisionTreeClassifier(max_depth=4, random_state=0), iris),
    Case("decision-tree-regressor", lambda: DecisionTreeRegressor(max_depth=4, random_state=0), regression),
    Case("random-forest-classifier", lambda: RandomForestClassifier(5, max_depth=4, random_state=0), binary),
    Case("random-forest-regressor", lambda: RandomForestRegressor(5, max_depth=4, random_state=0), regression),
    Case("extra-trees-classifier", lambda: ExtraTreesClassifier(5, max_depth=4, random_state=0), iris),
    Case("extra-trees-regressor", lambda: ExtraTreesRegressor(5, max_depth=4, random_state=0), regression),
    Case("gradient-boosting-classifier", lambda: GradientBoostingClassifier(n_estimators=8, random_state=0), iris),
    Case("gradient-boosting-regressor", lambda: GradientBoostingRegressor(n_estimators=8, random_state=0),
         regression),
    Case("hist-gradient-boosting-classifier", lambda: HistGradientBoostingClassifier(max_iter=8, random_state=0),
         binary),
    Case("hist-gradient-boosting-regressor", lambda: HistGradientBoostingRegressor(max_iter=8, random_state=0),
         regression),
    Case("linear-regression", LinearRegression, regression),
    Case("ridge", Ridge, regression),
    Case("lasso", lambda: Lasso(alpha=0.1), regression),
    Case("elastic-net", lambda: ElasticNet(alpha=0.01), regression),
    Case("sgd-regressor", lambda: SGDRegressor(random_state=0), regression),
    Case("linear-svr", lambda: LinearSVR(C=10.0, max_iter=5000, random_state=0), regression),
    Case("logistic-regression-binary", LogisticRegression, binary),
    Case("logistic-regression-multinomial", lambda: LogisticRegression(max_iter=1000), iris),
    Case("one-vs-rest", lambda: OneVsRestClassifier(LogisticRegression(max_iter=1000)), iris,
         coreml_fails_only_on=OVR_ALL_SIGMOIDS_UNDERFLOW),
    Case("sgd-classifier-log-loss", lambda: SGDClassifier(loss="log_loss", random_state=0), binary),
    Case("sgd-classifier-log-loss-multiclass", lambda: SGDClassifier(loss="log_loss", random_state=0), iris),
    Case("sgd-classifier-hinge", lambda: SGDClassifier(random_state=0), iris),
    Case("ridge-classifier", RidgeClassifier, iris),
    Case("linear-svc", lambda: LinearSVC(random_state=0), binary),
    Case("perceptron", lambda: Perceptron(random_state=0), iris),
    Case("svc", SVC, iris),
    Case("nu-svc", NuSVC, binary),
    Case("svr", lambda: SVR(C=50.0), regression),
    Case("nu-svr", lambda: NuSVR(C=50.0), regression),
    Case("k-neighbors-classifier", KNeighborsClassifier, iris),
    Case("gaussian-nb-binary", GaussianNB, binary),
    Case("gaussian-nb-multiclass", GaussianNB, iris, coreml_refusal="no double-precision encoding"),
    Case("multinomial-nb", MultinomialNB, iris),
    Case("complement-nb", ComplementNB, iris),
    Case("mlp-classifier", lambda: MLPClassifier((8,), max_iter=300, random_state=0), binary),
    Case("mlp-regressor", lambda: MLPRegressor(hidden_layer_sizes=(8,), max_iter=300, random_state=0), regression),
    Case("standard-scaler", StandardScaler, unlabelled(iris)),
    Case("min-max-scaler", MinMaxScaler, unlabelled(iris)),
    Case("max-abs-scaler", MaxAbsScaler, unlabelled(iris)),
    Case("robust-scaler", RobustScaler, unlabelled(iris)),
    Case("normalizer", Normalizer, unlabelled(iris)),
    Case("simple-imputer", SimpleImputer, iris_with_nan),
    Case("one-hot-encoder", lambda: OneHotEncoder(handle_unknown="ignore", sparse_output=False), iris_rounded),
    Case("pca", lambda: PCA(n_components=3), unlabelled(iris)),
    Case("pipeline", lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), iris),
    Case("pipeline-knn", lambda: Pipeline([("scale", MinMaxScaler()), ("knn", KNeighborsClassifier())]), iris),
    Case("column-transformer", lambda: ColumnTransformer([("scale", StandardScaler(), [0, 1]),
                                                          ("pca", PCA(n_components=1), [2, 3])]), unlabelled(iris)),
)
