"""Hand-computed checks of the Core ML reference evaluator on treeEnsembleRegressor / treeEnsembleClassifier specs."""

from __future__ import annotations

import numpy as np
import pytest
from coreml_spec_parts import add_array_input, add_classifier_outputs

from parity.coreml_reference import class_labels, output_kinds, predict
from parity.coreml_reference.spec_loading import FeatureTypes_pb2, Model_pb2
from parity.errors import CoreMLSpecError

LE, LT, GE, GT, EQ, NE, LEAF = range(7)


def leaf(tree: int, node: int, *values: tuple[int, float]) -> dict:
    return {"treeId": tree, "nodeId": node, "nodeBehavior": LEAF, "evaluationInfo": list(values)}


def branch(tree: int, node: int, feature: int, threshold: float, true: int, false: int, mode: int = LE,
           nan_true: bool = False) -> dict:
    return {"treeId": tree, "nodeId": node, "nodeBehavior": mode, "branchFeatureIndex": feature,
            "branchFeatureValue": threshold, "trueChildNodeId": true, "falseChildNodeId": false,
            "missingValueTracksTrueChild": nan_true}


def tree_spec(nodes: list[dict], dimensions: int = 1, classifier: bool = False, labels: list | None = None,
              base: list[float] | None = None, transform: int = 0, n_features: int = 2) -> Model_pb2.Model:
    spec = Model_pb2.Model()
    spec.specificationVersion = 1
    add_array_input(spec, "x", n_features)
    if classifier:
        params = spec.treeEnsembleClassifier
        string_labels = labels is not None and isinstance(labels[0], str)
        if labels is not None:
            (params.stringClassLabels if string_labels else params.int64ClassLabels).vector.extend(labels)
        add_classifier_outputs(spec, string_labels)
    else:
        params = spec.treeEnsembleRegressor
        output = spec.description.output.add()
        output.name = "y"
        if dimensions == 1:
            output.type.doubleType.SetInParent()
        else:
            output.type.multiArrayType.shape.append(dimensions)
            output.type.multiArrayType.dataType = FeatureTypes_pb2.ArrayFeatureType.DOUBLE
        spec.description.predictedFeatureName = "y"
    params.postEvaluationTransform = transform
    ensemble = params.treeEnsemble
    ensemble.numPredictionDimensions = dimensions
    ensemble.basePredictionValue.extend(base or [])
    for fields in nodes:
        node = ensemble.nodes.add(**{k: v for k, v in fields.items() if k != "evaluationInfo"})
        for index, value in fields.get("evaluationInfo", []):
            node.evaluationInfo.add(evaluationIndex=index, evaluationValue=value)
    return spec


def stump(mode: int, nan_true: bool = False) -> list[dict]:
    return [branch(0, 0, 0, 1.0, 1, 2, mode, nan_true), leaf(0, 1, (0, 10.0)), leaf(0, 2, (0, 20.0))]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (LE, [10, 10, 20]),  # 0.5 <= 1, 1 <= 1, 1.5 > 1
        (LT, [10, 20, 20]),
        (GE, [20, 10, 10]),
        (GT, [20, 20, 10]),
        (EQ, [20, 10, 20]),
        (NE, [10, 20, 10]),
    ],
)
def test_all_six_branch_modes_choose_true_child_when_condition_holds(mode: int, expected: list[float]) -> None:
    x = np.array([[0.5, 0.0], [1.0, 0.0], [1.5, 0.0]])
    out = predict(tree_spec(stump(mode)), x)
    np.testing.assert_array_equal(out["y"], expected)


@pytest.mark.parametrize("mode", [LE, LT, GE, GT, EQ, NE])
@pytest.mark.parametrize(("nan_true", "expected"), [(True, 10.0), (False, 20.0)])
def test_nan_follows_missing_value_tracks_true_child_in_every_mode(mode: int, nan_true: bool, expected: float) -> None:
    # NaN is "missing": the true child iff missingValueTracksTrueChild (default false), whatever NaN != t would say.
    out = predict(tree_spec(stump(mode, nan_true)), np.array([[np.nan, 0.0], [0.5, np.nan]]))
    assert out["y"][0] == expected
    assert out["y"][1] == {LE: 10, LT: 10, GE: 20, GT: 20, EQ: 20, NE: 10}[mode]  # NaN in an unused feature


def test_trees_are_summed_with_base_value_not_averaged() -> None:
    nodes = [
        branch(0, 0, 0, 0.0, 1, 2), leaf(0, 1, (0, 1.0)), leaf(0, 2, (0, 2.0)),
        # tree 7 with arbitrary node ids, the root listed last
        leaf(7, 40, (0, 30.0)), leaf(7, 50, (0, 40.0)), branch(7, 99, 1, 5.0, 40, 50, GT),
    ]
    x = np.array([[-1.0, 6.0], [1.0, 6.0], [1.0, 4.0]])
    out = predict(tree_spec(nodes, base=[100.0]), x)
    np.testing.assert_array_equal(out["y"], [100 + 1 + 30, 100 + 2 + 30, 100 + 2 + 40])


def test_regressor_with_two_dimensions_and_sparse_leaves_gives_multiarray() -> None:
    nodes = [branch(0, 0, 0, 0.0, 1, 2), leaf(0, 1, (1, 5.0)), leaf(0, 2, (0, 2.0), (1, -1.0))]
    out = predict(tree_spec(nodes, dimensions=2, base=[0.5, 0.25]), np.array([[-1.0, 0], [1.0, 0]]))
    np.testing.assert_array_equal(out["y"], [[0.5, 5.25], [2.5, -0.75]])


def test_binary_mode_score_is_probability_of_second_label() -> None:
    nodes = [branch(0, 0, 0, 0.0, 1, 2), leaf(0, 1, (0, 0.2)), leaf(0, 2, (0, 0.6))]
    spec = tree_spec(nodes, classifier=True, labels=[3, 7])
    out = predict(spec, np.array([[-1.0, 0], [1.0, 0]]))
    np.testing.assert_allclose(out["probs"], [[0.8, 0.2], [0.4, 0.6]], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(out["label"], [3, 7])
    assert out["label"].dtype == np.int64
    assert class_labels(spec) == [3, 7]
    assert output_kinds(spec) == {"label": "label", "probs": "probabilities"}


def test_binary_mode_exact_half_goes_to_second_label() -> None:
    # Inferred rule (coreml-semantics §1.1): label = labels[1] iff p >= 0.5.
    nodes = [leaf(0, 0, (0, 0.5))]
    out = predict(tree_spec(nodes, classifier=True, labels=[0, 1]), np.zeros((1, 2)))
    np.testing.assert_array_equal(out["label"], [1])


def test_binary_mode_without_labels_defaults_to_zero_one() -> None:
    spec = tree_spec([leaf(0, 0, (0, 0.9))], classifier=True, labels=None)
    assert class_labels(spec) == [0, 1]
    out = predict(spec, np.zeros((2, 2)))
    np.testing.assert_array_equal(out["label"], [1, 1])


def test_regression_logistic_transform_in_binary_mode() -> None:
    nodes = [branch(0, 0, 0, 0.0, 1, 2), leaf(0, 1, (0, 0.0)), leaf(0, 2, (0, 2.0))]
    out = predict(tree_spec(nodes, classifier=True, labels=[0, 1], base=[-1.0], transform=2),
                  np.array([[-1.0, 0], [1.0, 0]]))
    p = np.array([1 / (1 + np.exp(1.0)), 1 / (1 + np.exp(-1.0))])  # sigma(-1), sigma(1)
    np.testing.assert_allclose(out["probs"], np.column_stack([1 - p, p]), rtol=1e-15)
    np.testing.assert_array_equal(out["label"], [0, 1])


def test_multiclass_no_transform_returns_raw_sums_without_renormalising() -> None:
    # Two trees whose leaves add up to more than 1: Core ML returns the sums as "probabilities" (issue #1541).
    nodes = [
        branch(0, 0, 0, 0.0, 1, 2), leaf(0, 1, (0, 0.7), (2, 0.3)), leaf(0, 2, (1, 1.0)),
        leaf(1, 0, (2, 0.5)),
    ]
    spec = tree_spec(nodes, dimensions=3, classifier=True, labels=["a", "b", "c"])
    out = predict(spec, np.array([[-1.0, 0], [1.0, 0]]))
    np.testing.assert_allclose(out["probs"], [[0.7, 0.0, 0.8], [0.0, 1.0, 0.5]])
    assert out["label"].tolist() == ["c", "b"]


def test_multiclass_softmax_transform() -> None:
    nodes = [leaf(0, 0, (0, 1.0), (1, 2.0), (2, 3.0))]
    spec = tree_spec(nodes, dimensions=3, classifier=True, labels=[10, 20, 30], base=[0.5, 0.0, 0.0], transform=1)
    out = predict(spec, np.zeros((1, 2)))
    scores = np.array([1.5, 2.0, 3.0])
    np.testing.assert_allclose(out["probs"][0], np.exp(scores) / np.exp(scores).sum(), rtol=1e-14)
    np.testing.assert_array_equal(out["label"], [30])


@pytest.mark.parametrize(
    ("nodes", "fragment"),
    [
        ([branch(0, 0, 0, 0.0, 1, 9), leaf(0, 1, (0, 1.0))], "not declared"),
        ([branch(0, 0, 0, 0.0, 1, 1), leaf(0, 1, (0, 1.0))], "more than one parent"),
        ([branch(0, 0, 0, 0.0, 0, 1), leaf(0, 1, (0, 1.0))], "own child"),
        ([leaf(0, 0, (0, 1.0)), leaf(0, 0, (0, 2.0))], "duplicated"),
        ([leaf(0, 0)], "no evaluationInfo"),
        ([leaf(0, 0, (1, 1.0))], "evaluationIndex"),
        ([leaf(0, 0, (0, 1.0), (0, 2.0))], "same evaluationIndex twice"),
        ([branch(0, 0, 5, 0.0, 1, 2), leaf(0, 1, (0, 1.0)), leaf(0, 2, (0, 1.0))], "branchFeatureIndex"),
        ([leaf(0, 0, (0, 1.0)), leaf(0, 1, (0, 1.0))], "root"),
        # a 2-cycle next to a proper root: every node has one parent, but 1 and 2 are unreachable
        ([leaf(0, 0, (0, 1.0)), branch(0, 1, 0, 0.0, 2, 3), branch(0, 2, 0, 0.0, 1, 4), leaf(0, 3, (0, 1.0)),
          leaf(0, 4, (0, 1.0))], "root"),
        ([{**leaf(0, 0, (0, 1.0)), "nodeBehavior": 9}], "nodeBehavior"),
    ],
)
def test_malformed_trees_raise_spec_error(nodes: list[dict], fragment: str) -> None:
    with pytest.raises(CoreMLSpecError, match=fragment):
        predict(tree_spec(nodes), np.zeros((1, 2)))


def test_unsupported_or_inconsistent_parameters_raise_spec_error() -> None:
    with pytest.raises(CoreMLSpecError, match="SoftMaxWithZeroClassReference"):
        predict(tree_spec([leaf(0, 0, (0, 1.0))], transform=3), np.zeros((1, 2)))
    with pytest.raises(CoreMLSpecError, match="numPredictionDimensions 2 does not fit 3"):
        predict(tree_spec([leaf(0, 0, (0, 1.0))], dimensions=2, classifier=True, labels=[1, 2, 3]), np.zeros((1, 2)))
    with pytest.raises(CoreMLSpecError, match="basePredictionValue"):
        predict(tree_spec([leaf(0, 0, (0, 1.0))], base=[1.0, 2.0]), np.zeros((1, 2)))
    spec = tree_spec([leaf(0, 0, (0, 1.0))])
    spec.treeEnsembleRegressor.treeEnsemble.numPredictionDimensions = 0
    with pytest.raises(CoreMLSpecError, match="numPredictionDimensions is 0"):
        predict(spec, np.zeros((1, 2)))


def test_random_forest_spec_reproduces_sklearn_predict_proba() -> None:
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    from parity.coreml_reference.bench import random_forest_to_spec

    x, y = make_classification(n_samples=400, n_features=6, random_state=1)
    x = x.astype(np.float32).astype(np.float64)  # sklearn compares float32(x); keep inputs float32-exact
    forest = RandomForestClassifier(n_estimators=7, max_depth=5, random_state=0).fit(x, y)
    out = predict(random_forest_to_spec(forest), {"input": x})
    np.testing.assert_allclose(out["classProbability"], forest.predict_proba(x), rtol=0, atol=1e-12)


def test_decision_tree_nan_routing_matches_sklearn_missing_go_to_left() -> None:
    from sklearn.ensemble import RandomForestClassifier

    from parity.coreml_reference.bench import random_forest_to_spec

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3)).astype(np.float32).astype(np.float64)
    y = (x[:, 0] > 0).astype(int)
    x[rng.random(300) < 0.3, 0] = np.nan  # NaN rows are mostly class 0 or 1 depending on the split learned
    y[np.isnan(x[:, 0])] = 1
    forest = RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0).fit(x, y)
    probe = np.array([[np.nan, 0.1, -0.2], [0.5, np.nan, 0.0], [-0.5, 0.0, np.nan]])
    out = predict(random_forest_to_spec(forest), {"input": probe})
    np.testing.assert_allclose(out["classProbability"], forest.predict_proba(probe), rtol=0, atol=1e-12)


def test_deep_chain_tree_beyond_perfect_tree_padding() -> None:
    # Node i (i < 24) tests x0 <= i: true -> leaf with value i, false -> node i + 1; the last node is a leaf of 99.
    # Depth 24 is too deep for the padded fast path, so this exercises the compact walk on NaN-free rows.
    depth = 24
    nodes = []
    for i in range(depth):
        nodes.append(branch(0, 2 * i, 0, float(i), 2 * i + 1, 2 * i + 2))
        nodes.append(leaf(0, 2 * i + 1, (0, float(i))))
    nodes.append(leaf(0, 2 * depth, (0, 99.0)))
    x = np.array([[-5.0, 0], [0.5, 0], [7.0, 0], [23.0, 0], [23.5, 0]])
    np.testing.assert_array_equal(predict(tree_spec(nodes), x)["y"], [0.0, 1.0, 7.0, 23.0, 99.0])


def test_padded_fast_path_and_compact_walk_agree_on_irregular_trees_with_nan() -> None:
    import dataclasses

    from parity.coreml_reference.tree_ensemble import compile_forest

    rng = np.random.default_rng(3)
    nodes: list[dict] = []
    for tree in range(6):
        next_id, frontier = 1, [(0, 0)]
        while frontier:
            node_id, level = frontier.pop()
            if level >= 5 or rng.random() < 0.3:
                nodes.append(leaf(tree, node_id, (0, float(rng.normal()))))
            else:
                left, right = next_id, next_id + 1
                next_id += 2
                nodes.append(branch(tree, node_id, int(rng.integers(3)), float(rng.normal()), left, right,
                                    nan_true=bool(rng.random() < 0.5)))
                frontier += [(left, level + 1), (right, level + 1)]
    spec = tree_spec(nodes, n_features=3)
    x = rng.normal(size=(60, 3))
    x[rng.random(x.shape) < 0.2] = np.nan
    forest = compile_forest("treeEnsembleRegressor", spec)
    assert forest.heap is not None
    padded = forest.raw_scores(x)[:, 0]
    compact = dataclasses.replace(forest, heap=None).raw_scores(x)[:, 0]
    np.testing.assert_array_equal(padded, compact)
    np.testing.assert_array_equal(predict(spec, x)["y"], padded)
    # and both equal a direct recursive walk of the node list
    table = {(n["treeId"], n["nodeId"]): n for n in nodes}

    def walk(tree: int, node_id: int, row: np.ndarray) -> float:
        node = table[(tree, node_id)]
        if node["nodeBehavior"] == LEAF:
            return float(node["evaluationInfo"][0][1])
        value = row[node["branchFeatureIndex"]]
        go_true = node["missingValueTracksTrueChild"] if np.isnan(value) else value <= node["branchFeatureValue"]
        return walk(tree, node["trueChildNodeId"] if go_true else node["falseChildNodeId"], row)

    expected = [sum(walk(tree, 0, row) for tree in range(6)) for row in x]
    np.testing.assert_allclose(padded, expected, rtol=1e-12)
