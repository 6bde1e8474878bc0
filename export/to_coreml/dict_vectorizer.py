"""IR TextVectorizer -> Core ML DictVectorizer: a text column's input is a Dictionary (String -> Double) of counts.

The classic Core ML spec has no tokenizer, so the model reads the term counts ios_stub's `TextFeatures` computes
from a String with the model's rules file (NAME.text.json, export.text.rules) and runs

    DictVectorizer (stringToIndex = vocabulary_, in column order) -> FeatureVectorizer (inputDimensions = V)

into the DOUBLE vector the following steps read (Scaler: x * idf_, exact, shiftValue 0; Normalizer l1/l2; the model).
Core ML requires every key of the dictionary to be in stringToIndex (DictVectorizer.proto), while scikit-learn
ignores unknown terms: the rules file therefore carries the vocabulary and `TextFeatures.counts` keeps only its
terms. Refused: HashingVectorizer (no vocabulary for a dictionary input) and sublinear_tf (Core ML's classic
models have no log before a GLM; a neural-network log would be float32).
"""

from __future__ import annotations

from typing import Any

from export import ir
from export.errors import UnsupportedEstimatorError
from export.to_coreml.features import Feature, Names
from export.to_coreml.pipeline import dictionary_type, dictionary_vector_models
from export.to_coreml.protos import Spec


def coreml_refusal(node: ir.TextVectorizer) -> str | None:
    """Why `node` has no exact Core ML encoding (None when it has one)."""
    if not isinstance(node.columns, ir.Vocabulary):
        return (f"{node.source}: a hashing vectorizer has no vocabulary for Core ML's dictionary input; "
                "supported for Core ML: CountVectorizer, TfidfVectorizer (export ONNX only: --formats onnx)")
    if node.sublinear_tf:
        return (f"{node.source}: sublinear_tf=True has no exact Core ML encoding (no log in the classic models); "
                "supported for Core ML: sublinear_tf=False (export ONNX only: --formats onnx)")
    return None


def term_counts_type() -> Any:
    """Dictionary<String, Double>: the term counts of one document (the Core ML input of a text column)."""
    return dictionary_type("string")


def text_vectorizer_models(node: ir.TextVectorizer, counts: Feature, output_name: str,
                           names: Names) -> tuple[list[Spec], list[Feature]]:
    """DictVectorizer + FeatureVectorizer: the term counts `counts` as the DOUBLE vector `output_name`."""
    refusal = coreml_refusal(node)
    if refusal is not None:
        raise UnsupportedEstimatorError(refusal)
    assert isinstance(node.columns, ir.Vocabulary)
    models, output = dictionary_vector_models(counts, node.columns.terms, names.fresh("term_indexes"), output_name)
    return models, [output]


def dictionary_description(column: str, node: ir.DictVectorizer) -> str:
    """A dictionary input's shortDescription (Xcode shows it as the parameter's documentation)."""
    return (f"The {column!r} dictionary: only its {node.n_outputs} known keys (others must be left out), a string "
            f"value v of key k as key \"k=v\" with value 1 (README \"DictVectorizer inputs\")")


def counts_description(column: str, node: ir.TextVectorizer) -> str:
    """The text input's shortDescription (Xcode shows it as the parameter's documentation)."""
    return (f"Term counts of the text column {column!r}: TextFeatures(rules).counts(text) (ios_stub, rules in "
            f"NAME.text.json), {node.n_outputs} vocabulary terms")
