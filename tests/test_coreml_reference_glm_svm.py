"""Hand-computed checks of the Core ML reference evaluator on GLM and SVM specs (plus sklearn as independent truth)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from coreml_spec_parts import add_array_input, add_classifier_outputs

from parity.coreml_reference import class_labels, predict
from parity.coreml_reference.spec_loading import Model_pb2
from parity.coreml_reference.svm import multiclass_probability
from parity.errors import CoreMLSpecError


def sigma(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def describe(spec: Model_pb2.Model, n_features: int, labels: list | None) -> None:
    """One MultiArray input 'x'; a classifier gets label + probability outputs, a regressor a Double 'y'."""
    spec.specificationVersion = 1
    add_array_input(spec, "x", n_features)
    if labels is None:
        output = spec.description.output.add()
        output.name = "y"
        output.type.doubleType.SetInParent()
        spec.description.predictedFeatureName = "y"
        return
    add_classifier_outputs(spec, string_labels=isinstance(labels[0], str))


def set_labels(params: object, labels: list) -> None:
    target = params.stringClassLabels if isinstance(labels[0], str) else params.int64ClassLabels  # type: ignore[attr-defined]
    target.vector.extend(labels)


# ---------------------------------------------------------------------------------------------------------------
# GLM


def glm_regressor(weights: list[float], offset: float, transform: int = 0) -> Model_pb2.Model:
    spec = Model_pb2.Model()
    describe(spec, len(weights), None)
    spec.glmRegressor.weights.add().value.extend(weights)
    spec.glmRegressor.offset.append(offset)
    spec.glmRegressor.postEvaluationTransform = transform
    return spec


def glm_classifier(rows: list[list[float]], offsets: list[float], labels: list, encoding: int = 1,
                   transform: int = 0) -> Model_pb2.Model:
    spec = Model_pb2.Model()
    describe(spec, len(rows[0]), labels)
    params = spec.glmClassifier
    for row in rows:
        params.weights.add().value.extend(row)
    params.offset.extend(offsets)
    params.classEncoding = encoding
    params.postEvaluationTransform = transform
    set_labels(params, labels)
    return spec


def test_glm_regressor_is_weights_dot_x_plus_offset() -> None:
    x = np.array([[1.0, 2.0], [3.0, 0.0]])
    np.testing.assert_allclose(predict(glm_regressor([2.0, -1.0], 0.5), x)["y"], [0.5, 6.5])
    logit = predict(glm_regressor([2.0, -1.0], 0.5, transform=1), x)["y"]
    np.testing.assert_allclose(logit, sigma(np.array([0.5, 6.5])))


def test_glm_classifier_one_vs_rest_binary_uses_one_row_for_second_label() -> None:
    spec = glm_classifier([[1.0, 1.0]], [-1.0], ["no", "yes"])
    x = np.array([[0.0, 0.0], [2.0, 1.0]])
    z = np.array([-1.0, 2.0])
    out = predict(spec, x)
    np.testing.assert_allclose(out["probs"], np.column_stack([1 - sigma(z), sigma(z)]), rtol=1e-15)
    assert out["label"].tolist() == ["no", "yes"]


def test_glm_classifier_one_vs_rest_multiclass_is_sigmoid_then_l1_normalised() -> None:
    rows = [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]
    offsets = [0.0, 0.5, 0.25]
    spec = glm_classifier(rows, offsets, [5, 6, 7])
    x = np.array([[1.0, 2.0], [-3.0, 0.5]])
    z = x @ np.array(rows).T + offsets
    expected = sigma(z) / sigma(z).sum(axis=1, keepdims=True)
    out = predict(spec, x)
    np.testing.assert_allclose(out["probs"], expected, rtol=1e-14)
    np.testing.assert_array_equal(out["label"], np.array([5, 6, 7])[expected.argmax(axis=1)])
    assert class_labels(spec) == [5, 6, 7]


def test_glm_classifier_rejects_reference_class_and_wrong_row_counts() -> None:
    with pytest.raises(CoreMLSpecError, match="ReferenceClass"):
        predict(glm_classifier([[1.0], [2.0]], [0.0, 0.0], [0, 1, 2], encoding=0), np.zeros((1, 1)))
    with pytest.raises(CoreMLSpecError, match="needs 1 weight row"):
        predict(glm_classifier([[1.0], [2.0]], [0.0, 0.0], [0, 1]), np.zeros((1, 1)))
    with pytest.raises(CoreMLSpecError, match="offset"):
        predict(glm_classifier([[1.0]], [0.0, 1.0], [0, 1]), np.zeros((1, 1)))
    with pytest.raises(CoreMLSpecError, match="Probit"):
        predict(glm_classifier([[1.0]] * 3, [0.0] * 3, [0, 1, 2], transform=1), np.zeros((1, 1)))


def test_glm_matches_sklearn_binary_logistic_regression() -> None:
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(n_samples=200, n_features=4, random_state=0)
    model = LogisticRegression().fit(x, y)
    spec = glm_classifier([model.coef_[0].tolist()], [float(model.intercept_[0])], [0, 1])
    out = predict(spec, x)
    np.testing.assert_allclose(out["probs"], model.predict_proba(x), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(out["label"], model.predict(x))


# ---------------------------------------------------------------------------------------------------------------
# SVM


def set_kernel(params: object, kernel: str, gamma: float = 0.5, coef0: float = 1.0, degree: int = 2) -> None:
    k = params.kernel  # type: ignore[attr-defined]
    if kernel == "linear":
        k.linearKernel.SetInParent()
    elif kernel == "rbf":
        k.rbfKernel.gamma = gamma
    elif kernel == "poly":
        k.polyKernel.gamma, k.polyKernel.c, k.polyKernel.degree = gamma, coef0, degree
    else:
        k.sigmoidKernel.gamma, k.sigmoidKernel.c = gamma, coef0


def svr(kernel: str, vectors: list[list[float]], alpha: list[float], rho: float) -> Model_pb2.Model:
    spec = Model_pb2.Model()
    describe(spec, len(vectors[0]), None)
    params = spec.supportVectorRegressor
    set_kernel(params, kernel)
    for vector in vectors:
        params.denseSupportVectors.vectors.add().values.extend(vector)
    params.coefficients.alpha.extend(alpha)
    params.rho = rho
    return spec


@pytest.mark.parametrize(
    ("kernel", "formula"),
    [
        ("linear", lambda x, s: x @ s.T),
        ("rbf", lambda x, s: np.exp(-0.5 * ((x[:, None, :] - s[None]) ** 2).sum(-1))),
        ("poly", lambda x, s: (0.5 * (x @ s.T) + 1.0) ** 2),
        ("sigmoid", lambda x, s: np.tanh(0.5 * (x @ s.T) + 1.0)),
    ],
)
def test_svr_is_alpha_dot_kernel_minus_rho(kernel: str, formula: object) -> None:
    vectors = np.array([[1.0, 0.0], [0.5, -1.0], [2.0, 2.0]])
    alpha = np.array([2.0, -1.0, 0.25])
    x = np.array([[0.0, 0.0], [1.0, -1.0], [0.3, 0.7]])
    expected = formula(x, vectors) @ alpha - 0.5  # type: ignore[operator]
    np.testing.assert_allclose(predict(svr(kernel, vectors.tolist(), alpha.tolist(), 0.5), x)["y"], expected,
                               rtol=1e-13)


def svc(labels: list, vectors: list[list[float]], per_class: list[int], coefficients: list[list[float]],
        rho: list[float], prob_a: list[float] | None = None, prob_b: list[float] | None = None,
        kernel: str = "linear") -> Model_pb2.Model:
    spec = Model_pb2.Model()
    describe(spec, len(vectors[0]), labels)
    if prob_a is None:
        spec.description.output.pop()
        spec.description.predictedProbabilitiesName = ""
    params = spec.supportVectorClassifier
    set_kernel(params, kernel)
    for vector in vectors:
        params.denseSupportVectors.vectors.add().values.extend(vector)
    params.numberOfSupportVectorsPerClass.extend(per_class)
    for row in coefficients:
        params.coefficients.add().alpha.extend(row)
    params.rho.extend(rho)
    params.probA.extend(prob_a or [])
    params.probB.extend(prob_b or [])
    set_labels(params, labels)
    return spec


def test_svc_binary_votes_first_class_only_when_decision_is_positive() -> None:
    # f = 1*K(sv0, x) - 1*K(sv1, x) - 0 = x0 - x1 with a linear kernel.
    spec = svc(["a", "b"], [[1.0, 0.0], [0.0, 1.0]], [1, 1], [[1.0, -1.0]], [0.0])
    out = predict(spec, np.array([[2.0, 1.0], [0.0, 1.0], [1.0, 1.0]]))
    assert out["label"].tolist() == ["a", "b", "b"]  # f = 1, -1, 0 (0 is not > 0)


@pytest.mark.parametrize(("rho", "expected"), [([-1.0, 1.0, -1.0], 0), ([1.0, 1.0, -1.0], 1), ([1.0, 1.0, 1.0], 2)])
def test_svc_multiclass_votes_with_ties_to_lowest_index(rho: list[float], expected: int) -> None:
    # All coefficients 0, so f_p = -rho[p] for pairs (0,1), (0,2), (1,2).
    # rho [-1, 1, -1]: 0 beats 1, 2 beats 0, 1 beats 2 -> a three-way tie -> class index 0.
    # rho [1, 1, -1]: 1, 2, 1 win -> class 1.  rho [1, 1, 1]: 1, 2, 2 win -> class 2.
    spec = svc([10, 11, 12], [[1.0], [2.0], [3.0]], [1, 1, 1], [[0.0] * 3, [0.0] * 3], rho)
    np.testing.assert_array_equal(predict(spec, np.array([[0.5]]))["label"], [10 + expected])


def test_svc_pairwise_decision_uses_libsvm_coefficient_blocks() -> None:
    # 3 classes, 1 SV each (values 1, 2, 3), linear kernel K_s = x * sv_s.
    coef = [[0.5, -1.0, 2.0], [0.25, 3.0, -0.75]]  # (K-1) x nSV
    rho = [0.1, 0.2, 0.3]
    spec = svc([0, 1, 2], [[1.0], [2.0], [3.0]], [1, 1, 1], coef, rho)
    x = np.array([[0.7], [-1.3], [2.0]])
    k = x * np.array([1.0, 2.0, 3.0])
    f01 = coef[0][0] * k[:, 0] + coef[0][1] * k[:, 1] - rho[0]  # coef[j-1=0] on class 0, coef[i=0] on class 1
    f02 = coef[1][0] * k[:, 0] + coef[0][2] * k[:, 2] - rho[1]  # coef[j-1=1] on class 0, coef[i=0] on class 2
    f12 = coef[1][1] * k[:, 1] + coef[1][2] * k[:, 2] - rho[2]  # coef[j-1=1] on class 1, coef[i=1] on class 2
    votes = np.zeros((3, 3), dtype=int)
    for p, (i, j) in zip((f01, f02, f12), [(0, 1), (0, 2), (1, 2)], strict=True):
        votes[np.arange(3), np.where(p > 0, i, j)] += 1
    np.testing.assert_array_equal(predict(spec, x)["label"], votes.argmax(axis=1))


def test_svc_binary_probabilities_are_platt_sigmoid_of_decision_value() -> None:
    spec = svc([0, 1], [[1.0, 0.0], [0.0, 1.0]], [1, 1], [[1.0, -1.0]], [0.25], prob_a=[-2.0], prob_b=[0.5])
    x = np.array([[2.0, 1.0], [0.0, 3.0], [40.0, 0.0]])
    f = x[:, 0] - x[:, 1] - 0.25
    r = np.clip(1 / (1 + np.exp(f * -2.0 + 0.5)), 1e-7, 1 - 1e-7)
    np.testing.assert_allclose(predict(spec, x)["probs"], np.column_stack([r, 1 - r]), rtol=1e-14)


def test_multiclass_probability_of_uninformative_pairs_is_uniform() -> None:
    pairwise = np.full((1, 4, 4), 0.5)
    np.fill_diagonal(pairwise[0], 0.0)
    np.testing.assert_allclose(multiclass_probability(pairwise), np.full((1, 4), 0.25), rtol=1e-12)


def test_svc_matches_sklearn_libsvm_votes_and_multiclass_probabilities() -> None:
    from sklearn.datasets import load_iris
    from sklearn.svm import SVC

    x, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # probability=True is deprecated in sklearn 1.9
        model = SVC(kernel="rbf", gamma=0.3, probability=True, random_state=0).fit(x, y)
        prob_a, prob_b = model.probA_.tolist(), model.probB_.tolist()
    spec = svc([0, 1, 2], model.support_vectors_.tolist(), model.n_support_.tolist(), model._dual_coef_.tolist(),
               (-model.intercept_).tolist(), prob_a, prob_b, kernel="rbf")
    spec.supportVectorClassifier.kernel.rbfKernel.gamma = model._gamma
    out = predict(spec, x)
    np.testing.assert_array_equal(out["label"], model.predict(x))
    np.testing.assert_allclose(out["probs"], model.predict_proba(x), rtol=0, atol=1e-9)


def test_svc_inconsistent_arrays_raise_spec_error() -> None:
    with pytest.raises(CoreMLSpecError, match="rho"):
        predict(svc([0, 1], [[1.0], [2.0]], [1, 1], [[1.0, -1.0]], [0.0, 1.0]), np.zeros((1, 1)))
    with pytest.raises(CoreMLSpecError, match="numberOfSupportVectorsPerClass"):
        predict(svc([0, 1], [[1.0], [2.0]], [2, 1], [[1.0, -1.0]], [0.0]), np.zeros((1, 1)))
    with pytest.raises(CoreMLSpecError, match="probA/probB"):
        predict(svc([0, 1], [[1.0], [2.0]], [1, 1], [[1.0, -1.0]], [0.0], [1.0], []), np.zeros((1, 1)))
    spec = svc([0, 1], [[1.0], [2.0]], [1, 1], [[1.0, -1.0]], [0.0])
    spec.supportVectorClassifier.sparseSupportVectors.vectors.add().nodes.add(index=5, value=1.0)
    with pytest.raises(CoreMLSpecError, match="sparseSupportVectors"):
        predict(spec, np.zeros((1, 1)))
