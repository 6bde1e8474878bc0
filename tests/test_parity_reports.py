"""Report renderings: JSON round-trip, self-contained HTML, JUnit (one case per artifact × output × probe set),
Markdown, golden.json (schema-valid, deterministic, expected = scikit-learn), the pytest plugin and data files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris, make_regression
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression

import parity
from parity.data import load_table
from parity.errors import DataFileError
from parity.golden import dumps, golden_document, select_rows, write_golden
from parity.pytest_plugin import assert_parity
from parity.report import to_html, to_json, to_junit, to_markdown

pytest_plugins = ["pytester"]

SCHEMA = Path(parity.__file__).with_name("golden.schema.json")


@pytest.fixture(scope="module")
def iris_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, np.ndarray, list[Path]]:
    """A forest on iris exported to Core ML (named Double inputs) and float64 ONNX by the writers."""
    from export import ir
    from export.frontends import to_ir
    from export.to_coreml import CoreMLInterface, save_spec, to_spec
    from export.to_onnx import save_onnx, to_onnx
    from export.to_onnx.options import OnnxOptions

    X, y = load_iris(return_X_y=True)
    names = ("sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)")
    model = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    block = to_ir(model)
    schema = ir.Schema(tuple(ir.Column(n, "double", n.split(" (")[0].replace(" ", "_")) for n in names))
    node = ir.Model.single(block.output.node, block.head, schema)  # named Double inputs
    root = tmp_path_factory.mktemp("iris")
    coreml = root / "iris.mlmodel"
    save_spec(to_spec(node, CoreMLInterface()), coreml)
    onnx_path = root / "iris.onnx"
    save_onnx(to_onnx(model, node, OnnxOptions(input_dtype="float64")).model, onnx_path)
    return model, X, [coreml, onnx_path]


@pytest.fixture(scope="module")
def iris_report(iris_export: tuple[Any, np.ndarray, list[Path]]) -> parity.ParityReport:
    model, X, paths = iris_export
    return parity.check(model, paths, inputs=X, feature_names=["sl", "sw", "pl", "pw"])


def test_json_round_trip_and_counts(iris_report: parity.ParityReport) -> None:
    document = to_json(iris_report)
    assert json.loads(json.dumps(document, allow_nan=False)) == document
    n_probe_sets = len(iris_report.probes)
    n_outputs = sum(len(a.roles) for a in iris_report.artifacts)
    assert len(document["checks"]) == n_outputs * n_probe_sets
    assert document["verdict"] in ("passed", "failed")
    assert {"runtime", "artifact", "status"} <= set(document["runtimes"][0])


def test_html_is_self_contained(iris_report: parity.ParityReport) -> None:
    page = to_html(iris_report)
    assert page.startswith("<!DOCTYPE html>")
    assert "http://" not in page and "https://" not in page
    assert "<script src" not in page and "<link" not in page
    assert page.count("data:image/png;base64,") >= 2  # one figure per artifact × numeric output
    assert f"banner {iris_report.verdict}" in page
    for probe in iris_report.probes:
        assert f"<td class='l'>{probe.name}</td><td>{probe.n_rows}</td>" in page


def test_junit_has_one_case_per_artifact_output_probe(iris_report: parity.ParityReport) -> None:
    suite = ElementTree.fromstring(to_junit(iris_report))
    cases = suite.findall("testcase")
    assert len(cases) == len(iris_report.checks)
    keys = {(c.get("classname"), c.get("name")) for c in cases}
    assert len(keys) == len(cases)
    assert int(suite.get("failures", "0")) == sum(1 for c in cases if c.find("failure") is not None)


def test_markdown_lists_runtimes_and_tolerance_reasons(iris_report: parity.ParityReport) -> None:
    text = to_markdown(iris_report)
    assert text.startswith("# Parity ")
    assert "Core ML native" in text and "onnxruntime" in text
    assert "double sums of tree leaves" in text


def test_failure_renderings_carry_the_cause(iris_export: tuple[Any, np.ndarray, list[Path]],
                                            tmp_path: Path) -> None:
    from export.frontends import to_ir
    from export.to_coreml import CoreMLInterface, save_spec, to_spec

    model, X, _ = iris_export
    other = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=1).fit(X, load_iris().target)
    wrong = tmp_path / "other.mlmodel"
    save_spec(to_spec(to_ir(other), CoreMLInterface()), wrong)
    report = parity.check(model, [wrong], inputs=X)
    assert report.verdict == "failed"
    suite = ElementTree.fromstring(to_junit(report))
    messages = [f.get("message") for f in suite.iter("failure")]
    assert messages and all(messages)
    assert "Why it failed" in to_html(report)
    assert "## Failures" in to_markdown(report)


# ---------------------------------------------------------------------------------------------------------------
# golden.json


def test_golden_validates_against_schema_and_is_deterministic(iris_report: parity.ParityReport,
                                                              iris_export: tuple[Any, np.ndarray, list[Path]],
                                                              tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test dependency (pyproject [test] extra)")

    _, _, paths = iris_export
    first = write_golden(iris_report, paths[0], tmp_path / "a.json")
    second = write_golden(iris_report, paths[0], tmp_path / "b.json")
    assert first.read_bytes() == second.read_bytes()
    document = json.loads(first.read_text())
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    assert document["input"]["kind"] == "named_doubles"
    assert [f["coreml_name"] for f in document["input"]["features"]] == ["sepal_length", "sepal_width",
                                                                          "petal_length", "petal_width"]
    assert document["class_labels"] == [0, 1, 2]
    assert len(document["rows"]) <= 200
    assert {r["probe"] for r in document["rows"]} == {p.name for p in iris_report.probes}
    assert document["tolerances"]["classProbability"]["reason"]


def test_golden_expected_values_are_scikit_learns(iris_report: parity.ParityReport,
                                                  iris_export: tuple[Any, np.ndarray, list[Path]]) -> None:
    model, _, paths = iris_export
    document = golden_document(iris_report, paths[0])
    inputs = np.array([[float(v) for v in row["inputs"]] for row in document["rows"]])
    labels = [row["expected"]["classLabel"] for row in document["rows"]]
    probabilities = np.array([row["expected"]["classProbability"] for row in document["rows"]])
    assert labels == model.predict(inputs).tolist()
    assert np.array_equal(probabilities, model.predict_proba(inputs))


def test_golden_regressor_and_non_finite_encoding(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test dependency (pyproject [test] extra)")
    from export.frontends import to_ir
    from export.to_coreml import CoreMLInterface, save_spec, to_spec

    X, y = make_regression(n_samples=100, n_features=3, random_state=0)
    model = LinearRegression().fit(X, y)
    path = tmp_path / "linear.mlmodel"
    save_spec(to_spec(to_ir(model), CoreMLInterface()), path)
    report = parity.check(model, [path], inputs=X)
    document = golden_document(report, path)
    jsonschema.validate(document, json.loads(SCHEMA.read_text()), cls=jsonschema.Draft202012Validator)
    assert document["model"]["task"] == "regressor"
    assert document["input"] == {"dtype": "float64", "features": [{"name": "x0"}, {"name": "x1"}, {"name": "x2"}],
                                 "kind": "multiarray", "multiarray_name": "input"}
    (output,) = document["outputs"]
    assert output["kind"] == "scores" and output["width"] == 1
    row = document["rows"][0]
    assert row["expected"][output["name"]] == pytest.approx(float(model.predict(np.array([row["inputs"]]))[0]),
                                                             rel=1e-15)
    assert dumps({"x": "NaN"}) == '{\n "x": "NaN"\n}\n'


def test_row_selection_covers_every_probe_set() -> None:
    chosen = select_rows({"user-data": 1000, "one-row": 1, "thresholds": 5000, "nan": 3})
    assert sum(len(v) for v in chosen.values()) == 200
    assert len(chosen["one-row"]) == 1 and len(chosen["nan"]) == 3


# ---------------------------------------------------------------------------------------------------------------
# pytest plugin


def test_assert_parity_passes_and_fails_with_markdown(iris_export: tuple[Any, np.ndarray, list[Path]],
                                                      tmp_path: Path) -> None:
    model, X, paths = iris_export
    report = assert_parity(model, paths[1].parent, inputs=X)
    assert report.passed
    other = RandomForestClassifier(n_estimators=3, random_state=5).fit(X, load_iris().target)
    with pytest.raises(AssertionError, match="# Parity FAILED"):
        assert_parity(other, paths, inputs=X)


def test_plugin_import_is_light() -> None:
    code = ("import sys, parity.pytest_plugin; heavy = [m for m in ('numpy', 'sklearn', 'onnxruntime', 'coremltools', "
            "'matplotlib') if m in sys.modules]; print(heavy)")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def test_fixture_is_registered(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(assert_parity):\n    assert callable(assert_parity)\n")
    pytester.runpytest().assert_outcomes(passed=1)  # loaded through the pytest11 entry point


# ---------------------------------------------------------------------------------------------------------------
# data files


def test_load_table_formats(tmp_path: Path) -> None:
    X = np.array([[1.0, np.nan], [3.0, 4.5]])
    np.save(tmp_path / "x.npy", X)
    frame = pd.DataFrame(X, columns=["a", "b"])
    frame.to_csv(tmp_path / "x.csv", index=False)
    frame.to_parquet(tmp_path / "x.parquet")
    for name in ("x.npy", "x.csv", "x.parquet"):
        loaded, _ = load_table(tmp_path / name, 2)
        assert np.array_equal(loaded, X, equal_nan=True)
    reordered, names = load_table(tmp_path / "x.csv", 2, ["b", "a"])
    assert names == ["b", "a"] and np.array_equal(reordered, X[:, ::-1], equal_nan=True)


def test_load_table_errors(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="not found"):
        load_table(tmp_path / "missing.csv", 2)
    pd.DataFrame({"a": [1.0], "b": [2.0], "c": [3.0]}).to_csv(tmp_path / "wide.csv", index=False)
    with pytest.raises(DataFileError, match="has 3 columns, the model expects 2"):
        load_table(tmp_path / "wide.csv", 2)
    with pytest.raises(DataFileError, match=r"missing columns \[.z.\]; unexpected columns \[.c.\]"):
        load_table(tmp_path / "wide.csv", 3, ["a", "b", "z"])
    pd.DataFrame({"a": ["1.0", "oops"], "b": [1, 2]}).to_csv(tmp_path / "text.csv", index=False)
    with pytest.raises(DataFileError, match="column 'a' row 1 holds 'oops'"):
        load_table(tmp_path / "text.csv", 2)
    np.save(tmp_path / "inf.npy", np.array([[1.0, np.inf]]))
    with pytest.raises(DataFileError, match="NaN is allowed"):
        load_table(tmp_path / "inf.npy", 2)
    (tmp_path / "x.xlsx").write_bytes(b"")
    with pytest.raises(DataFileError, match=r"supported: \.npy, \.csv, \.parquet"):
        load_table(tmp_path / "x.xlsx", 2)
