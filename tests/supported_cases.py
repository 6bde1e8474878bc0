"""The table-driven end-to-end case list: for every row of the supported table (`export.frontends.supported()`),
at least one fitted model on real rows (tests/data/credit_balance_slice.csv, ISLR `Credit`) that
tests/test_end_to_end.py exports with both writers and checks with `parity.check` against scikit-learn.

A case names the table row it covers (`covers`) and builds its fitted estimator and the rows to check from `Data`.
Keep models small: the whole list runs in CI on 2 cores."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import (
    BaggingRegressor,
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
    StackingRegressor,
    VotingRegressor,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import (
    RFE,
    RFECV,
    GenericUnivariateSelect,
    SelectFdr,
    SelectFpr,
    SelectFromModel,
    SelectFwe,
    SelectKBest,
    SelectPercentile,
    VarianceThreshold,
    f_regression,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import (
    ARDRegression,
    BayesianRidge,
    ElasticNet,
    ElasticNetCV,
    GammaRegressor,
    HuberRegressor,
    Lars,
    LarsCV,
    Lasso,
    LassoCV,
    LassoLars,
    LassoLarsCV,
    LassoLarsIC,
    LinearRegression,
    LogisticRegression,
    LogisticRegressionCV,
    MultiTaskElasticNet,
    MultiTaskElasticNetCV,
    MultiTaskLasso,
    MultiTaskLassoCV,
    OrthogonalMatchingPursuit,
    OrthogonalMatchingPursuitCV,
    PassiveAggressiveClassifier,
    PassiveAggressiveRegressor,
    Perceptron,
    PoissonRegressor,
    QuantileRegressor,
    RANSACRegressor,
    Ridge,
    RidgeClassifier,
    RidgeClassifierCV,
    RidgeCV,
    SGDClassifier,
    SGDRegressor,
    TheilSenRegressor,
    TweedieRegressor,
)
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import MultiOutputRegressor
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

DATA = Path(__file__).parent / "data" / "credit_balance_slice.csv"
FEATURES = ["Income", "Limit", "Rating", "Cards", "Age", "Education"]


@dataclass(frozen=True)
class Data:
    """Real rows: `X` the six numeric columns as read, `Xs` the same standardised with numpy (iterative solvers
    converge on it), `y` Balance, `Y` (Balance, Limit) for multi-target models on `X_multi` (Limit dropped),
    `student` the Yes/No label, `band` a three-class label (Rating tercile)."""

    X: np.ndarray
    Xs: np.ndarray
    y: np.ndarray
    Y: np.ndarray
    X_multi: np.ndarray
    student: np.ndarray
    band: np.ndarray


@cache
def data() -> Data:
    frame = pd.read_csv(DATA)
    X = frame[FEATURES].to_numpy(dtype=np.float64)
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    rating = frame["Rating"].to_numpy(dtype=np.float64)
    band = np.digitize(rating, np.quantile(rating, [1 / 3, 2 / 3]))
    balance = frame["Balance"].to_numpy(dtype=np.float64)
    return Data(X=X, Xs=Xs, y=balance, Y=np.column_stack([balance, frame["Limit"].to_numpy(np.float64)]),
                X_multi=np.delete(Xs, 1, axis=1), student=frame["Student"].to_numpy().astype(str), band=band)


@dataclass(frozen=True)
class Case:
    """One end-to-end case: `build(data)` returns (fitted estimator, rows to check); `covers` is the table row.
    `refused` names formats this fitted model must be refused in although its row supports the format (a
    parameter the row's note refuses, e.g. TweedieRegressor's log link in Core ML)."""

    id: str
    covers: type
    build: Callable[[Data], tuple[Any, np.ndarray]]
    refused: tuple[str, ...] = ()


def _fit(est: Any, X: np.ndarray, y: Any = None) -> tuple[Any, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, FutureWarning, UserWarning))
        return est.fit(X, y), X


def regressor(cls: type, make: Callable[[], Any] | None = None, target: str = "y") -> Case:
    def build(d: Data) -> tuple[Any, np.ndarray]:
        est = make() if make else cls()
        if target == "Y":
            return _fit(est, d.X_multi, d.Y)
        return _fit(est, d.Xs, d.y + 1.0 if target == "positive" else d.y)
    return Case(f"{cls.__name__}-{target}" if target != "y" else cls.__name__, cls, build)


def classifier(cls: type, make: Callable[[], Any] | None = None, label: str = "student") -> Case:
    def build(d: Data) -> tuple[Any, np.ndarray]:
        return _fit(make() if make else cls(), d.Xs, d.student if label == "student" else d.band)
    return Case(f"{cls.__name__}-{label}", cls, build)


def transformer(cls: type, make: Callable[[], Any] | None = None, raw: bool = False) -> Case:
    def build(d: Data) -> tuple[Any, np.ndarray]:
        return _fit(make() if make else cls(), d.X if raw else d.Xs, d.y)
    return Case(cls.__name__, cls, build)


def _one_hot(d: Data) -> tuple[Any, np.ndarray]:
    # Cards, Education: integer-valued columns. Inside a pipeline: parity reads a lone encoder's Core ML output as a
    # prediction (its spec names no predicted feature), see parity.runtimes.coreml_roles.
    X = d.X[:, [3, 5]]
    return _fit(make_pipeline(OneHotEncoder(handle_unknown="ignore", sparse_output=False), Ridge()), X, d.y)


def _small(cls: type, *args: Any, **params: Any) -> Callable[[], Any]:
    return lambda: cls(*args, **params)


_TREE = {"max_depth": 4, "random_state": 0}
_FOREST = {"n_estimators": 5, "max_depth": 4, "random_state": 0}

CASES: tuple[Case, ...] = (
    # trees
    regressor(DecisionTreeRegressor, _small(DecisionTreeRegressor, **_TREE)),
    classifier(DecisionTreeClassifier, _small(DecisionTreeClassifier, **_TREE)),
    regressor(RandomForestRegressor, _small(RandomForestRegressor, **_FOREST)),
    classifier(RandomForestClassifier, _small(RandomForestClassifier, **_FOREST), label="band"),
    regressor(ExtraTreesRegressor, _small(ExtraTreesRegressor, **_FOREST)),
    classifier(ExtraTreesClassifier, _small(ExtraTreesClassifier, **_FOREST)),
    regressor(GradientBoostingRegressor, _small(GradientBoostingRegressor, **_FOREST)),
    classifier(GradientBoostingClassifier, _small(GradientBoostingClassifier, **_FOREST), label="band"),
    regressor(HistGradientBoostingRegressor, _small(HistGradientBoostingRegressor, max_iter=5)),
    classifier(HistGradientBoostingClassifier, _small(HistGradientBoostingClassifier, max_iter=5)),
    # linear regressors: X @ coef_.T + intercept_
    *(regressor(cls) for cls in (
        LinearRegression, Ridge, Lasso, ElasticNet, SGDRegressor, LinearSVR, HuberRegressor, BayesianRidge,
        ARDRegression, Lars, LarsCV, LassoLars, LassoLarsCV, LassoLarsIC, OrthogonalMatchingPursuit,
        OrthogonalMatchingPursuitCV, PassiveAggressiveRegressor, RidgeCV, LassoCV, ElasticNetCV)),
    regressor(QuantileRegressor, _small(QuantileRegressor, alpha=0.1)),
    regressor(TheilSenRegressor, _small(TheilSenRegressor, max_subpopulation=200, random_state=0)),
    regressor(RANSACRegressor, _small(RANSACRegressor, random_state=0)),
    *(regressor(cls, target="Y") for cls in (LinearRegression, MultiTaskLasso, MultiTaskElasticNet)),
    regressor(MultiTaskLassoCV, _small(MultiTaskLassoCV, cv=3), target="Y"),
    regressor(MultiTaskElasticNetCV, _small(MultiTaskElasticNetCV, cv=3), target="Y"),
    # GLMs (log link: exp in the head; Tweedie power 0: identity)
    regressor(PoissonRegressor),
    regressor(GammaRegressor, target="positive"),
    regressor(TweedieRegressor, _small(TweedieRegressor, power=0.0)),
    Case("TweedieRegressor-log", TweedieRegressor,
         lambda d: _fit(TweedieRegressor(power=1.5), d.Xs, d.y + 1.0), refused=("coreml",)),
    # linear classifiers
    classifier(LogisticRegression),
    classifier(LogisticRegression, label="band"),
    classifier(LogisticRegressionCV, _small(LogisticRegressionCV, cv=3)),
    classifier(LogisticRegressionCV, _small(LogisticRegressionCV, cv=3), label="band"),
    classifier(LinearDiscriminantAnalysis),
    classifier(LinearDiscriminantAnalysis, label="band"),
    classifier(SGDClassifier, _small(SGDClassifier, loss="log_loss", random_state=0)),
    classifier(RidgeClassifier, label="band"),
    classifier(RidgeClassifierCV),
    classifier(PassiveAggressiveClassifier, _small(PassiveAggressiveClassifier, random_state=0), label="band"),
    classifier(LinearSVC),
    classifier(Perceptron, _small(Perceptron, random_state=0), label="band"),
    classifier(OneVsRestClassifier, lambda: OneVsRestClassifier(LogisticRegression()), label="band"),
    # kernels, neighbours, networks
    classifier(SVC, _small(SVC, probability=True, random_state=0), label="band"),
    classifier(NuSVC, _small(NuSVC, nu=0.3), label="band"),
    regressor(SVR),
    regressor(NuSVR),
    classifier(KNeighborsClassifier, label="band"),
    classifier(MLPClassifier, _small(MLPClassifier, hidden_layer_sizes=(8,), max_iter=50, random_state=0)),
    regressor(MLPRegressor, _small(MLPRegressor, hidden_layer_sizes=(8,), max_iter=50, random_state=0)),
    # transformers
    transformer(StandardScaler, raw=True),
    Case("StandardScaler-with_mean=False", StandardScaler,
         lambda d: _fit(StandardScaler(with_mean=False), d.X)),
    transformer(MinMaxScaler, raw=True),
    transformer(MaxAbsScaler, raw=True),
    transformer(RobustScaler, raw=True),
    transformer(Normalizer, raw=True),
    transformer(SimpleImputer, raw=True),
    Case("OneHotEncoder", OneHotEncoder, _one_hot),
    transformer(PCA, _small(PCA, n_components=3)),
    transformer(TruncatedSVD, _small(TruncatedSVD, n_components=3, random_state=0), raw=True),
    transformer(VarianceThreshold, _small(VarianceThreshold, threshold=2.0), raw=True),
    transformer(SelectKBest, _small(SelectKBest, f_regression, k=3)),
    transformer(SelectPercentile, _small(SelectPercentile, f_regression, percentile=50)),
    transformer(SelectFpr, _small(SelectFpr, f_regression, alpha=0.01)),
    transformer(SelectFdr, _small(SelectFdr, f_regression, alpha=0.01)),
    transformer(SelectFwe, _small(SelectFwe, f_regression, alpha=0.01)),
    transformer(GenericUnivariateSelect, _small(GenericUnivariateSelect, f_regression, mode="k_best", param=2)),
    transformer(SelectFromModel, lambda: SelectFromModel(Lasso(alpha=10.0))),
    regressor(RFE, lambda: RFE(Ridge(), n_features_to_select=3)),
    classifier(RFECV, lambda: RFECV(LogisticRegression(), cv=3)),
    # compositions
    regressor(Pipeline, lambda: make_pipeline(StandardScaler(), Ridge())),
    Case("ColumnTransformer", ColumnTransformer, lambda d: _fit(
        ColumnTransformer([("scale", RobustScaler(), [0, 1]), ("pca", PCA(n_components=2), [2, 3, 4])],
                          remainder="passthrough"), d.X)),
    regressor(VotingRegressor, lambda: VotingRegressor(
        [("ridge", Ridge()), ("tree", DecisionTreeRegressor(**_TREE)), ("svr", SVR())], weights=[2.0, 1.0, 1.0])),
    regressor(BaggingRegressor, lambda: BaggingRegressor(
        DecisionTreeRegressor(max_depth=3), n_estimators=4, max_features=4, bootstrap_features=True,
        random_state=0)),
    regressor(StackingRegressor, lambda: StackingRegressor(
        [("ridge", Ridge()), ("tree", DecisionTreeRegressor(**_TREE))], final_estimator=Ridge(), cv=3,
        passthrough=True)),
    regressor(MultiOutputRegressor, lambda: MultiOutputRegressor(Ridge()), target="Y"),
)
