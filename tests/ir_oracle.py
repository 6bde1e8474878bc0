"""Test oracle: a small, independent numpy evaluator of non-tree IR nodes, written from the ir.py docstrings (and
libsvm's svm.cpp for probability coupling) — never from the converters. Tests compare it with scikit-learn."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from export import ir


@dataclass
class Evaluation:
    """What a node produces for a batch: `transformed` for transforms; `prediction` (n, T) for regressors;
    `scores` (raw), `label` and `proba` (None without probabilities) for classifiers; `ties` marks rows whose
    label depends on a tie in the reference rule (excluded from exact label checks, counted by the tests)."""

    transformed: np.ndarray | None = None
    prediction: np.ndarray | None = None
    scores: np.ndarray | None = None
    label: np.ndarray | None = None
    proba: np.ndarray | None = None
    ties: np.ndarray | None = None


def transform(node: ir.Node, X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if isinstance(node, ir.Scaler):
        shifted = X - node.offset
        scaled = shifted / node.scale if node.divide else shifted * node.scale
        biased = scaled if node.bias is None else scaled + node.bias
        return biased if node.clip is None else np.clip(biased, *node.clip)
    if isinstance(node, ir.Normalizer):
        if node.norm == "l1":
            norms = np.abs(X).sum(axis=1)
        elif node.norm == "l2":
            norms = np.sqrt((X * X).sum(axis=1))
        else:
            norms = np.abs(X).max(axis=1)
        norms = np.where(norms == 0, 1.0, norms)
        return X / norms[:, None]
    if isinstance(node, ir.Imputer):
        missing = np.isnan(X) if np.isnan(node.missing_value) else np.equal(X, node.missing_value)
        return np.where(missing, node.fill[None, :], X)
    if isinstance(node, ir.OneHotEncoder):
        blocks = [(X[:, [j]] == cats.astype(np.float64)[None, :]).astype(np.float64)
                  for j, cats in enumerate(node.categories)]
        return np.hstack(blocks)
    if isinstance(node, ir.Bins | ir.MissingIndicator | ir.Monomials | ir.UnaryFunction):
        return _feature_map(node, X)
    if isinstance(node, ir.Linear):
        return X @ node.weights.T + node.bias
    if isinstance(node, ir.ColumnSelect):
        assert X.shape[1] == node.n_features
        return X[:, node.indices]
    if isinstance(node, ir.Concat):
        return np.hstack([transform(part, X) for part in node.parts])
    if isinstance(node, ir.Pipeline):
        for step in node.steps:
            X = transform(step, X)
        return X
    raise TypeError(f"oracle: {type(node).__name__} is not a transform")


def _feature_map(node: ir.Bins | ir.MissingIndicator | ir.Monomials | ir.UnaryFunction, X: np.ndarray) -> np.ndarray:
    if isinstance(node, ir.UnaryFunction):  # the numpy ufunc of that name
        with np.errstate(all="ignore"):
            return getattr(np, node.function)(X)
    if isinstance(node, ir.Bins):  # count of edges <= x, per feature
        return np.column_stack([(X[:, [j]] >= e[None, :]).sum(axis=1) for j, e in enumerate(node.edges)]
                               ).astype(np.float64)
    if isinstance(node, ir.MissingIndicator):
        selected = X[:, node.features]
        missing = np.isnan(selected) if np.isnan(node.missing_value) else selected == node.missing_value
        return missing.astype(np.float64)
    if isinstance(node, ir.Monomials):
        terms: list[np.ndarray] = []
        for factor, rest in zip(node.factor.tolist(), node.rest.tolist(), strict=True):
            if factor < 0:
                terms.append(np.ones(len(X)))
            else:
                terms.append(X[:, factor] if rest < 0 else terms[rest] * X[:, factor])
        return np.column_stack([terms[k] for k in node.outputs.tolist()])
    raise TypeError(f"oracle: {type(node).__name__} is not a feature map")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _apply_link(task: ir.Classification, scores: np.ndarray) -> Evaluation:
    labels = task.labels
    if scores.ndim == 1:
        scores = scores[:, None]
    if scores.shape[1] == 1:
        z = scores[:, 0]
        label = np.where(z > 0, labels[1], labels[0])
        ties = z == 0
        proba = None
        if task.link == "logistic":
            p = _sigmoid(z)
            proba = np.column_stack([1 - p, p])
        elif task.link != "none":
            raise AssertionError(f"oracle: link {task.link} with one score column")
        return Evaluation(scores=scores, label=label, proba=proba, ties=ties)
    ordered = np.sort(scores, axis=1)
    ties = ordered[:, -1] == ordered[:, -2]
    label = labels[np.argmax(scores, axis=1)]
    if task.link == "softmax":
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        proba = e / e.sum(axis=1, keepdims=True)
    elif task.link == "ovr_logistic":
        p = _sigmoid(scores)
        proba = p / p.sum(axis=1, keepdims=True)
    elif task.link == "none":
        proba = None
    else:
        raise AssertionError(f"oracle: link {task.link} with {scores.shape[1]} score columns")
    return Evaluation(scores=scores, label=label, proba=proba, ties=ties)


def _finish(task: ir.Head, scores: np.ndarray) -> Evaluation:
    if isinstance(task, ir.Regression):
        assert task.link == "identity", "oracle: regression links other than identity are not evaluated here"
        return Evaluation(prediction=scores.reshape(len(scores), task.n_targets))
    assert isinstance(task, ir.Classification)
    return _apply_link(task, scores)


_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda a: a,
    "relu": lambda a: np.maximum(a, 0.0),
    "tanh": np.tanh,
    "logistic": _sigmoid,
}


def _kernel(svm: ir.SupportVectorMachine, X: np.ndarray) -> np.ndarray:
    sv = svm.support_vectors
    if svm.kernel == "linear":
        return X @ sv.T
    if svm.kernel == "rbf":
        # squared distances from differences (like libsvm's dense k_function), in row chunks to bound memory
        sq = np.vstack([((X[s:s + 32, None, :] - sv[None, :, :]) ** 2).sum(axis=2) for s in range(0, len(X), 32)])
        return np.exp(-svm.gamma * sq)
    if svm.kernel == "poly":
        return (svm.gamma * (X @ sv.T) + svm.coef0) ** svm.degree
    return np.tanh(svm.gamma * (X @ sv.T) + svm.coef0)


def _pairwise_coupling(r: np.ndarray) -> np.ndarray:
    """libsvm multiclass_probability (Wu, Lin, Weng 2004, method 2), for all rows at once; r is (n, K, K) with
    r[:, i, j] = P(i | i or j). Each row stops at its own iteration, exactly like the per-row C loop."""
    n, k, _ = r.shape
    Q = -r.transpose(0, 2, 1) * r  # Q[t][j] = -r[j][t] * r[t][j]
    diag = (r.transpose(0, 2, 1) ** 2).sum(axis=2) - np.einsum("nii->ni", r) ** 2  # sum_{j != t} r[j][t]^2
    idx = np.arange(k)
    Q[:, idx, idx] = diag
    p = np.full((n, k), 1.0 / k)
    eps = 0.005 / k
    active = np.ones(n, dtype=bool)
    for _ in range(max(100, k)):
        Qp = np.einsum("ntj,nj->nt", Q, p)
        pQp = (p * Qp).sum(axis=1)
        max_error = np.abs(Qp - pQp[:, None]).max(axis=1)
        active &= ~(max_error < eps)
        if not active.any():
            break
        rows = np.flatnonzero(active)
        Qa, pa, Qpa, pQpa = Q[rows], p[rows], Qp[rows], pQp[rows]
        for t in range(k):
            diff = (-Qpa[:, t] + pQpa) / Qa[:, t, t]
            pa[:, t] += diff
            pQpa = (pQpa + diff * (diff * Qa[:, t, t] + 2 * Qpa[:, t])) / (1 + diff) / (1 + diff)
            Qpa = (Qpa + diff[:, None] * Qa[:, t, :]) / (1 + diff[:, None])
            pa = pa / (1 + diff[:, None])
        p[rows] = pa
    return p


def _svm_classify(svm: ir.SupportVectorMachine, task: ir.Classification, kernel: np.ndarray) -> Evaluation:
    k = task.n_classes
    starts = np.concatenate([[0], np.cumsum(svm.n_support)])
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    decision = np.empty((kernel.shape[0], len(pairs)))
    for p, (i, j) in enumerate(pairs):
        si, sj = slice(starts[i], starts[i + 1]), slice(starts[j], starts[j + 1])
        decision[:, p] = (kernel[:, si] @ svm.dual_coef[j - 1, si] + kernel[:, sj] @ svm.dual_coef[i, sj]
                          - svm.rho[p])
    votes = np.zeros((kernel.shape[0], k), dtype=np.int64)
    for p, (i, j) in enumerate(pairs):
        votes[:, i] += decision[:, p] > 0
        votes[:, j] += ~(decision[:, p] > 0)
    ordered = np.sort(votes, axis=1)
    ties = (ordered[:, -1] == ordered[:, -2]) | np.any(decision == 0, axis=1)
    label = task.labels[np.argmax(votes, axis=1)]
    proba = None
    if svm.prob_a.size:
        r = np.zeros((kernel.shape[0], k, k))
        for p, (i, j) in enumerate(pairs):
            f_ab = decision[:, p] * svm.prob_a[p] + svm.prob_b[p]
            pij = np.clip(1.0 / (1.0 + np.exp(f_ab)), 1e-7, 1 - 1e-7)
            r[:, i, j], r[:, j, i] = pij, 1 - pij
        proba = _pairwise_coupling(r)
    return Evaluation(scores=decision, label=label, proba=proba, ties=ties)


def _nearest_neighbours(node: ir.NearestNeighbors, task: ir.Classification, X: np.ndarray) -> Evaluation:
    n_classes = node.n_classes
    labels, ties = [], []
    for start in range(0, X.shape[0], 64):  # chunks bound the (rows, samples, features) difference array
        chunk = X[start:start + 64]
        d2 = ((chunk[:, None, :] - node.samples[None, :, :]) ** 2).sum(axis=2)
        order = np.argsort(d2, axis=1, kind="stable")
        nearest = order[:, : node.k]
        votes = np.zeros((chunk.shape[0], n_classes), dtype=np.int64)
        np.add.at(votes, (np.repeat(np.arange(chunk.shape[0]), node.k), node.sample_class[nearest].ravel()), 1)
        sorted_d = np.take_along_axis(d2, order, axis=1)
        boundary_tie = (sorted_d[:, node.k - 1] == sorted_d[:, node.k]) if node.k < d2.shape[1] else \
            np.zeros(chunk.shape[0], dtype=bool)
        ordered_votes = np.sort(votes, axis=1)
        ties.append(boundary_tie | (ordered_votes[:, -1] == ordered_votes[:, -2]))
        labels.append(task.labels[np.argmax(votes, axis=1)])
    return Evaluation(label=np.concatenate(labels), ties=np.concatenate(ties))


def evaluate(model: ir.Model, X: np.ndarray) -> Evaluation:
    """What `model` (one step reading its whole input, as front-ends build) gives for the rows X."""
    assert len(model.body) == 1, "oracle: one-step models only"
    return evaluate_node(model.body[0].node, model.head, X)


def evaluate_node(node: ir.Node, head: ir.Head, X: np.ndarray) -> Evaluation:
    X = np.asarray(X, dtype=np.float64)
    if isinstance(head, ir.Transformed):
        return Evaluation(transformed=transform(node, X))
    if isinstance(node, ir.Pipeline):
        for step in node.steps[:-1]:
            X = transform(step, X)
        return evaluate_node(node.final, head, X)
    if isinstance(node, ir.LinearModel):
        return _finish(head, X @ node.coef.T + node.intercept)
    if isinstance(node, ir.NeuralNetwork):
        a = X
        for layer in node.layers:
            a = _ACTIVATIONS[layer.activation](a @ layer.weights.T + layer.bias)
        return _finish(head, a)
    if isinstance(node, ir.SupportVectorMachine):
        kernel = _kernel(node, X)
        if isinstance(head, ir.Regression):
            return Evaluation(prediction=(kernel @ node.dual_coef[0] - node.rho[0])[:, None])
        assert isinstance(head, ir.Classification)
        return _svm_classify(node, head, kernel)
    if isinstance(node, ir.NearestNeighbors):
        assert isinstance(head, ir.Classification)
        return _nearest_neighbours(node, head, X)
    raise TypeError(f"oracle: {type(node).__name__} is not evaluated here (trees have their own oracle)")


def assert_labels(evaluation: Evaluation, expected: np.ndarray) -> int:
    """Labels must equal scikit-learn's on every row except rows the oracle marks as reference ties; returns the
    number of tie rows (tests bound it)."""
    assert evaluation.label is not None and evaluation.ties is not None
    expected = np.asarray(expected)
    got = evaluation.label
    if expected.dtype.kind == "f" and got.dtype.kind in "iu":
        got = got.astype(np.float64)
    mismatch = (got != expected) & ~evaluation.ties
    rows = np.flatnonzero(mismatch)
    assert not mismatch.any(), f"{rows.size} label mismatches outside ties, rows {rows[:10]}"
    return int(evaluation.ties.sum())
