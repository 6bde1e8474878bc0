"""Pipeline / ColumnTransformer → IR, checked by the independent oracle (tests/ir_oracle.py) against scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ir_oracle import assert_labels, evaluate
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, RobustScaler, StandardScaler
from sklearn.svm import SVC

from export import ir
from export.errors import UnsupportedEstimatorError
from export.frontends import to_ir

# Chains of scalers / affine maps: a few ulp per step relative to the values flowing through (see the per-node
# tests); model scores inherit that, so they are compared at 1e-9 absolute on O(1..100) values.
TRANSFORM_ATOL = 1e-12
SCORE_ATOL = 1e-9


def _with_holes(X, seed=0):
    X = X.copy()
    X[np.random.default_rng(seed).random(X.shape) < 0.05] = np.nan
    return X


CLASSIFICATION = {
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True),
    "wine": lambda: load_wine(return_X_y=True),
}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("data", sorted(CLASSIFICATION))
@pytest.mark.parametrize("make", [
    lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
    lambda: make_pipeline(SimpleImputer(), RobustScaler(), SVC()),
    lambda: Pipeline([("impute", SimpleImputer(strategy="median")), ("skip", "passthrough"),
                      ("scale", MinMaxScaler()), ("pca", PCA(n_components=5, whiten=True)),
                      ("mlp", MLPClassifier(hidden_layer_sizes=(8,), max_iter=40, random_state=0))]),
    lambda: Pipeline([("inner", make_pipeline(SimpleImputer(), StandardScaler())), ("none", None),
                      ("lr", LogisticRegression(max_iter=500))]),
], ids=["scaler_lr", "imputer_robust_svc", "passthrough_pca_mlp", "nested"])
def test_pipeline_classifiers(data, make):
    X, y = CLASSIFICATION[data]()
    X = _with_holes(X)
    est = make()
    if not isinstance(est.steps[0][1], SimpleImputer) and not isinstance(est.steps[0][1], Pipeline):
        X = np.nan_to_num(X)
    est.fit(X, y)
    model = to_ir(est)
    node = model.output.node
    assert isinstance(node, ir.Pipeline)
    assert not any(isinstance(step, ir.Pipeline) for step in node.steps)  # flattened
    ev = evaluate(model, X)
    assert assert_labels(ev, est.predict(X)) == 0
    if ev.proba is not None:
        np.testing.assert_allclose(ev.proba, est.predict_proba(X), rtol=0, atol=SCORE_ATOL)


@pytest.mark.parametrize("loader", [load_diabetes, lambda return_X_y: (load_iris(return_X_y=True)[0][:, :3],
                                                                      load_iris(return_X_y=True)[0][:, 3])],
                         ids=["diabetes", "iris_petal_width"])
def test_pipeline_regressor_and_transform_only(loader):
    X, y = loader(return_X_y=True)
    est = make_pipeline(StandardScaler(), PCA(n_components=2), Ridge()).fit(X, y)
    np.testing.assert_allclose(evaluate(to_ir(est), X).prediction[:, 0], est.predict(X), rtol=0, atol=SCORE_ATOL)
    transform_only = make_pipeline(StandardScaler(), PCA(n_components=2)).fit(X)
    model = to_ir(transform_only)
    assert isinstance(model.head, ir.Transformed)
    np.testing.assert_allclose(evaluate(model, X).transformed, transform_only.transform(X), rtol=0,
                               atol=TRANSFORM_ATOL)


def test_pipeline_refusals():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(UnsupportedEstimatorError, match="every step is 'passthrough'"):
        to_ir(Pipeline([("a", "passthrough")]).fit(X, y))
    from sklearn.kernel_approximation import Nystroem

    with pytest.raises(UnsupportedEstimatorError, match=r"Nystroem is not supported; supported: .*StandardScaler"):
        to_ir(make_pipeline(Nystroem(n_components=5), LogisticRegression()).fit(X, y))


def _mixed_frame(loader, n_int_columns=2):
    """A DataFrame: the dataset's float columns plus integer category columns (binned first feature)."""
    X, y = loader(return_X_y=True)
    frame = pd.DataFrame(X[:, :6], columns=[f"f{i}" for i in range(6)])
    for j in range(n_int_columns):
        frame[f"cat{j}"] = np.digitize(X[:, j], np.quantile(X[:, j], [0.25, 0.5, 0.75])).astype(np.int64) * (j + 1)
    return frame, y


FRAMES = {"wine": lambda: _mixed_frame(load_wine), "breast_cancer": lambda: _mixed_frame(load_breast_cancer)}


@pytest.mark.parametrize("data", sorted(FRAMES))
@pytest.mark.parametrize("remainder", ["drop", "passthrough", "scaler"])
def test_column_transformer_by_name(data, remainder):
    frame, _ = FRAMES[data]()
    ct = ColumnTransformer(
        [("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["cat1", "cat0"]),
         ("scale", StandardScaler(), ["f0", "f3", "f1"]),
         ("dropped", "drop", ["f2"]),
         ("keep", "passthrough", ["f5"])],
        remainder=MinMaxScaler() if remainder == "scaler" else remainder)
    ct.fit(frame)
    model = to_ir(ct)
    node = model.output.node
    assert isinstance(node, ir.Concat)
    X = frame.to_numpy(dtype=np.float64)  # the export's input row is feature_names_in_ order
    np.testing.assert_allclose(evaluate(model, X).transformed, ct.transform(frame), rtol=0, atol=TRANSFORM_ATOL)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # unscaled remainder; few iterations
@pytest.mark.parametrize("data", sorted(FRAMES))
def test_column_transformer_by_index_slice_mask_selector_in_pipeline(data):
    frame, y = FRAMES[data]()
    X = frame.to_numpy(dtype=np.float64)
    mask = np.zeros(X.shape[1], dtype=bool)
    mask[[2, 4]] = True
    ct = ColumnTransformer([("onehot", OneHotEncoder(sparse_output=False), [6, 7]),
                            ("scale", make_pipeline(SimpleImputer(), StandardScaler()), slice(0, 2)),
                            ("mask", RobustScaler(), mask)], remainder="passthrough")
    est = make_pipeline(ct, LogisticRegression(max_iter=100)).fit(X, y)
    ev = evaluate(to_ir(est), X)
    assert assert_labels(ev, est.predict(X)) == 0
    np.testing.assert_allclose(ev.proba, est.predict_proba(X), rtol=0, atol=SCORE_ATOL)
    by_dtype = ColumnTransformer([("num", StandardScaler(), make_column_selector(dtype_include="float"))],
                                 remainder=OneHotEncoder(sparse_output=False)).fit(frame)
    np.testing.assert_allclose(evaluate(to_ir(by_dtype), X).transformed, by_dtype.transform(frame), rtol=0,
                               atol=TRANSFORM_ATOL)


def test_column_transformer_output_order_remainder_last():
    X = load_iris(return_X_y=True)[0]
    ct = ColumnTransformer([("b", "passthrough", [3]), ("a", "passthrough", [1])], remainder="passthrough").fit(X)
    model = to_ir(ct)
    # sklearn: transformers in the given order, then the remainder columns in input order
    np.testing.assert_array_equal(ct.transform(X), X[:, [3, 1, 0, 2]])
    np.testing.assert_array_equal(evaluate(model, X).transformed, X[:, [3, 1, 0, 2]])


def test_column_transformer_sparse_output_is_densified():
    frame, _ = FRAMES["wine"]()
    sparse = ColumnTransformer([("onehot", OneHotEncoder(), ["cat0", "cat1"])], sparse_threshold=1.0).fit(frame)
    assert sparse.sparse_output_
    np.testing.assert_array_equal(evaluate(to_ir(sparse), frame.to_numpy()).transformed,
                                  sparse.transform(frame).toarray())


def test_column_transformer_refusals():
    frame, _ = FRAMES["wine"]()
    weighted = ColumnTransformer([("s", StandardScaler(), ["f0"])], transformer_weights={"s": 2.0}).fit(frame)
    with pytest.raises(UnsupportedEstimatorError, match="transformer_weights"):
        to_ir(weighted)
    frame_y = FRAMES["wine"]()[1]
    model_inside = ColumnTransformer([("m", make_pipeline(StandardScaler(), LogisticRegression()), ["f0", "f1"])])
    model_inside.transformers_ = [("m", model_inside.transformers[0][1].fit(frame[["f0", "f1"]], frame_y),
                                   ["f0", "f1"])]  # sklearn cannot fit a model as a CT part; build the state
    model_inside._transformer_to_input_indices = {"m": [0, 1]}
    model_inside.n_features_in_, model_inside.sparse_output_ = frame.shape[1], False
    with pytest.raises(UnsupportedEstimatorError, match="step 'm' is a model where a transformer is required"):
        to_ir(model_inside)
    with pytest.raises(UnsupportedEstimatorError, match="every transformer is 'drop'"):
        to_ir(ColumnTransformer([("d", "drop", ["f0"])]).fit(frame))


def test_model_in_middle_of_pipeline_refused():
    X, y = load_diabetes(return_X_y=True)
    est = Pipeline([("lr", LinearRegression()), ("scale", StandardScaler())])
    est.steps[0][1].fit(X, y)
    est.steps[1][1].fit(X)
    with pytest.raises(UnsupportedEstimatorError, match="step 'lr' is a model where a transformer is required"):
        to_ir(est)
