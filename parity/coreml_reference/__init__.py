"""Core ML reference evaluator: predictions of a classic .mlmodel spec computed in numpy, without Core ML.

Core ML cannot predict off macOS, so the parity suite checks Core ML exports against this evaluator. It reads only the
saved spec (coremltools.proto Model_pb2), never `export`, so a misunderstanding shared by our writer and this
evaluator cannot pass silently. Semantics follow ../shared/docs/coreml-semantics.md §0, §1, §5; each per-type
module's docstring states what Apple leaves undocumented and what we chose.

Public API:
    predict(model, inputs) -> {output name: ndarray}
    class_labels(model) -> list
    output_kinds(model) -> {output name: 'label' | 'probabilities' | 'prediction' | 'array'}
    compile_model(model) -> CompiledModel (validated and compiled once; `.predict(inputs)` repeatedly)
`model` is a path to a .mlmodel, serialized bytes, or a coremltools.proto.Model_pb2.Model.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from parity.coreml_reference.feature_columns import columns_from_inputs, feature_kind, public_output
from parity.coreml_reference.k_nearest_neighbors import knn_class_labels
from parity.coreml_reference.pipeline import PIPELINE_TYPES, pipeline_params
from parity.coreml_reference.registry import EVALUATORS, build_evaluator
from parity.coreml_reference.spec_loading import Model_pb2, load_model, parse_model_bytes
from parity.coreml_reference.tree_ensemble import tree_classifier_labels
from parity.coreml_reference.validation import class_label_values
from parity.data import FEATURE_NAMES_KEY
from parity.errors import CoreMLSpecError, EvaluatorInputError

__all__ = [
    "EVALUATORS",
    "CompiledModel",
    "CoreMLSpecError",
    "EvaluatorInputError",
    "class_labels",
    "compile_model",
    "output_kinds",
    "predict",
]

_LABELLED_CLASSIFIERS = ("glmClassifier", "supportVectorClassifier", "neuralNetworkClassifier")


class CompiledModel:
    """A validated spec compiled into numpy arrays; `predict` can be called any number of times."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.model_type: str = spec.WhichOneof("Type") or ""
        self._evaluate = build_evaluator(spec)
        self.class_labels: list[Any] = _class_labels_of(spec)
        self.output_kinds: dict[str, str] = _output_kinds_of(spec)
        self.recorded_feature_names: list[str] | None = recorded_feature_names(spec)

    def predict(self, inputs: Any) -> dict[str, np.ndarray]:
        """One array per description output: labels (n,), probabilities (n, k) in class-label order,
        Double (n,), MultiArray (n, w)."""
        description = self.spec.description
        columns = columns_from_inputs(description.input, inputs, self.recorded_feature_names)
        produced = self._evaluate(columns)
        probability_name = description.predictedProbabilitiesName
        outputs = {}
        for feature in description.output:
            order = self.class_labels if feature.name == probability_name and self.class_labels else None
            outputs[feature.name] = public_output(feature, produced[feature.name], order)
        return outputs


_CACHE: OrderedDict[tuple[Any, ...], CompiledModel] = OrderedDict()
_CACHE_SIZE = 4


def compile_model(model: Any) -> CompiledModel:
    """Validate and compile `model` (path, bytes or Model_pb2.Model); recent compilations are cached.

    A Model message is keyed by the SHA-256 of its serialization and compiled from a private copy, so mutating the
    caller's message afterwards never changes (or reuses) a compiled evaluator wrongly.
    """
    if isinstance(model, str | os.PathLike):
        path = Path(model)
        try:
            stat = path.stat()
        except OSError as exc:
            raise CoreMLSpecError(f"{path}: cannot read the .mlmodel file ({exc.strerror or exc})") from exc
        key: tuple[Any, ...] = ("path", str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        cached = _CACHE.get(key)
        if cached is None:
            cached = CompiledModel(load_model(path))
    else:
        if isinstance(model, Model_pb2.Model):
            data = model.SerializeToString(deterministic=True)
        elif isinstance(model, bytes | bytearray | memoryview):
            data = bytes(model)
        else:
            load_model(model)  # raises CoreMLSpecError naming the unsupported type
            raise AssertionError("unreachable")
        key = ("bytes", hashlib.sha256(data).hexdigest())
        cached = _CACHE.get(key)
        if cached is None:
            cached = CompiledModel(parse_model_bytes(data, origin="<Model>"))
    _CACHE[key] = cached
    _CACHE.move_to_end(key)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return cached


def predict(model: Any, inputs: Any) -> dict[str, np.ndarray]:
    """Predict with a Core ML spec: `inputs` is {input name: one value per row} or a 2-D array whose columns map
    onto the inputs in description order (a MultiArray of shape [w] takes w columns, Double/Int64 one)."""
    return compile_model(model).predict(inputs)


def class_labels(model: Any) -> list[Any]:
    """Class labels in the model's score order ([] for a non-classifier)."""
    return _class_labels_of(load_model(model))


def recorded_feature_names(spec: Any) -> list[str] | None:
    """The training column names an mlexport export records in `metadata.userDefined["mlexport.feature_names"]`
    (a JSON list, in input order), or None for other models."""
    import json

    text = spec.description.metadata.userDefined.get(FEATURE_NAMES_KEY)
    if not text:
        return None
    try:
        names = json.loads(text)
    except ValueError:
        return None
    return [str(n) for n in names] if isinstance(names, list) else None


def output_kinds(model: Any) -> dict[str, str]:
    """Role of each output: 'label', 'probabilities', 'prediction' (Double / predicted MultiArray) or 'array'."""
    return _output_kinds_of(load_model(model))


def _class_labels_of(spec: Any) -> list[Any]:
    model_type = spec.WhichOneof("Type")
    if model_type == "treeEnsembleClassifier":
        return tree_classifier_labels(spec)
    if model_type in _LABELLED_CLASSIFIERS:
        return class_label_values(model_type, getattr(spec, model_type)) or []
    if model_type == "kNearestNeighborsClassifier":
        return knn_class_labels(spec)
    if model_type in PIPELINE_TYPES:
        # The labels are those of the (last) contained model that produces the pipeline's predicted feature.
        target = spec.description.predictedFeatureName
        for model in reversed(pipeline_params(spec, model_type).models):
            if not target or any(feature.name == target for feature in model.description.output):
                return _class_labels_of(model)
    return []


def _output_kinds_of(spec: Any) -> dict[str, str]:
    description = spec.description
    kinds = {}
    for feature in description.output:
        kind = feature_kind(feature)
        if feature.name == description.predictedProbabilitiesName:
            kinds[feature.name] = "probabilities"
        elif feature.name == description.predictedFeatureName and kind in ("int64Type", "stringType"):
            kinds[feature.name] = "label"
        elif kind == "doubleType" or feature.name == description.predictedFeatureName:
            kinds[feature.name] = "prediction"
        else:
            kinds[feature.name] = "array"
    return kinds
