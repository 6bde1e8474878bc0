"""Reference adapters: the family parity assigns every supported type agrees with the exporter's table, and the
scikit-learn adapter predicts exactly what scikit-learn itself does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from parity.references import ADAPTERS, adapter_for, family, final_model

X, Y = load_iris(return_X_y=True)


def test_every_supported_type_has_the_tables_family() -> None:
    from export.frontends import supported

    for row in supported():
        if row.family == "composition":  # a Pipeline's family is its final step's
            continue
        model: Any = row.cls.__new__(row.cls)
        assert family(model) == row.family, row.name


def test_adapter_is_chosen_by_the_final_models_library() -> None:
    pipeline = make_pipeline(StandardScaler(), LogisticRegression())
    assert final_model(pipeline) is pipeline[-1]
    assert adapter_for(pipeline).library == "sklearn" and "sklearn" in ADAPTERS


@pytest.mark.parametrize("estimator", [RandomForestClassifier(n_estimators=3, random_state=0),
                                       HistGradientBoostingClassifier(max_iter=3),
                                       make_pipeline(StandardScaler(), LogisticRegression())],
                         ids=["forest", "hgb", "scaler-logistic"])
def test_scikit_learn_adapter_predicts_like_scikit_learn(estimator: Any) -> None:
    estimator.fit(X, Y)
    outputs = adapter_for(estimator).predict(estimator, X, {"label", "probabilities"})
    assert np.array_equal(outputs["label"], estimator.predict(X))
    assert np.array_equal(outputs["probabilities"], estimator.predict_proba(X))


def test_float32_facts() -> None:
    forest = RandomForestClassifier(n_estimators=2, random_state=0).fit(X, Y)
    hgb = HistGradientBoostingClassifier(max_iter=2).fit(X, Y)
    adapter = adapter_for(forest)
    assert adapter.input_cast_to_float32(forest) and adapter.compares_float32(forest)
    assert not adapter.input_cast_to_float32(hgb) and not adapter.compares_float32(hgb)
    assert adapter.averaged_trees(forest) == 2 and adapter.averaged_trees(hgb) is None
    assert adapter.nan_refusal(LogisticRegression().fit(X, Y), np.full((1, 4), np.nan)) is not None
    assert adapter.nan_refusal(hgb, np.full((1, 4), np.nan)) is None
