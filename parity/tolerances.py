"""Comparison step of the parity flow: which tolerance applies to an output, and why (role × artifact dtype × family).

Every tolerance carries a written reason. Labels have no tolerance (exact, except reference ties within
`tie_tolerance`). Tolerances are deliberately tight: the measurements in docs/onnx-parity.md §1.4-1.5 show what each
path really achieves, and a tolerance wider than that would hide routing bugs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from parity.references import family, final_model

ArtifactKind = Literal["coreml", "onnx", "ort"]
Dtype = Literal["float32", "float64"]
Role = Literal["label", "probabilities", "prediction", "transformed"]


@dataclass(frozen=True)
class Tolerance:
    """Element rule (golden.md): pass iff both NaN, or got == expected, or |got - expected| <= atol + rtol*|e|."""

    rtol: float
    atol: float
    reason: str

    def to_json(self) -> dict[str, float | str]:
        return {"rtol": self.rtol, "atol": self.atol, "reason": self.reason}


# A label mismatch is excused only when the reference itself ties (scikit-learn picks the first maximum).
DOUBLE_TIE_TOLERANCE = 1e-12


def model_family(estimator: object) -> str:
    """The family of the model that produces the final output (the last step of a Pipeline), from its adapter."""
    return family(estimator)


def is_svc_with_probability(estimator: object) -> bool:
    """A kernel classifier whose probabilities come from libsvm's Platt scaling + pairwise coupling."""
    return family(estimator) == "kernel" and bool(getattr(final_model(estimator), "probability", False))


def choose_tolerance(
    role: Role,
    artifact: ArtifactKind,
    dtype: Dtype,
    estimator: object,
    output_scale: float = 1.0,
    float32_weights: bool = False,
) -> Tolerance:
    """The tolerance for one output of one artifact; `output_scale` = max(1, robust range of the reference output).

    `float32_weights`: the artifact itself stores float32 weights (a Core ML NeuralNetwork, which our writer also uses
    for multinomial logistic regression), whatever the estimator's family.
    """
    from parity.references import final_model, library_reference

    kind = "network" if float32_weights else model_family(estimator)
    if role == "label":
        return Tolerance(0.0, 0.0, "labels are compared exactly (reference ties excused)")
    library = library_reference(final_model(estimator))  # a boosting library (or a Pipeline ending in its wrapper)
    if library is not None and not float32_weights:  # its arithmetic sets the bound
        own = library.tolerance(role, artifact, dtype, output_scale)
        if own is not None:
            return own if dtype == "float64" else _wider(own, _float32_artifact(role, output_scale))
    if dtype == "float32":
        return _float32_artifact(role, output_scale)
    # Double-precision artifacts.
    if artifact == "coreml" and kind == "network":
        return Tolerance(1e-4, 1e-5 * max(1.0, output_scale if role != "probabilities" else 1.0),
                         "Core ML neural-network stages compute in float32 (innerProduct weights, unary exp)")
    if artifact == "coreml" and role == "probabilities" and is_svc_with_probability(estimator):
        return Tolerance(0.0, 5e-3, "libsvm pairwise coupling in Core ML vs scikit-learn's (binary differs ≤ 0.5%)")
    if kind == "tree":
        return Tolerance(1e-12, 1e-12 * output_scale, "double sums of tree leaves in a different order")
    if kind == "neighbours":
        return Tolerance(1e-12, 1e-12 * output_scale, "neighbour averages in double, summed in a different order")
    if kind == "kernel" and role == "probabilities" and artifact != "coreml":
        return Tolerance(1e-6, 1e-6, "skl2onnx's SVM probability path computes partly in float (4.8e-7 measured, §1.5)")
    if kind == "kernel":
        return Tolerance(1e-9, 1e-9 * output_scale, "double kernel sums in a different order; exp from another libm")
    if role == "probabilities":
        return Tolerance(1e-9, 1e-12, "double dot products in a different order; exp/log from another libm")
    return Tolerance(1e-9, 1e-12 * output_scale, "double dot products and scaling in a different order")


def _float32_artifact(role: Role, output_scale: float) -> Tolerance:
    if role == "probabilities":
        return Tolerance(1e-5, 1e-5, "float32 accumulation in the artifact (measured ≤ 3.4e-6 in §1.4-1.5)")
    return Tolerance(1e-5, 1e-6 * output_scale,
                     f"float32 accumulation in the artifact (atol = 1e-6 × output scale {output_scale:.4g})")


def _wider(a: Tolerance, b: Tolerance) -> Tolerance:
    return Tolerance(max(a.rtol, b.rtol), max(a.atol, b.atol), f"{a.reason}; {b.reason}")


def tie_tolerance(probability_tolerance: Tolerance | None) -> float:
    """Reference probabilities closer than the artifact's own probability tolerance are a tie the artifact may break."""
    if probability_tolerance is None:
        return DOUBLE_TIE_TOLERANCE
    return max(DOUBLE_TIE_TOLERANCE, probability_tolerance.atol)
