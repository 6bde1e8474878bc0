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


def _radius_key(node: ir.NearestNeighbors) -> float:
    """`DistanceMetric._dist_to_rdist(radius)`: the radius in ranking-key units, computed as scikit-learn does."""
    assert node.radius is not None
    if node.metric == "euclidean":
        return node.radius * node.radius
    if node.metric == "minkowski":
        return float(node.radius**node.p)
    return node.radius


def _emit_radius_neighbors(b: GraphBuilder, x: str, node: ir.NearestNeighbors) -> tuple[str, int]:
    """Every sample with key <= the radius key: weights 1 (uniform) or 1/dist with the exact-zero rule, 0 outside;
    weighted target mean (NaN for an empty row: 0/0) or vote fractions (an empty row: the outlier class)."""
    key = _ranking_key(b, x, node)  # [N, M]
    inside = b.op("LessOrEqual", [key, b.const("radius_key", np.array([[_radius_key(node)]]))], "rnn_inside")
    member = b.op("Cast", [inside], "rnn_member", to=onnx.TensorProto.DOUBLE)
    weights = member
    if node.weights == "distance":
        zero = b.const("zero", np.array([[0.0]]))
        distance = _distance(b, key, node)
        inverse = b.op("Div", [b.const("one", np.array([[1.0]])), distance], "rnn_inverse_distance")
        at_zero = b.op("Cast", [b.op("And", [inside, b.op("Equal", [distance, zero], "rnn_is_zero")],
                                     "rnn_zero_member")], "rnn_zero_weight", to=onnx.TensorProto.DOUBLE)
        rule = b.op("Greater", [b.op("ReduceMax", [at_zero, _axes(b, 1)], "rnn_any_zero", keepdims=1), zero],
                    "rnn_zero_distance_row")
        weights = b.op("Where", [rule, at_zero, b.op("Where", [inside, inverse, zero], "rnn_inverse_inside")],
                       "rnn_weights")
    if node.targets is not None:
        numerator = b.op("MatMul", [weights, b.const("rnn_targets", node.targets)], "rnn_numerator")
        denominator = b.op("ReduceSum", [weights, _axes(b, 1)], "rnn_denominator", keepdims=1)
        return b.op("Div", [numerator, denominator], "rnn_weighted_mean"), node.n_scores
    # bincount(classes, weights): each weight goes to its own class only (a product with a one-hot matrix would
    # turn an infinite weight into NaN in the other classes)
    zero = b.const("zero", np.array([[0.0]]))
    of_class = b.const("rnn_class_mask", (np.arange(node.n_classes)[None, :] == node.sample_class[:, None])[None])
    spread = b.op("Where", [of_class, b.op("Unsqueeze", [weights, _axes(b, 2)], "rnn_weights_3d"), zero],
                  "rnn_class_weights")  # [N, M, K]
    votes = b.op("ReduceSum", [spread, _axes(b, 1)], "rnn_votes", keepdims=0)
    total = b.op("ReduceSum", [votes, _axes(b, 1)], "rnn_vote_total", keepdims=1)
    empty = b.op("Equal", [total, zero], "rnn_empty")
    proba = b.op("Div", [votes, b.op("Where", [empty, b.const("one", np.array([[1.0]])), total], "rnn_normalizer")],
                 "rnn_fractions")
    outlier = b.const("rnn_outlier_row", np.eye(node.n_classes)[node.outlier_class].reshape(1, -1))
    return b.op("Where", [empty, outlier, proba], "rnn_proba"), node.n_classes


def emit_nearest_neighbors(b: GraphBuilder, x: str, node: ir.NearestNeighbors) -> tuple[str, int]:
    if node.radius is not None:
        return _emit_radius_neighbors(b, x, node)
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
