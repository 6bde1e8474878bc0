"""IR GaussianNaiveBayes → Core ML: per class a scaler (x - theta_k) and a supportVectorRegressor whose degree-2
polynomial kernel squares each centred feature (SVM.proto, spec 1, double precision), vectorised into the joint
log-likelihood vector that the head's GLMClassifier reads."""

from __future__ import annotations

import numpy as np

from export import ir
from export.errors import ExportFailedError
from export.to_coreml.features import Feature, Names, OutputNames, double_type, new_model, vector_type
from export.to_coreml.glm import classifier_on_scores
from export.to_coreml.pipeline import feature_vectorizer_model
from export.to_coreml.protos import Spec
from export.to_coreml.scaler import scaler_model


def _class_log_likelihood(node: ir.GaussianNaiveBayes, k: int, source: Feature, names: Names) -> tuple[list[Spec],
                                                                                                       Feature]:
    """jll_k = sum_j alpha_j (d · e_j)^2 - rho with d = x - theta_k (a scaler: 1 · (x + (-theta_k)), the same
    double as x - theta_k), support vectors e_j (the unit vectors: d · e_j = d_j exactly), poly kernel
    (1 · d·e_j + 0)^2 = d_j^2, alpha_j = -0.5 / var_kj and rho = -(log_prior_k + log_normaliser_k)."""
    n = node.n_features
    centred = Feature(names.fresh("nb_centred"), vector_type(n))
    scaler = scaler_model(ir.Scaler(offset=node.theta[k], scale=np.ones(n)), source, centred.name)
    output = Feature(names.fresh("nb_joint_log_likelihood"), double_type())
    spec = new_model([centred], [output])
    spec.description.predictedFeatureName = output.name
    regressor = spec.supportVectorRegressor
    kernel = regressor.kernel.polyKernel
    kernel.degree, kernel.c, kernel.gamma = 2, 0.0, 1.0
    for j in range(n):
        regressor.denseSupportVectors.vectors.add().values.extend(np.eye(n)[j].tolist())
    regressor.coefficients.alpha.extend((-0.5 / node.var[k]).tolist())
    regressor.rho = float(-(node.log_prior[k] + node.log_normaliser[k]))
    return [scaler, spec], output


def gaussian_naive_bayes_models(node: ir.GaussianNaiveBayes, head: ir.Classification, source: Feature,
                                names: OutputNames, fresh: Names) -> list[Spec]:
    """The K joint log-likelihoods as one DOUBLE vector, then the head over them (`classifier_on_scores`)."""
    if source.width != node.n_features:
        raise ExportFailedError(f"GaussianNaiveBayes reads {node.n_features} features but its input has {source.width}")
    models: list[Spec] = []
    scores: list[Feature] = []
    for k in range(node.n_classes):
        class_models, score = _class_log_likelihood(node, k, source, fresh)
        models.extend(class_models)
        scores.append(score)
    vectorizer, vector = feature_vectorizer_model(scores, fresh.fresh("nb_scores"))
    return [*models, vectorizer, classifier_on_scores(head, vector, names)]
