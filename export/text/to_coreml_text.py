"""TextFeatures + IR tail -> one Core ML spec whose input is the term counts of one text column.

The classic Core ML spec has no tokenizer, so the model reads a Dictionary (String -> Double) of term counts — what
ios_stub's `TextFeatures` computes from a String with the model's rules file (export.text.rules) — and runs

    DictVectorizer (stringToIndex = vocabulary_, in column order) -> FeatureVectorizer -> the IR tail
    (Scaler: x * idf_, exact, shiftValue 0; Normalizer l1/l2; the model)

Core ML requires every key of the dictionary to be in stringToIndex (DictVectorizer.proto), while scikit-learn
ignores unknown terms: the rules file therefore carries the vocabulary and `TextFeatures.counts` keeps only its
terms. Refused here: HashingVectorizer (no vocabulary for a dictionary input) and sublinear_tf (Core ML's classic
models have no log before a GLM; a neural-network log would be float32).
"""

from __future__ import annotations

from export import ir
from export.errors import UnsupportedEstimatorError
from export.text.analyzer import TextFeatures, Vocabulary
from export.text.pipeline import TextTail
from export.to_coreml.features import Feature, Names, new_model, vector_type
from export.to_coreml.interface import FEATURE_VECTOR_NAME, CoreMLInterface
from export.to_coreml.metadata import apply_descriptions
from export.to_coreml.pipeline import dictionary_type, dictionary_vector_models
from export.to_coreml.protos import Spec
from export.to_coreml.validate import validate_spec
from export.to_coreml.writer import _lower_node, head_pipeline

TERM_COUNTS_DICT = "__term_counts__"


def coreml_refusal(features: TextFeatures) -> str | None:
    """Why `features` has no exact Core ML encoding (None when it has one)."""
    if not isinstance(features.columns, Vocabulary):
        return (f"{features.source}: a hashing vectorizer has no vocabulary for Core ML's dictionary input; "
                "supported for Core ML: CountVectorizer, TfidfVectorizer (ONNX supports HashingVectorizer)")
    if features.tfidf is not None and features.tfidf.sublinear_tf:
        return (f"{features.source}: sublinear_tf=True has no exact Core ML encoding (no log in the classic models); "
                "supported for Core ML: sublinear_tf=False (ONNX supports it)")
    return None




def text_to_spec(features: TextFeatures, tail: TextTail, column: str, interface: CoreMLInterface) -> Spec:
    """The validated Core ML spec: input `column` (term -> count dictionary), outputs as `interface` names them."""
    refusal = coreml_refusal(features)
    if refusal is not None:
        raise UnsupportedEstimatorError(refusal)
    assert isinstance(features.columns, Vocabulary)
    width = features.n_features
    counts = Feature(column, dictionary_type("string"))
    outputs = interface.output_names
    names = Names({column, outputs.label, outputs.probability, outputs.prediction, outputs.transformed,
                   FEATURE_VECTOR_NAME, TERM_COUNTS_DICT})
    models, source = dictionary_vector_models(counts, features.columns.terms, TERM_COUNTS_DICT, FEATURE_VECTOR_NAME)
    if tail.node is None:
        final = [Feature(outputs.transformed, vector_type(width))]
        identity = new_model([source], final)
        identity.identity.SetInParent()
        lowered_models = [identity]
    else:
        lowered = _lower_node(tail.node, tail.head, source, names, outputs.transformed, outputs)
        lowered_models, final = lowered.models, lowered.outputs
    models.extend(lowered_models)
    spec = head_pipeline(tail.head, models, [counts], final, outputs)
    apply_descriptions(spec, interface, ir.Schema((ir.Column(column, "string", column),)))
    spec.description.input[0].shortDescription = (
        f"Term counts of the text column {column!r}: TextFeatures(rules).counts(text) (ios_stub), "
        f"{width} vocabulary terms")
    validate_spec(spec)
    return spec
