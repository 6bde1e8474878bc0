"""Signature: inputs, Xcode-style names, task, labels and the input-dtype contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import StandardScaler

from export.errors import NotFittedError, UsageError
from export.signature import coreml_input_names, signature_of, swift_identifier


@pytest.mark.parametrize(("name", "expected"), [
    ("PM2.5", "PM2_5"), ("PCOS (Y/N)", "PCOS__Y_N_"), ("image (120x120)", "image__120x120_"),
    ("Class", "Class_"), ("class", "class_"), ("2nd", "_2nd"), ("ok_name", "ok_name"), ("", "_"),
])
def test_swift_identifier_follows_xcode(name: str, expected: str) -> None:
    assert swift_identifier(name) == expected


def test_coreml_names_are_unique_and_avoid_output_names() -> None:
    assert coreml_input_names(("a b", "a-b", "prediction", "classLabel")) == ("a_b", "a_b_2", "prediction_2",
                                                                             "classLabel_2")


def test_classifier_signature_from_a_dataframe() -> None:
    iris = load_iris(as_frame=True)
    labels = np.asarray(iris.target_names)[iris.target]
    model = RandomForestClassifier(n_estimators=2, random_state=0).fit(iris.data, labels)
    sig = signature_of(model)
    assert sig.task == "classifier"
    assert sig.n_features == 4
    assert sig.feature_names == tuple(iris.data.columns)
    assert sig.coreml_input_names == ("sepal_length__cm_", "sepal_width__cm_", "petal_length__cm_",
                                      "petal_width__cm_")
    assert sig.class_labels == ("setosa", "versicolor", "virginica")
    assert sig.input_dtype == "float64"
    assert sig.to_json()["input_name_mapping"]["sepal length (cm)"] == "sepal_length__cm_"


def test_regressor_and_transformer_and_user_names() -> None:
    X, y = load_diabetes(return_X_y=True)
    sig = signature_of(LinearRegression().fit(X, y), feature_names=tuple(f"f{i}" for i in range(10)),
                       input_dtype="float32")
    assert (sig.task, sig.n_outputs, sig.input_dtype, sig.class_labels) == ("regressor", 1, "float32", None)
    assert sig.coreml_input_names == tuple(f"f{i}" for i in range(10))
    assert signature_of(StandardScaler().fit(X)).task == "transformer"


def test_bad_signature_inputs_are_usage_errors() -> None:
    X, y = load_diabetes(return_X_y=True)
    model = LinearRegression().fit(X, y)
    with pytest.raises(UsageError, match="gives 2 names; the model takes 10"):
        signature_of(model, feature_names=("a", "b"))
    with pytest.raises(UsageError, match="allowed: float32, float64"):
        signature_of(model, input_dtype="float16")
    with pytest.raises(NotFittedError, match="LinearRegression is not fitted"):
        signature_of(LinearRegression())
    frame = pd.DataFrame(X[:, :2], columns=["a", "b"])
    named = LinearRegression().fit(frame, y)
    with pytest.raises(UsageError, match="differs from the names the model was trained with"):
        signature_of(named, feature_names=("b", "a"))
