"""export.to_coreml.tree_wire: the vectorised TreeNode encoder is byte-identical to protobuf's own serialisation of
the same nodes built one message at a time, and the validator's wire reader agrees with reading the message objects
(on our forests and on Apple-converted specs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ir_models import array_model
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from export import ir
from export.frontends import to_ir
from export.to_coreml import CoreMLInterface, spec_bytes, to_spec, validate_spec
from export.to_coreml.protos import Model_pb2, TreeEnsemble_pb2
from export.to_coreml.tree_ensemble import node_columns
from export.to_coreml.tree_wire import encode_nodes
from parity.coreml_reference.tree_nodes import TreeNodeColumns, WireFormatError, decode_nodes, read_node_objects

APPLE_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "apple"
TREE_NODE = TreeEnsemble_pb2.TreeEnsembleParameters.TreeNode
PARAMS = TreeEnsemble_pb2.TreeEnsembleParameters


def slow_params(columns: TreeNodeColumns) -> Any:
    """The nodes built the slow, obvious way: one `nodes.add()` per node, every field assigned by protobuf."""
    params = PARAMS()
    infos: dict[int, list[tuple[int, float]]] = {}
    for owner, index, value in zip(columns.info_node.tolist(), columns.info_index.tolist(),
                                   columns.info_value.tolist(), strict=True):
        infos.setdefault(owner, []).append((index, value))
    for k in range(columns.n_nodes):
        node = params.nodes.add()
        node.treeId = int(columns.tree_id[k])
        node.nodeId = int(columns.node_id[k])
        node.nodeBehavior = int(columns.behavior[k])
        node.branchFeatureIndex = int(columns.feature[k])
        node.branchFeatureValue = float(columns.threshold[k])
        node.trueChildNodeId = int(columns.true_child[k])
        node.falseChildNodeId = int(columns.false_child[k])
        node.missingValueTracksTrueChild = bool(columns.missing_true[k])
        for index, value in infos.get(k, []):
            info = node.evaluationInfo.add()
            info.evaluationIndex = index
            info.evaluationValue = value
    return params


def tree_params(spec: Any) -> Any:
    return getattr(spec, spec.WhichOneof("Type")).treeEnsemble


def assert_columns_equal(left: TreeNodeColumns, right: TreeNodeColumns) -> None:
    for name in TreeNodeColumns.__dataclass_fields__:
        a, b = np.asarray(getattr(left, name)), np.asarray(getattr(right, name))
        if a.dtype == np.float64:  # compare bits: -0.0 and +0.0 are different bytes on the wire
            a, b = a.view(np.uint64), b.view(np.uint64)
        np.testing.assert_array_equal(a.astype(np.uint64) if a.dtype != bool else a,
                                      b.astype(np.uint64) if b.dtype != bool else b, err_msg=name)


def _xy(classes: int = 2, nan: bool = False, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=classes, random_state=seed)
    if nan:
        X[np.random.default_rng(seed).random(X.shape) < 0.15] = np.nan
    return X, y


def _missing_means_class_one() -> tuple[np.ndarray, np.ndarray]:
    """Feature 0 is NaN exactly for class 1: the best split sends only NaN one way, threshold +inf."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 3)), (rng.random(300) < 0.5).astype(np.int64)
    X[y == 1, 0] = np.nan
    return X, y


def _regression() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_regression(n_samples=300, n_features=5, random_state=0)
    return X, y - 100.0  # negative leaf values


FORESTS = {
    "rf-binary": lambda: RandomForestClassifier(n_estimators=5, max_depth=6, random_state=0).fit(*_xy()),
    "rf-multiclass-dense-leaves": lambda: RandomForestClassifier(n_estimators=4, max_depth=5, random_state=0).fit(
        *_xy(classes=4)),
    "gb-multiclass-leaf-target": lambda: GradientBoostingClassifier(n_estimators=5, max_depth=3, random_state=0).fit(
        *_xy(classes=3)),
    "dt-nan-routing": lambda: DecisionTreeClassifier(max_depth=8, random_state=0).fit(*_xy(nan=True)),
    "hgb-nan-routing": lambda: HistGradientBoostingClassifier(max_iter=8, random_state=0).fit(*_xy(nan=True)),
    "dt-inf-threshold": lambda: DecisionTreeClassifier(max_depth=4, random_state=0).fit(*_missing_means_class_one()),
    "dt-regressor-negative": lambda: DecisionTreeRegressor(max_depth=7, random_state=0).fit(*_regression()),
    "extra-trees-regressor": lambda: ExtraTreesRegressor(n_estimators=3, max_depth=5, random_state=0).fit(
        *_regression()),
}


def large_ids_and_odd_values() -> ir.TreeEnsemble:
    """Hand-built: node and tree ids needing 5- and 9-byte varints, -0.0 / +inf / -inf / subnormal thresholds and
    leaves, a zero leaf (an empty evaluationInfo), LT and LEQ branches, NaN to either side, a large feature index."""
    big, huge = 2**33 + 5, 2**62 + 3
    tree_id = np.array([0, 0, 0, 0, 0, huge, huge, huge, 7, 7, 7])
    node_id = np.array([0, big, 2, big + 1, 9, 0, 1, huge, 0, 128, 16384])
    feature = np.array([0, 199, -1, -1, -1, 3, -1, -1, 150, -1, -1])
    threshold = np.array([-0.0, np.inf, 0, 0, 0, -np.inf, 0, 0, 5e-324, 0, 0])
    mode = np.array([1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0])
    true_child = np.array([big, 2, -1, -1, -1, 1, -1, -1, 128, -1, -1])
    false_child = np.array([9, big + 1, -1, -1, -1, huge, -1, -1, 16384, -1, -1])
    missing = np.array([True, False, False, False, False, True, False, False, False, False, False])
    leaf_value = np.zeros((11, 3))
    leaf_value[2] = [-0.0, 1e-310, -2.5]
    leaf_value[3] = [0.0, 0.0, 0.0]
    leaf_value[4] = [np.inf, -1.0, 3.0]
    leaf_value[6, 1] = -0.0
    leaf_value[7, 2] = 7.25
    leaf_value[9] = [1.0, 2.0, 3.0]
    leaf_value[10] = [-1.0, -2.0, -3.0]
    leaf_target = np.array([-1, -1, -1, -1, -1, -1, 1, 2, -1, -1, -1])
    return ir.TreeEnsemble(n_features=200, tree_id=tree_id, node_id=node_id, feature=feature, threshold=threshold,
                           mode=mode, true_child=true_child, false_child=false_child, missing_tracks_true=missing,
                           leaf_value=leaf_value, leaf_target=leaf_target, base=np.array([0.5, -0.0, 0.0]),
                           compares_float32=False)


ODD_HEAD = ir.Regression(3)


CASES: dict[str, Any] = {**{name: (lambda build=build: to_ir(build())) for name, build in FORESTS.items()},
                         "large-ids-odd-values": lambda: array_model(large_ids_and_odd_values(), ODD_HEAD)}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> tuple[ir.TreeEnsemble, Any]:
    model = CASES[request.param]()
    node = model.output.node
    assert isinstance(node, ir.TreeEnsemble)
    return node, to_spec(model, CoreMLInterface())


def test_encoder_is_byte_identical_to_protobuf(case: tuple[ir.TreeEnsemble, Any]) -> None:
    node, spec = case
    slow_spec = Model_pb2.Model()
    slow_spec.CopyFrom(spec)
    params = tree_params(slow_spec)
    del params.nodes[:]
    params.nodes.extend(slow_params(node_columns(node)).nodes)
    assert len(params.nodes) == node.tree_id.size
    assert spec_bytes(spec) == spec_bytes(slow_spec)
    assert encode_nodes(node_columns(node)) == slow_params(node_columns(node)).SerializeToString(deterministic=True)


def test_written_nodes_follow_the_ir(case: tuple[ir.TreeEnsemble, Any]) -> None:
    """Field by field against the IR arrays (not through node_columns): LEQ as is, LT as LEQ on the previous
    double (LT only at -inf), NaN routing, leaves' evaluationInfo, no relativeHitRate."""
    node, spec = case
    nodes = tree_params(spec).nodes
    for k, message in enumerate(nodes):
        assert (message.treeId, message.nodeId) == (node.tree_id[k], node.node_id[k])
        assert message.relativeHitRate == 0.0
        if node.feature[k] < 0:
            assert message.nodeBehavior == TREE_NODE.LeafNode
            target = node.leaf_target[k]
            dims = [int(target)] if target >= 0 else list(range(node.n_outputs))
            assert [i.evaluationIndex for i in message.evaluationInfo] == dims
            np.testing.assert_array_equal([i.evaluationValue for i in message.evaluationInfo],
                                          node.leaf_value[k, dims])
            continue
        threshold, less_than = float(node.threshold[k]), node.mode[k] == ir.BranchMode.LT
        if less_than and threshold == -np.inf:
            assert (message.nodeBehavior, message.branchFeatureValue) == (TREE_NODE.BranchOnValueLessThan, threshold)
        else:
            assert message.nodeBehavior == TREE_NODE.BranchOnValueLessThanEqual
            expected = np.nextafter(threshold, -np.inf) if less_than else threshold
            assert np.float64(message.branchFeatureValue).view(np.uint64) == np.float64(expected).view(np.uint64)
        assert (message.branchFeatureIndex, message.trueChildNodeId, message.falseChildNodeId) == (
            node.feature[k], node.true_child[k], node.false_child[k])
        assert message.missingValueTracksTrueChild == node.missing_tracks_true[k]


def test_wire_reader_agrees_with_message_objects(case: tuple[ir.TreeEnsemble, Any]) -> None:
    _, spec = case
    params = tree_params(spec)
    assert_columns_equal(decode_nodes(params), read_node_objects(params.nodes))


def test_forests_cover_what_they_claim() -> None:
    """The cases above really contain LT branches, NaN routed to both sides, +inf thresholds and dense leaves."""
    names = ("rf-binary", "hgb-nan-routing", "dt-nan-routing", "dt-inf-threshold", "rf-multiclass-dense-leaves",
             "gb-multiclass-leaf-target")
    nodes = {name: CASES[name]().output.node for name in names}
    assert np.any(nodes["rf-binary"].mode == ir.BranchMode.LT)
    assert np.any(nodes["rf-binary"].mode == ir.BranchMode.LEQ)
    assert np.any(nodes["dt-inf-threshold"].threshold == np.inf)
    for name in ("hgb-nan-routing", "dt-nan-routing"):
        branch = ~nodes[name].is_leaf
        routing = nodes[name].missing_tracks_true[branch]
        assert routing.any() and not routing.all(), name
    assert nodes["rf-multiclass-dense-leaves"].n_outputs == 4
    assert np.all(nodes["rf-multiclass-dense-leaves"].leaf_target == -1)
    assert np.all(nodes["gb-multiclass-leaf-target"].leaf_target[nodes["gb-multiclass-leaf-target"].is_leaf] >= 0)


def apple_tree_ensembles(path: Path) -> list[Any]:
    """The TreeEnsembleParameters in an Apple-converted .mlmodel, pipelines included."""
    found, stack = [], [Model_pb2.Model.FromString(path.read_bytes())]
    while stack:
        model = stack.pop()
        kind = model.WhichOneof("Type")
        if kind in ("treeEnsembleClassifier", "treeEnsembleRegressor"):
            found.append(getattr(model, kind).treeEnsemble)
        elif kind in ("pipelineClassifier", "pipelineRegressor"):
            stack.extend(getattr(model, kind).pipeline.models)
        elif kind == "pipeline":
            stack.extend(model.pipeline.models)
    return found


APPLE_TREE_FIXTURES = [path for path in sorted(APPLE_FIXTURES.glob("*.mlmodel")) if apple_tree_ensembles(path)]


def test_apple_tree_fixtures_exist() -> None:
    assert len(APPLE_TREE_FIXTURES) >= 8  # decision trees, forests, gradient boosting, NaN routing


@pytest.mark.parametrize("path", APPLE_TREE_FIXTURES, ids=lambda p: p.stem)
def test_wire_reader_on_apple_specs(path: Path) -> None:
    for params in apple_tree_ensembles(path):
        assert_columns_equal(decode_nodes(params), read_node_objects(params.nodes))


def test_unknown_fields_fall_back_to_the_message_objects() -> None:
    """A TreeNode carrying an unknown field that reuses treeId's number with another wire type (upb keeps it as an
    unknown field): the wire reader refuses it, the validator reads the message objects and still checks the tree."""
    spec = to_spec(array_model(large_ids_and_odd_values(), ODD_HEAD), CoreMLInterface())
    params = tree_params(spec)
    odd = TREE_NODE()
    odd.MergeFromString(params.nodes[2].SerializeToString() + b"\x0a\x01\x07")  # field 1 as LENGTH_DELIMITED
    assert odd.treeId == 0 and odd.nodeId == params.nodes[2].nodeId
    params.nodes[2].CopyFrom(odd)
    with pytest.raises(WireFormatError):
        decode_nodes(params)
    validate_spec(spec)
    odd.nodeId = params.nodes[0].nodeId  # now a duplicate (treeId, nodeId): the fallback must still see it
    params.nodes[2].CopyFrom(odd)
    with pytest.raises(Exception, match=r"tree node \(treeId=0, nodeId=0\) is duplicated"):
        validate_spec(spec)


def test_negative_ids_are_refused() -> None:
    node = large_ids_and_odd_values()
    # The IR itself refuses negative child links; a negative node id has to be caught by the writer (uint64 field).
    node = ir.TreeEnsemble(**{**node.__dict__, "node_id": np.where(node.node_id == 9, -9, node.node_id)})
    with pytest.raises(Exception, match="node_id must be >= 0"):
        to_spec(array_model(node, ODD_HEAD), CoreMLInterface())


@pytest.mark.parametrize("seed", range(20))
def test_encoder_on_random_columns(seed: int) -> None:
    """Arbitrary field values, including uint64 extremes, every behavior value, NaN/-0.0/subnormal doubles and 0-3
    evaluationInfo per node: encode_nodes == protobuf, and the wire reader gives the columns back."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    extremes = np.array([0, 1, 127, 128, 16383, 16384, 2**32, 2**63 - 1, 2**63, 2**64 - 1], dtype=np.uint64)

    def ids(size: int) -> np.ndarray:
        return rng.choice(extremes, size) if rng.random() < 0.5 else rng.integers(0, 300, size).astype(np.uint64)

    doubles = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -1.5, 0.1, 1e300])
    per_node = rng.integers(0, 4, n)
    info_node = np.repeat(np.arange(n), per_node)
    columns = TreeNodeColumns(
        tree_id=ids(n), node_id=ids(n), behavior=rng.integers(0, 7, n), feature=ids(n),
        threshold=rng.choice(doubles, n), true_child=ids(n), false_child=ids(n), missing_true=rng.random(n) < 0.5,
        info_node=info_node, info_index=ids(info_node.size), info_value=rng.choice(doubles, info_node.size))
    params = slow_params(columns)
    assert encode_nodes(columns) == params.SerializeToString(deterministic=True)
    assert_columns_equal(decode_nodes(params), columns)
