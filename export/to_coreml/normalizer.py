"""IR Normalizer → Core ML normalizer (Normalizer.proto, spec 1)."""

from __future__ import annotations

from export import ir
from export.errors import ExportFailedError, UnsupportedEstimatorError
from export.to_coreml.features import Feature, new_model, vector_type
from export.to_coreml.protos import Normalizer_pb2, Spec

_NORM_TYPES = {"l1": Normalizer_pb2.Normalizer.L1, "l2": Normalizer_pb2.Normalizer.L2,
               "max": Normalizer_pb2.Normalizer.LMax}


def normalizer_model(node: ir.Normalizer, source: Feature, output_name: str) -> Spec:
    """x / norm(x). LMax is documented as max(x_i), scikit-learn uses max|x_i|, and Core ML's zero-norm rows are
    undocumented [inferred]: parity probes must cover negative and all-zero rows."""
    if source.width != node.n_features:
        raise ExportFailedError(f"Normalizer reads {node.n_features} features but its input has {source.width}")
    if node.zero_rows != "unchanged":
        raise UnsupportedEstimatorError("Core ML: a normaliser whose all-zero rows become uniform (calibrated "
                                        "probabilities) has no encoding; export this model with --formats onnx")
    spec = new_model([source], [Feature(output_name, vector_type(node.n_features))])
    spec.normalizer.normType = _NORM_TYPES[node.norm]
    return spec
