"""Core ML reference evaluator for `supportVectorRegressor` / `supportVectorClassifier` (SVM.proto, §1.4).

Semantics are libsvm's, because coremltools' converters copy libsvm's internal arrays:
* kernels: linear x.x', rbf exp(-gamma |x-x'|^2) (squared differences summed directly, as libsvm's k_function
  does at prediction), poly (gamma x.x' + c)^degree, sigmoid tanh(gamma x.x' + c);
* SVR: y = sum_i alpha_i K(sv_i, x) - rho;
* SVC with K classes (support vectors grouped by class, `numberOfSupportVectorsPerClass`): for the pair (i < j)
  with index p in the order (0,1),(0,2)..(0,K-1),(1,2)..: f_p = sum_{s in i} coef[j-1][s] K_s + sum_{s in j}
  coef[i][s] K_s - rho[p]; i gets the vote iff f_p > 0; label = most votes, ties -> lowest class index (libsvm);
* probabilities (only with probA/probB): r_ij = clip(1/(1+exp(f_p probA[p] + probB[p])), 1e-7, 1-1e-7); K == 2 ->
  (r_01, 1-r_01); K > 2 -> libsvm `multiclass_probability` (Wu, Lin & Weng method 2), ported below and run for all
  rows at once.
Undocumented, our choice: when probabilities exist the label is still the one-vs-one vote winner (sklearn's
`predict`), not libsvm's argmax-probability. A sparse support vector index beyond the input width is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from parity.coreml_reference.classifier_outputs import classifier_outputs, label_array
from parity.coreml_reference.feature_columns import Column, slot_count, vectorize_features
from parity.coreml_reference.validation import class_label_values, fail

_KERNEL_ELEMENTS_PER_BLOCK = 1 << 22  # rows x supportVectors x features per block of the rbf difference tensor
_MIN_PROBABILITY = 1e-7  # libsvm svm_predict_probability's min_prob
SUPPORTED_KERNELS = "linearKernel, rbfKernel, polyKernel, sigmoidKernel"


def support_vector_matrix(model_type: str, params: Any, n_features: int) -> np.ndarray:
    """Dense (nSV, F) support vectors from denseSupportVectors or 1-based sparseSupportVectors."""
    storage = params.WhichOneof("supportVectors")
    if storage == "denseSupportVectors":
        vectors = [list(v.values) for v in params.denseSupportVectors.vectors]
        if any(len(v) != n_features for v in vectors):
            raise fail(model_type, f"denseSupportVectors rows must have {n_features} values (the input width)")
        return np.array(vectors, dtype=np.float64).reshape(len(vectors), n_features)
    if storage == "sparseSupportVectors":
        sparse = params.sparseSupportVectors.vectors
        dense = np.zeros((len(sparse), n_features), dtype=np.float64)
        for row, vector in enumerate(sparse):
            for node in vector.nodes:
                if not 1 <= node.index <= n_features:  # SparseNode.index is 1-based like libsvm
                    raise fail(model_type, f"sparseSupportVectors[{row}] has index {node.index}; must be in "
                                           f"1..{n_features}")
                dense[row, node.index - 1] = node.value
        return dense
    raise fail(model_type, "no support vectors set (denseSupportVectors or sparseSupportVectors is required)")


def kernel_function(model_type: str, params: Any) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """K(x, sv) for all pairs: (n, F) x (m, F) -> (n, m)."""
    kernel = params.kernel
    which = kernel.WhichOneof("kernel")
    if which == "linearKernel":
        return lambda x, sv: x @ sv.T
    if which == "rbfKernel":
        gamma = kernel.rbfKernel.gamma
        if not gamma >= 0:
            raise fail(model_type, f"rbfKernel.gamma {gamma} must be >= 0")

        def rbf(x: np.ndarray, sv: np.ndarray) -> np.ndarray:
            out = np.empty((x.shape[0], sv.shape[0]))
            block = max(1, _KERNEL_ELEMENTS_PER_BLOCK // max(1, sv.size))
            for start in range(0, x.shape[0], block):
                difference = x[start : start + block, None, :] - sv[None, :, :]
                out[start : start + block] = np.exp(-gamma * np.einsum("nmf,nmf->nm", difference, difference))
            return out

        return rbf
    if which == "polyKernel":
        gamma, coef0, degree = kernel.polyKernel.gamma, kernel.polyKernel.c, kernel.polyKernel.degree
        if not gamma >= 0 or degree < 0:
            raise fail(model_type, f"polyKernel gamma {gamma} and degree {degree} must be >= 0")
        return lambda x, sv: (gamma * (x @ sv.T) + coef0) ** degree
    if which == "sigmoidKernel":
        gamma, coef0 = kernel.sigmoidKernel.gamma, kernel.sigmoidKernel.c
        if not gamma >= 0:
            raise fail(model_type, f"sigmoidKernel.gamma {gamma} must be >= 0")
        return lambda x, sv: np.tanh(gamma * (x @ sv.T) + coef0)
    raise fail(model_type, f"kernel is not set; supported: {SUPPORTED_KERNELS}")


def kernel_products(kernel: Callable[[np.ndarray, np.ndarray], np.ndarray], x: np.ndarray, vectors: np.ndarray,
                    terms: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Column p = sum over terms[p] = (support-vector indices, coefficients) of coef * K(x, sv), added one term after
    another in the given order, computed in row blocks so the (rows x support vectors) matrix stays bounded.

    Core ML's SVMs are libsvm's (the spec carries libsvm's own arrays); libsvm's svm_predict_values adds the terms
    sequentially (class i's support vectors, then class j's). A BLAS product adds them in another order, and where
    the terms nearly cancel (inputs like 1e30 after scaling) the sign of the sum — the vote — can differ; np.cumsum
    is sequential, so the last cumulative sum reproduces libsvm's rounding."""
    out = np.empty((x.shape[0], len(terms)))
    block = max(1, _KERNEL_ELEMENTS_PER_BLOCK // max(1, vectors.shape[0]))
    for start in range(0, x.shape[0], block):
        values = kernel(x[start : start + block], vectors)
        for column, (indices, coefficients) in enumerate(terms):
            if indices.size:
                out[start : start + block, column] = np.cumsum(values[:, indices] * coefficients, axis=1)[:, -1]
            else:
                out[start : start + block, column] = 0.0
    return out


def _input_width(spec: Any) -> int:
    return sum(slot_count(feature) for feature in spec.description.input)


def build_support_vector_regressor(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Evaluator for `supportVectorRegressor`: sum alpha_i K(sv_i, x) - rho."""
    model_type = "supportVectorRegressor"
    params = spec.supportVectorRegressor
    kernel = kernel_function(model_type, params)
    vectors = support_vector_matrix(model_type, params, _input_width(spec))
    alpha = np.array(params.coefficients.alpha, dtype=np.float64)
    if alpha.shape[0] != vectors.shape[0]:
        raise fail(model_type, f"coefficients.alpha has {alpha.shape[0]} values for {vectors.shape[0]} support "
                               f"vectors")
    rho = float(params.rho)
    description = spec.description

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        x = vectorize_features(description.input, env)
        all_terms = [(np.arange(vectors.shape[0]), alpha)]
        return {description.predictedFeatureName: kernel_products(kernel, x, vectors, all_terms)[:, 0] - rho}

    return evaluate


def pair_indices(n_classes: int) -> list[tuple[int, int]]:
    """libsvm's one-vs-one pair order (0,1),(0,2)..(0,K-1),(1,2)..."""
    return [(i, j) for i in range(n_classes) for j in range(i + 1, n_classes)]


def multiclass_probability(pairwise: np.ndarray) -> np.ndarray:
    """libsvm multiclass_probability for all rows: pairwise (n, K, K) with r[i, j] = P(i | i or j) -> (n, K)."""
    n_rows, k, _ = pairwise.shape
    max_iter = max(100, k)
    eps = 0.005 / k
    # Q[t][t] = sum_{j != t} r[j][t]^2 ; Q[t][j] = -r[j][t] r[t][j]
    transposed = np.transpose(pairwise, (0, 2, 1))  # transposed[:, t, j] = r[j][t]
    q = -transposed * pairwise
    diagonal = np.einsum("ntj,ntj->nt", transposed, transposed) - np.einsum("ntt->nt", transposed) ** 2
    index = np.arange(k)
    q[:, index, index] = diagonal
    p = np.full((n_rows, k), 1.0 / k)
    active = np.ones(n_rows, dtype=bool)
    for _ in range(max_iter):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        q_active, p_active = q[rows], p[rows]
        qp = np.einsum("ntj,nj->nt", q_active, p_active)
        pqp = np.einsum("nt,nt->n", p_active, qp)
        converged = np.max(np.abs(qp - pqp[:, None]), axis=1) < eps
        active[rows[converged]] = False
        rows, q_active, p_active = rows[~converged], q_active[~converged], p_active[~converged]
        qp, pqp = qp[~converged], pqp[~converged]
        # One Gauss-Seidel sweep over the classes, exactly in libsvm's order and arithmetic.
        for t in range(k):
            q_tt = q_active[:, t, t]
            diff = (-qp[:, t] + pqp) / q_tt
            p_active[:, t] += diff
            pqp = (pqp + diff * (diff * q_tt + 2 * qp[:, t])) / (1 + diff) / (1 + diff)
            qp = (qp + diff[:, None] * q_active[:, t, :]) / (1 + diff)[:, None]
            p_active /= (1 + diff)[:, None]
        p[rows] = p_active
    return p


def _pair_terms(coefficients: np.ndarray, counts: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per pair p = (i, j), libsvm's terms in its order: class i's SVs weighted by coef[j-1], then class j's SVs
    weighted by coef[i] (f_p = that sum - rho[p])."""
    starts = np.concatenate([[0], np.cumsum(counts)])
    terms = []
    for i, j in pair_indices(len(counts)):
        first, second = np.arange(starts[i], starts[i + 1]), np.arange(starts[j], starts[j + 1])
        terms.append((np.concatenate([first, second]),
                      np.concatenate([coefficients[j - 1, first], coefficients[i, second]])))
    return terms


def build_support_vector_classifier(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Evaluator for `supportVectorClassifier`: one-vs-one votes, optional libsvm probabilities."""
    model_type = "supportVectorClassifier"
    params = spec.supportVectorClassifier
    labels = label_array(class_label_values(model_type, params) or [])
    n_classes = len(labels)
    if n_classes < 2:
        raise fail(model_type, f"{n_classes} class label(s); a classifier needs at least 2")
    kernel = kernel_function(model_type, params)
    vectors = support_vector_matrix(model_type, params, _input_width(spec))
    counts = np.array(params.numberOfSupportVectorsPerClass, dtype=np.int64)
    if counts.shape[0] != n_classes or (counts < 0).any() or counts.sum() != vectors.shape[0]:
        raise fail(model_type, f"numberOfSupportVectorsPerClass {counts.tolist()} must have {n_classes} non-negative "
                               f"entries summing to the {vectors.shape[0]} support vectors")
    if len(params.coefficients) != n_classes - 1:
        raise fail(model_type, f"coefficients has {len(params.coefficients)} rows; {n_classes} classes need "
                               f"{n_classes - 1}")
    if any(len(row.alpha) != vectors.shape[0] for row in params.coefficients):
        raise fail(model_type, f"every coefficients row needs {vectors.shape[0]} alpha values (one per support vector)")
    coefficients = np.array([list(row.alpha) for row in params.coefficients], dtype=np.float64)
    coefficients = coefficients.reshape(n_classes - 1, vectors.shape[0])
    pairs = pair_indices(n_classes)
    rho = np.array(params.rho, dtype=np.float64)
    if rho.shape[0] != len(pairs):
        raise fail(model_type, f"rho has {rho.shape[0]} values; {n_classes} classes need {len(pairs)}")
    prob_a, prob_b = np.array(params.probA, dtype=np.float64), np.array(params.probB, dtype=np.float64)
    has_probabilities = prob_a.size > 0 or prob_b.size > 0
    if has_probabilities and (prob_a.size != len(pairs) or prob_b.size != len(pairs)):
        raise fail(model_type, f"probA/probB have {prob_a.size}/{prob_b.size} values; both must have {len(pairs)}")
    pair_terms = _pair_terms(coefficients, counts)
    first = np.array([i for i, _ in pairs])
    second = np.array([j for _, j in pairs])
    description = spec.description

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        x = vectorize_features(description.input, env)
        decision = kernel_products(kernel, x, vectors, pair_terms) - rho  # (n, P)
        votes = np.zeros((x.shape[0], n_classes), dtype=np.int64)
        first_wins = decision > 0
        np.add.at(votes, (np.arange(x.shape[0])[:, None], np.where(first_wins, first, second)), 1)
        winner = np.argmax(votes, axis=1)  # first maximum = lowest class index, as libsvm
        probabilities = None
        if has_probabilities:
            exponent = decision * prob_a + prob_b
            # libsvm sigmoid_predict, written to avoid overflow for either sign of the exponent.
            positive = np.exp(-np.abs(exponent))
            pairwise = np.where(exponent >= 0, positive / (1.0 + positive), 1.0 / (1.0 + positive))
            pairwise = np.clip(pairwise, _MIN_PROBABILITY, 1 - _MIN_PROBABILITY)
            if n_classes == 2:
                probabilities = np.column_stack([pairwise[:, 0], 1.0 - pairwise[:, 0]])
            else:
                matrix = np.zeros((x.shape[0], n_classes, n_classes))
                matrix[:, first, second] = pairwise
                matrix[:, second, first] = 1.0 - pairwise
                probabilities = multiclass_probability(matrix)
        return classifier_outputs(model_type, description, labels, winner, probabilities)

    return evaluate
