"""The front-end registry (`export.frontends`) and `to_ir` dispatch: library-qualified names, exact types, fitted
checks, refusals listing the supported."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import is_classifier, is_regressor
from sklearn.compose import ColumnTransformer
from sklearn.cross_decomposition import PLSRegression
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from supported_cases import CASES

from export import ir
from export.errors import NotFittedError, UnsupportedEstimatorError
from export.from_sklearn import trees
from export.frontends import FrontEnd, lookup, qualified_name, supported, to_ir
from export.to_onnx import route as onnx_route_of

FAMILIES = {"tree", "linear", "kernel", "neighbours", "network", "naive_bayes", "transform", "composition"}
SUPPORTED = tuple(row for row in supported() if row.library == "sklearn")  # boosting rows: test_end_to_end
STRING_ONLY = ("OrdinalEncoder", "TargetEncoder")
DOCUMENTS = ("CountVectorizer", "TfidfVectorizer", "HashingVectorizer")  # read one column of documents


def test_table_rows_are_consistent():
    names = [row.qualified_name for row in SUPPORTED]
    assert len(names) == len(set(names))
    for row in SUPPORTED:
        assert row.qualified_name == f"{row.library}.{row.qualified_name.split('.', 1)[1]}"
        assert row.qualified_name.endswith("." + row.cls.__name__) and row.library == "sklearn"
        assert row.family in FAMILIES
        assert row.coreml.route in ("ir", "none") and row.onnx.route in ("ir", "skl2onnx", "none")


def test_qualified_names_are_the_public_import_paths():
    import importlib

    for row in SUPPORTED:
        module, _, name = row.qualified_name.rpartition(".")
        assert getattr(importlib.import_module(module), name) is row.cls  # e.g. sklearn.ensemble.RandomForest…
    assert qualified_name(LogisticRegression) == "sklearn.linear_model.LogisticRegression"


def test_tree_rows_use_the_tree_converters():
    by_name = {row.name: row.converter for row in SUPPORTED}
    assert by_name["DecisionTreeClassifier"] is trees.decision_tree_to_ir
    assert by_name["DecisionTreeRegressor"] is trees.decision_tree_to_ir
    for name in ("RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor"):
        assert by_name[name] is trees.forest_to_ir
    assert (by_name["GradientBoostingClassifier"] is by_name["GradientBoostingRegressor"]
            is trees.gradient_boosting_to_ir)
    assert (by_name["HistGradientBoostingClassifier"] is by_name["HistGradientBoostingRegressor"]
            is trees.hist_gradient_boosting_to_ir)


def _fitted_instance(cls):
    for case in CASES:  # the end-to-end case list's model for this row, when it is the top-level estimator
        if type(case.make()) is cls:
            return case.fit()[0]
    X, y = load_iris(return_X_y=True)
    if cls is Pipeline:
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    if cls is ColumnTransformer:
        return ColumnTransformer([("s", StandardScaler(), [0, 1])], remainder="passthrough").fit(X)
    if cls is OneVsRestClassifier:
        return OneVsRestClassifier(LogisticRegression(max_iter=500)).fit(X, y)
    if cls.__name__ in STRING_ONLY:  # exported on DataFrame string columns only
        import pandas as pd

        frame = pd.DataFrame({"species": np.array(["setosa", "versicolor", "virginica"])[y]})
        return cls().fit(frame, X[:, 0])
    est = cls()
    small = {k: 5 for k in ("n_estimators", "max_iter") if k in est.get_params()}  # keep ensembles small
    est.set_params(**small)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if is_classifier(est):
            return est.fit(X, y)
        if is_regressor(est):
            return est.fit(X[:, :3], X[:, 3])
        return est.fit(np.round(X) if cls.__name__ == "OneHotEncoder" else X)


@pytest.mark.parametrize("row", SUPPORTED, ids=lambda r: r.name)
def test_every_row_converts_a_default_fitted_instance(row: FrontEnd):
    est = _fitted_instance(row.cls)
    state = pickle.dumps(est)
    model = to_ir(est)
    assert pickle.dumps(est) == state  # converters never mutate the user's estimator
    assert lookup(est) is row
    # the table's ONNX route must be the one the ONNX writer actually takes for this model
    assert onnx_route_of(model) == row.onnx.route
    if row.name in STRING_ONLY:
        assert [c.kind for c in model.inputs.columns] == ["string"] * est.n_features_in_
    elif row.name in DOCUMENTS:
        assert [c.kind for c in model.inputs.columns] == ["string"] and list(model.text_columns()) == ["text"]
    else:
        assert model.inputs.is_block and model.inputs.n_values == est.n_features_in_
    assert isinstance(model.head, ir.Transformed) == (not (is_classifier(est) or is_regressor(est)))


def test_unsupported_estimator_lists_supported_names():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(UnsupportedEstimatorError) as info:
        to_ir(PLSRegression().fit(X, y))
    message = str(info.value)
    assert message.startswith("PLSRegression is not supported")
    for row in SUPPORTED:
        assert row.name in message
    assert "\n" not in message


def test_subclass_refused():
    class MyLogisticRegression(LogisticRegression):
        def predict(self, X):  # a subclass may change predictions: never export it as the parent
            return super().predict(X)[::-1]

    est = MyLogisticRegression()
    est.coef_, est.intercept_, est.classes_ = np.zeros((3, 4)), np.zeros(3), np.arange(3)  # "fitted" cheaply
    with pytest.raises(UnsupportedEstimatorError, match=r"subclass of LogisticRegression.*supported: .*SVC"):
        to_ir(est)


@pytest.mark.parametrize("est", [LogisticRegression(), make_pipeline(StandardScaler(), LogisticRegression()),
                                 StandardScaler(), OneVsRestClassifier(LogisticRegression()),
                                 ColumnTransformer([("s", StandardScaler(), [0])])],
                         ids=["lr", "pipeline", "scaler", "ovr", "column_transformer"])
def test_unfitted_refused(est):
    with pytest.raises(NotFittedError, match=rf"^{type(est).__name__} is not fitted"):
        to_ir(est)


def test_unsupported_wins_over_unfitted():
    with pytest.raises(UnsupportedEstimatorError, match="PLSRegression"):
        to_ir(PLSRegression())


def test_unsupported_step_inside_pipeline_lists_supported():
    X, y = load_iris(return_X_y=True)
    est = make_pipeline(StandardScaler(), PLSRegression()).fit(X, y)
    with pytest.raises(UnsupportedEstimatorError, match=r"PLSRegression is not supported; supported: .*Logistic"):
        to_ir(est)
