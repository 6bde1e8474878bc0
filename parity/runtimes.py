"""Runtime step of the parity flow: evaluate the scikit-learn reference and each artifact on the same probe rows.

Runtimes: scikit-learn (reference, on the contract dtype), onnxruntime (.onnx and .ort), the Core ML reference
evaluator (`parity.coreml_reference`, any platform) and native Core ML (macOS only). Output roles and class labels are
read from each artifact itself, never from the exporter.
"""

from __future__ import annotations

import importlib
import json
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from parity.errors import ArtifactError, ParityInputError
from parity.references import adapter_for

ROLES = ("label", "probabilities", "prediction", "transformed")
SUPPORTED_SUFFIXES = (".mlmodel", ".onnx", ".ort")


@dataclass
class RuntimeStatus:
    """Whether a runtime ran: "ran", or why not ("unavailable on this platform: ..."); never "passed"."""

    runtime: str
    artifact: str | None
    status: str

    def to_json(self) -> dict[str, str | None]:
        return {"runtime": self.runtime, "artifact": self.artifact, "status": self.status}


def contract_inputs(X: np.ndarray, contract: str) -> np.ndarray:
    """What the app feeds: float64 rows, or rows rounded to float32 (carried as float64)."""
    if contract == "float32":
        with np.errstate(over="ignore"):
            return np.asarray(X, dtype=np.float64).astype(np.float32).astype(np.float64)
    if contract == "float64":
        return np.asarray(X, dtype=np.float64)
    raise ParityInputError(f"contract {contract!r} is not supported; supported: 'float32', 'float64'")


# ----------------------------------------------------------------------------------------------------------------
# scikit-learn reference


def reference_outputs(estimator: Any, X: np.ndarray, roles: set[str]) -> dict[str, np.ndarray]:
    """Canonical outputs of the Python model on X (already on the contract dtype), through its reference adapter."""
    return adapter_for(estimator).predict(estimator, X, roles)


def input_cast_to_float32(estimator: Any) -> bool:
    """True when the library itself casts X to float32 before anything else (sklearn.tree-based models, not HGB):
    then predict(X) == predict(float32(X)) exactly and the reference drift is zero by construction."""
    return adapter_for(estimator).input_cast_to_float32(estimator)


def estimator_classes(estimator: Any) -> np.ndarray | None:
    classes = getattr(estimator, "classes_", None)
    return None if classes is None else np.asarray(classes)


# ----------------------------------------------------------------------------------------------------------------
# Artifacts


@dataclass
class Artifact:
    """One exported file opened for evaluation."""

    path: Path
    kind: Literal["coreml", "onnx", "ort"]
    runtime: str
    roles: dict[str, str]  # output name -> canonical role
    class_labels: np.ndarray | None
    dtype: Literal["float32", "float64"]  # precision of the artifact's inputs/outputs
    handle: Any = None
    compiled: Any = None  # Core ML: the evaluator's compiled model, reused across probe sets
    float32_weights: bool = False  # Core ML NeuralNetwork inside: weights are stored as float32
    notes: list[str] = field(default_factory=list)

    def output_for(self, role: str) -> str | None:
        return next((name for name, r in self.roles.items() if r == role), None)

    def predict(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Outputs by canonical role; X are contract-dtype rows carried as float64."""
        if self.kind == "coreml":
            return _coreml_predict(self, X)
        return _onnx_predict(self, X)


def open_artifact(path: str | Path) -> Artifact:
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path}: artifact file not found")
    suffix = path.suffix.lower()
    if suffix == ".mlmodel":
        return _open_coreml(path)
    if suffix in (".onnx", ".ort"):
        return _open_onnx(path)
    raise ArtifactError(f"{path}: unsupported artifact type {suffix!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}")


# ---- ONNX / ORT


def _open_onnx(path: Path) -> Artifact:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    # parity runs scikit-learn, onnxruntime and the Core ML evaluator concurrently (one thread each, parity/__init__):
    # onnxruntime's own thread pool would only oversubscribe the cores and spin against the other two.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph classes
        raise ArtifactError(f"{path}: onnxruntime cannot load the model ({type(exc).__name__}: {exc})") from exc
    metadata = dict(session.get_modelmeta().custom_metadata_map)
    raw_roles = metadata.get("mlexport.output_roles")
    if raw_roles is None:
        raise ArtifactError(
            f"{path}: metadata_props has no 'mlexport.output_roles' (JSON {{output name: role}}); roles supported: "
            f"{', '.join(ROLES)}"
        )
    try:
        roles = {str(k): str(v) for k, v in json.loads(raw_roles).items()}
    except (ValueError, AttributeError) as exc:
        raise ArtifactError(f"{path}: metadata 'mlexport.output_roles' is not a JSON object ({exc})") from exc
    output_names = {o.name for o in session.get_outputs()}
    for name, role in roles.items():
        if role not in ROLES:
            raise ArtifactError(f"{path}: output {name!r} has unknown role {role!r}; supported: {', '.join(ROLES)}")
        if name not in output_names:
            raise ArtifactError(f"{path}: output_roles names {name!r}, which is not a graph output")
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise ArtifactError(f"{path}: expected one input tensor [N, n_features], found {len(inputs)}")
    input_type = inputs[0].type
    if input_type not in ("tensor(float)", "tensor(double)"):
        raise ArtifactError(f"{path}: input type {input_type} unsupported; supported: tensor(float), tensor(double)")
    dtype: Literal["float32", "float64"] = "float32" if input_type == "tensor(float)" else "float64"
    output_types = {o.name: o.type for o in session.get_outputs()}
    if any(output_types.get(n) == "tensor(float)" for n, r in roles.items() if r != "label"):
        dtype = "float32"  # a float output can't carry double precision even from a double input
    class_labels = _onnx_class_labels(path, metadata)
    kind: Literal["onnx", "ort"] = "ort" if path.suffix.lower() == ".ort" else "onnx"
    import onnxruntime

    return Artifact(
        path=path,
        kind=kind,
        runtime=f"onnxruntime {onnxruntime.__version__}",
        roles=roles,
        class_labels=class_labels,
        dtype=dtype,
        handle=session,
    )


def _onnx_class_labels(path: Path, metadata: dict[str, str]) -> np.ndarray | None:
    # Prefer the classifier node's own attribute (what the graph really emits) over metadata (what the writer
    # claims); .ort files are flatbuffers we can't parse here, so they fall back to metadata.
    if path.suffix.lower() == ".onnx":
        import onnx

        model = onnx.load(str(path), load_external_data=False)
        for node in model.graph.node:
            for attribute in node.attribute:
                # TreeEnsembleClassifier: classlabels_int64s; LinearClassifier / SVMClassifier: classlabels_ints
                if attribute.name in ("classlabels_int64s", "classlabels_ints") and attribute.ints:
                    return np.asarray(list(attribute.ints), dtype=np.int64)
                if attribute.name == "classlabels_strings" and attribute.strings:
                    return np.asarray([s.decode() for s in attribute.strings], dtype=object)
    raw = metadata.get("mlexport.class_labels")
    if raw is None:
        return None
    labels = json.loads(raw)
    if labels is None:
        return None
    array = np.asarray(labels)
    return array.astype(object) if array.dtype.kind in "US" else array


def _onnx_predict(artifact: Artifact, X: np.ndarray) -> dict[str, np.ndarray]:
    session = artifact.handle
    feed_dtype = np.float32 if session.get_inputs()[0].type == "tensor(float)" else np.float64
    with np.errstate(over="ignore"):
        feed = np.ascontiguousarray(X.astype(feed_dtype))
    names = list(artifact.roles)
    values = session.run(names, {session.get_inputs()[0].name: feed})
    outputs: dict[str, np.ndarray] = {}
    for name, value in zip(names, values, strict=True):
        role = artifact.roles[name]
        array = np.asarray(value)
        if role == "label":
            outputs[role] = array.ravel()
        else:
            outputs[role] = array.astype(np.float64).reshape(len(X), -1)
    return outputs


# ---- Core ML


def coreml_roles(spec: Any) -> dict[str, str]:
    """Output roles of a Core ML spec by the contract: predictedFeatureName -> label (classifier) / prediction
    (regressor), predictedProbabilitiesName -> probabilities, any other MultiArray output -> transformed."""
    description = spec.description
    label_name = description.predictedFeatureName
    probability_name = description.predictedProbabilitiesName
    is_classifier = bool(probability_name) or any(
        o.name == label_name and o.type.WhichOneof("Type") in ("int64Type", "stringType") for o in description.output
    )
    roles: dict[str, str] = {}
    for output in description.output:
        if output.name == probability_name and probability_name:
            roles[output.name] = "probabilities"
        elif output.name == label_name and label_name:
            roles[output.name] = "label" if is_classifier else "prediction"
        elif output.type.WhichOneof("Type") == "multiArrayType":
            roles[output.name] = "transformed" if label_name else "prediction"
        elif output.type.WhichOneof("Type") == "doubleType":
            roles[output.name] = "prediction"
    return roles


def coreml_class_labels(spec: Any) -> np.ndarray | None:
    """classes as stored in the (final) classifier model of a spec: int64ClassLabels or stringClassLabels."""
    model = spec
    while model.WhichOneof("Type") in ("pipeline", "pipelineClassifier", "pipelineRegressor"):
        kind = model.WhichOneof("Type")
        models = getattr(model, kind).pipeline.models if kind != "pipeline" else model.pipeline.models
        if not models:
            return None
        model = models[-1]
    body = getattr(model, model.WhichOneof("Type") or "", None)
    if body is None:
        return None
    for field_name in ("int64ClassLabels", "stringClassLabels"):
        if any(f.name == field_name for f, _ in body.ListFields()):
            vector = getattr(body, field_name).vector
            if field_name == "int64ClassLabels":
                return np.asarray(list(vector), dtype=np.int64)
            return np.asarray(list(vector), dtype=object)
    return None


def _open_coreml(path: Path) -> Artifact:
    from parity.coreml_reference.spec_loading import load_model

    spec = load_model(path)
    reference = importlib.import_module("parity.coreml_reference")
    roles = dict(reference.output_kinds(spec)) if hasattr(reference, "output_kinds") else coreml_roles(spec)
    roles = {name: _canonical_role(role) for name, role in roles.items()}
    if hasattr(reference, "class_labels"):
        labels = reference.class_labels(spec)
        class_labels = np.asarray(list(labels)) if labels is not None and len(labels) else None
        if class_labels is not None and class_labels.dtype.kind in "US":
            class_labels = class_labels.astype(object)
    else:
        class_labels = coreml_class_labels(spec)
    compiled = None
    if hasattr(reference, "compile_model"):
        # Compile once (validation + numpy arrays); every probe set reuses it.
        compiled = reference.compile_model(spec)
    artifact = Artifact(path=path, kind="coreml", runtime="Core ML reference evaluator (parity.coreml_reference)",
                        roles=roles, class_labels=class_labels, dtype="float64", handle=spec)
    artifact.compiled = compiled
    artifact.float32_weights = any(kind.startswith("neuralNetwork") for kind in coreml_model_types(spec))
    return artifact


def coreml_model_types(spec: Any) -> list[str]:
    """Model types in a spec, pipelines flattened (Model.Type oneof names)."""
    kind = spec.WhichOneof("Type") or ""
    if kind in ("pipeline", "pipelineClassifier", "pipelineRegressor"):
        pipeline = spec.pipeline if kind == "pipeline" else getattr(spec, kind).pipeline
        return [k for sub in pipeline.models for k in coreml_model_types(sub)]
    return [kind]


def _canonical_role(role: str) -> str:
    aliases = {"scores": "prediction", "array": "transformed", "classLabel": "label"}
    role = aliases.get(role, role)
    if role not in ROLES:
        raise ArtifactError(f"Core ML output role {role!r} unknown; supported: {', '.join(ROLES)}")
    return role


def coreml_inputs(spec: Any, X: np.ndarray) -> Any:
    """Map contract rows to the spec's inputs: one MultiArray input gets the matrix, named Doubles get columns."""
    inputs = list(spec.description.input)
    if len(inputs) == 1 and inputs[0].type.WhichOneof("Type") == "multiArrayType":
        return {inputs[0].name: X}
    if len(inputs) == X.shape[1] and all(i.type.WhichOneof("Type") == "doubleType" for i in inputs):
        return {feature.name: X[:, j] for j, feature in enumerate(inputs)}
    return X


def _coreml_predict(artifact: Artifact, X: np.ndarray) -> dict[str, np.ndarray]:
    reference = importlib.import_module("parity.coreml_reference")
    if not hasattr(reference, "predict"):
        raise ArtifactError("Core ML reference evaluator unavailable: parity.coreml_reference.predict is missing")
    inputs = coreml_inputs(artifact.handle, X)
    raw = artifact.compiled.predict(inputs) if artifact.compiled is not None else reference.predict(artifact.handle,
                                                                                                    inputs)
    return _coreml_by_role(artifact, raw, len(X))


def _coreml_by_role(artifact: Artifact, raw: dict[str, Any], n_rows: int) -> dict[str, np.ndarray]:
    outputs: dict[str, np.ndarray] = {}
    for name, role in artifact.roles.items():
        if name not in raw:
            raise ArtifactError(f"{artifact.path}: evaluator returned no output {name!r} (got {sorted(raw)})")
        value = np.asarray(raw[name])
        outputs[role] = value.ravel() if role == "label" else value.astype(np.float64).reshape(n_rows, -1)
    return outputs


def native_coreml_status() -> tuple[bool, str]:
    """Whether native Core ML can run here, and the status string if not (never "passed")."""
    try:
        native = importlib.import_module("parity.coreml_reference.native")
    except ImportError as exc:
        if platform.system() != "Darwin":
            return False, f"unavailable on this platform: {platform.system()} (native Core ML needs macOS)"
        return False, f"unavailable: parity.coreml_reference.native cannot be imported ({exc})"
    answer = native.native_available()
    # native_available() -> (available, reason); accept a bare bool too.
    available, reason = answer if isinstance(answer, tuple) else (bool(answer), "")
    if not available:
        reason = reason or f"unavailable on this platform: {platform.system()} (native Core ML needs macOS)"
        return False, reason if reason.startswith("unavailable") else f"unavailable on this platform: {reason}"
    return True, "ran"


def native_coreml_predict(artifact: Artifact, X: np.ndarray) -> dict[str, np.ndarray]:
    native = importlib.import_module("parity.coreml_reference.native")
    raw = native.native_predict(str(artifact.path), coreml_inputs(artifact.handle, X))
    return _coreml_by_role(artifact, raw, len(X))
