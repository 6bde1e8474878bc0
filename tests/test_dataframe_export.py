"""DataFrame pipelines with string columns, exported by mlexport's own writers (Core ML and ONNX) and checked with
`parity.check` against scikit-learn itself on real rows (tests/data/*_slice.csv), plus the probes parity adds per
string column: every training category, an unseen one and the missing string "" (scikit-learn sees NaN).

Truth: scikit-learn's predict / predict_proba / transform on the DataFrame (parity's reference); the lookup tables
are also compared with the fitted encoders' own `transform` directly.
"""

from __future__ import annotations

import unicodedata
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import GradientBoostingRegressor, HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, StandardScaler, TargetEncoder
from sklearn.svm import SVC

import parity
from export.errors import UnsupportedEstimatorError
from export.frontends import to_ir
from export.to_coreml import CoreMLInterface, save_spec, to_spec
from export.to_onnx import OnnxOptions, save_onnx, to_onnx
from parity.columns import UNSEEN_CATEGORY

DATA = Path(__file__).parent / "data"
CHURN_STRINGS = ["contract", "internet_service", "payment_method"]
CHURN_NUMBERS = ["tenure", "monthly_charges", "total_charges"]


def churn() -> tuple[pd.DataFrame, pd.Series]:
    frame = pd.read_csv(DATA / "telco_churn_slice.csv")
    X = frame[CHURN_STRINGS + CHURN_NUMBERS].copy()
    X.loc[X.index[3:9], "payment_method"] = np.nan  # real rows with a missing string (pandas 3 str: NaN)
    return X, frame["churn"]


def export_both(model: Any, directory: Path) -> list[Path]:
    ir_model = to_ir(model)
    onnx_path, coreml_path = directory / "model.onnx", directory / "model.mlmodel"
    save_onnx(to_onnx(model, ir_model, OnnxOptions(input_dtype="float64")).model, onnx_path)
    save_spec(to_spec(ir_model, CoreMLInterface()), coreml_path)
    return [onnx_path, coreml_path]


def assert_parity(model: Any, X: pd.DataFrame, directory: Path) -> Any:
    report = parity.check(model, export_both(model, directory), inputs=X)
    assert report.verdict == "passed", parity.to_markdown(report)
    assert "string-categories" in {p.name for p in report.probes}
    return report


def _churn_pipeline(encoder: Any, model: Any, numeric: Any = None) -> Pipeline:
    numeric = numeric if numeric is not None else make_pipeline(SimpleImputer(), StandardScaler())
    columns = ColumnTransformer([("cat", encoder, CHURN_STRINGS), ("num", numeric, CHURN_NUMBERS)])
    return Pipeline([("columns", columns), ("model", model)])


ENCODERS = {
    "ohe-ignore-sparse": OneHotEncoder(handle_unknown="ignore"),
    "ohe-drop-first-min-frequency": OneHotEncoder(drop="first", handle_unknown="ignore", min_frequency=30),
    "ohe-infrequent-max-categories-dense": OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=3,
                                                         sparse_output=False),
    "ohe-if-binary-warn": OneHotEncoder(drop="if_binary", handle_unknown="warn", min_frequency=0.2),
    "ohe-explicit-drop": OneHotEncoder(drop=["One year", "DSL", "Mailed check"], handle_unknown="ignore"),
    "ordinal-encoded-values": OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                             encoded_missing_value=-2, min_frequency=20),
    "target-binary": TargetEncoder(),
    "imputer-most-frequent-ohe": make_pipeline(SimpleImputer(strategy="most_frequent"),
                                               OneHotEncoder(handle_unknown="ignore")),
    "imputer-constant-ordinal-scaled": make_pipeline(SimpleImputer(strategy="constant", fill_value="unknown"),
                                                     OrdinalEncoder(handle_unknown="use_encoded_value",
                                                                    unknown_value=-1), MinMaxScaler()),
}


@pytest.mark.parametrize("name", list(ENCODERS))
def test_string_encoders_with_logistic_regression(name: str, tmp_path: Path) -> None:
    X, y = churn()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline = _churn_pipeline(ENCODERS[name], LogisticRegression(max_iter=2000)).fit(X, y)
    report = assert_parity(pipeline, X, tmp_path)
    assert all(a.class_labels == ["No", "Yes"] for a in report.artifacts)  # string labels stay strings


@pytest.mark.parametrize("model", [
    RandomForestClassifier(n_estimators=8, max_depth=6, random_state=0),
    SVC(probability=True, random_state=0),
    MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0),
    HistGradientBoostingClassifier(max_iter=15, random_state=0),
], ids=lambda m: type(m).__name__)
def test_churn_models(model: Any, tmp_path: Path) -> None:
    X, y = churn()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline = _churn_pipeline(OneHotEncoder(handle_unknown="ignore", sparse_output=False), model).fit(X, y)
    assert_parity(pipeline, X, tmp_path)


def test_ordinal_nan_codes_reach_a_tree_that_routes_nan(tmp_path: Path) -> None:
    """encoded_missing_value / unknown_value NaN: the lookup holds NaN and HistGradientBoosting routes it."""
    X, y = churn()
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan)
    pipeline = _churn_pipeline(encoder, HistGradientBoostingClassifier(max_iter=15, random_state=0),
                               numeric="passthrough").fit(X, y)
    model = to_ir(pipeline)
    lookup = model.body[0].node
    payment = lookup.keys[2].tolist()
    assert np.isnan(lookup.values[2][payment.index("")][0]) and np.isnan(lookup.default[2][0])
    assert_parity(pipeline, X, tmp_path)


def test_credit_card_yes_no_columns_by_selector(tmp_path: Path) -> None:
    frame = pd.read_csv(DATA / "credit_card_applications_slice.csv")
    X, y = frame.drop(columns="card"), frame["card"]
    columns = ColumnTransformer([
        ("cat", OneHotEncoder(drop="if_binary", handle_unknown="ignore"),
         make_column_selector(dtype_include=["object", "str"])),
    ], remainder=StandardScaler())
    pipeline = Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=2000))]).fit(X, y)
    report = assert_parity(pipeline, X, tmp_path)
    assert report.artifacts[0].class_labels == ["no", "yes"]


def test_credit_balance_regression_target_encoder_continuous(tmp_path: Path) -> None:
    frame = pd.read_csv(DATA / "credit_balance_slice.csv")
    X, y = frame[["Income", "Limit", "Rating", "Gender", "Student", "Married", "Ethnicity"]], frame["Balance"]
    columns = ColumnTransformer([
        ("target", TargetEncoder(target_type="continuous"), ["Ethnicity"]),
        ("onehot", OneHotEncoder(handle_unknown="ignore"), ["Gender", "Student", "Married"]),
    ], remainder="passthrough")
    pipeline = Pipeline([("columns", columns), ("model", Ridge())]).fit(X, y)
    assert_parity(pipeline, X, tmp_path)


def test_sacramento_high_cardinality_gradient_boosting(tmp_path: Path) -> None:
    frame = pd.read_csv(DATA / "sacramento_homes_slice.csv")
    X, y = frame[["city", "type", "beds", "baths", "sqft"]], frame["price"]
    columns = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=3),
                                  ["city", "type"])], remainder="passthrough")
    pipeline = Pipeline([("columns", columns),
                         ("model", GradientBoostingRegressor(n_estimators=20, random_state=0))]).fit(X, y)
    assert_parity(pipeline, X, tmp_path)


def test_target_encoder_multiclass_and_transformer_export(tmp_path: Path) -> None:
    """A ColumnTransformer alone (Transformed head): the exported output is `transform`'s, not the cross-fitted
    `fit_transform`'s."""
    X, _ = churn()
    columns = ColumnTransformer([("target", TargetEncoder(), ["internet_service", "payment_method"])],
                                remainder="drop")
    columns.fit(X, X["contract"])  # three classes
    encoder = columns.named_transformers_["target"]
    assert encoder.target_type_ == "multiclass"
    model = to_ir(columns)
    lookup = model.body[0].node
    assert lookup.widths == (3, 3)
    rows = X[["internet_service", "payment_method"]]
    expected = encoder.transform(rows)
    column = lookup.keys[0].tolist()
    got = np.array([lookup.values[0][column.index(v)] for v in rows["internet_service"]])
    np.testing.assert_array_equal(got, expected[:, :3])
    assert_parity(columns, X, tmp_path)


def _frame(values: list[Any], dtype: Any = None) -> pd.DataFrame:
    return pd.DataFrame({"color": pd.Series(values, dtype=dtype), "x": np.arange(len(values), dtype=float)})


@pytest.mark.parametrize(("values", "dtype", "message"), [
    (["a", "", "b", "a"], None, "empty string as a training category"),
    (["a", None, "b", "a"], object, "None as a category"),
    (["a", unicodedata.normalize("NFD", "café"), "b", "a"], None, "not NFC-normalised"),
])
def test_contract_refusals(values: list[Any], dtype: Any, message: str) -> None:
    columns = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["color"])], remainder="passthrough")
    pipeline = Pipeline([("columns", columns), ("model", LogisticRegression())]).fit(_frame(values, dtype),
                                                                                       [0, 1, 0, 1])
    with pytest.raises(UnsupportedEstimatorError, match=message):
        to_ir(pipeline)


def test_string_imputer_without_encoder_is_refused() -> None:
    columns = ColumnTransformer([("cat", SimpleImputer(strategy="most_frequent"), ["color"])])
    columns.fit(_frame(["a", np.nan, "b", "a"]))
    with pytest.raises(UnsupportedEstimatorError, match="must be followed by an encoder"):
        to_ir(columns)


# ----------------------------------------------------------------------------------------------------------------
# HistGradientBoosting native categorical splits


def churn_categories() -> tuple[pd.DataFrame, pd.Series]:
    X, y = churn()
    for column in CHURN_STRINGS:
        X[column] = X[column].astype("category")
    return X, y


@pytest.mark.parametrize("kind", ["classifier-from-dtype", "regressor-explicit-str"])
def test_hist_gradient_boosting_native_categorical(kind: str, tmp_path: Path) -> None:
    from sklearn.ensemble import HistGradientBoostingRegressor

    if kind == "classifier-from-dtype":
        X, y = churn_categories()
        model: Any = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)
    else:
        X, _ = churn()  # pandas 3 str columns, named explicitly
        y = X.pop("monthly_charges")
        model = HistGradientBoostingRegressor(max_iter=20, categorical_features=CHURN_STRINGS,
                                              random_state=0).fit(X, y)
    assert model.is_categorical_.any()
    ir_model = to_ir(model)
    assert [c.kind for c in ir_model.inputs.columns if c.name in CHURN_STRINGS] == ["string"] * 3
    splits = sum(int(np.sum(p.nodes["is_categorical"] & ~p.nodes["is_leaf"].astype(bool)))
                 for stage in model._predictors for p in stage)
    assert splits > 0 and 1 <= ir_model.body[0].node.n_features <= splits  # one membership column per set
    assert_parity(model, X, tmp_path)


def test_hist_gradient_boosting_one_category_quirk_follows_sklearn(tmp_path: Path) -> None:
    """A categorical column with one category + NaN: scikit-learn writes a node whose bitset_idx points at another
    split's set (categorical-semantics §2.5); the export follows scikit-learn's predictions, not the intent."""
    rng = np.random.default_rng(0)
    n = 300
    only = pd.Series(np.where(rng.random(n) < 0.5, "only", None), dtype="str").astype("category")
    other = pd.Series(rng.choice(["p", "q", "r"], n)).astype("category")
    X = pd.DataFrame({"k": only, "m": other, "x": rng.normal(size=n)})
    y = np.where(X["k"].isna(), 0.0, 5.0) + (X["m"] == "q") * 1.0 + rng.normal(scale=0.01, size=n)
    from sklearn.ensemble import HistGradientBoostingRegressor

    model = HistGradientBoostingRegressor(max_iter=10, random_state=0).fit(X, y)
    assert_parity(model, X, tmp_path)


def test_skops_loads_categorical_hist_gradient_boosting_and_refuses_tampering(tmp_path: Path) -> None:
    import json
    import zipfile

    import skops.io as sio

    from export.errors import UntrustedModelError
    from export.loading import load_model

    X, y = churn_categories()
    model = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(X, y)
    path = tmp_path / "hgb.skops"
    sio.dump(model, path)
    assert {"functools.partial", "sklearn.utils.validation.check_array"} <= set(sio.get_untrusted_types(file=path))
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))

    def tampered(edit: Any) -> Path:
        with zipfile.ZipFile(path) as archive:
            files = {name: archive.read(name) for name in archive.namelist()}
        schema = json.loads(files["schema.json"])
        edit(schema)
        files["schema.json"] = json.dumps(schema).encode()
        out = tmp_path / "tampered.skops"
        with zipfile.ZipFile(out, "w") as archive:
            for name, payload in files.items():
                archive.writestr(name, payload)
        return out

    def partials(node: Any) -> list[dict[str, Any]]:
        found = []
        if isinstance(node, dict):
            if node.get("__class__") == "partial":
                found.append(node)
            for value in node.values():
                found.extend(partials(value))
        elif isinstance(node, list):
            for value in node:
                found.extend(partials(value))
        return found

    def extra_keyword(schema: Any) -> None:
        for partial in partials(schema):
            kwds = partial["content"]["kwds"]["content"]
            kwds["copy"] = dict(kwds["ensure_all_finite"])

    def positional(schema: Any) -> None:
        for partial in partials(schema):
            partial["content"]["args"]["content"] = [dict(partial["content"]["kwds"]["content"]["ensure_all_finite"])]

    for edit in (extra_keyword, positional):
        with pytest.raises(UntrustedModelError, match="allowed only as HistGradientBoosting's numeric-column"):
            load_model(tampered(edit))


def test_probes_kept_per_column_where_scikit_learn_refuses_some_columns(tmp_path: Path) -> None:
    """NaN in a passthrough column and an unseen/missing string in an OrdinalEncoder(handle_unknown='error') column
    make scikit-learn refuse those probe rows; the other columns' NaN and string probes must still run."""
    X, y = churn()
    X = X.assign(senior=(X["tenure"] > 30).astype("int64"))  # a 0/1 integer column passed through, no imputer
    columns = ColumnTransformer([
        ("contract", OrdinalEncoder(), ["contract"]),  # handle_unknown="error": unseen strings raise
        ("rest", OneHotEncoder(handle_unknown="ignore"), ["internet_service", "payment_method"]),
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), CHURN_NUMBERS)], remainder="passthrough")
    model = Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=1000))]).fit(X, y)
    report = assert_parity(model, X, tmp_path)
    schema = report.schema
    nan_rows = report.probe_data["nan"][1]
    nan_columns = {schema.names[j] for j in np.flatnonzero(np.isnan(nan_rows).any(axis=0))}
    assert nan_columns == set(CHURN_NUMBERS)  # 'senior' (no imputer) left out, each imputed column probed
    strings = report.probe_data["string-categories"][1]
    model.predict(schema.python_rows(strings))  # scikit-learn accepts every kept row
    fed = {name: set(schema.artifact_values(strings, schema.names.index(name)).tolist())
           for name in ("contract", "payment_method")}
    assert UNSEEN_CATEGORY in fed["payment_method"] and "" in fed["payment_method"]
    assert UNSEEN_CATEGORY not in fed["contract"] and "" not in fed["contract"]
    assert {"Month-to-month", "One year", "Two year"} <= fed["contract"]
    assert any("'senior'" in note for note in report.notes)
    assert any("unseen strings left out for 'contract'" in note for note in report.notes)
