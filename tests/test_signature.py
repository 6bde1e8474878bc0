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
    ("PM2.5", "PM2_5"), ("PCOS (Y/N)", "PCOS_Y_N"), ("image (120x120)", "image_120x120"),
    ("Class", "Class_"), ("class", "class_"), ("2nd", "_2nd"), ("ok_name", "ok_name"), ("", "_"),
    ("tenure months", "tenure_months"), ("_private", "_private"), ("price ($)", "price"),
    # Unicode letters are Swift identifier characters: kept (NFC-normalised), not replaced by underscores.
    ("âge", "âge"), ("収入", "収入"), ("e\u0301te\u0301", "été"), ("Größe (m²)", "Größe_m²"),
    ("x\u200by", "x_y"),  # an invisible zero-width space is allowed by Swift but is not a readable name
])
def test_swift_identifier_keeps_unicode_letters_and_is_readable(name: str, expected: str) -> None:
    assert swift_identifier(name) == expected


def test_unicode_names_are_swift_identifiers_per_the_swift_grammar() -> None:
    # Spot checks against "The Swift Programming Language" identifier-head ranges (U+00C0–U+00D6, U+3040–U+D7FF).
    from export.signature import _swift_head

    assert _swift_head("â") and _swift_head("収") and _swift_head("_")
    assert not _swift_head("×") and not _swift_head("1") and not _swift_head("$")


def test_names_with_nothing_readable_get_a_positional_name() -> None:
    assert coreml_input_names(("%", "", "ok")) == ("feature_0", "feature_1", "ok")


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
    assert sig.coreml_input_names == ("sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm")
    assert sig.class_labels == ("setosa", "versicolor", "virginica")
    assert sig.input_dtype == "float64"
    assert sig.to_json()["input_name_mapping"]["sepal length (cm)"] == "sepal_length_cm"


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
