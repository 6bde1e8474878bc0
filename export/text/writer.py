"""Export a fitted text model (export.text.pipeline) to ONNX and Core ML with its Swift rules file, and check it.

    export_text_model(pipeline, "out/spam", column="message", documents=sample_messages)

writes, atomically (a staging sibling renamed into place; nothing on failure):
  NAME.onnx       string input `column` [N, 1]; outputs classLabel/classProbability (or prediction / transformed)
  NAME.mlmodel    input `column`: String -> Double term counts (only when Core ML can encode the model exactly)
  NAME.text.json  the TextFeatures rules (ios_stub) that compute those counts from a String, with the vocabulary
and checks each artifact against scikit-learn on `documents` plus parity.text_probes: ONNX on the raw strings,
Core ML (through parity's reference evaluator) on the term counts scikit-learn's analyzer gives — the Swift
TextFeatures is proven to give the same counts in tests/test_text_swift.py and tests/test_text_coreml.py.

Not yet part of `mlexport export` or the front-end registry: the vectorizers need an IR node that reads a string
column (the IR's typed Schema has string columns; no node tokenizes yet). The tail after the vectorizer is IR v2
(export.text.pipeline.TextTail: registry converters, lowered by both writers' own node/head emitters).
"""

from __future__ import annotations

import collections
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

import parity.coreml_reference as coreml_reference
from export.errors import ParityFailedError, UnsupportedEstimatorError, UsageError
from export.exporter import check_name
from export.output_dir import atomic_output_dir, check_output_dir, name_some
from export.text.analyzer import TextFeatures, Vocabulary
from export.text.pipeline import text_model_of
from export.text.rules import text_rules
from export.text.to_coreml_text import coreml_refusal, text_to_spec
from export.text.to_onnx_text import build_text_onnx
from export.to_coreml.interface import CoreMLInterface
from export.to_coreml.save import save_spec
from export.to_onnx.metadata import save_onnx
from export.to_onnx.options import OnnxOptions
from parity.text_probes import text_probes

# Probability agreement: ONNX computes in doubles (measured bit-identical transforms, probabilities within 1e-15);
# Core ML's softmax models store float32 innerProduct weights (the repository's NN tolerance).
ONNX_TOLERANCE = 1e-12
COREML_TOLERANCE = 1e-5
ARTIFACT_SUFFIXES = (".onnx", ".mlmodel", ".text.json")


@dataclass
class TextExport:
    out_dir: Path
    files: dict[str, Path]
    rows_checked: int
    agreement: dict[str, str] = field(default_factory=dict)  # artifact -> "k/n rows" (labels or values)
    skipped: dict[str, str] = field(default_factory=dict)  # format -> why it was not written


def _counts(estimator: Any, features: TextFeatures, documents: list[str]) -> list[dict[str, float]]:
    vectorizer = estimator.steps[0][1] if hasattr(estimator, "steps") else estimator
    analyze = vectorizer.build_analyzer()
    assert isinstance(features.columns, Vocabulary)
    known = set(features.columns.terms)
    rows = [{t: float(c) for t, c in collections.Counter(analyze(d)).items() if t in known} for d in documents]
    return [dict.fromkeys(r, 1.0) for r in rows] if features.binary else rows


def _reference(estimator: Any, documents: list[str]) -> dict[str, np.ndarray]:
    if hasattr(estimator, "predict"):
        label = "classLabel" if hasattr(estimator, "classes_") else "prediction"
        out = {label: np.asarray(estimator.predict(documents))}
        if hasattr(estimator, "predict_proba") and hasattr(estimator, "classes_"):
            out["classProbability"] = estimator.predict_proba(documents)
        return out
    return {"transformed_features": estimator.transform(documents).toarray()}


def _agreement(name: str, got: dict[str, np.ndarray], expected: dict[str, np.ndarray], tolerance: float) -> str:
    failures = []
    rows = 0
    for key, want in expected.items():
        have = np.asarray(got[key])
        if key == "classLabel":
            ok = have.reshape(-1) == want.reshape(-1)
            if "classProbability" in expected:  # a reference tie within the artifact's precision may go either way
                top2 = np.sort(expected["classProbability"], axis=1)[:, -2:]
                ok |= top2[:, 1] - top2[:, 0] <= 2 * tolerance
        else:
            have = have.reshape(want.shape)
            ok = np.isclose(have, want, rtol=tolerance, atol=tolerance).all(axis=tuple(range(1, want.ndim)))
        if not ok.all():
            failures.append(f"{key}: {int((~ok).sum())} of {ok.size} rows differ (first row {int(np.argmin(ok))})")
        rows = ok.size
    if failures:
        raise ParityFailedError(f"{name}: " + "; ".join(failures))
    return f"{rows}/{rows} rows"


def export_text_model(estimator: Any, out_dir: str | Path, *, column: str = "text", name: str = "model",
                      formats: Sequence[str] = ("coreml", "onnx"), documents: Sequence[str] = (),
                      force: bool = False) -> TextExport:
    """Write and check the artifacts (see the module docstring); raises ParityFailedError naming the artifact."""
    check_name(name)
    unknown = set(formats) - {"coreml", "onnx"}
    if unknown or not formats:
        raise UsageError(f"formats {sorted(unknown) or '(none)'}; allowed: coreml, onnx")
    out = Path(out_dir)
    ours = {f"{name}{suffix}" for suffix in ARTIFACT_SUFFIXES}

    def replaceable(directory: Path) -> str | None:  # --force replaces a previous text export, nothing else
        foreign = sorted(p.name for p in directory.iterdir() if p.name not in ours)
        return f"it holds files that are not this text export's ({name_some(foreign)})" if foreign else None

    check_output_dir(out, force=force, replaceable=replaceable, flag="out_dir")
    features, tail = text_model_of(estimator)
    stop = features.analyzer.stop_words
    known: tuple[str, ...] = ()
    if isinstance(features.columns, Vocabulary):
        known = features.columns.terms[:: max(1, features.n_features // 20)]
    probe = [str(d) for d in documents] + text_probes(stop, known)
    expected = _reference(estimator, probe)
    result = TextExport(out, {}, len(probe))
    with atomic_output_dir(out) as staging:
        if "onnx" in formats:
            model, _ = build_text_onnx(features, tail, OnnxOptions(input_name=column))
            path = save_onnx(model, staging / f"{name}.onnx")
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            outputs = session.run(None, {column: np.array(probe, dtype=object).reshape(-1, 1)})
            got = {o.name: v for o, v in zip(session.get_outputs(), outputs, strict=True)}
            result.agreement["onnx"] = _agreement("ONNX", got, expected, ONNX_TOLERANCE)
            result.files["onnx"] = out / path.name
        if "coreml" in formats:
            refusal = coreml_refusal(features)
            if refusal is not None:
                if "onnx" not in formats:
                    raise UnsupportedEstimatorError(refusal)
                result.skipped["coreml"] = refusal
            else:
                assert isinstance(features.columns, Vocabulary)
                spec = text_to_spec(features, tail, column, CoreMLInterface())
                path = save_spec(spec, staging / f"{name}.mlmodel", validate=False)
                got = coreml_reference.predict(spec, {column: _counts(estimator, features, probe)})
                result.agreement["coreml"] = _agreement("Core ML", got, expected, COREML_TOLERANCE)
                rules = text_rules(features.analyzer, features.binary, features.columns.terms)
                rules_path = staging / f"{name}.text.json"
                rules_path.write_text(json.dumps(rules, ensure_ascii=False, separators=(",", ":")) + "\n",
                                      encoding="utf-8")
                result.files["coreml"] = out / path.name
                result.files["text_rules"] = out / rules_path.name
    return result
