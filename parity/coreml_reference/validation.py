"""Apple's Core ML validator rules (coreml-semantics §0–1, the [V] items), checked before a spec is evaluated.

The one source of the structural rules shared by the evaluator and export's writer check
(`export/to_coreml/validate.py` imports the envelope version rules, the classifier/regressor interface rules and the
tree-graph validator from here; parity never imports export). What each model *computes* stays in the evaluator's own
modules; only the rules that decide whether Core ML would accept a spec at all are shared.

Each rule cites the Apple validator it mirrors (mlmodel/src/Validation/*.cpp, TreeEnsembleCommon.cpp). Rules Apple
does NOT have but that the evaluator needs in order never to crash or hang (feature indices inside the input width,
size limits) are marked "evaluator rule". Every failure raises CoreMLSpecError naming the model type and field.

Here: the envelope (specificationVersion), feature descriptions, classifier/regressor interfaces, vectorizable
inputs, pipeline-independent count/type helpers and the tree structure rules. Rules about one model type's own
parameters (array lengths, enum values, kernel parameters, ...) are checked by that type's builder, with `fail` from
this module, when the spec is compiled — always before any row is evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from parity.coreml_reference.feature_columns import SUPPORTED_FEATURE_TYPES, feature_kind, multiarray_width
from parity.coreml_reference.spec_loading import FeatureTypes_pb2
from parity.errors import CoreMLSpecError

# The newest specificationVersion a Core ML runtime accepts: coremltools 9.0 `_SPECIFICATION_VERSION_IOS_26 = 10`
# (iOS 26 / macOS 26; mlmodel/src/Globals.hpp of coremltools 8 still ended at IOS18 = 9).
MAX_SPECIFICATION_VERSION = 10

_ARRAY = FeatureTypes_pb2.ArrayFeatureType
# The specificationVersion a MultiArray dataType first appears in (FeatureTypes.proto; FLOAT16 is iOS 16 = 7).
ARRAY_DATA_TYPE_VERSION = {_ARRAY.DOUBLE: 1, _ARRAY.FLOAT32: 1, _ARRAY.INT32: 1, _ARRAY.FLOAT16: 7}
_EXACT_ARRAY_MAPPING = 1  # NeuralNetworkMultiArrayShapeMapping.EXACT_ARRAY_MAPPING: spec >= 4
_PIPELINE_TYPES = ("pipeline", "pipelineClassifier", "pipelineRegressor")

CLASSIFIER_TYPES = (
    "treeEnsembleClassifier",
    "glmClassifier",
    "supportVectorClassifier",
    "neuralNetworkClassifier",
    "kNearestNeighborsClassifier",
)
REGRESSOR_TYPES = ("glmRegressor", "supportVectorRegressor", "treeEnsembleRegressor", "neuralNetworkRegressor")
# Model types whose inputs may be optional (InterfaceValidators.cpp validateOptional, categorical-semantics.md §3.1):
# every other type fails with "Features cannot be optional to this type of model" — notably OneHotEncoder and
# CategoricalMapping, which is why the export contract feeds a missing string as "" rather than leaving it out.
OPTIONAL_INPUT_TYPES = ("imputer", "identity", "treeEnsembleClassifier", "treeEnsembleRegressor", "neuralNetwork",
                        "neuralNetworkClassifier", "neuralNetworkRegressor", "pipeline", "pipelineClassifier",
                        "pipelineRegressor", "itemSimilarityRecommender")
# GLM/SVM/Tree inputs must be vectorizable (Validators.hpp validateDescriptionsAreAllVectorizableTypes).
VECTORIZED_INPUT_TYPES = ("glmRegressor", "glmClassifier", "supportVectorRegressor", "supportVectorClassifier",
                          "treeEnsembleRegressor", "treeEnsembleClassifier")


def fail(model_type: str, message: str) -> CoreMLSpecError:
    """The one error shape of this module: `<modelType>: <what is wrong>`."""
    return CoreMLSpecError(f"{model_type}: {message}")


def validate_model(spec: Any) -> str:
    """Check the envelope, description and interface rules of a spec; return its model type name."""
    model_type = spec.WhichOneof("Type")
    if model_type is None:
        raise CoreMLSpecError("Model: no model type is set (the oneof Type is empty; truncated or not a Core ML spec?)")
    validate_specification_version(model_type, spec)
    validate_description(model_type, spec.description)
    validate_optional(model_type, spec.description)
    if model_type in CLASSIFIER_TYPES:
        validate_classifier_interface(model_type, spec)
    if model_type in REGRESSOR_TYPES:
        validate_regressor_interface(model_type, spec.description)
    if model_type in VECTORIZED_INPUT_TYPES:
        for feature in spec.description.input:
            if feature_kind(feature) not in ("doubleType", "int64Type", "multiArrayType"):
                raise fail(model_type, f"input {feature.name!r} is {feature_kind(feature)}; inputs must be "
                                       f"vectorizable (doubleType, int64Type or multiArrayType)")
    return str(model_type)


def validate_specification_version(model_type: str, spec: Any) -> None:
    """Model::validateGeneric: 1 <= specificationVersion <= the newest runtime's.

    Not checked here: a version below what the features need (`required_specification_version`). Apple's own
    converter writes version 1 for k-NN (tests/fixtures/apple/knn_classifier.mlmodel), so the evaluator accepts it;
    export's writer check is stricter and requires the minimum of every spec it emits."""
    version = spec.specificationVersion
    if version <= 0:  # Model::validateGeneric: "specificationVersion 0 is invalid"
        raise fail(model_type, f"specificationVersion {version} is invalid (must be >= 1)")
    if version > MAX_SPECIFICATION_VERSION:
        raise fail(model_type, f"specificationVersion {version} is newer than any known Core ML runtime "
                               f"(max {MAX_SPECIFICATION_VERSION})")


def required_specification_version(spec: Any) -> int:
    """The lowest specificationVersion the spec's features need (Utils.cpp hasIOS*Features, §0.4)."""
    kind = spec.WhichOneof("Type")
    version = 1
    for feature in (*spec.description.input, *spec.description.output):
        kind_of_feature = feature.type.WhichOneof("Type")  # may be unset: validate_description reports that
        if kind_of_feature == "multiArrayType":
            array = feature.type.multiArrayType
            version = max(version, ARRAY_DATA_TYPE_VERSION.get(array.dataType, 1))
            if array.WhichOneof("ShapeFlexibility") is not None:
                version = max(version, 3)
        if kind_of_feature == "sequenceType":
            version = max(version, 3)
    if kind == "kNearestNeighborsClassifier":
        version = max(version, 4)
    if kind in ("neuralNetwork", "neuralNetworkClassifier", "neuralNetworkRegressor") \
            and getattr(spec, kind).arrayInputShapeMapping == _EXACT_ARRAY_MAPPING:
        version = max(version, 4)
    if kind in _PIPELINE_TYPES:
        container = spec.pipeline if kind == "pipeline" else getattr(spec, kind).pipeline
        for model in container.models:
            version = max(version, required_specification_version(model))
    return version


def validate_description(model_type: str, description: Any) -> None:
    """validateFeatureDescription: non-empty unique names, a type on every feature, shapes on input arrays."""
    if len(description.input) == 0:
        raise fail(model_type, "description.input is empty (the evaluator needs at least one input)")
    if len(description.output) == 0:  # ValidationPolicy.allowsEmptyOutput = false
        raise fail(model_type, "description.output is empty (models must have at least one output)")
    for role, features in (("input", description.input), ("output", description.output)):
        seen: set[str] = set()
        for feature in features:
            if feature.name == "":
                raise fail(model_type, f"description.{role} has a feature with an empty name")
            if feature.name in seen:
                raise fail(model_type, f"description.{role} declares {feature.name!r} twice")
            seen.add(feature.name)
            kind = feature.type.WhichOneof("Type")
            if kind is None:
                raise fail(model_type, f"{role} {feature.name!r} has no FeatureType")
            if kind not in SUPPORTED_FEATURE_TYPES:
                raise fail(model_type, f"{role} {feature.name!r} has feature type {kind}; the evaluator supports "
                                       f"{', '.join(SUPPORTED_FEATURE_TYPES)}")
            if kind == "multiArrayType" and (role == "input" or len(feature.type.multiArrayType.shape) > 0):
                # Input multiarrays must have a shape ("has missing shape constraints").
                try:
                    multiarray_width(feature)
                except CoreMLSpecError as exc:
                    raise fail(model_type, str(exc)) from exc


def validate_optional(model_type: str, description: Any) -> None:
    """validateOptional: outputs are never optional; inputs only for OPTIONAL_INPUT_TYPES."""
    for feature in description.output:
        if feature.type.isOptional:
            raise fail(model_type, f"output {feature.name!r} is optional; outputs cannot be optional")
    if model_type not in OPTIONAL_INPUT_TYPES:
        for feature in description.input:
            if feature.type.isOptional:
                raise fail(model_type, f"input {feature.name!r} is optional; features cannot be optional to this "
                                       f"type of model (allowed for {', '.join(OPTIONAL_INPUT_TYPES)})")


def _output(description: Any, name: str) -> Any | None:
    for feature in description.output:
        if feature.name == name:
            return feature
    return None


def class_label_values(model_type: str, params: Any) -> list[Any] | None:
    """The `oneof ClassLabels` of a classifier message as a list (None when unset)."""
    which = params.WhichOneof("ClassLabels")
    if which == "stringClassLabels":
        return list(params.stringClassLabels.vector)
    if which == "int64ClassLabels":
        return [int(v) for v in params.int64ClassLabels.vector]
    return None


def validate_classifier_interface(model_type: str, spec: Any) -> None:
    """validateClassifierInterface (InterfaceValidators.cpp), §0.2."""
    description = spec.description
    params = getattr(spec, model_type)
    labels = class_label_values(model_type, params)
    # TreeEnsembleClassifier and KNN may omit labels (TreeEnsembleCommon: binary {0,1} / 0..D-1 defaults).
    if labels is None and model_type not in ("treeEnsembleClassifier", "kNearestNeighborsClassifier"):
        raise fail(model_type, "class labels are required (set stringClassLabels or int64ClassLabels)")
    if labels is not None and len(labels) == 0 and model_type != "kNearestNeighborsClassifier":
        raise fail(model_type, "class label vector is empty")
    string_labels = params.WhichOneof("ClassLabels") == "stringClassLabels"
    if labels is None and model_type == "kNearestNeighborsClassifier":
        # KNN without labels takes its label type from DefaultClassLabel (KNearestNeighborsClassifierValidator).
        string_labels = params.WhichOneof("DefaultClassLabel") == "defaultStringLabel"
    validate_classifier_outputs(model_type, description, string_labels)


def validate_classifier_outputs(model_type: str, description: Any, string_labels: bool) -> None:
    """validateClassifierFeatureDescriptions (InterfaceValidators.cpp): predictedFeatureName names an Int64 or
    String output (the class labels' type); predictedProbabilitiesName, if set, names a Dictionary or MultiArray
    output (Apple accepts both: "TODO ARRAY TYPE IS INVALID, REMOVE"). A Dictionary's key type must match the labels
    (Apple's validator leaves that to the runtime, which maps labels to keys; we check it here)."""
    if not description.predictedFeatureName:
        raise fail(model_type, "description.predictedFeatureName is required for a classifier")
    label_output = _output(description, description.predictedFeatureName)
    if label_output is None:
        raise fail(model_type, f"predictedFeatureName {description.predictedFeatureName!r} is not an output")
    expected_label_type = "stringType" if string_labels else "int64Type"
    if feature_kind(label_output) != expected_label_type:
        raise fail(model_type, f"output {label_output.name!r} is {feature_kind(label_output)} but the class labels "
                               f"need {expected_label_type}")
    if description.predictedProbabilitiesName:
        probability_output = _output(description, description.predictedProbabilitiesName)
        if probability_output is None:
            raise fail(model_type, f"predictedProbabilitiesName {description.predictedProbabilitiesName!r} is not "
                                   f"an output")
        kind = feature_kind(probability_output)
        if kind not in ("dictionaryType", "multiArrayType"):  # MultiArray tolerated ("TODO invalid") by Apple
            raise fail(model_type, f"probabilities output {probability_output.name!r} is {kind}; expected "
                                   f"dictionaryType or multiArrayType")
        if kind == "dictionaryType":
            key_type = probability_output.type.dictionaryType.WhichOneof("KeyType")
            expected_key = "stringKeyType" if string_labels else "int64KeyType"
            if key_type != expected_key:
                raise fail(model_type, f"probabilities output {probability_output.name!r} has {key_type} keys but "
                                       f"the class labels need {expected_key}")


def validate_regressor_interface(model_type: str, description: Any) -> None:
    """validateRegressorInterface: predictedFeatureName names a Double or MultiArray output."""
    name = description.predictedFeatureName
    if not name:
        raise fail(model_type, "description.predictedFeatureName is required for a regressor")
    output = _output(description, name)
    if output is None:
        raise fail(model_type, f"predictedFeatureName {name!r} is not an output")
    if feature_kind(output) not in ("doubleType", "multiArrayType"):
        raise fail(model_type, f"output {name!r} is {feature_kind(output)}; a regressor's prediction must be "
                               f"doubleType or multiArrayType")


def require_counts(model_type: str, description: Any, n_inputs: int | None, n_outputs: int | None) -> None:
    """validateDescriptionsContainFeatureWithTypes' count part: exactly n inputs/outputs."""
    if n_inputs is not None and len(description.input) != n_inputs:
        raise fail(model_type, f"needs exactly {n_inputs} input(s), has {len(description.input)}")
    if n_outputs is not None and len(description.output) != n_outputs:
        raise fail(model_type, f"needs exactly {n_outputs} output(s), has {len(description.output)}")


def require_kinds(model_type: str, features: Sequence[Any], allowed: Sequence[str], role: str) -> None:
    """Each feature's type must be one of `allowed`."""
    for feature in features:
        if feature_kind(feature) not in allowed:
            raise fail(model_type, f"{role} {feature.name!r} is {feature_kind(feature)}; allowed: "
                                   f"{', '.join(allowed)}")


# ---------------------------------------------------------------------------------------------------------------
# Tree ensembles (TreeEnsembleCommon.cpp constructAndValidateTreeEnsembleFromSpec), vectorised over all nodes.


def validate_tree_structure(
    model_type: str,
    tree_ids: np.ndarray,
    node_ids: np.ndarray,
    is_leaf: np.ndarray,
    true_child_ids: np.ndarray,
    false_child_ids: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Resolve child ids to node indices and check Apple's tree rules.

    Returns (true_child_index, false_child_index, root_index per tree, depth per node); leaf rows of the child arrays
    point at the leaf itself. Rules: (treeId, nodeId) unique; referenced children exist in the same tree; a child is
    not its parent; a node has at most one parent; exactly one root per treeId; every node reachable from its root.
    """
    n_nodes = len(node_ids)
    if n_nodes == 0:
        raise fail(model_type, "treeEnsemble.nodes is empty (a tree needs at least a leaf)")
    # Pack (treeId, nodeId) into one int64 key via dense ranks (T*U <= N**2 < 2**63 for any parseable spec).
    unique_trees, tree_rank = np.unique(tree_ids, return_inverse=True)
    unique_node_ids = np.unique(node_ids)
    n_unique = np.int64(len(unique_node_ids))
    keys = tree_rank.astype(np.int64) * n_unique + np.searchsorted(unique_node_ids, node_ids).astype(np.int64)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    duplicate = sorted_keys[1:] == sorted_keys[:-1]
    if duplicate.any():
        at = order[int(np.flatnonzero(duplicate)[0]) + 1]
        raise fail(model_type, f"tree node (treeId={tree_ids[at]}, nodeId={node_ids[at]}) is duplicated")

    def resolve(child_ids: np.ndarray, which: str) -> np.ndarray:
        resolved = np.arange(n_nodes)
        branch_rows = np.flatnonzero(~is_leaf)
        child = child_ids[branch_rows]
        rank = np.minimum(np.searchsorted(unique_node_ids, child), len(unique_node_ids) - 1)
        found = unique_node_ids[rank] == child
        child_keys = tree_rank[branch_rows].astype(np.int64) * n_unique + rank.astype(np.int64)
        position = np.minimum(np.searchsorted(sorted_keys, child_keys), n_nodes - 1)
        found &= sorted_keys[position] == child_keys
        if not found.all():
            bad = branch_rows[~found][0]
            raise fail(model_type, f"tree node (treeId={tree_ids[bad]}, nodeId={node_ids[bad]}) references "
                                   f"{which} {child_ids[bad]} which is not declared in that tree")
        resolved[branch_rows] = order[position]
        return resolved

    true_index = resolve(true_child_ids, "trueChildNodeId")
    false_index = resolve(false_child_ids, "falseChildNodeId")
    branch = np.flatnonzero(~is_leaf)
    self_loop = (true_index[branch] == branch) | (false_index[branch] == branch)
    if self_loop.any():
        bad = branch[self_loop][0]
        raise fail(model_type, f"tree node (treeId={tree_ids[bad]}, nodeId={node_ids[bad]}) is its own child")
    parents = np.bincount(np.concatenate([true_index[branch], false_index[branch]]), minlength=n_nodes)
    if (parents > 1).any():
        bad = int(np.flatnonzero(parents > 1)[0])
        raise fail(model_type, f"tree node (treeId={tree_ids[bad]}, nodeId={node_ids[bad]}) has more than one "
                               f"parent")
    roots = np.flatnonzero(parents == 0)
    roots_per_tree = np.bincount(tree_rank[roots], minlength=len(unique_trees))
    if (roots_per_tree != 1).any():
        bad_tree = unique_trees[int(np.flatnonzero(roots_per_tree != 1)[0])]
        raise fail(model_type, f"treeId={bad_tree} has {roots_per_tree[tree_rank[roots]].max()} root nodes; "
                               f"each tree needs exactly one")
    # Level-order walk from the roots: with <= 1 parent per node, any node not reached lies on a cycle.
    reached = np.zeros(n_nodes, dtype=bool)
    node_depth = np.zeros(n_nodes, dtype=np.int64)
    frontier = roots
    depth = -1
    while frontier.size:
        reached[frontier] = True
        depth += 1
        node_depth[frontier] = depth
        inner = frontier[~is_leaf[frontier]]
        frontier = np.concatenate([true_index[inner], false_index[inner]])
        if depth > n_nodes:  # cannot happen once parents <= 1 holds; guards against a logic slip becoming a hang
            raise fail(model_type, "tree walk did not terminate")
    if not reached.all():
        bad = int(np.flatnonzero(~reached)[0])
        raise fail(model_type, f"tree node (treeId={tree_ids[bad]}, nodeId={node_ids[bad]}) is not connected to "
                               f"a root (cycle)")
    root_order = roots[np.argsort(tree_rank[roots], kind="stable")]
    return true_index, false_index, root_order, node_depth
