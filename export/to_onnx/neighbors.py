"""IR NearestNeighbors → ONNX (double): distances to every stored sample from the row difference, TopK of the
ranking key (ties: lower sample index first), scikit-learn's weights with its zero-distance rule, then weighted
vote fractions (classifier) or the weighted target mean (regressor)."""

from __future__ import annotations

import numpy as np
import onnx

from export import ir
from export.to_onnx.graph_builder import GraphBuilder


def _axes(b: GraphBuilder, *axes: int) -> str:
    return b.const("axes", np.array(axes, dtype=np.int64))


def _ranking_key(b: GraphBuilder, x: str, node: ir.NearestNeighbors) -> str:
    """[N, M] reduced distances, as scikit-learn's DistanceMetric.rdist computes them from d = x - sample."""
    rows = b.op("Unsqueeze", [x, _axes(b, 1)], "knn_rows")  # [N, 1, n]
    diff = b.op("Sub", [rows, b.const("knn_samples", node.samples[np.newaxis])], "knn_diff")  # [N, M, n]
    if node.metric == "euclidean":
        return b.op("ReduceSum", [b.op("Mul", [diff, diff], "knn_squared"), _axes(b, 2)], "knn_key", keepdims=0)
    magnitude = b.op("Abs", [diff], "knn_abs")
    if node.metric == "manhattan":
        return b.op("ReduceSum", [magnitude, _axes(b, 2)], "knn_key", keepdims=0)
    if node.metric == "chebyshev":
        return b.op("ReduceMax", [magnitude, _axes(b, 2)], "knn_key", keepdims=0)
    powered = b.op("Pow", [magnitude, b.const("knn_p", np.array(node.p))], "knn_powered")
    return b.op("ReduceSum", [powered, _axes(b, 2)], "knn_key", keepdims=0)


def _distance(b: GraphBuilder, key: str, node: ir.NearestNeighbors) -> str:
    """rdist_to_dist: sqrt for euclidean, key ** (1 / p) for minkowski, the key itself otherwise."""
    if node.metric == "euclidean":
        return b.op("Sqrt", [key], "knn_distance")
    if node.metric == "minkowski":
        return b.op("Pow", [key, b.const("knn_inverse_p", np.array(1.0 / node.p))], "knn_distance")
    return key


def _weights(b: GraphBuilder, distance: str) -> str:
    """`_get_weights(dist, 'distance')`: w = 1 / dist; rows where some w is infinite get w = isinf(w) as 1.0/0.0."""
    inverse = b.op("Div", [b.const("one", np.array([[1.0]])), distance], "knn_inverse_distance")
    infinite = b.op("Cast", [b.op("IsInf", [inverse], "knn_is_inf")], "knn_inf_weight", to=onnx.TensorProto.DOUBLE)
    any_infinite = b.op("ReduceMax", [infinite, _axes(b, 1)], "knn_any_inf", keepdims=1)
    zero_rule = b.op("Greater", [any_infinite, b.const("zero", np.array([[0.0]]))], "knn_zero_distance_row")
    return b.op("Where", [zero_rule, infinite, inverse], "knn_weights")


def emit_nearest_neighbors(b: GraphBuilder, x: str, node: ir.NearestNeighbors) -> tuple[str, int]:
    key = _ranking_key(b, x, node)
    _, nearest = b.op_outputs("TopK", [key, b.const("knn_k", np.array([node.k], dtype=np.int64))],
                              ["knn_keys", "knn_indices"], axis=1, largest=0, sorted=1)
    weights = None
    if node.weights == "distance":
        nearest_key = b.op("GatherElements", [key, nearest], "knn_nearest_key", axis=1)  # the TopK values, exactly
        weights = _weights(b, _distance(b, nearest_key, node))  # [N, k]
    if node.targets is not None:  # regression: [N, k, T] targets of the neighbours
        targets = b.op("Gather", [b.const("knn_targets", node.targets), nearest], "knn_neighbour_targets", axis=0)
        if weights is None:  # np.mean: the sum in neighbour order, divided by k
            total = b.op("ReduceSum", [targets, _axes(b, 1)], "knn_target_sum", keepdims=0)
            return b.op("Div", [total, b.const("knn_count", np.array([[float(node.k)]]))], "knn_mean"), node.n_scores
        weighted = b.op("Mul", [targets, b.op("Unsqueeze", [weights, _axes(b, 2)], "knn_weights_3d")],
                        "knn_weighted_targets")
        numerator = b.op("ReduceSum", [weighted, _axes(b, 1)], "knn_numerator", keepdims=0)
        denominator = b.op("ReduceSum", [weights, _axes(b, 1)], "knn_denominator", keepdims=1)
        return b.op("Div", [numerator, denominator], "knn_weighted_mean"), node.n_scores
    # classification: proba[c] += w_i for each neighbour i of class c, then / the row's total (predict_proba)
    classes = b.op("Gather", [b.const("knn_sample_class", node.sample_class), nearest], "knn_classes", axis=0)
    one_hot = b.op("Equal", [b.op("Unsqueeze", [classes, _axes(b, 2)], "knn_classes_3d"),
                             b.const("knn_class_ids", np.arange(node.n_classes, dtype=np.int64).reshape(1, 1, -1))],
                   "knn_class_hits")
    votes = b.op("Cast", [one_hot], "knn_votes", to=onnx.TensorProto.DOUBLE)  # [N, k, K]
    if weights is not None:
        votes = b.op("Mul", [votes, b.op("Unsqueeze", [weights, _axes(b, 2)], "knn_weights_3d")], "knn_weighted")
    per_class = b.op("ReduceSum", [votes, _axes(b, 1)], "knn_class_votes", keepdims=0)  # [N, K]
    total = b.op("ReduceSum", [per_class, _axes(b, 1)], "knn_vote_total", keepdims=1)
    return b.op("Div", [per_class, total], "knn_proba"), node.n_classes
