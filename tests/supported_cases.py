"""THE table-driven list of end-to-end cases: at least one small fitted instance of every supported type (every row
of `export.frontends.supported()`), on data that ships with scikit-learn. tests/test_end_to_end.py sends each
through both writers and `parity.check` against the Python model; a row without a case fails there.

Adding a model type: add its row to the front-end registry and one `Case` here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.decomposition import PCA, FastICA, KernelPCA, TruncatedSVD
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.ensemble import (
    BaggingClassifier,
    BaggingRegressor,
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    IsolationForest,
    RandomForestClassifier,
    RandomForestRegressor,
    StackingClassifier,
    StackingRegressor,
    VotingClassifier,
    VotingRegressor,
)
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer, TfidfVectorizer
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
from sklearn.impute import MissingIndicator, SimpleImputer
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
from sklearn.multiclass import OneVsOneClassifier, OneVsRestClassifier
from sklearn.multioutput import MultiOutputRegressor, RegressorChain
from sklearn.naive_bayes import BernoulliNB, CategoricalNB, ComplementNB, GaussianNB, MultinomialNB
from sklearn.neighbors import (
    KNeighborsClassifier,
    KNeighborsRegressor,
    NearestCentroid,
    RadiusNeighborsClassifier,
    RadiusNeighborsRegressor,
)
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    Binarizer,
    FunctionTransformer,
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    PowerTransformer,
    QuantileTransformer,
    RobustScaler,
    SplineTransformer,
    StandardScaler,
    TargetEncoder,
)
from sklearn.svm import SVC, SVR, LinearSVC, LinearSVR, NuSVC, NuSVR, OneClassSVM
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


@cache
def binary_with_nan() -> Data:
    """`binary` with 10% NaN: the boosting libraries route NaN by each node's default direction."""
    X, y = binary()
    X = X.copy()
    X[np.random.default_rng(0).random(X.shape) < 0.1] = np.nan
    return X, y


def xgboost_booster() -> Any:
    import xgboost

    X, y = binary_with_nan()
    return xgboost.train({"objective": "binary:logistic", "max_depth": 3, "nthread": 1}, xgboost.DMatrix(X, y), 5)


def lightgbm_booster() -> Any:
    import lightgbm

    X, y = regression()
    params = {"objective": "poisson", "num_leaves": 7, "min_data_in_leaf": 5, "verbose": -1, "num_threads": 1}
    return lightgbm.train(params, lightgbm.Dataset(X, y), 5)


def boosting(library: str, name: str, **params: Any) -> Callable[[], Any]:
    """A small model of one of the boosting libraries' sklearn-API types (imported when the case runs)."""
    def make() -> Any:
        import importlib

        return getattr(importlib.import_module(library), name)(**params)

    return make


def catboost_logloss() -> Any:
    import catboost

    return catboost.CatBoost({"loss_function": "Logloss", **_CAT})  # the core type takes one params dict


_XGB = {"n_estimators": 5, "max_depth": 3, "n_jobs": 1}
_LGB = {"n_estimators": 5, "num_leaves": 7, "min_child_samples": 5, "verbose": -1, "n_jobs": 1}
_CAT = {"iterations": 5, "depth": 3, "verbose": False, "allow_writing_files": False, "thread_count": 1}


def iris_rounded() -> Data:
    return np.round(iris()[0]), None


CHURN_STRINGS = ["contract", "internet_service", "payment_method"]
CHURN_NUMBERS = ["tenure", "monthly_charges", "total_charges"]


def churn(categories: bool = False) -> tuple[Any, Any]:
    """Real telco rows (tests/data/telco_churn_slice.csv, pandas 3 str columns) with missing strings; string labels;
    `categories`: the string columns as pandas category (HistGradientBoosting's from_dtype)."""
    import pandas as pd

    frame = pd.read_csv(Path(__file__).parent / "data" / "telco_churn_slice.csv")
    X = frame[CHURN_STRINGS + CHURN_NUMBERS].copy()
    X.loc[X.index[3:9], "payment_method"] = np.nan
    if categories:
        for column in CHURN_STRINGS:
            X[column] = X[column].astype("category")
    return X, frame["churn"]


def churn_charges() -> tuple[Any, Any]:
    """`churn(categories=True)` without monthly_charges, which becomes the regression target."""
    X, _ = churn(categories=True)
    return X.drop(columns="monthly_charges"), X["monthly_charges"]


def churn_churned() -> tuple[Any, Any]:
    """`churn(categories=True)` with 0/1 labels (XGBClassifier takes 0..K-1)."""
    X, y = churn(categories=True)
    return X, (y == "Yes").astype(int)


def churn_strings() -> tuple[Any, Any]:
    X, y = churn()
    return X[CHURN_STRINGS], y


def churn_pipeline() -> Pipeline:
    columns = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), CHURN_STRINGS),
                                 ("num", make_pipeline(SimpleImputer(), StandardScaler()), CHURN_NUMBERS)])
    return Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=1000))])
CREDIT = Path(__file__).parent / "data" / "credit_balance_slice.csv"
CREDIT_FEATURES = ["Income", "Limit", "Rating", "Cards", "Age", "Education"]


@cache
def _credit_frame() -> pd.DataFrame:
    return pd.read_csv(CREDIT)


@cache
def credit_raw() -> Data:
    """Real rows (ISLR Credit, tests/data): the six numeric columns as read, target Balance."""
    frame = _credit_frame()
    return frame[CREDIT_FEATURES].to_numpy(dtype=np.float64), frame["Balance"].to_numpy(dtype=np.float64)


@cache
def credit() -> Data:
    """credit_raw standardised with numpy (iterative solvers converge on it)."""
    X, y = credit_raw()
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def credit_positive() -> Data:
    X, y = credit()
    return X, y + 1.0  # Gamma / Tweedie(power > 1) need y > 0; Balance has zeros


@cache
def credit_two_targets() -> Data:
    """Balance and Limit as two targets, from the other five standardised columns."""
    X, y = credit()
    return np.delete(X, 1, axis=1), np.column_stack([y, credit_raw()[0][:, 1]])


@cache
def credit_student() -> Data:
    """The Yes/No Student label (string classes, about 10 % Yes)."""
    return credit()[0], _credit_frame()["Student"].to_numpy().astype(str)


@cache
def credit_band() -> Data:
    """Three classes: the Rating tercile."""
    X, _ = credit()
    rating = credit_raw()[0][:, 2]
    return X, np.digitize(rating, np.quantile(rating, [1 / 3, 2 / 3]))


APPLICATIONS = Path(__file__).parent / "data" / "credit_card_applications_slice.csv"
APPLICATION_COUNTS = ["reports", "dependents", "majorcards", "active", "share", "expenditure"]


@cache
def applications_counts() -> Data:
    """Real rows (AER CreditCard, tests/data): counts and amounts, many of them 0; label card yes/no (BernoulliNB
    binarises them at its threshold)."""
    frame = pd.read_csv(APPLICATIONS)
    return frame[APPLICATION_COUNTS].to_numpy(dtype=np.float64), frame["card"].to_numpy().astype(str)


@cache
def credit_categories() -> Data:
    """ISLR Credit's integer columns Cards and Education as category indices (CategoricalNB), label Student."""
    frame = _credit_frame()
    return frame[["Cards", "Education"]].to_numpy(dtype=np.float64), credit_student()[1]


def applications_indicators() -> Data:
    """applications_counts as 0/1 indicators (count > 0): BernoulliNB(binarize=None) reads them as they are."""
    X, y = applications_counts()
    return (X > 0).astype(np.float64), y


def credit_continuous() -> Data:
    """credit's continuous columns (Income, Limit, Rating): no ties in Chebyshev distance, which the discrete
    columns would cause at the k-th neighbour."""
    X, y = credit()
    return X[:, :3], y


def credit_categories_band() -> Data:
    return credit_categories()[0], credit_band()[1]


@cache
def credit_raw_with_missing() -> Data:
    """credit_raw with 10 % of Income / Age / Education set to NaN (seeded): the missing-indicator cases."""
    X, y = credit_raw()
    X = X.copy()
    mask = np.random.default_rng(0).random(X.shape) < 0.1
    mask[:, [1, 2, 3]] = False
    X[mask] = np.nan
    return X, y
TATE = Path(__file__).parent / "data" / "tate_artworks_slice.csv"


@cache
def tate_titles() -> tuple[list[str], np.ndarray]:
    """Real titles (tests/data/tate_titles.csv) and their medium kind (Etching, Screenprint, ...): 500 documents."""
    import text_corpus

    titles, kinds = text_corpus.training_set()
    return titles[:500], np.asarray(kinds[:500])


def tate_documents() -> tuple[list[str], None]:
    return tate_titles()[0], None


@cache
def tate_counts() -> Data:
    """The titles' term counts (40 most frequent terms) as a dense matrix: what TfidfTransformer reads alone."""
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(max_features=40).fit_transform(tate_titles()[0]).toarray().astype(np.float64), None


@cache
def application_dicts() -> tuple[list[dict[str, Any]], Any]:
    """Real credit card applications (tests/data/credit_card_applications_slice.csv) as a list of dicts, the way a
    DictVectorizer model is fed: numbers, and the yes/no columns as strings ("owner=yes" features); a row leaves
    out its zero `reports` and `dependents` keys (a sparse record). Label: the card was granted."""
    frame = pd.read_csv(APPLICATIONS)
    records = frame[["reports", "age", "income", "share", "dependents", "owner", "selfemp"]].to_dict("records")
    dicts = [{k: v for k, v in r.items() if not (k in ("reports", "dependents") and v == 0)} for r in records]
    return dicts, frame["card"].to_numpy()


@cache
def tate_frame() -> tuple[Any, Any]:
    """Real Tate rows (tests/data/tate_artworks_slice.csv): title (text), artist (string), year (number); label the
    medium, its four most common values else 'Other'."""
    frame = pd.read_csv(TATE)
    top = frame["medium"].value_counts().index[:4]
    return frame[["title", "artist", "year"]], frame["medium"].where(frame["medium"].isin(top), "Other").to_numpy()


def tate_text_pipeline() -> Pipeline:
    columns = ColumnTransformer([("title", TfidfVectorizer(), "title"),
                                 ("artist", OneHotEncoder(handle_unknown="ignore", min_frequency=3), ["artist"]),
                                 ("year", StandardScaler(), ["year"])])
    return Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=1000))])


@dataclass(frozen=True)
class Case:
    """One estimator fitted on one dataset. Documented Core ML format limits (the row's `coreml` note):
    `coreml_refusal` — the Core ML writer must refuse this case with an error matching it; `coreml_fails_only_on` —
    the Core ML artifact is written, and parity must fail on exactly this (output role, probe set) and nowhere else
    (a limit that is measured, never hidden)."""

    name: str
    make: Callable[[], Any]
    data: Callable[[], Any]
    coreml_refusal: str | None = None
    coreml_fails_only_on: tuple[str, str] | None = None
    trained: bool = False  # `make` returns a model already trained on `data` (a boosting library's Booster)

    def fit(self) -> tuple[Any, Any]:
        X, y = self.data()
        estimator = self.make()
        if not self.trained:
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
    # DataFrames with string columns (one input per column, "" = missing; tests/test_dataframe_export.py has more)
    Case("ordinal-encoder-strings", lambda: OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                                           encoded_missing_value=-2), churn_strings),
    Case("target-encoder-strings", TargetEncoder, churn_strings),
    Case("dataframe-pipeline-strings", churn_pipeline, churn),
    Case("hist-gradient-boosting-native-categorical",
         lambda: HistGradientBoostingClassifier(max_iter=10, random_state=0), lambda: churn(categories=True)),
    # scikit-learn breadth on real rows (ISLR Credit): linear models whose predict is X @ coef_.T + intercept_
    *(Case(cls.__name__, cls, credit) for cls in (
        HuberRegressor, BayesianRidge, ARDRegression, Lars, LarsCV, LassoLars, LassoLarsCV, LassoLarsIC,
        OrthogonalMatchingPursuit, OrthogonalMatchingPursuitCV, RidgeCV, LassoCV, ElasticNetCV)),
    Case("PassiveAggressiveRegressor", lambda: PassiveAggressiveRegressor(random_state=0), credit),
    Case("QuantileRegressor", lambda: QuantileRegressor(alpha=0.1), credit),
    Case("TheilSenRegressor", lambda: TheilSenRegressor(max_subpopulation=200, random_state=0), credit),
    Case("RANSACRegressor", lambda: RANSACRegressor(random_state=0), credit),
    Case("linear-regression-two-targets", LinearRegression, credit_two_targets),
    Case("MultiTaskLasso", MultiTaskLasso, credit_two_targets),
    Case("MultiTaskElasticNet", MultiTaskElasticNet, credit_two_targets),
    Case("MultiTaskLassoCV", lambda: MultiTaskLassoCV(cv=3), credit_two_targets),
    Case("MultiTaskElasticNetCV", lambda: MultiTaskElasticNetCV(cv=3), credit_two_targets),
    # GLMs: log link = the head's exp link (refused in Core ML: GLMRegressor has no link); Tweedie power 0 = identity
    Case("PoissonRegressor", PoissonRegressor, credit),
    Case("GammaRegressor", GammaRegressor, credit_positive),
    Case("TweedieRegressor-identity", lambda: TweedieRegressor(power=0.0), credit),
    Case("TweedieRegressor-log", lambda: TweedieRegressor(power=1.5), credit_positive,
         coreml_refusal="regression link 'exp' has no exact Core ML encoding"),
    Case("LogisticRegressionCV-binary", lambda: LogisticRegressionCV(cv=3), credit_student),
    Case("LogisticRegressionCV-multiclass", lambda: LogisticRegressionCV(cv=3), credit_band),
    Case("LinearDiscriminantAnalysis-binary", LinearDiscriminantAnalysis, credit_student),
    Case("LinearDiscriminantAnalysis-multiclass", LinearDiscriminantAnalysis, credit_band),
    Case("RidgeClassifierCV", RidgeClassifierCV, credit_student),
    Case("PassiveAggressiveClassifier", lambda: PassiveAggressiveClassifier(random_state=0), credit_band),
    Case("TruncatedSVD", lambda: TruncatedSVD(n_components=3, random_state=0), unlabelled(credit_raw)),
    Case("VarianceThreshold", lambda: VarianceThreshold(threshold=2.0), unlabelled(credit_raw)),
    Case("SelectKBest", lambda: SelectKBest(f_regression, k=3), credit),
    Case("SelectPercentile", lambda: SelectPercentile(f_regression, percentile=50), credit),
    Case("SelectFpr", lambda: SelectFpr(f_regression, alpha=0.01), credit),
    Case("SelectFdr", lambda: SelectFdr(f_regression, alpha=0.01), credit),
    Case("SelectFwe", lambda: SelectFwe(f_regression, alpha=0.01), credit),
    Case("GenericUnivariateSelect", lambda: GenericUnivariateSelect(f_regression, mode="k_best", param=2), credit),
    Case("SelectFromModel", lambda: SelectFromModel(Lasso(alpha=10.0)), credit),
    Case("RFE", lambda: RFE(Ridge(), n_features_to_select=3), credit),
    Case("RFECV", lambda: RFECV(LogisticRegression(), cv=3), credit_student),
    # meta-regressors: members' scores side by side (Concat), then a LinearModel (mean / final estimator / identity)
    Case("VotingRegressor", lambda: VotingRegressor(
        [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=4, random_state=0)), ("svr", SVR())],
        weights=[2.0, 1.0, 1.0]), credit),
    Case("BaggingRegressor", lambda: BaggingRegressor(
        DecisionTreeRegressor(max_depth=3), n_estimators=4, max_features=4, bootstrap_features=True,
        random_state=0), credit),
    Case("StackingRegressor", lambda: StackingRegressor(
        [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=4, random_state=0))], final_estimator=Ridge(),
        cv=3, passthrough=True), credit),
    Case("MultiOutputRegressor", lambda: MultiOutputRegressor(Ridge()), credit_two_targets),
    Case("RegressorChain", lambda: RegressorChain(Ridge(), order=[1, 0]), credit_two_targets),
    Case("RegressorChain-trees", lambda: RegressorChain(DecisionTreeRegressor(max_depth=4, random_state=0)),
         credit_two_targets),
    Case("TransformedTargetRegressor-log", lambda: TransformedTargetRegressor(
        Ridge(), func=np.log, inverse_func=np.exp), credit_positive,
         coreml_refusal="regression link 'exp' has no exact Core ML encoding"),
    Case("TransformedTargetRegressor-log1p", lambda: TransformedTargetRegressor(
        DecisionTreeRegressor(max_depth=4, random_state=0), func=np.log1p, inverse_func=np.expm1), credit,
         coreml_refusal="regression link 'expm1' has no exact Core ML encoding"),
    Case("TransformedTargetRegressor-scaler", lambda: TransformedTargetRegressor(
        Ridge(), transformer=StandardScaler()), credit),
    # naive Bayes and discriminants on real rows (h14-models)
    Case("BernoulliNB", BernoulliNB, applications_counts),
    Case("BernoulliNB-threshold-multiclass", lambda: BernoulliNB(binarize=0.25), credit_band),
    Case("BernoulliNB-no-binarize", lambda: BernoulliNB(binarize=None), applications_indicators),
    Case("CategoricalNB", CategoricalNB, credit_categories),
    Case("CategoricalNB-min-categories", lambda: CategoricalNB(min_categories=[12, 25]), credit_categories_band),
    Case("QuadraticDiscriminantAnalysis-binary", QuadraticDiscriminantAnalysis, credit_student),
    Case("QuadraticDiscriminantAnalysis-multiclass", lambda: QuadraticDiscriminantAnalysis(reg_param=0.01),
         credit_band, coreml_refusal="no double-precision encoding"),
    # k-NN on real rows, parity at the training rows themselves (distance 0: the zero-distance rule) (h14-models)
    Case("KNeighborsRegressor", KNeighborsRegressor, credit),
    Case("KNeighborsRegressor-distance", lambda: KNeighborsRegressor(weights="distance"), credit),
    Case("KNeighborsRegressor-manhattan-two-targets", lambda: KNeighborsRegressor(3, weights="distance", p=1),
         credit_two_targets),
    Case("KNeighborsRegressor-minkowski-3-ball-tree", lambda: KNeighborsRegressor(
        weights="distance", p=3, algorithm="ball_tree"), credit),
    Case("KNeighborsRegressor-chebyshev", lambda: KNeighborsRegressor(weights="distance", metric="chebyshev"),
         credit_continuous),
    Case("KNeighborsClassifier-distance", lambda: KNeighborsClassifier(weights="distance"), credit_band,
         coreml_refusal="no exact encoding"),
    Case("KNeighborsClassifier-manhattan-strings", lambda: KNeighborsClassifier(7, weights="distance",
                                                                                metric="manhattan"), credit_student,
         coreml_refusal="no exact encoding"),
    Case("KNeighborsClassifier-uniform-probabilities", lambda: KNeighborsClassifier(6), credit_band),
    Case("MLPRegressor-poisson", lambda: MLPRegressor(hidden_layer_sizes=(8,), loss="poisson", max_iter=500,
                                                      random_state=0), credit_positive),
    Case("SVC-break-ties", lambda: SVC(break_ties=True), credit_band, coreml_refusal="break_ties=True"),
    Case("SVC-break-ties-probabilities", lambda: SVC(break_ties=True, probability=True, random_state=0), credit_band,
         coreml_refusal="break_ties=True"),
    Case("RadiusNeighborsRegressor", lambda: RadiusNeighborsRegressor(radius=1.5), credit),
    Case("RadiusNeighborsRegressor-distance-manhattan", lambda: RadiusNeighborsRegressor(radius=2.0, p=1,
                                                                                        weights="distance"), credit),
    Case("RadiusNeighborsClassifier", lambda: RadiusNeighborsClassifier(radius=1.5, outlier_label="most_frequent"),
         credit_band),
    Case("RadiusNeighborsClassifier-distance", lambda: RadiusNeighborsClassifier(
        radius=1.0, weights="distance", outlier_label="No"), credit_student),
    Case("NearestCentroid-binary", NearestCentroid, credit_student),
    Case("NearestCentroid-multiclass", NearestCentroid, credit_band, coreml_refusal="no double-precision encoding"),
    Case("NearestCentroid-priors-binary", lambda: NearestCentroid(priors="empirical"), credit_student),
    Case("NearestCentroid-shrunk-priors-multiclass", lambda: NearestCentroid(priors=[0.5, 0.3, 0.2],
                                                                             shrink_threshold=0.3), credit_band,
         coreml_refusal="no double-precision encoding"),
    # outlier detectors: score = decision_function, label = predict (ONNX; Core ML refused, see the table)
    Case("IsolationForest", lambda: IsolationForest(n_estimators=20, random_state=0), unlabelled(credit)),
    Case("IsolationForest-feature-subsets", lambda: IsolationForest(n_estimators=10, max_samples=64, max_features=3,
                                                                   random_state=0), unlabelled(credit_raw)),
    Case("OneClassSVM", lambda: OneClassSVM(nu=0.1), unlabelled(credit)),
    Case("OneClassSVM-linear", lambda: OneClassSVM(kernel="linear", nu=0.2), unlabelled(credit)),
    # meta-classifiers: members' probabilities / label votes as body vectors (ClassifierOutput), then the combination
    Case("VotingClassifier-soft", lambda: VotingClassifier(
        [("lr", LogisticRegression()), ("forest", RandomForestClassifier(5, max_depth=3, random_state=0)),
         ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))], voting="soft", weights=[2.0, 1.0, 0.5]),
         credit_band),
    Case("VotingClassifier-hard", lambda: VotingClassifier(
        [("lr", LogisticRegression()), ("svc", LinearSVC()), ("tree", DecisionTreeClassifier(max_depth=3,
                                                                                             random_state=0))],
        voting="hard"), credit_band),
    Case("VotingClassifier-hard-rounding-weights", lambda: VotingClassifier(
        [("lr", LogisticRegression()), ("svc", LinearSVC()), ("tree", DecisionTreeClassifier(max_depth=3,
                                                                                             random_state=0))],
        voting="hard", weights=[0.1, 0.2, 0.3]), credit_band, coreml_refusal="sums round"),
    Case("VotingClassifier-hard-binary-weights", lambda: VotingClassifier(
        [("lr", LogisticRegression()), ("nb", GaussianNB()), ("tree", DecisionTreeClassifier(max_depth=2,
                                                                                            random_state=0))],
        voting="hard", weights=[1.0, 1.0, 0.5]), credit_student),
    Case("StackingClassifier-auto-passthrough", lambda: StackingClassifier(
        [("lr", LogisticRegression()), ("forest", RandomForestClassifier(5, max_depth=3, random_state=0)),
         ("svc", LinearSVC())], final_estimator=LogisticRegression(), cv=3, passthrough=True), credit_band),
    Case("StackingClassifier-binary-mixed-methods", lambda: StackingClassifier(
        [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
         ("ridge", RidgeClassifier())], final_estimator=DecisionTreeClassifier(max_depth=3, random_state=0),
        stack_method="auto", cv=3), credit_student),
    Case("StackingClassifier-predict", lambda: StackingClassifier(
        [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))],
        final_estimator=LogisticRegression(), stack_method="predict", cv=3), credit_student),
    Case("BaggingClassifier", lambda: BaggingClassifier(
        DecisionTreeClassifier(max_depth=3), n_estimators=4, max_features=4, bootstrap_features=True,
        random_state=0), credit_band),
    Case("BaggingClassifier-votes", lambda: BaggingClassifier(
        LinearSVC(), n_estimators=3, max_samples=0.5, random_state=0), credit_band),
    Case("OneVsOneClassifier", lambda: OneVsOneClassifier(LinearSVC()), credit_band),
    Case("OneVsOneClassifier-proba-members", lambda: OneVsOneClassifier(GaussianNB()), credit_band),
    Case("CalibratedClassifierCV-sigmoid", lambda: CalibratedClassifierCV(LinearSVC(), cv=3), credit_band),
    Case("CalibratedClassifierCV-sigmoid-binary-single", lambda: CalibratedClassifierCV(
        SVC(), cv=3, ensemble=False), credit_student),
    Case("CalibratedClassifierCV-svc-multiclass", lambda: CalibratedClassifierCV(SVC(), cv=3), credit_band,
         coreml_refusal="one-vs-one confidence transform"),
    Case("CalibratedClassifierCV-isotonic", lambda: CalibratedClassifierCV(GaussianNB(), method="isotonic", cv=3),
         credit_student, coreml_refusal="piecewise-linear interpolation"),
    # The boosting libraries (export/from_boosting): serialised by the library, read back by our reader; the
    # library's own predictions are the truth (parity.references.xgboost/lightgbm/catboost).
    Case("xgboost-booster-binary-nan", xgboost_booster, binary_with_nan, trained=True),
    Case("xgb-classifier-multiclass", boosting("xgboost", "XGBClassifier", **_XGB), iris),
    Case("xgb-regressor-poisson", boosting("xgboost", "XGBRegressor", objective="count:poisson", **_XGB), regression),
    # categorical splits: XGBoost >= 3.1 records the category strings -> string inputs ("" and unseen = missing)
    Case("xgb-classifier-category-columns", boosting("xgboost", "XGBClassifier", enable_categorical=True, **_XGB),
         churn_churned),
    Case("xgb-regressor-category-columns-onehot",
         boosting("xgboost", "XGBRegressor", enable_categorical=True, max_cat_to_onehot=8, **_XGB), churn_charges),
    Case("lightgbm-booster-poisson", lightgbm_booster, regression, trained=True),
    Case("lgbm-classifier-binary-nan", boosting("lightgbm", "LGBMClassifier", **_LGB), binary_with_nan),
    Case("lgbm-regressor", boosting("lightgbm", "LGBMRegressor", **_LGB), regression),
    # categorical splits: pandas category columns -> string inputs ("" and unseen = NaN, as LightGBM maps them)
    Case("lgbm-classifier-category-columns", boosting("lightgbm", "LGBMClassifier", **_LGB, min_data_per_group=5),
         lambda: churn(categories=True)),
    Case("lgbm-regressor-category-columns", boosting("lightgbm", "LGBMRegressor", **_LGB, min_data_per_group=5),
         churn_charges),
    Case("catboost-logloss", catboost_logloss, binary_with_nan),
    Case("catboost-classifier-multiclass", boosting("catboost", "CatBoostClassifier", **_CAT), iris),
    Case("catboost-regressor", boosting("catboost", "CatBoostRegressor", **_CAT), regression),
    # preprocessing breadth (issue 14) on real rows: comparisons as exact Bins (critical-points probes at every
    # threshold / bin edge), missing indicators, clip, FastICA
    Case("Binarizer", lambda: Binarizer(threshold=3.0), unlabelled(credit_raw)),
    Case("Binarizer-logistic", lambda: make_pipeline(Binarizer(threshold=3.0), LogisticRegression()),
         lambda: (credit_raw()[0], credit_student()[1])),
    Case("KBinsDiscretizer-ordinal-quantile", lambda: KBinsDiscretizer(
        n_bins=6, encode="ordinal", strategy="quantile", quantile_method="averaged_inverted_cdf"),
         unlabelled(credit_raw)),
    Case("KBinsDiscretizer-onehot-uniform", lambda: KBinsDiscretizer(n_bins=4, encode="onehot", strategy="uniform"),
         unlabelled(credit_raw)),
    Case("KBinsDiscretizer-onehot-dense-kmeans-ridge", lambda: make_pipeline(
        KBinsDiscretizer(n_bins=4, encode="onehot-dense", strategy="kmeans"), Ridge()), credit_raw),
    Case("MinMaxScaler-clip", lambda: MinMaxScaler(clip=True), lambda: (credit_raw()[0][:200:2], None),
         coreml_refusal="no double-precision clamp"),
    Case("MissingIndicator", MissingIndicator, unlabelled(credit_raw_with_missing)),
    Case("MissingIndicator-all", lambda: MissingIndicator(features="all"), unlabelled(credit_raw_with_missing)),
    Case("SimpleImputer-add-indicator-logistic", lambda: make_pipeline(
        SimpleImputer(add_indicator=True), StandardScaler(), LogisticRegression()),
         lambda: (credit_raw_with_missing()[0], credit_student()[1])),
    Case("FastICA", lambda: FastICA(n_components=3, random_state=0), unlabelled(credit_raw)),
    # products and numpy functions: ONNX in double (products bit for bit); Core ML has them only in float32 layers
    Case("PolynomialFeatures", lambda: PolynomialFeatures(degree=3), unlabelled(credit)),
    Case("PolynomialFeatures-interaction-ridge", lambda: make_pipeline(
        PolynomialFeatures(degree=(2, 3), interaction_only=True, include_bias=False), Ridge()), credit,
         coreml_refusal="no double-precision Core ML encoding"),
    Case("QuantileTransformer-uniform", lambda: QuantileTransformer(n_quantiles=50), unlabelled(credit_raw)),
    Case("QuantileTransformer-normal-ridge", lambda: make_pipeline(
        QuantileTransformer(n_quantiles=100, output_distribution="normal"), Ridge()), credit_raw,
         coreml_refusal="no double-precision Core ML encoding"),
    Case("PowerTransformer-yeo-johnson", PowerTransformer, unlabelled(credit),
         coreml_refusal="no double-precision Core ML encoding"),
    Case("PowerTransformer-box-cox-ridge", lambda: make_pipeline(PowerTransformer(method="box-cox"), Ridge()),
         credit_raw, coreml_refusal="no double-precision Core ML encoding"),
    Case("KernelPCA-rbf", lambda: KernelPCA(n_components=3, kernel="rbf", gamma=0.2), unlabelled(credit)),
    Case("KernelPCA-poly-ridge", lambda: make_pipeline(KernelPCA(n_components=4, kernel="poly", degree=2), Ridge()),
         credit),
    Case("KernelPCA-cosine", lambda: KernelPCA(n_components=2, kernel="cosine"), unlabelled(credit)),
    Case("StandardScaler-without-mean", lambda: StandardScaler(with_mean=False), unlabelled(credit_raw)),
    Case("StandardScaler-without-std", lambda: StandardScaler(with_std=False), unlabelled(credit_raw)),
    Case("LinearDiscriminantAnalysis-transform-logistic", lambda: make_pipeline(
        LinearDiscriminantAnalysis(n_components=2), LogisticRegression()), credit_band),
    Case("LinearDiscriminantAnalysis-eigen-transform-ridge", lambda: make_pipeline(
        LinearDiscriminantAnalysis(solver="eigen", n_components=1), Ridge()),
         lambda: (credit()[0], credit_band()[1].astype(float))),
    Case("SplineTransformer", SplineTransformer, unlabelled(credit)),
    Case("SplineTransformer-linear-degree-1", lambda: SplineTransformer(degree=1, n_knots=4, extrapolation="linear"),
         unlabelled(credit)),
    Case("SplineTransformer-periodic-quantile-ridge", lambda: make_pipeline(SplineTransformer(
        degree=2, n_knots=5, knots="quantile", extrapolation="periodic", include_bias=False), Ridge()), credit,
         coreml_refusal="no double-precision Core ML encoding"),
    Case("FunctionTransformer-log1p", lambda: FunctionTransformer(np.log1p), unlabelled(credit_raw),
         coreml_refusal="no double-precision Core ML encoding"),
    Case("FunctionTransformer-expm1", lambda: FunctionTransformer(np.expm1), unlabelled(credit),
         coreml_refusal="no double-precision Core ML encoding"),
    Case("FunctionTransformer-sqrt-ridge", lambda: make_pipeline(FunctionTransformer(np.sqrt), Ridge()), credit_raw,
         coreml_refusal="no double-precision Core ML encoding"),
    # Text (export/from_sklearn/text.py): real Tate titles; ONNX on the raw strings, Core ML on the term counts
    Case("count-vectorizer", lambda: CountVectorizer(min_df=2), tate_documents),
    Case("tfidf-vectorizer-bigrams-english", lambda: TfidfVectorizer(
        ngram_range=(1, 2), stop_words="english", strip_accents="unicode", min_df=2), tate_documents),
    Case("hashing-vectorizer", lambda: HashingVectorizer(n_features=2**8), tate_documents,
         coreml_refusal="no vocabulary for Core ML's dictionary input"),
    Case("tfidf-transformer-counts", TfidfTransformer, tate_counts),
    Case("text-tfidf-logistic", lambda: make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)),
         tate_titles),
    Case("text-tfidf-multinomial-nb", lambda: make_pipeline(TfidfVectorizer(), MultinomialNB()), tate_titles),
    Case("text-counts-sublinear-complement-nb", lambda: make_pipeline(
        CountVectorizer(binary=True), TfidfTransformer(sublinear_tf=True), ComplementNB()), tate_titles,
        coreml_refusal="sublinear_tf=True has no exact Core ML encoding"),
    Case("text-column-transformer", tate_text_pipeline, tate_frame),
    # DictVectorizer (export/from_sklearn/dict_vectorizer.py): real applications as dicts; Core ML on the
    # dictionary, ONNX on the keys/values tensors
    Case("dict-vectorizer-logistic", lambda: make_pipeline(DictVectorizer(sparse=False),
                                                            LogisticRegression(max_iter=2000)), application_dicts),
    Case("dict-vectorizer-unsorted-forest", lambda: make_pipeline(DictVectorizer(sort=False, separator=":"),
                                                                   RandomForestClassifier(n_estimators=5,
                                                                                          max_depth=4,
                                                                                          random_state=0)),
         application_dicts),
    Case("dict-vectorizer", DictVectorizer, lambda: (application_dicts()[0], None)),
)
