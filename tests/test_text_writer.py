"""export_text_model: writes the ONNX model, the Core ML model and the Swift rules atomically and checks them
against scikit-learn on the given documents + parity.text_probes; refuses what it cannot encode, naming it."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
import text_corpus
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from export.errors import OutputDirError, UnsupportedEstimatorError
from export.text.writer import export_text_model
from parity.text_probes import text_probes


def test_tfidf_naive_bayes_exports_checked_files(tmp_path: Path) -> None:
    titles, kinds = text_corpus.training_set()
    pipeline = make_pipeline(TfidfVectorizer(stop_words="english"), MultinomialNB()).fit(titles, kinds)
    result = export_text_model(pipeline, tmp_path / "out", column="title", name="medium",
                               documents=text_corpus.titles()[:200])
    n = 200 + len(text_probes(["x"], ["y"]))
    assert result.agreement == {"onnx": f"{n}/{n} rows", "coreml": f"{n}/{n} rows"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["medium.mlmodel", "medium.onnx",
                                                                      "medium.text.json"]
    rules = json.loads((tmp_path / "out" / "medium.text.json").read_text(encoding="utf-8"))
    assert rules["vocabulary"] == list(pipeline[0].get_feature_names_out())
    assert rules["stop_words"] == sorted(pipeline[0].get_stop_words())
    graph = onnx.load(str(tmp_path / "out" / "medium.onnx")).graph
    assert [i.name for i in graph.input] == ["title"]
    with pytest.raises(OutputDirError, match="already exists"):
        export_text_model(pipeline, tmp_path / "out")


def test_hashing_model_writes_onnx_and_says_why_not_core_ml(tmp_path: Path) -> None:
    titles, kinds = text_corpus.training_set()
    pipeline = make_pipeline(HashingVectorizer(n_features=2**12), LogisticRegression(max_iter=200)).fit(titles, kinds)
    result = export_text_model(pipeline, tmp_path / "h", documents=titles[:50])
    assert set(result.files) == {"onnx"} and "no vocabulary" in result.skipped["coreml"]
    with pytest.raises(UnsupportedEstimatorError, match="no vocabulary"):
        export_text_model(pipeline, tmp_path / "h2", formats=("coreml",))
    assert not (tmp_path / "h2").exists()
