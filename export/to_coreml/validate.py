"""Structural validator for the specs the Core ML writer emits: Apple's validator rules ([V] in coreml-semantics
§0–1), run on Linux where coremltools cannot compile a model. Every failure names the model type, field and rule.

The rules the reference evaluator needs too — the specificationVersion envelope, the classifier / regressor
interfaces and the tree-graph rules — live once, in `parity.coreml_reference.validation` (parity owns them because
parity never imports export); this module calls them and reports their CoreMLSpecError as ExportFailedError. The
rest (per-type parameter shapes the writer must get right) is checked here; tests/test_coreml_validation_shared.py
runs the same broken specs through both callers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import numpy as np

from export.errors import ExportFailedError
from export.to_coreml.protos import GLMClassifier_pb2, Spec, TreeEnsemble_pb2
from parity.coreml_reference.tree_nodes import TreeNodeColumns, read_nodes
from parity.coreml_reference.validation import (
    ARRAY_DATA_TYPE_VERSION,
    required_specification_version,
    validate_classifier_outputs,
    validate_regressor_interface,
    validate_specification_version,
    validate_tree_structure,
)
from parity.errors import CoreMLSpecError

_LEAF = TreeEnsemble_pb2.TreeEnsembleParameters.TreeNode.LeafNode
_EXACT_ARRAY_MAPPING = 1  # NeuralNetworkMultiArrayShapeMapping.EXACT_ARRAY_MAPPING: spec >= 4
_NN_LAYERS = ("innerProduct", "activation", "softmax", "unary")


def _fail(where: str, field: str, rule: str) -> NoReturn:
    raise ExportFailedError(f"invalid Core ML spec: {where}: {field}: {rule}")


@contextlib.contextmanager
def _shared_rule(where: str) -> Iterator[None]:
    """Run a rule shared with the evaluator (parity.coreml_reference.validation); its CoreMLSpecError
    (`<modelType>: <what>`) becomes this module's ExportFailedError."""
    try:
        yield
    except CoreMLSpecError as exc:
        model_type, _, rule = str(exc).partition(": ")
        text = rule if where.endswith(f"({model_type})") else str(exc)  # `where` already names the model type
        raise ExportFailedError(f"invalid Core ML spec: {where}: {text}") from exc


def _type_kind(feature_type: Any) -> str | None:
    kind = feature_type.WhichOneof("Type")
    return str(kind) if kind is not None else None


def _array_width(feature_type: Any) -> int | None:
    """Elements of a fixed-shape MultiArray, or None when the shape is not fixed."""
    shape = list(feature_type.multiArrayType.shape)
    if not shape:
        return None
    width = 1
    for dim in shape:
        width *= int(dim)
    return width


def _slot_width(feature_type: Any) -> int | None:
    """How many vector slots a feature fills (§0.3): Double/Int64 → 1, MultiArray → its elements."""
    kind = _type_kind(feature_type)
    if kind in ("doubleType", "int64Type"):
        return 1
    if kind == "multiArrayType":
        return _array_width(feature_type)
    return None


# ---------------------------------------------------------------------------------------------------------------
# Envelope (§0.1) and the minimum specificationVersion (§0.4).


def _check_feature(where: str, feature: Any, is_input: bool) -> None:
    side = "input" if is_input else "output"
    if not feature.name:
        _fail(where, f"description.{side}", "every feature needs a non-empty name")
    field = f"description.{side}[{feature.name!r}]"
    kind = _type_kind(feature.type)
    if kind is None:
        _fail(where, field, "the feature type is not set")
    if kind == "multiArrayType":
        array = feature.type.multiArrayType
        if array.dataType not in ARRAY_DATA_TYPE_VERSION:
            _fail(where, field, "multiArray dataType must be DOUBLE, FLOAT32, INT32 or FLOAT16")
        if is_input and not array.shape and array.WhichOneof("ShapeFlexibility") is None:
            _fail(where, field, "an input multiArray needs a shape (missing shape constraints)")
        if any(dim <= 0 for dim in array.shape):
            _fail(where, field, "multiArray shape entries must be positive")
    if kind == "dictionaryType" and feature.type.dictionaryType.WhichOneof("KeyType") is None:
        _fail(where, field, "a dictionary needs an Int64 or String key type")
    if not is_input and feature.type.isOptional:
        _fail(where, field, "outputs cannot be optional")


def _check_envelope(spec: Spec, where: str) -> None:
    with _shared_rule(where):
        validate_specification_version(str(spec.WhichOneof("Type")), spec)
    required = required_specification_version(spec)  # stricter than the evaluator: what we emit must declare it
    if spec.specificationVersion < required:
        _fail(where, "specificationVersion", f"{spec.specificationVersion} is below {required}, the minimum its "
                                             "features need")
    description = spec.description
    if len(description.input) < 1 or len(description.output) < 1:
        _fail(where, "description", "a model needs at least one input and one output")
    for side, features in (("input", description.input), ("output", description.output)):
        names = [feature.name for feature in features]
        if len(set(names)) != len(names):
            _fail(where, f"description.{side}", f"feature names must be unique, got {names}")
        for feature in features:
            _check_feature(where, feature, side == "input")


# ---------------------------------------------------------------------------------------------------------------
# Classifier / regressor interface (§0.2).


def _output(spec: Spec, name: str) -> Any | None:
    for feature in spec.description.output:
        if feature.name == name:
            return feature
    return None


def _class_labels(message: Any) -> tuple[str | None, list[Any]]:
    which = message.WhichOneof("ClassLabels")
    if which is None:
        return None, []
    return str(which), list(getattr(message, which).vector)


def _check_classifier_interface(spec: Spec, where: str, labels_kind: str | None) -> None:
    """validateClassifierFeatureDescriptions, shared with the evaluator (label output type, probability output)."""
    with _shared_rule(where):
        validate_classifier_outputs(str(spec.WhichOneof("Type")), spec.description,
                                    string_labels=labels_kind == "stringClassLabels")


def _check_labels(where: str, message: Any, field: str, required: bool,
                  per_sample: bool = False) -> tuple[str | None, list[Any]]:
    """The ClassLabels oneof: required unless the model type may omit it; unique, except KNN's per-sample labels."""
    kind, labels = _class_labels(message)
    if required and kind is None:
        _fail(where, f"{field}.ClassLabels", "class labels (stringClassLabels or int64ClassLabels) are required")
    if kind is not None and not per_sample and len(set(labels)) != len(labels):
        _fail(where, f"{field}.ClassLabels", "class labels must be unique")
    return kind, labels


def _check_regressor_interface(spec: Spec, where: str) -> None:
    """validateRegressorInterface, shared with the evaluator."""
    with _shared_rule(where):
        validate_regressor_interface(str(spec.WhichOneof("Type")), spec.description)


def _vectorized_width(spec: Spec, where: str) -> int | None:
    """GLM/SVM/tree inputs must be vectorizable (Double, Int64, MultiArray), concatenated in input order (§0.3)."""
    total = 0
    for feature in spec.description.input:
        if _type_kind(feature.type) not in ("doubleType", "int64Type", "multiArrayType"):
            _fail(where, f"description.input[{feature.name!r}]", "inputs must be Double, Int64 or MultiArray")
        width = _slot_width(feature.type)
        if width is None:
            return None
        total += width
    return total


# ---------------------------------------------------------------------------------------------------------------
# Tree ensembles (§1.1, TreeEnsembleCommon.cpp).


def _node_name(columns: TreeNodeColumns, position: int) -> str:
    return f"treeEnsemble.nodes[treeId={columns.tree_id[position]}, nodeId={columns.node_id[position]}]"


def _check_leaves(where: str, columns: TreeNodeColumns, leaf: np.ndarray, d: int) -> None:
    n_info = np.bincount(columns.info_node, minlength=columns.n_nodes)
    empty = np.flatnonzero(leaf & (n_info == 0))
    if empty.size:
        _fail(where, _node_name(columns, int(empty[0])), "a leaf needs at least one evaluationInfo")
    on_leaf = leaf[columns.info_node]
    too_big = np.flatnonzero(on_leaf & (columns.info_index >= np.uint64(d)))
    if too_big.size:
        _fail(where, _node_name(columns, int(columns.info_node[too_big[0]])),
              f"evaluationIndex must be < numPredictionDimensions ({d})")
    # (leaf, evaluationIndex) as one int64: every index is < d here. Usually already ascending: no sort then.
    pairs = columns.info_node[on_leaf] * d + columns.info_index[on_leaf].astype(np.int64)
    if not np.all(pairs[1:] > pairs[:-1]):
        pairs = np.sort(pairs)
        repeated = np.flatnonzero(pairs[1:] == pairs[:-1])
        if repeated.size:
            _fail(where, _node_name(columns, int(pairs[repeated[0]] // d)), "duplicate evaluationIndex within a leaf")


def _check_tree_parameters(where: str, model_type: str, params: Any, input_width: int | None) -> int:
    d = int(params.numPredictionDimensions)
    if d <= 0:
        _fail(where, "treeEnsemble.numPredictionDimensions", "must be > 0")
    if len(params.basePredictionValue) not in (0, d):
        _fail(where, "treeEnsemble.basePredictionValue", f"length must be 0 or numPredictionDimensions ({d})")
    if len(params.nodes) == 0:
        _fail(where, "treeEnsemble.nodes", "a tree ensemble needs at least one node")
    columns = read_nodes(params)
    leaf = columns.behavior == _LEAF
    _check_leaves(where, columns, leaf, d)
    if input_width is not None:
        wide = np.flatnonzero(~leaf & (columns.feature >= np.uint64(input_width)))
        if wide.size:
            _fail(where, _node_name(columns, int(wide[0])),
                  f"branchFeatureIndex must be < the input width ({input_width})")
    with _shared_rule(where):  # TreeEnsembleCommon.cpp: unique ids, children exist, one parent, one root, no cycle
        validate_tree_structure(model_type, columns.tree_id, columns.node_id, leaf,
                                columns.true_child, columns.false_child)
    return d


def _check_tree_classifier(spec: Spec, where: str) -> None:
    message = spec.treeEnsembleClassifier
    d = _check_tree_parameters(where, "treeEnsembleClassifier", message.treeEnsemble, _vectorized_width(spec, where))
    kind, labels = _check_labels(where, message, "treeEnsembleClassifier", required=False)
    n_labels = len(labels) if kind is not None else (2 if d == 1 else d)
    if not ((d == 1 and n_labels == 2) or (d >= 2 and n_labels == d)):
        _fail(where, "treeEnsembleClassifier.ClassLabels",
              f"{n_labels} labels for {d} prediction dimensions: need D=1 with 2 labels or D=#labels")
    _check_classifier_interface(spec, where, kind)


def _check_tree_regressor(spec: Spec, where: str) -> None:
    d = _check_tree_parameters(where, "treeEnsembleRegressor", spec.treeEnsembleRegressor.treeEnsemble,
                               _vectorized_width(spec, where))
    _check_regressor_interface(spec, where)
    output = _output(spec, spec.description.predictedFeatureName)
    if d > 1 and (output is None or _array_width(output.type) != d):
        _fail(where, "description.predictedFeatureName", f"D={d} needs a MultiArray output of {d} values")


# ---------------------------------------------------------------------------------------------------------------
# GLMs (§1.2, §1.3).


def _check_glm_rows(where: str, field: str, weights: Any, offsets: Any, input_width: int | None) -> None:
    if len(weights) < 1:
        _fail(where, f"{field}.weights", "needs at least one weight row")
    if len(offsets) != len(weights):
        _fail(where, f"{field}.offset", "must have one offset per weight row")
    lengths = {len(row.value) for row in weights}
    if len(lengths) != 1 or 0 in lengths:
        _fail(where, f"{field}.weights", "rows must all have the same nonzero length")
    if input_width is not None and lengths != {input_width}:
        _fail(where, f"{field}.weights", f"row length must equal the input width ({input_width})")


def _check_glm_regressor(spec: Spec, where: str) -> None:
    message = spec.glmRegressor
    _check_glm_rows(where, "glmRegressor", message.weights, message.offset, _vectorized_width(spec, where))
    _check_regressor_interface(spec, where)
    for feature in spec.description.output:
        if _type_kind(feature.type) != "doubleType":
            _fail(where, f"description.output[{feature.name!r}]", "glmRegressor outputs must all be Double")
    if len(message.weights) != len(spec.description.output):
        _fail(where, "glmRegressor.weights", "one weight row per Double output")


def _check_glm_classifier(spec: Spec, where: str) -> None:
    message = spec.glmClassifier
    _check_glm_rows(where, "glmClassifier", message.weights, message.offset, _vectorized_width(spec, where))
    kind, labels = _check_labels(where, message, "glmClassifier", required=True)
    k, rows = len(labels), len(message.weights)
    if message.classEncoding == GLMClassifier_pb2.GLMClassifier.ReferenceClass:
        if rows != k - 1:
            _fail(where, "glmClassifier.weights", f"ReferenceClass needs K-1 = {k - 1} rows, got {rows}")
    elif rows != (1 if k == 2 else k):
        _fail(where, "glmClassifier.weights",
              f"OneVsRest needs {1 if k == 2 else k} rows for {k} classes (1 when binary), got {rows}")
    if message.postEvaluationTransform == GLMClassifier_pb2.GLMClassifier.Probit and k != 2:
        _fail(where, "glmClassifier.postEvaluationTransform", "Probit is only allowed for 2 classes")
    _check_classifier_interface(spec, where, kind)


# ---------------------------------------------------------------------------------------------------------------
# Support vector machines (§1.4).


def _check_svm_common(where: str, field: str, message: Any, input_width: int | None) -> int:
    kernel = message.kernel
    which = kernel.WhichOneof("kernel")
    if which is None:
        _fail(where, f"{field}.kernel", "a kernel must be set")
    params = getattr(kernel, which)
    if getattr(params, "gamma", 0.0) < 0:
        _fail(where, f"{field}.kernel.{which}.gamma", "must be >= 0")
    if getattr(params, "degree", 0) < 0:
        _fail(where, f"{field}.kernel.{which}.degree", "must be >= 0")
    storage = message.WhichOneof("supportVectors")
    if storage is None:
        _fail(where, f"{field}.supportVectors", "support vectors must be set (dense or sparse)")
    if storage == "denseSupportVectors":
        vectors = message.denseSupportVectors.vectors
        if input_width is not None and any(len(vector.values) != input_width for vector in vectors):
            _fail(where, f"{field}.denseSupportVectors", f"every vector needs {input_width} values")
        return len(vectors)
    return len(message.sparseSupportVectors.vectors)


def _check_svm_regressor(spec: Spec, where: str) -> None:
    message = spec.supportVectorRegressor
    n_sv = _check_svm_common(where, "supportVectorRegressor", message, _vectorized_width(spec, where))
    if len(message.coefficients.alpha) != n_sv:
        _fail(where, "supportVectorRegressor.coefficients", f"needs one alpha per support vector ({n_sv})")
    _check_regressor_interface(spec, where)


def _check_svm_classifier(spec: Spec, where: str) -> None:
    message = spec.supportVectorClassifier
    field = "supportVectorClassifier"
    n_sv = _check_svm_common(where, field, message, _vectorized_width(spec, where))
    kind, labels = _check_labels(where, message, field, required=True)
    k = len(labels)
    per_class = list(message.numberOfSupportVectorsPerClass)
    if len(per_class) != k or sum(per_class) != n_sv:
        _fail(where, f"{field}.numberOfSupportVectorsPerClass", f"needs {k} counts summing to {n_sv}")
    if len(message.coefficients) != k - 1:
        _fail(where, f"{field}.coefficients", f"needs K-1 = {k - 1} rows")
    if any(len(row.alpha) != n_sv for row in message.coefficients):
        _fail(where, f"{field}.coefficients", f"every row needs one alpha per support vector ({n_sv})")
    pairs = k * (k - 1) // 2
    if len(message.rho) != pairs:
        _fail(where, f"{field}.rho", f"needs K(K-1)/2 = {pairs} values")
    if len(message.probA) != len(message.probB) or len(message.probA) not in (0, pairs):
        _fail(where, f"{field}.probA/probB", f"must both be empty or both have {pairs} values")
    _check_classifier_interface(spec, where, kind)


# ---------------------------------------------------------------------------------------------------------------
# Transformers (§1.5–1.10).


def _single_io(spec: Spec, where: str, field: str) -> tuple[Any, Any]:
    if len(spec.description.input) != 1 or len(spec.description.output) != 1:
        _fail(where, "description", f"{field} needs exactly one input and one output")
    return spec.description.input[0], spec.description.output[0]


def _check_rank1_pair(where: str, field: str, source: Any, target: Any) -> int:
    for feature in (source, target):
        if _type_kind(feature.type) != "multiArrayType" or len(feature.type.multiArrayType.shape) != 1:
            _fail(where, f"description[{feature.name!r}]", f"{field} arrays must be rank-1 MultiArrays")
    width = int(source.type.multiArrayType.shape[0])
    if int(target.type.multiArrayType.shape[0]) != width:
        _fail(where, "description.output", f"{field} output length must equal its input length ({width})")
    return width


def _check_scaler(spec: Spec, where: str) -> None:
    source, target = _single_io(spec, where, "scaler")
    kinds = (_type_kind(source.type), _type_kind(target.type))
    allowed = {("int64Type", "int64Type"), ("int64Type", "doubleType"), ("doubleType", "doubleType"),
               ("multiArrayType", "multiArrayType")}
    if kinds not in allowed:
        _fail(where, "description", f"scaler {kinds[0]} → {kinds[1]} is not allowed (Int64/Double/MultiArray, "
                                    "output type == input type, or Int64 → Double)")
    width = _check_rank1_pair(where, "scaler", source, target) if kinds[0] == "multiArrayType" else 1
    for name in ("shiftValue", "scaleValue"):
        if len(getattr(spec.scaler, name)) not in (0, 1, width):
            _fail(where, f"scaler.{name}", f"length must be 0, 1 or the input length ({width})")


def _check_normalizer(spec: Spec, where: str) -> None:
    source, target = _single_io(spec, where, "normalizer")
    _check_rank1_pair(where, "normalizer", source, target)


def _check_imputer(spec: Spec, where: str) -> None:
    source, target = _single_io(spec, where, "imputer")
    if source.type.WhichOneof("Type") != target.type.WhichOneof("Type"):
        _fail(where, "description", "imputer output type must equal its input type")
    imputer = spec.imputer
    imputed, replaced = imputer.WhichOneof("ImputedValue"), imputer.WhichOneof("ReplaceValue")
    if imputed is None:
        _fail(where, "imputer.ImputedValue", "an imputed value must be set")
    if _type_kind(source.type) == "multiArrayType":
        width = _check_rank1_pair(where, "imputer", source, target)
        if imputed == "imputedDoubleArray" and len(imputer.imputedDoubleArray.vector) != width:
            _fail(where, "imputer.imputedDoubleArray", f"length must equal the input length ({width})")
        if imputed not in ("imputedDoubleArray", "imputedDoubleValue"):
            _fail(where, "imputer.ImputedValue", "a double array needs imputedDoubleArray or imputedDoubleValue")
        if replaced not in (None, "replaceDoubleValue"):
            _fail(where, "imputer.ReplaceValue", "a double array needs replaceDoubleValue")


def _check_one_hot(spec: Spec, where: str) -> None:
    source, target = _single_io(spec, where, "oneHotEncoder")
    encoder = spec.oneHotEncoder
    categories = encoder.WhichOneof("CategoryType")
    expected = {"int64Type": "int64Categories", "stringType": "stringCategories"}.get(_type_kind(source.type) or "")
    if expected is None:
        _fail(where, f"description.input[{source.name!r}]", "oneHotEncoder input must be an Int64 or String scalar")
    if categories != expected:
        _fail(where, "oneHotEncoder.CategoryType", f"{expected} required for a {_type_kind(source.type)} input")
    n_categories = len(getattr(encoder, expected).vector)
    if encoder.outputSparse:
        if _type_kind(target.type) != "dictionaryType":
            _fail(where, "description.output", "outputSparse needs a Dictionary output")
    elif _type_kind(target.type) != "multiArrayType" or _array_width(target.type) != n_categories:
        _fail(where, "description.output", f"a dense oneHotEncoder outputs a MultiArray of {n_categories} values")


def _check_categorical_mapping(spec: Spec, where: str) -> None:
    """CategoricalMappingValidator.cpp: String in → Int64 out (stringToInt64Map) or Int64 in → String out
    (int64ToStringMap); a ValueOnUnknown, when set, has the output's type (int64Value / strValue)."""
    source, target = _single_io(spec, where, "categoricalMapping")
    mapping = spec.categoricalMapping
    kind = mapping.WhichOneof("MappingType")
    expected = {"stringToInt64Map": ("stringType", "int64Type", "int64Value"),
                "int64ToStringMap": ("int64Type", "stringType", "strValue")}.get(kind or "")
    if expected is None:
        _fail(where, "categoricalMapping.MappingType", "stringToInt64Map or int64ToStringMap required")
        return
    if _type_kind(source.type) != expected[0] or _type_kind(target.type) != expected[1]:
        _fail(where, "description", f"{kind} maps a {expected[0]} input to a {expected[1]} output")
    unknown = mapping.WhichOneof("ValueOnUnknown")
    if unknown is not None and unknown != expected[2]:
        _fail(where, "categoricalMapping.ValueOnUnknown", f"{expected[2]} required for {kind}")


def _check_dict_vectorizer(spec: Spec, where: str) -> None:
    """DictVectorizerValidator.cpp (§1.11): a Dictionary input whose key type matches the Map, a Dictionary output
    with Int64 keys; the mapping's keys are unique (a key's position is its index)."""
    source, target = _single_io(spec, where, "dictVectorizer")
    which = spec.dictVectorizer.WhichOneof("Map")
    if which is None:
        _fail(where, "dictVectorizer.Map", "stringToIndex or int64ToIndex is required")
    if _type_kind(source.type) != "dictionaryType":
        _fail(where, f"description.input[{source.name!r}]", "dictVectorizer input must be a Dictionary")
    key = source.type.dictionaryType.WhichOneof("KeyType")
    if (which == "stringToIndex") != (key == "stringKeyType"):
        _fail(where, "dictVectorizer.Map", f"{which} does not match the input's {key}")
    keys = list(getattr(spec.dictVectorizer, which).vector)
    if not keys or len(set(keys)) != len(keys):
        _fail(where, f"dictVectorizer.{which}", "needs at least one key, each listed once")
    if _type_kind(target.type) != "dictionaryType" or target.type.dictionaryType.WhichOneof("KeyType") != \
            "int64KeyType":
        _fail(where, "description.output", "dictVectorizer outputs a Dictionary with Int64 keys")


def _check_array_feature_extractor(spec: Spec, where: str) -> None:
    source, target = _single_io(spec, where, "arrayFeatureExtractor")
    if _type_kind(source.type) != "multiArrayType":
        _fail(where, f"description.input[{source.name!r}]", "arrayFeatureExtractor input must be a MultiArray")
    indices = list(spec.arrayFeatureExtractor.extractIndex)
    width = _array_width(source.type)
    if not indices:
        _fail(where, "arrayFeatureExtractor.extractIndex", "needs at least one index")
    if width is not None and any(index >= width for index in indices):
        _fail(where, "arrayFeatureExtractor.extractIndex", f"every index must be < the input length ({width})")
    kind = _type_kind(target.type)
    if kind in ("doubleType", "int64Type"):
        if len(indices) != 1:
            _fail(where, "description.output", f"a {kind} output needs exactly one extractIndex")
    elif kind != "multiArrayType" or _array_width(target.type) != len(indices):
        _fail(where, "description.output", f"output must be Double/Int64 (one index) or a MultiArray of "
                                           f"{len(indices)} values")


def _check_feature_vectorizer(spec: Spec, where: str) -> None:
    inputs = {feature.name: feature for feature in spec.description.input}
    columns = spec.featureVectorizer.inputList
    if len(columns) == 0:
        _fail(where, "featureVectorizer.inputList", "needs at least one input column")
    total = 0
    for column in columns:
        field = f"featureVectorizer.inputList[{column.inputColumn!r}]"
        if column.inputColumn not in inputs:
            _fail(where, field, "names no model input")
        if column.inputDimensions <= 0:
            _fail(where, field, "inputDimensions must be > 0")
        feature_type = inputs[column.inputColumn].type
        if _type_kind(feature_type) not in ("doubleType", "int64Type", "multiArrayType", "dictionaryType"):
            _fail(where, field, "inputs must be Int64, Double, MultiArray or Dictionary")
        width = _slot_width(feature_type)
        if width is not None and width != column.inputDimensions:
            _fail(where, field, f"inputDimensions {column.inputDimensions} != the input's width {width}")
        total += column.inputDimensions
    outputs = spec.description.output
    if len(outputs) != 1 or _type_kind(outputs[0].type) != "multiArrayType":
        _fail(where, "description.output", "featureVectorizer has exactly one MultiArray output")
    if _array_width(outputs[0].type) not in (None, total):
        _fail(where, "description.output", f"output length must be the sum of inputDimensions ({total})")


# ---------------------------------------------------------------------------------------------------------------
# k-nearest neighbours (§1.13, KNearestNeighborsClassifierValidator.cpp).


def _check_knn(spec: Spec, where: str) -> None:
    knn = spec.kNearestNeighborsClassifier
    field = "kNearestNeighborsClassifier"
    k = knn.numberOfNeighbors
    if k.defaultValue < 1:
        _fail(where, f"{field}.numberOfNeighbors.defaultValue", "must be >= 1")
    allowed = k.WhichOneof("AllowedValues")
    if allowed == "range" and not k.range.minValue <= k.defaultValue <= k.range.maxValue:
        _fail(where, f"{field}.numberOfNeighbors", "defaultValue must lie in the allowed range")
    if allowed == "set" and k.defaultValue not in list(k.set.values):
        _fail(where, f"{field}.numberOfNeighbors", "defaultValue must be in the allowed set")
    if knn.WhichOneof("WeightingScheme") is None:
        _fail(where, f"{field}.WeightingScheme", "a weighting scheme must be set")
    kind, labels = _check_labels(where, knn, field, required=False, per_sample=True)
    default = knn.WhichOneof("DefaultClassLabel")
    if kind is None and default is None:
        _fail(where, f"{field}.DefaultClassLabel", "needed when no class labels are given")
    if default is not None and kind is not None and (default == "defaultInt64Label") != (kind == "int64ClassLabels"):
        _fail(where, f"{field}.DefaultClassLabel", "must have the class labels' type")
    index = knn.nearestNeighborsIndex
    samples = index.floatSamples
    if len(samples) == 0 and len(labels) != 0:
        _fail(where, f"{field}.nearestNeighborsIndex.floatSamples", "no data points")
    if len(samples) != len(labels):
        _fail(where, f"{field}.ClassLabels", f"one label per stored sample: {len(labels)} labels, "
                                             f"{len(samples)} samples")
    if any(len(sample.vector) != index.numberOfDimensions for sample in samples):
        _fail(where, f"{field}.nearestNeighborsIndex.floatSamples",
              f"every sample needs numberOfDimensions ({index.numberOfDimensions}) values")
    if k.defaultValue > len(samples):
        _fail(where, f"{field}.numberOfNeighbors.defaultValue", "must not exceed the number of samples")
    which_index = index.WhichOneof("IndexType")
    if which_index is None:
        _fail(where, f"{field}.nearestNeighborsIndex.IndexType", "an index type must be set")
    if which_index == "singleKdTreeIndex" and index.singleKdTreeIndex.leafSize <= 0:
        _fail(where, f"{field}.nearestNeighborsIndex.singleKdTreeIndex.leafSize", "must be > 0")
    if index.WhichOneof("DistanceFunction") is None:
        _fail(where, f"{field}.nearestNeighborsIndex.DistanceFunction", "a distance function must be set")
    width = _vectorized_width(spec, where)
    if width is not None and width != index.numberOfDimensions:
        _fail(where, f"{field}.nearestNeighborsIndex.numberOfDimensions", f"must equal the input width ({width})")
    _check_classifier_interface(spec, where, kind)


# ---------------------------------------------------------------------------------------------------------------
# Neural networks (§1.16): blob wiring and innerProduct sizes.


def _network_input_widths(spec: Spec, where: str, network: Any) -> dict[str, int | None]:
    blobs: dict[str, int | None] = {}
    for feature in spec.description.input:
        if _type_kind(feature.type) != "multiArrayType":
            _fail(where, f"description.input[{feature.name!r}]", "neural network inputs must be MultiArrays")
        shape = list(feature.type.multiArrayType.shape)
        if network.arrayInputShapeMapping != _EXACT_ARRAY_MAPPING and len(shape) not in (1, 3):
            _fail(where, f"description.input[{feature.name!r}]", "RANK5 mapping needs a rank-1 or rank-3 input")
        blobs[feature.name] = int(shape[0]) if len(shape) == 1 else None
    return blobs


def _layer_output_width(where: str, layer_field: str, layer: Any, width: int | None) -> int | None:
    kind = layer.WhichOneof("layer")
    if kind == "innerProduct":
        params = layer.innerProduct
        if width is not None and params.inputChannels != width:
            _fail(where, layer_field, f"inputChannels {params.inputChannels} != input blob width {width}")
        if len(params.weights.floatValue) != params.inputChannels * params.outputChannels:
            _fail(where, layer_field, "weights must hold inputChannels x outputChannels floats")
        if params.hasBias and len(params.bias.floatValue) != params.outputChannels:
            _fail(where, layer_field, "bias must hold outputChannels floats")
        return int(params.outputChannels)
    if kind == "activation" and layer.activation.WhichOneof("NonlinearityType") is None:
        _fail(where, layer_field, "activation type is not set")
    return width


def _check_network_layers(spec: Spec, where: str, field: str, network: Any) -> dict[str, int | None]:
    """Walk the layers in order; return the width of every blob (None when unknown)."""
    blobs = _network_input_widths(spec, where, network)
    if len(network.layers) == 0:
        _fail(where, f"{field}.layers", "a neural network needs at least one layer")
    layer_names: set[str] = set()
    for layer in network.layers:
        layer_field = f"{field}.layers[{layer.name!r}]"
        if not layer.name or layer.name in layer_names:
            _fail(where, layer_field, "layer names must be non-empty and unique")
        layer_names.add(layer.name)
        kind = layer.WhichOneof("layer")
        if kind not in _NN_LAYERS:
            _fail(where, layer_field, f"layer type {kind} is not checked here; supported: {', '.join(_NN_LAYERS)}")
        if len(layer.input) != 1 or len(layer.output) != 1:
            _fail(where, layer_field, f"{kind} takes exactly one input and one output blob")
        source, target = layer.input[0], layer.output[0]
        if source not in blobs:
            _fail(where, layer_field, f"input blob {source!r} is produced by no earlier layer or network input")
        if target in blobs:
            _fail(where, layer_field, f"output blob {target!r} is already defined")
        blobs[target] = _layer_output_width(where, layer_field, layer, blobs[source])
    return blobs


def _check_network_outputs(spec: Spec, where: str, blobs: dict[str, int | None], skip: set[str]) -> None:
    for feature in spec.description.output:
        if feature.name in skip:
            continue
        if feature.name not in blobs:
            _fail(where, f"description.output[{feature.name!r}]", "is produced by no layer")
        width = _array_width(feature.type) if _type_kind(feature.type) == "multiArrayType" else None
        if _type_kind(feature.type) != "multiArrayType":
            _fail(where, f"description.output[{feature.name!r}]", "neural network outputs must be MultiArrays")
        if width is not None and blobs[feature.name] not in (None, width):
            _fail(where, f"description.output[{feature.name!r}]", f"declares {width} values, layer gives "
                                                                  f"{blobs[feature.name]}")


def _check_neural_network(spec: Spec, where: str) -> None:
    blobs = _check_network_layers(spec, where, "neuralNetwork", spec.neuralNetwork)
    _check_network_outputs(spec, where, blobs, skip=set())


def _check_neural_network_regressor(spec: Spec, where: str) -> None:
    blobs = _check_network_layers(spec, where, "neuralNetworkRegressor", spec.neuralNetworkRegressor)
    _check_network_outputs(spec, where, blobs, skip=set())
    _check_regressor_interface(spec, where)


def _check_neural_network_classifier(spec: Spec, where: str) -> None:
    network = spec.neuralNetworkClassifier
    field = "neuralNetworkClassifier"
    blobs = _check_network_layers(spec, where, field, network)
    kind, labels = _check_labels(where, network, field, required=True)
    description = spec.description
    _check_network_outputs(spec, where, blobs,
                           skip={description.predictedFeatureName, description.predictedProbabilitiesName})
    probability_blob = network.labelProbabilityLayerName or network.layers[-1].output[0]
    if probability_blob not in blobs:
        _fail(where, f"{field}.labelProbabilityLayerName", f"blob {probability_blob!r} is produced by no layer")
    if blobs[probability_blob] not in (None, len(labels)):
        _fail(where, f"{field}.labelProbabilityLayerName",
              f"blob has {blobs[probability_blob]} values for {len(labels)} class labels")
    _check_classifier_interface(spec, where, kind)


# ---------------------------------------------------------------------------------------------------------------
# Pipelines (§1.15, PipelineValidator.cpp): feature flow with exact type equality.


def _check_pipeline_flow(spec: Spec, where: str, field: str, container: Any) -> None:
    models = list(container.models)
    if not models:
        _fail(where, f"{field}.models", "a pipeline needs at least one model")
    if len(container.names) not in (0, len(models)) or len(set(container.names)) != len(container.names):
        _fail(where, f"{field}.names", "if given, one unique name per model")
    table = {feature.name: feature.type for feature in spec.description.input}
    for index, model in enumerate(models):
        sub_where = f"{where}.models[{index}]"
        if model.specificationVersion > spec.specificationVersion:
            _fail(sub_where, "specificationVersion", f"{model.specificationVersion} exceeds the pipeline's "
                                                     f"{spec.specificationVersion}")
        _validate(model, sub_where)
        for feature in model.description.input:
            if feature.name not in table:
                _fail(sub_where, f"description.input[{feature.name!r}]", "is produced by no earlier model or input")
            if table[feature.name] != feature.type:
                _fail(sub_where, f"description.input[{feature.name!r}]",
                      "type differs from the type previously specified for this name (exact equality needed)")
        for feature in model.description.output:
            table[feature.name] = feature.type  # later models overwrite same-named features
    for feature in spec.description.output:
        if feature.name not in table or table[feature.name] != feature.type:
            _fail(where, f"description.output[{feature.name!r}]", "is not produced by the pipeline with this type")


def _check_pipeline(spec: Spec, where: str) -> None:
    _check_pipeline_flow(spec, where, "pipeline", spec.pipeline)


def _check_pipeline_classifier(spec: Spec, where: str) -> None:
    _check_pipeline_flow(spec, where, "pipelineClassifier", spec.pipelineClassifier.pipeline)
    label = _output(spec, spec.description.predictedFeatureName)
    kind = "stringClassLabels" if label is not None and _type_kind(label.type) == "stringType" else None
    _check_classifier_interface(spec, where, kind)


def _check_pipeline_regressor(spec: Spec, where: str) -> None:
    _check_pipeline_flow(spec, where, "pipelineRegressor", spec.pipelineRegressor.pipeline)
    _check_regressor_interface(spec, where)


_VALIDATORS: dict[str, Callable[[Spec, str], None]] = {
    "pipeline": _check_pipeline,
    "pipelineClassifier": _check_pipeline_classifier,
    "pipelineRegressor": _check_pipeline_regressor,
    "glmRegressor": _check_glm_regressor,
    "glmClassifier": _check_glm_classifier,
    "supportVectorRegressor": _check_svm_regressor,
    "supportVectorClassifier": _check_svm_classifier,
    "treeEnsembleRegressor": _check_tree_regressor,
    "treeEnsembleClassifier": _check_tree_classifier,
    "neuralNetwork": _check_neural_network,
    "neuralNetworkRegressor": _check_neural_network_regressor,
    "neuralNetworkClassifier": _check_neural_network_classifier,
    "kNearestNeighborsClassifier": _check_knn,
    "scaler": _check_scaler,
    "normalizer": _check_normalizer,
    "imputer": _check_imputer,
    "oneHotEncoder": _check_one_hot,
    "categoricalMapping": _check_categorical_mapping,
    "arrayFeatureExtractor": _check_array_feature_extractor,
    "featureVectorizer": _check_feature_vectorizer,
    "dictVectorizer": _check_dict_vectorizer,
}


def _validate(spec: Spec, where: str) -> None:
    kind = spec.WhichOneof("Type")
    if kind is None:
        _fail(where, "Model.Type", "no model type is set")
    if kind not in _VALIDATORS:
        _fail(where, "Model.Type", f"{kind} is not a type this validator checks; supported: "
                                   f"{', '.join(sorted(_VALIDATORS))}")
    where = f"{where} ({kind})"
    _check_envelope(spec, where)
    _VALIDATORS[kind](spec, where)


def validate_spec(spec: Spec) -> None:
    """Raise ExportFailedError naming the model, field and rule if `spec` breaks a Core ML validator rule."""
    _validate(spec, "Model")

