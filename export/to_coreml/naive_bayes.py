"""IR GaussianNaiveBayes / QuadraticDiscriminant → Core ML: per class a scaler (x - centre_k) and a
supportVectorRegressor whose degree-2 polynomial kernel squares projections of the centred row (SVM.proto, spec 1,
double precision), vectorised into the score vector that the head's GLMClassifier reads."""

from __future__ import annotations

import numpy as np

from export import ir
from export.errors import ExportFailedError
from export.to_coreml.features import Feature, Names, OutputNames, double_type, new_model, vector_type
from export.to_coreml.glm import classifier_on_scores
from export.to_coreml.pipeline import feature_vectorizer_model
from export.to_coreml.protos import Spec
from export.to_coreml.scaler import scaler_model


def _centred_quadratic_form(centre: np.ndarray, vectors: np.ndarray, alpha: np.ndarray, rho: float,
                            source: Feature, names: Names) -> tuple[list[Spec], Feature]:
    """s = sum_i alpha_i (d · vectors_i)^2 - rho with d = x - centre: a scaler 1 · (x + (-centre)) (the same double
    as x - centre), then a supportVectorRegressor with support vectors `vectors` (rows) and the poly kernel
    (1 · d·v_i + 0)^2."""
    n = centre.size
    centred = Feature(names.fresh("centred"), vector_type(n))
    scaler = scaler_model(ir.Scaler(offset=centre, scale=np.ones(n)), source, centred.name)
    output = Feature(names.fresh("class_score"), double_type())
    spec = new_model([centred], [output])
    spec.description.predictedFeatureName = output.name
    regressor = spec.supportVectorRegressor
    kernel = regressor.kernel.polyKernel
    kernel.degree, kernel.c, kernel.gamma = 2, 0.0, 1.0
    for vector in vectors:
        regressor.denseSupportVectors.vectors.add().values.extend(np.asarray(vector, dtype=np.float64).tolist())
    regressor.coefficients.alpha.extend(np.asarray(alpha, dtype=np.float64).tolist())
    regressor.rho = float(rho)
    return [scaler, spec], output


def _scores_then_head(per_class: list[tuple[list[Spec], Feature]], head: ir.Classification, names: OutputNames,
                      fresh: Names) -> list[Spec]:
    models = [model for class_models, _ in per_class for model in class_models]
    vectorizer, vector = feature_vectorizer_model([score for _, score in per_class], fresh.fresh("class_scores"))
    return [*models, vectorizer, classifier_on_scores(head, vector, names)]


def gaussian_naive_bayes_models(node: ir.GaussianNaiveBayes, head: ir.Classification, source: Feature,
                                names: OutputNames, fresh: Names) -> list[Spec]:
    """jll_k = sum_j alpha_j (d · e_j)^2 - rho with d = x - theta_k, the unit vectors e_j (d · e_j = d_j exactly),
    alpha_j = -0.5 / var_kj and rho = -(log_prior_k + log_normaliser_k); then the head (`classifier_on_scores`)."""
    if source.width != node.n_features:
        raise ExportFailedError(f"GaussianNaiveBayes reads {node.n_features} features but its input has {source.width}")
    eye = np.eye(node.n_features)
    return _scores_then_head([_centred_quadratic_form(node.theta[k], eye, -0.5 / node.var[k],
                                                      -(node.log_prior[k] + node.log_normaliser[k]), source, fresh)
                              for k in range(node.n_classes)], head, names, fresh)


def quadratic_discriminant_models(node: ir.QuadraticDiscriminant, head: ir.Classification, source: Feature,
                                  names: OutputNames, fresh: Names) -> list[Spec]:
    """score_k = -0.5 * sum_i (d · t_i)^2 - rho with d = x - means_k, t_i the columns of transforms_k (alpha -0.5:
    a power of two, so -0.5 * sum equals the sum of -0.5 * terms up to the summation order) and
    rho = 0.5 * log_det_k - log_prior_k; then the head (`classifier_on_scores`)."""
    if source.width != node.n_features:
        raise ExportFailedError(f"QuadraticDiscriminant reads {node.n_features} features but its input has "
                                f"{source.width}")
    per_class = []
    for k, transform in enumerate(node.transforms):
        per_class.append(_centred_quadratic_form(node.means[k], transform.T, np.full(transform.shape[1], -0.5),
                                                 0.5 * node.log_det[k] - node.log_prior[k], source, fresh))
    return _scores_then_head(per_class, head, names, fresh)
