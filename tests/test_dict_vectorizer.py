"""DictVectorizer models through the one flow: both artifacts against scikit-learn's own `transform` / predictions
on dicts fed by the documented input contract (README "DictVectorizer inputs"), golden.json v4 rows, and the
refusals. Data: real credit card applications as dicts (tests/supported_cases.application_dicts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
import supported_cases
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import parity
from export.errors import UnsupportedEstimatorError
from export.exporter import ExportOptions, export_model
from export.frontends import to_ir
from export.to_coreml import CoreMLInterface, save_spec, to_spec
from export.to_onnx import OnnxOptions, save_onnx, to_onnx
from parity.coreml_reference import predict as coreml_predict
from parity.coreml_reference.spec_loading import load_model


def _written(estimator: Any, directory: Path) -> tuple[Path, Path]:
    model = to_ir(estimator)
    coreml = save_spec(to_spec(model, CoreMLInterface()), directory / "m.mlmodel")
    onnx_path = save_onnx(to_onnx(estimator, model, OnnxOptions()).model, directory / "m.onnx")
    return coreml, onnx_path


@pytest.mark.parametrize("vectorizer", [
    DictVectorizer(), DictVectorizer(sparse=False), DictVectorizer(sort=False), DictVectorizer(separator="|"),
], ids=["sparse-sorted", "dense", "unsorted", "separator"])
def test_transform_is_exact_in_both_formats_on_hand_built_feeds(vectorizer: DictVectorizer, tmp_path: Path) -> None:
    """The contract fed by hand (not through parity): Core ML gets {known "k=v" or k: value}, ONNX the padded
    keys/values with unknown keys left in; both must equal scikit-learn's densified transform bit for bit."""
    dicts, _ = supported_cases.application_dicts()
    vectorizer.fit(dicts)
    separator = vectorizer.separator
    rows = [*dicts[:40], {}, {"unseen": 4.0}, {"owner": "maybe", "age": -0.0}, {"income": 1e308, "share": 5e-324}]
    expected = vectorizer.transform(rows)
    expected = np.asarray(expected.toarray() if hasattr(expected, "toarray") else expected)
    pairs = [{(f"{k}{separator}{v}" if isinstance(v, str) else k): (1.0 if isinstance(v, str) else float(v))
              for k, v in row.items()} for row in rows]
    coreml, onnx_path = _written(vectorizer, tmp_path)

    known = set(vectorizer.feature_names_)
    feed = np.empty(len(rows), dtype=object)
    feed[:] = [{k: v for k, v in p.items() if k in known} for p in pairs]
    got = coreml_predict(load_model(coreml), {"features": feed})["transformed_features"]
    np.testing.assert_array_equal(got, expected)  # equal as numbers: Core ML keeps a fed -0.0, scikit-learn gives 0.0

    width = max(len(p) for p in pairs)
    keys = np.full((len(rows), width), "", dtype=object)
    values = np.zeros((len(rows), width))
    for i, p in enumerate(pairs):
        keys[i, : len(p)], values[i, : len(p)] = list(p), list(p.values())
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    assert [(i.name, i.type) for i in session.get_inputs()] == [("features_keys", "tensor(string)"),
                                                               ("features_values", "tensor(double)")]
    (onnx_out,) = session.run(None, {"features_keys": keys, "features_values": values})
    np.testing.assert_array_equal(onnx_out, expected)
    assert not np.signbit(onnx_out[expected == 0]).any()  # a fed -0.0 sums to 0.0, as scikit-learn's output has it


def test_onnx_sums_a_key_given_twice_like_scikit_learns_dense_output(tmp_path: Path) -> None:
    """{"b": "x", "b=x": 2}: both are the feature "b=x"; scikit-learn's densified output sums them (3)."""
    vectorizer = DictVectorizer().fit([{"a": 1.0, "b": "x"}, {"b=x": 5.0}])
    expected = vectorizer.transform([{"b": "x", "b=x": 2.0}]).toarray()
    _, onnx_path = _written(vectorizer, tmp_path)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"features_keys": np.array([["b=x", "b=x"]], dtype=object),
                                "features_values": np.array([[1.0, 2.0]])})
    np.testing.assert_array_equal(got, expected)
    assert expected[0, vectorizer.vocabulary_["b=x"]] == 3.0


def test_pipeline_export_passes_parity_and_golden_rows_carry_the_dicts(tmp_path: Path) -> None:
    dicts, labels = supported_cases.application_dicts()
    model = make_pipeline(DictVectorizer(), LogisticRegression(max_iter=2000)).fit(dicts, labels)
    result = export_model(model, tmp_path / "out", ExportOptions(name="cards"), data=dicts[:80])
    assert result.parity_verdict == "passed", result.parity_summary
    report = json.loads((tmp_path / "out" / "parity.json").read_text(encoding="utf-8"))
    assert {"user-data", "dictionaries"} <= {p["name"] for p in report["probes"]}
    golden = json.loads((tmp_path / "out" / "golden.json").read_text(encoding="utf-8"))
    assert golden["format_version"] == 4
    import jsonschema

    jsonschema.validate(golden, json.loads((Path(parity.__file__).parent / "golden.schema.json").read_text()))
    assert golden["input"]["features"] == [{"name": "features", "coreml_name": "features", "type": "dictionary"}]
    user = [r for r in golden["rows"] if r["probe"] == "user-data"]
    vectorizer = model[0]
    fed = vectorizer.transform([r["inputs"][0]["dictionary"] for r in user]).toarray()
    for row, dense in zip(user, fed, strict=True):  # "features" is scikit-learn's own transform, nonzeros
        recorded = row["inputs"][0]["features"]
        assert {k: v for k, v in recorded.items() if v != 0} == {
            name: dense[j] for name, j in vectorizer.vocabulary_.items() if dense[j] != 0}
    np.testing.assert_array_equal([r["expected"]["classLabel"] for r in user],
                                  model.predict([r["inputs"][0]["dictionary"] for r in user]))
    markdown = (tmp_path / "out" / "parity.md").read_text(encoding="utf-8")
    assert "| features | dictionary |" in markdown and "Dictionary inputs (features)" in markdown


def test_parity_catches_an_artifact_that_drops_a_feature(tmp_path: Path) -> None:
    """A wrong artifact must fail: an ONNX graph of another DictVectorizer (one feature fewer) is not exact."""
    dicts, labels = supported_cases.application_dicts()
    model = make_pipeline(DictVectorizer(), LogisticRegression(max_iter=2000)).fit(dicts, labels)
    other = make_pipeline(DictVectorizer(), LogisticRegression(max_iter=2000)).fit(
        [{k: v for k, v in d.items() if k != "income"} for d in dicts], labels)
    _, onnx_path = _written(other, tmp_path)
    report = parity.check(model, [onnx_path], inputs=dicts[:60])
    assert report.verdict == "failed"


def test_steps_after_the_vectorizer_are_ordinary_steps(tmp_path: Path) -> None:
    dicts, labels = supported_cases.application_dicts()
    model = make_pipeline(DictVectorizer(), StandardScaler(with_mean=False),
                          LogisticRegression(max_iter=2000)).fit(dicts, labels)
    report = parity.check(model, list(_written(model, tmp_path)), inputs=dicts[:60])
    assert report.verdict == "passed", parity.to_markdown(report)


def test_a_dict_vectorizer_reading_a_vector_is_refused_naming_where_it_is_supported() -> None:
    from export.frontends import convert

    with pytest.raises(UnsupportedEstimatorError, match="reads dicts .*first in a Pipeline fitted on a list of dicts"):
        convert(DictVectorizer().fit(supported_cases.application_dicts()[0]))


def test_cli_exports_a_skops_dict_model_and_refuses_a_csv_of_rows(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from export.cli import main
    from export.loading import dump_skops

    dicts, labels = supported_cases.application_dicts()
    model_path = tmp_path / "cards.skops"
    dump_skops(make_pipeline(DictVectorizer(), LogisticRegression(max_iter=2000)).fit(dicts, labels), model_path)
    assert main(["export", str(model_path), "--out", str(tmp_path / "out")]) == 0
    assert json.loads((tmp_path / "out" / "parity.json").read_text())["verdict"] == "passed"
    capsys.readouterr()
    code = main(["export", str(model_path), "--out", str(tmp_path / "bad"), "--data",
                 str(Path(__file__).parent / "data" / "credit_card_applications_slice.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "reads dicts" in err and "Traceback" not in err, err
    assert not (tmp_path / "bad").exists()


def test_export_keeps_no_parquet_copy_of_dict_rows(tmp_path: Path) -> None:
    """Parquet would give every row every key (None where absent), which scikit-learn refuses: no copy is kept."""
    dicts, labels = supported_cases.application_dicts()
    model = make_pipeline(DictVectorizer(), LogisticRegression(max_iter=2000)).fit(dicts, labels)
    export_model(model, tmp_path / "out", ExportOptions(name="cards", formats=("onnx",)), data=dicts[:30])
    record = json.loads((tmp_path / "out" / "manifest.json").read_text())["data"]
    assert record["copy"] is None and record["rows"] == 30
    assert not list((tmp_path / "out").glob("parity_data.*"))
