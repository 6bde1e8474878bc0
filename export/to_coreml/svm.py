"""IR SupportVectorMachine → Core ML supportVectorClassifier / supportVectorRegressor (SVM.proto, spec 1)."""

from __future__ import annotations

from typing import Any

from export import ir
from export.errors import ExportFailedError
from export.to_coreml.features import (
    Feature,
    OutputNames,
    classifier_outputs,
    double_type,
    mark_classifier,
    new_model,
    set_class_labels,
)
from export.to_coreml.protos import Spec


def _fill_kernel(kernel: Any, node: ir.SupportVectorMachine) -> None:
    """Kernel oneof: linear xᵀx', rbf exp(-γ‖x-x'‖²), poly (γ xᵀx' + c)^degree, sigmoid tanh(γ xᵀx' + c)."""
    if node.kernel == "linear":
        kernel.linearKernel.SetInParent()
    elif node.kernel == "rbf":
        kernel.rbfKernel.gamma = node.gamma
    elif node.kernel == "poly":
        kernel.polyKernel.degree = int(node.degree)
        kernel.polyKernel.c = node.coef0
        kernel.polyKernel.gamma = node.gamma
    else:
        kernel.sigmoidKernel.gamma = node.gamma
        kernel.sigmoidKernel.c = node.coef0


def svm_model(node: ir.SupportVectorMachine, task: ir.Regression | ir.Classification, source: Feature,
              names: OutputNames) -> Spec:
    """libsvm arrays copied as they are: dense support vectors, dual coefficients, rho (decision = Σ αK − rho)."""
    if source.width != node.n_features:
        raise ExportFailedError(f"SupportVectorMachine reads {node.n_features} features but its input has "
                                f"{source.width}")
    # A binary classifier's one decision value f = Σ coef[0]·K − rho[0] (both classes' SVs read row 0, §1.4) is
    # the regressor's formula: its raw score mid-body (a calibrated SVC) is a supportVectorRegressor.
    binary_decision = node.is_classifier and node.n_classes == 2
    if isinstance(task, ir.Regression) and node.is_classifier and not binary_decision:
        raise ExportFailedError("SupportVectorMachine: a multiclass libsvm classifier's decision values need a "
                                "Classification head with link 'ovo_votes'")
    if isinstance(task, ir.Classification) and not node.is_classifier:
        raise ExportFailedError("SupportVectorMachine: a libsvm regressor's value needs a Regression head")
    if isinstance(task, ir.Regression):
        if task.n_targets != 1 or task.link != "identity":
            raise ExportFailedError("SupportVectorMachine regression has one target and the identity link only")
        output = Feature(names.prediction, double_type())
        spec = new_model([source], [output])
        spec.description.predictedFeatureName = output.name
        regressor = spec.supportVectorRegressor
        _fill_kernel(regressor.kernel, node)
        for vector in node.support_vectors:
            regressor.denseSupportVectors.vectors.add().values.extend(vector.tolist())
        regressor.coefficients.alpha.extend(node.dual_coef[0].tolist())
        regressor.rho = float(node.rho[0])
        return spec
    if task.link != "ovo_votes":
        raise ExportFailedError(f"SupportVectorMachine: link {task.link!r} unsupported; supported: ovo_votes")
    if task.has_proba and node.prob_a.size == 0:
        raise ExportFailedError("SupportVectorMachine: has_proba needs probA/probB (libsvm pairwise coupling)")
    outputs = classifier_outputs(task, names, task.has_proba)
    spec = new_model([source], outputs)
    mark_classifier(spec, outputs)
    classifier = spec.supportVectorClassifier
    _fill_kernel(classifier.kernel, node)
    classifier.numberOfSupportVectorsPerClass.extend(node.n_support.tolist())
    for vector in node.support_vectors:
        classifier.denseSupportVectors.vectors.add().values.extend(vector.tolist())
    for row in node.dual_coef:  # (K-1) x nSV, libsvm's one-vs-one layout
        classifier.coefficients.add().alpha.extend(row.tolist())
    classifier.rho.extend(node.rho.tolist())  # K(K-1)/2 in pair order (0,1),(0,2)..(1,2)..
    if task.has_proba:
        # With probA/probB Core ML returns libsvm's coupled probabilities; which label it then returns (votes or
        # argmax-probability) is undocumented [inferred]; scikit-learn's predict uses the votes.
        classifier.probA.extend(node.prob_a.tolist())
        classifier.probB.extend(node.prob_b.tolist())
    set_class_labels(classifier, task.labels, task.string_labels)
    return spec
