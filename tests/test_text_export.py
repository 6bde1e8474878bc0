"""Text models through the one export flow (`export_model` / `mlexport export` / `mlexport ios-stub`): the files a
text export writes, golden.json v3 (raw text + term counts, checked against scikit-learn's analyzer here and
against the Swift TextFeatures by `text-features-check --golden`), the text probes in the reports, and the one-line
refusals naming the setting. Data: real Tate titles and artworks rows (tests/data)."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import supported_cases
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline
from swift_build import swift_product

import parity
from export.errors import UnsupportedEstimatorError
from export.exporter import ExportOptions, export_model
from export.frontends import convert, to_ir
from export.ios_target import write_ios_test_target
from export.loading import dump_skops
from parity.text_probes import UNICODE_EDGE_CASES


@pytest.fixture(scope="module")
def tfidf_nb() -> Any:
    titles, kinds = supported_cases.tate_titles()
    return make_pipeline(TfidfVectorizer(stop_words="english"), MultinomialNB()).fit(titles, kinds)


@pytest.fixture(scope="module")
def exported(tfidf_nb: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("text") / "tate"
    titles, _ = supported_cases.tate_titles()
    result = export_model(tfidf_nb, out, ExportOptions(name="tate", feature_names=("title",), reproducible=True),
                          data=titles[:150])
    assert result.parity_verdict == "passed", result.parity_summary
    return out


def test_text_export_writes_the_rules_and_names_the_input(exported: Path) -> None:
    manifest = json.loads((exported / "manifest.json").read_text())
    assert manifest["artifacts"]["text_rules"] == "tate.text.json"
    rules = json.loads((exported / "tate.text.json").read_text(encoding="utf-8"))
    assert rules["format"] == "mlexport-text-rules" and rules["column"] == "title"
    assert "the" in rules["stop_words"] and rules["vocabulary"]
    import onnx

    assert [i.name for i in onnx.load(str(exported / "tate.onnx")).graph.input] == ["title"]


def test_golden_records_raw_text_and_scikit_learns_counts(exported: Path, tfidf_nb: Any) -> None:
    golden = json.loads((exported / "golden.json").read_text(encoding="utf-8"))
    assert golden["format_version"] == 3
    assert golden["input"]["features"] == [{"name": "title", "coreml_name": "title", "type": "text",
                                            "rules": "tate.text.json"}]
    analyze, vocabulary = tfidf_nb[0].build_analyzer(), set(tfidf_nb[0].vocabulary_)
    texts = []
    for row in golden["rows"]:
        value = row["inputs"][0]
        expected = {t: float(c) for t, c in collections.Counter(analyze(value["text"])).items() if t in vocabulary}
        assert value["counts"] == expected
        texts.append(value["text"])
    probes = {row["probe"] for row in golden["rows"]}
    assert {"user-data", "text"} <= probes
    assert "" in texts and any(t in texts for t in UNICODE_EDGE_CASES)  # raw, not NFC-normalised
    assert "cafe\u0301 café" in texts
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(golden, json.loads((Path(parity.__file__).parent / "golden.schema.json").read_text()))


def test_swift_text_features_agree_on_every_golden_row(exported: Path) -> None:
    binary = swift_product("text-features-check", "the Swift tokenizer on golden rows")
    proc = subprocess.run([str(binary), "--golden", str(exported / "golden.json"), str(exported)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["mismatches"] == [] and result["rows"] >= 100


def test_reports_show_the_text_probes(exported: Path) -> None:
    report = json.loads((exported / "parity.json").read_text(encoding="utf-8"))
    assert any(p["name"] == "text" for p in report["probes"])
    markdown = (exported / "parity.md").read_text(encoding="utf-8")
    assert "| title | text |" in markdown
    assert "term counts" in markdown  # how each artifact is fed the text column


def test_ios_stub_carries_the_rules_and_the_text_check(exported: Path, tmp_path: Path) -> None:
    target = write_ios_test_target(exported, tmp_path / "ios")
    assert (target / "tate.text.json").read_bytes() == (exported / "tate.text.json").read_bytes()
    test = next(target.glob("*ParityTests.swift")).read_text(encoding="utf-8")
    assert "func testTextFeaturesMatchGoldenCounts" in test and "TextFeatures(rulesJSON:" in test
    assert "NAME.text.json" in (target / "README.txt").read_text(encoding="utf-8")


def test_column_transformer_text_column_next_to_strings_and_numbers(tmp_path: Path) -> None:
    X, y = supported_cases.tate_frame()
    model = supported_cases.tate_text_pipeline().fit(X, y)
    result = export_model(model, tmp_path / "ct", ExportOptions(name="art"), data=X.iloc[:120])
    assert result.parity_verdict == "passed", result.parity_summary
    golden = json.loads((tmp_path / "ct" / "golden.json").read_text(encoding="utf-8"))
    assert [f["type"] for f in golden["input"]["features"]] == ["text", "string", "double"]
    from export.to_coreml.protos import Model_pb2

    spec = Model_pb2.Model()
    spec.ParseFromString((tmp_path / "ct" / "art.mlmodel").read_bytes())
    assert [i.type.WhichOneof("Type") for i in spec.description.input] == ["dictionaryType", "stringType",
                                                                              "doubleType"]


def test_cli_exports_a_skops_text_model_with_a_named_column(tfidf_nb: Any, tmp_path: Path) -> None:
    dump_skops(tfidf_nb, tmp_path / "tate.skops")
    titles, _ = supported_cases.tate_titles()
    pd.DataFrame({"title": titles[:60]}).to_csv(tmp_path / "titles.csv", index=False)
    proc = subprocess.run([sys.executable, "-m", "export", "export", str(tmp_path / "tate.skops"), "--out",
                           str(tmp_path / "out"), "--feature-names", "title", "--data", str(tmp_path / "titles.csv")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "tate.text.json").is_file()
    again = subprocess.run([sys.executable, "-m", "export", "parity", str(tmp_path / "out")], capture_output=True,
                           text=True, timeout=600)  # re-reads the recorded titles.csv as a text column
    assert again.returncode == 0, again.stdout[-1500:] + again.stderr[-1500:]
    assert "user-data" in again.stdout and " text " in again.stdout


def test_char_analyzer_is_refused_naming_the_setting(tmp_path: Path) -> None:
    titles, kinds = supported_cases.tate_titles()
    dump_skops(make_pipeline(TfidfVectorizer(analyzer="char_wb"), MultinomialNB()).fit(titles, kinds),
               tmp_path / "char.skops")
    proc = subprocess.run([sys.executable, "-m", "export", "export", str(tmp_path / "char.skops"), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2
    assert "analyzer='char_wb' cannot be reproduced exactly; supported: 'word'" in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line]  # progress lines aside, one error line
    assert len(errors) == 1 and "Traceback" not in proc.stderr and not (tmp_path / "out").exists()


def test_hashing_vectorizer_is_onnx_only(tmp_path: Path) -> None:
    titles, kinds = supported_cases.tate_titles()
    model = make_pipeline(HashingVectorizer(n_features=2**10), LogisticRegression(max_iter=500)).fit(titles, kinds)
    with pytest.raises(UnsupportedEstimatorError, match="no vocabulary for Core ML's dictionary input"):
        export_model(model, tmp_path / "both")
    assert not (tmp_path / "both").exists()
    result = export_model(model, tmp_path / "onnx", ExportOptions(formats=("onnx",)), data=titles[:50])
    assert result.parity_verdict == "passed" and not (tmp_path / "onnx" / "model.text.json").exists()


def test_misplaced_vectorizers_are_refused() -> None:
    X, y = supported_cases.tate_frame()
    listed = ColumnTransformer([("t", TfidfVectorizer(), ["title"])]).fit(X, y)  # fits on the column *names*
    with pytest.raises(UnsupportedEstimatorError, match="part 't': a text vectorizer must be given one column name"):
        to_ir(listed)
    with pytest.raises(UnsupportedEstimatorError, match="CountVectorizer: reads documents .*, not a numeric vector"):
        convert(CountVectorizer().fit(X["title"]))  # what a composite reading vectors would get


def test_sublinear_tfidf_on_a_count_matrix_is_refused() -> None:
    counts, _ = supported_cases.tate_counts()
    with pytest.raises(UnsupportedEstimatorError, match="sublinear_tf=True on a numeric input"):
        to_ir(TfidfTransformer(sublinear_tf=True).fit(counts))
    assert np.isfinite(counts).all()


def test_two_text_columns_get_one_counts_input_and_rules_file_each(tmp_path: Path) -> None:
    from sklearn.preprocessing import StandardScaler

    X, y = supported_cases.tate_frame()
    columns = ColumnTransformer([("title", TfidfVectorizer(), "title"), ("artist", CountVectorizer(), "artist"),
                                 ("year", StandardScaler(), ["year"])])
    model = make_pipeline(columns, LogisticRegression(max_iter=1000)).fit(X, y)
    result = export_model(model, tmp_path / "two", ExportOptions(name="art"), data=X.iloc[:80])
    assert result.parity_verdict == "passed", result.parity_summary
    golden = json.loads((tmp_path / "two" / "golden.json").read_text(encoding="utf-8"))
    rules = [f.get("rules") for f in golden["input"]["features"]]
    assert rules == ["art.title.text.json", "art.artist.text.json", None]
    for name in rules[:2]:
        assert json.loads((tmp_path / "two" / str(name)).read_text(encoding="utf-8"))["format"] == "mlexport-text-rules"
