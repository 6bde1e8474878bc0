"""sklearn multi-layer perceptrons (MLPClassifier, MLPRegressor) → IR `NeuralNetwork`."""

from __future__ import annotations

from typing import Any

from export import ir
from export.from_sklearn.estimator_checks import classification, dense, refuse, refuse_multilabel
from export.frontends import Converted

_HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")


def _layers(est: Any) -> tuple[ir.DenseLayer, ...]:
    """`coefs_[i]` is (n_in, n_out): IR weights are its transpose. Hidden layers use `activation`; the output
    layer is left as identity — its `out_activation_` becomes the task's link (or nothing for regression)."""
    if est.activation not in _HIDDEN_ACTIVATIONS:
        raise refuse(est, f"activation={est.activation!r} is not supported; allowed: "
                          + ", ".join(repr(a) for a in _HIDDEN_ACTIVATIONS))
    n_layers = len(est.coefs_)
    return tuple(
        ir.DenseLayer(weights=dense(w).T, bias=dense(b), activation="identity" if i == n_layers - 1 else est.activation)
        for i, (w, b) in enumerate(zip(est.coefs_, est.intercepts_, strict=True))
    )


def mlp_classifier_to_ir(est: Any) -> Converted:
    """Binary: one logistic output unit (P(classes_[1]); predict is p > 0.5, i.e. z > 0) → link 'logistic'.
    Multiclass: softmax output → link 'softmax'. Multilabel (independent logistic units) → refused."""
    refuse_multilabel(est)
    if est.out_activation_ == "logistic" and est.n_outputs_ == 1:
        link: ir.Link = "logistic"
    elif est.out_activation_ == "softmax":
        link = "softmax"
    else:
        raise refuse(est, f"output activation {est.out_activation_!r} with {est.n_outputs_} outputs is not "
                          "supported; supported: binary (logistic) and multiclass (softmax)")
    return Converted(ir.NeuralNetwork(layers=_layers(est)), classification(est, link, True))


def mlp_regressor_to_ir(est: Any) -> Converted:
    """MLPRegressor: identity output (loss 'squared_error'), or exp (loss 'poisson': `out_activation_` 'exp',
    `np.exp` of the last layer) as the head's exp link; one score per target."""
    links: dict[str, ir.RegressionLink] = {"identity": "identity", "exp": "exp"}
    if est.out_activation_ not in links:
        raise refuse(est, f"output activation {est.out_activation_!r} is not supported; allowed: 'identity', 'exp'")
    return Converted(ir.NeuralNetwork(layers=_layers(est)), ir.Regression(n_targets=int(est.n_outputs_),
                                                                          link=links[est.out_activation_]))
