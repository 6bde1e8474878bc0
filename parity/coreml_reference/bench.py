"""Speed measurement of the Core ML reference evaluator against scikit-learn (called by `mlexport bench`).

`bench_random_forest` fits a RandomForestClassifier, writes its TreeEnsembleClassifier spec directly from
`tree_.children_left/right, feature, threshold, value` (binary D = 1: leaf = P(class 1) / n_estimators, so Core ML's
sum over trees is the forest's mean probability), and times the evaluator's prediction against `predict_proba`.
The spec is built here, from sklearn attributes, because parity/ never imports export/.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from parity.coreml_reference.spec_loading import FeatureTypes_pb2, Model_pb2


def random_forest_to_spec(forest: Any, input_name: str = "input") -> Any:
    """TreeEnsembleClassifier spec of a fitted binary sklearn RandomForestClassifier (one MultiArray input)."""
    n_features = int(forest.n_features_in_)
    classes = [int(c) for c in forest.classes_]
    if len(classes) != 2:
        raise ValueError(f"random_forest_to_spec builds the binary (D=1) encoding; got {len(classes)} classes")
    spec = Model_pb2.Model()
    spec.specificationVersion = 1
    description = spec.description
    feature = description.input.add()
    feature.name = input_name
    feature.type.multiArrayType.shape.append(n_features)
    feature.type.multiArrayType.dataType = FeatureTypes_pb2.ArrayFeatureType.DOUBLE
    label = description.output.add()
    label.name = "classLabel"
    label.type.int64Type.SetInParent()
    probability = description.output.add()
    probability.name = "classProbability"
    probability.type.dictionaryType.int64KeyType.SetInParent()
    description.predictedFeatureName = "classLabel"
    description.predictedProbabilitiesName = "classProbability"

    classifier = spec.treeEnsembleClassifier
    classifier.int64ClassLabels.vector.extend(classes)
    ensemble = classifier.treeEnsemble
    ensemble.numPredictionDimensions = 1
    ensemble.basePredictionValue.append(0.0)
    scale = 1.0 / len(forest.estimators_)
    nodes = ensemble.nodes
    for tree_id, estimator in enumerate(forest.estimators_):
        tree = estimator.tree_
        value = tree.value[:, 0, :]
        positive = (value[:, 1] / value.sum(axis=1) * scale).tolist()
        left, right = tree.children_left.tolist(), tree.children_right.tolist()
        feature_index, threshold = tree.feature.tolist(), tree.threshold.tolist()
        missing_left = getattr(tree, "missing_go_to_left", np.zeros(tree.node_count, dtype=np.uint8)).tolist()
        for node_id in range(tree.node_count):
            if left[node_id] == -1:  # sklearn's TREE_LEAF
                node = nodes.add(treeId=tree_id, nodeId=node_id, nodeBehavior=6)
                node.evaluationInfo.add(evaluationIndex=0, evaluationValue=positive[node_id])
            else:
                nodes.add(
                    treeId=tree_id, nodeId=node_id, nodeBehavior=0, branchFeatureIndex=feature_index[node_id],
                    branchFeatureValue=threshold[node_id], trueChildNodeId=left[node_id],
                    falseChildNodeId=right[node_id], missingValueTracksTrueChild=bool(missing_left[node_id]),
                )
    return spec


def bench_random_forest(n_rows: int = 100_000, n_estimators: int = 300, max_depth: int = 12) -> dict[str, Any]:
    """Time evaluator prediction vs sklearn `predict_proba` on make_classification data; ratio <= 1 is the target."""
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    from parity.coreml_reference import compile_model
    from parity.coreml_reference.tree_ensemble import _MAX_WORKERS as tree_ensemble_threads

    x, y = make_classification(n_samples=n_rows, n_features=20, random_state=0)
    # Float32-representable inputs: sklearn compares float32(x) with thresholds, Core ML compares doubles (§6 #1).
    x = x.astype(np.float32).astype(np.float64)
    forest = RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth, random_state=0).fit(x, y)

    started = time.perf_counter()
    spec = random_forest_to_spec(forest)
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    compiled = compile_model(spec)
    compile_seconds = time.perf_counter() - started

    started = time.perf_counter()
    expected = forest.predict_proba(x)
    sklearn_seconds = time.perf_counter() - started
    started = time.perf_counter()
    outputs = compiled.predict({"input": x})
    evaluator_seconds = time.perf_counter() - started

    probabilities = outputs["classProbability"]
    return {
        "n_rows": n_rows,
        "n_estimators": n_estimators,
        "max_depth": max_depth,
        "n_nodes": len(spec.treeEnsembleClassifier.treeEnsemble.nodes),
        "spec_build_seconds": build_seconds,
        "compile_seconds": compile_seconds,
        "sklearn_predict_proba_seconds": sklearn_seconds,
        "evaluator_predict_seconds": evaluator_seconds,
        "ratio": evaluator_seconds / sklearn_seconds,
        # sklearn's predict_proba runs single-threaded here (n_jobs=None); the evaluator splits trees into 2 fixed
        # groups run on up to this many threads (numpy releases the GIL in its gathers).
        "evaluator_threads": tree_ensemble_threads,
        "max_abs_probability_difference": float(np.max(np.abs(probabilities - expected))),
        "label_mismatches": int(np.sum(outputs["classLabel"] != forest.classes_[np.argmax(expected, axis=1)])),
    }
