"""parity.check on a DataFrame with string and numeric columns: hand-built multi-input ONNX and Core ML artifacts
(tests/string_artifacts.py) against the scikit-learn pipeline itself, on real rows (tests/data/telco_churn_slice.csv).

Truth is scikit-learn's own predict/predict_proba on the DataFrame; broken artifacts (a category order swapped, a
missing string fed as "nan") must fail on the probe set that exposes them.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from string_artifacts import (
    COLUMNS,
    NUMERIC_COLUMNS,
    STRING_COLUMNS,
    SWIFT_FIXTURE,
    churn_frame,
    fit_churn_pipeline,
    write_coreml,
    write_onnx,
)

import parity
from parity.columns import UNSEEN_CATEGORY, InputColumn, InputSchema, schema_from_frame
from parity.errors import ArtifactError, DataFileError, ParityInputError
from parity.runtimes import ArtifactInput, open_artifact


@pytest.fixture(scope="module")
def churn() -> tuple[pd.DataFrame, pd.Series, Any]:
    frame, labels = churn_frame()
    return frame, labels, fit_churn_pipeline(frame, labels)


@pytest.fixture(scope="module")
def artifacts(churn: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("churn")
    _, _, pipeline = churn
    return write_onnx(pipeline, directory / "churn.onnx"), write_coreml(pipeline, directory / "churn.mlmodel")


@pytest.fixture(scope="module")
def report(churn: Any, artifacts: tuple[Path, Path]) -> Any:
    frame, _, pipeline = churn
    return parity.check(pipeline, list(artifacts), inputs=frame)


def test_string_dataframe_model_passes_on_both_artifacts(report: Any, churn: Any) -> None:
    frame, _, pipeline = churn
    assert frame["contract"].dtype == "str"  # pandas 3 reads strings as `str`
    assert report.verdict == "passed", parity.to_markdown(report)
    assert {a.kind for a in report.artifacts} == {"onnx", "coreml"}
    assert all(a.class_labels == ["No", "Yes"] for a in report.artifacts)
    names = {p.name for p in report.probes}
    assert {"user-data", "nan", "extremes", "string-categories", "large-batch"} <= names
    # The user-data reference is scikit-learn on the DataFrame exactly as given.
    user = report.probe_data["user-data"][2]
    np.testing.assert_array_equal(user["label"], pipeline.predict(frame))
    np.testing.assert_array_equal(user["probabilities"], pipeline.predict_proba(frame))


def test_string_category_probes_cover_every_category_unseen_and_missing(report: Any, churn: Any) -> None:
    _, _, pipeline = churn
    schema = report.schema
    X = report.probe_data["string-categories"][1]
    encoder = pipeline.named_steps["columns"].named_transformers_["cat"]
    for j, name in enumerate(STRING_COLUMNS):
        column = schema.columns[COLUMNS.index(name)]
        assert column.kind == "string" and column.python_dtype == "str"
        # Categories come from the artifacts' own encoders, which hold the training categories.
        assert column.categories == [str(c) for c in encoder.categories_[j]]
        fed = set(schema.artifact_values(X, COLUMNS.index(name)).tolist())
        assert set(column.categories) | {UNSEEN_CATEGORY, ""} <= fed
        python = schema.python_rows(X)[name]
        assert python.isna().any() and not (python == "").any()  # the Python model sees NaN, never ""


def test_probe_rows_reach_artifacts_as_strings_only(artifacts: tuple[Path, Path], report: Any) -> None:
    schema = report.schema
    for path in artifacts:
        artifact = open_artifact(path)
        artifact.bind(schema.names, len(schema.columns), schema)
        for probe in ("string-categories", "nan"):
            feeds = artifact.feeds(report.probe_data[probe][1])
            for name in STRING_COLUMNS:
                values = np.asarray(feeds[name]).ravel().tolist()
                assert all(isinstance(v, str) for v in values) and "nan" not in values and "None" not in values
            for name in NUMERIC_COLUMNS:
                assert np.asarray(feeds[name]).dtype == np.float64


def test_string_input_guard_refuses_none_before_onnxruntime() -> None:
    feature = ArtifactInput("city", "string", 1, 2)
    with pytest.raises(ArtifactError, match="non-string value"):
        feature.values(np.array([["a"], [None]], dtype=object))
    with pytest.raises(ArtifactError, match="non-string value"):
        feature.values(np.array([["a"], [np.nan]], dtype=object))


def _swapped_contract_onnx(pipeline: Any, path: Path) -> Path:
    """The churn ONNX graph with the first two `contract` categories swapped in its OneHotEncoder."""
    import onnx

    path = write_onnx(pipeline, path)
    model = onnx.load(str(path))
    encoder = next(n for n in model.graph.node if n.op_type == "OneHotEncoder" and n.input[0] == "contract")
    attribute = next(a for a in encoder.attribute if a.name == "cats_strings")
    attribute.strings[0], attribute.strings[1] = attribute.strings[1], attribute.strings[0]
    path.write_bytes(model.SerializeToString())
    return path


def test_swapped_category_order_fails_on_string_probes(churn: Any, tmp_path: Path) -> None:
    frame, _, pipeline = churn
    path = _swapped_contract_onnx(pipeline, tmp_path / "swapped.onnx")
    result = parity.check(pipeline, [path], inputs=frame.head(40))
    assert result.verdict == "failed"
    failing = {c.probe for c in result.failures()}
    assert "string-categories" in failing


def test_inputs_bound_by_name_not_position(churn: Any, tmp_path: Path) -> None:
    frame, _, pipeline = churn
    import onnx

    path = write_onnx(pipeline, tmp_path / "reordered.onnx")
    model = onnx.load(str(path))
    inputs = list(model.graph.input)
    del model.graph.input[:]
    model.graph.input.extend(reversed(inputs))  # numeric inputs first: only names can match them up
    path.write_bytes(model.SerializeToString())
    assert parity.check(pipeline, [path], inputs=frame.head(30)).verdict == "passed"


def test_float32_contract_feeds_float32_rounded_numbers(churn: Any, artifacts: tuple[Path, Path]) -> None:
    frame, _, pipeline = churn
    result = parity.check(pipeline, list(artifacts), inputs=frame.head(60), contract="float32")
    assert result.verdict == "passed", parity.to_markdown(result)
    X = result.probe_data["user-data"][1]
    numeric = X[:, [COLUMNS.index(c) for c in NUMERIC_COLUMNS]]
    finite = numeric[np.isfinite(numeric)]
    np.testing.assert_array_equal(finite, finite.astype(np.float32).astype(np.float64))


def test_no_user_data_probes_from_artifact_categories(churn: Any, artifacts: tuple[Path, Path]) -> None:
    _, _, pipeline = churn
    result = parity.check(pipeline, list(artifacts))
    assert result.verdict == "passed", parity.to_markdown(result)
    assert result.probes[0].name == "model-derived"
    rows = result.schema.python_rows(result.probe_data["model-derived"][1])
    assert set(rows["contract"]) <= {"Month-to-month", "One year", "Two year"}


# ---- data files


def test_csv_and_parquet_paths_give_the_same_report(churn: Any, artifacts: tuple[Path, Path],
                                                   tmp_path: Path) -> None:
    frame, _, pipeline = churn
    csv = tmp_path / "rows.csv"
    frame.head(50).to_csv(csv, index=False)
    parquet = tmp_path / "rows.parquet"
    categorical = frame.head(50).astype({"contract": "category", "payment_method": object})
    categorical.to_parquet(parquet)
    for source in (csv, parquet):
        result = parity.check(pipeline, list(artifacts), inputs=source)
        assert result.verdict == "passed", parity.to_markdown(result)
        np.testing.assert_array_equal(result.probe_data["user-data"][2]["label"],
                                      pipeline.predict(frame.head(50)))
    dtypes = {c.name: c.python_dtype for c in parity.check(pipeline, list(artifacts), inputs=parquet).schema.columns}
    assert dtypes["contract"] == "category" and dtypes["payment_method"] == "str"


@pytest.mark.parametrize(("column", "value", "message"), [
    ("tenure", "twelve", r"column 'tenure' row 0 holds 'twelve' where a number is expected"),
    ("contract", None, r"column 'contract' holds only numbers"),
])
def test_csv_with_wrongly_typed_column_is_refused_naming_it(churn: Any, artifacts: tuple[Path, Path],
                                                            tmp_path: Path, column: str, value: Any,
                                                            message: str) -> None:
    frame, _, pipeline = churn
    bad = frame.head(5).astype({column: object})
    bad[column] = [value] * 5 if value is not None else [1, 2, 3, 4, 5]
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(DataFileError, match=message):
        parity.check(pipeline, list(artifacts), inputs=path)


def test_parquet_numeric_column_where_strings_expected_is_refused(churn: Any, artifacts: tuple[Path, Path],
                                                                  tmp_path: Path) -> None:
    frame, _, pipeline = churn
    bad = frame.head(5).assign(internet_service=[1.0, 2.0, 3.0, 4.0, 5.0])
    path = tmp_path / "bad.parquet"
    bad.to_parquet(path)
    with pytest.raises(DataFileError, match=r"column 'internet_service' holds numbers \(float64\) where the model "
                                            r"expects strings"):
        parity.check(pipeline, list(artifacts), inputs=path)


def test_dataframe_with_strings_in_a_numeric_input_is_refused(churn: Any, artifacts: tuple[Path, Path]) -> None:
    frame, _, pipeline = churn
    bad = frame.head(5).astype({"monthly_charges": object})
    bad["monthly_charges"] = "cheap"
    with pytest.raises(ParityInputError, match=r"column 'monthly_charges' holds strings \(e.g. 'cheap'\) where the "
                                               r"model expects numbers"):
        parity.check(pipeline, list(artifacts), inputs=bad)


# ---- the schema itself


def test_schema_normalises_to_nfc_on_both_sides() -> None:
    nfd = unicodedata.normalize("NFD", "café")
    frame = pd.DataFrame({"city": [nfd, "bar", None], "x": [1.0, 2.0, 3.0]})
    schema = schema_from_frame(frame, ["city", "x"])
    X = schema.encode_frame(frame)
    assert schema.python_rows(X)["city"].iloc[0] == "café" == unicodedata.normalize("NFC", nfd)
    assert schema.artifact_values(X, 0).tolist() == ["café", "bar", ""]


def test_object_column_keeps_none_for_the_python_model() -> None:
    frame = pd.DataFrame({"city": pd.Series(["a", None], dtype=object)})
    schema = schema_from_frame(frame, ["city"])
    rows = schema.python_rows(schema.encode_frame(frame))
    assert rows["city"].dtype == object and rows["city"].iloc[1] is None
    assert schema.artifact_values(schema.encode_frame(frame), 0).tolist() == ["a", ""]


def test_object_column_with_none_and_nan_is_refused() -> None:
    frame = pd.DataFrame({"city": pd.Series(["a", None, np.nan], dtype=object)})
    with pytest.raises(ParityInputError, match="column 'city' holds both None and NaN"):
        schema_from_frame(frame, ["city"])


def test_report_lists_typed_inputs(report: Any) -> None:
    document = parity.to_json(report)
    kinds = {c["name"]: c["kind"] for c in document["inputs"]}
    assert kinds == {**dict.fromkeys(STRING_COLUMNS, "string"), **dict.fromkeys(NUMERIC_COLUMNS, "double")}
    assert "Month-to-month" in json.dumps(document["inputs"])
    assert "| contract | string |" in parity.to_markdown(report)
    assert "contract" in parity.to_html(report)


def test_int64_input_refuses_missing_values() -> None:
    feature = ArtifactInput("count", "int64", 1, 2)
    np.testing.assert_array_equal(feature.values(np.array([[1.0], [2.0]])), [[1], [2]])
    with pytest.raises(ArtifactError, match="int64"):
        feature.values(np.array([[1.0], [np.nan]]))


def test_schema_rows_keep_integer_dtype_when_exact() -> None:
    schema = InputSchema([InputColumn("n", "double", "int64")])
    assert schema.python_rows(np.array([[1.0], [2.0]]))["n"].dtype == np.int64
    assert schema.python_rows(np.array([[1.0], [1e30]]))["n"].dtype == np.float64


# ---- golden.json v2


def test_golden_v2_carries_string_inputs_and_labels(report: Any, churn: Any, artifacts: tuple[Path, Path],
                                                    tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test dependency (pyproject [test] extra)")
    from parity.golden import check_replay

    _, coreml = artifacts
    path = parity.write_golden(report, coreml, tmp_path / "golden.json")
    document = json.loads(path.read_text())
    schema = json.loads((Path(parity.__file__).parent / "golden.schema.json").read_text())
    jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    assert document["format_version"] == 2 and document["input"]["kind"] == "named"
    types = {f["name"]: f["type"] for f in document["input"]["features"]}
    assert types == {**dict.fromkeys(STRING_COLUMNS, "string"), **dict.fromkeys(NUMERIC_COLUMNS, "double")}
    assert document["class_labels"] == ["No", "Yes"]
    assert {"string-categories", "user-data"} <= {row["probe"] for row in document["rows"]}
    contract = [row["inputs"][0] for row in document["rows"]]
    assert "" in contract and UNSEEN_CATEGORY in contract and all(isinstance(v, str) for v in contract)
    _assert_expected_is_scikit_learns(document, churn[2])
    faithful = {"rows": [{"id": row["id"], "outputs": {
        "label": row["expected"]["label"],
        "probs": dict(zip(document["class_labels"], row["expected"]["probs"], strict=True))}}
        for row in document["rows"]]}
    assert check_replay(document, faithful) == []
    wrong = json.loads(json.dumps(faithful))
    wrong["rows"][0]["outputs"]["label"] = "Maybe"
    assert check_replay(document, wrong)



def _assert_expected_is_scikit_learns(document: dict[str, Any], pipeline: Any) -> None:
    """Expected values are scikit-learn's on the rows the JSON inputs decode to ("" -> NaN), re-derived here."""
    rows = pd.DataFrame([row["inputs"] for row in document["rows"]], columns=COLUMNS)
    for name in STRING_COLUMNS:
        rows[name] = rows[name].replace("", np.nan)
    for name in NUMERIC_COLUMNS:
        rows[name] = pd.to_numeric(rows[name].replace({"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}))
    assert [row["expected"]["label"] for row in document["rows"]] == pipeline.predict(rows).tolist()
    probabilities = np.array([row["expected"]["probs"] for row in document["rows"]], dtype=np.float64)
    np.testing.assert_allclose(probabilities, pipeline.predict_proba(rows), rtol=1e-12, atol=1e-15)


def test_committed_swift_string_fixture_is_scikit_learns(churn: Any) -> None:
    """ios_stub's string-input golden file (decoded by `swift test`) holds scikit-learn's answers on its rows."""
    document = json.loads(SWIFT_FIXTURE.read_text(encoding="utf-8"))
    assert document["format_version"] == 2
    _assert_expected_is_scikit_learns(document, churn[2])


# ---- mlexport predict on string inputs


def test_cli_predict_reads_csv_with_strings_for_both_formats(
    churn: Any, artifacts: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from export.cli import main
    from export.inspection import predict_artifact

    frame, _, pipeline = churn
    rows = frame.head(12).copy()
    rows.loc[rows.index[0], "contract"] = np.nan  # a missing string: fed as ""
    path = tmp_path / "rows.csv"
    rows[list(reversed(COLUMNS))].to_csv(path, index=False)  # any column order: matched by name
    expected_labels = pipeline.predict(rows).tolist()
    expected_probabilities = pipeline.predict_proba(rows)
    onnx_path, coreml_path = artifacts
    onnx_out = predict_artifact(onnx_path, path)
    assert onnx_out["label"].tolist() == expected_labels
    np.testing.assert_allclose(onnx_out["probabilities"], expected_probabilities, rtol=1e-12, atol=1e-15)
    coreml_out = predict_artifact(coreml_path, path)
    assert coreml_out["label"].tolist() == expected_labels
    np.testing.assert_allclose(coreml_out["probs"], expected_probabilities, rtol=1e-12, atol=1e-15)
    assert main(["predict", str(onnx_path), "--data", str(path)]) == 0
    assert "Month-to-month" not in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    rows.assign(tenure="long").to_csv(bad, index=False)
    assert main(["predict", str(coreml_path), "--data", str(bad)]) == 2
    error = capsys.readouterr().err.strip()
    assert "column 'tenure'" in error and "where a number is expected" in error and len(error.splitlines()) == 1


def test_failing_report_shows_the_failing_rows_strings(churn: Any, tmp_path: Path) -> None:
    frame, _, pipeline = churn
    path = _swapped_contract_onnx(pipeline, tmp_path / "swapped.onnx")
    result = parity.check(pipeline, [path], inputs=frame.head(20))
    markdown, page = parity.to_markdown(result), parity.to_html(result)
    assert "first failing row" in markdown and "contract='" in markdown
    assert "first failing row" in page and "contract=&#x27;" in page


def test_hgb_native_categorical_numeric_splits_probe_the_right_column() -> None:
    """HGB puts categorical columns first internally; threshold probes must still hit the numeric column."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    from parity.probes import tree_splits

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=300),
                          "colour": pd.Categorical(rng.choice(["red", "green", "blue"], size=300))})
    target = frame["x"].to_numpy() * 2 + (frame["colour"] == "red").to_numpy()
    model = HistGradientBoostingRegressor(max_iter=5).fit(frame, target)
    assert list(model.is_categorical_) == [False, True]
    splits, reason = tree_splits(model, 2)
    assert reason is None and splits is not None and len(splits.feature)
    assert set(splits.feature.tolist()) == {0}  # raw column 0 ("x"), though HGB's internal index of x is 1


def test_coreml_inputs_with_other_names_bind_in_column_order(churn: Any, tmp_path: Path) -> None:
    """Export may rename inputs for Swift (`internet service` -> `internet_service`): names that are not the columns'
    bind by position, in column order."""
    from coremltools.proto import Model_pb2

    frame, _, pipeline = churn
    path = write_coreml(pipeline, tmp_path / "renamed.mlmodel")
    spec = Model_pb2.Model.FromString(path.read_bytes())
    renamed = {name: f"in_{k}" for k, name in enumerate(COLUMNS)}
    for feature in spec.description.input:
        feature.name = renamed[feature.name]
    for model in spec.pipelineClassifier.pipeline.models:
        for feature in model.description.input:
            feature.name = renamed.get(feature.name, feature.name)
    path.write_bytes(spec.SerializeToString())
    result = parity.check(pipeline, [path], inputs=frame.head(30))
    assert result.verdict == "passed", parity.to_markdown(result)
    assert "string-categories" in {p.name for p in result.probes}
