"""Runtime step of the parity flow: evaluate the scikit-learn reference and each artifact on the same probe rows.

Runtimes: scikit-learn (reference, on the contract dtype), onnxruntime (.onnx and .ort), the Core ML reference
evaluator (`parity.coreml_reference`, any platform) and native Core ML (macOS only). Output roles and class labels are
read from each artifact itself, never from the exporter.
"""

from __future__ import annotations

import importlib
import json
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from parity.columns import InputSchema
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


def reference_outputs(estimator: Any, X: np.ndarray, roles: set[str],
                      schema: InputSchema | None = None) -> dict[str, np.ndarray]:
    """Canonical outputs of the Python model on X (already on the contract dtype), through its reference adapter;
    with a schema, on the DataFrame the rows decode to (string columns as the user's dtype)."""
    rows = X if schema is None else schema.python_rows(X)
    return adapter_for(estimator).predict(estimator, rows, roles)


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
    inputs: list[ArtifactInput] = field(default_factory=list)  # as the artifact declares them, in its order
    schema: InputSchema | None = None  # typed columns (string inputs); None: every column is a number
    bound: list[np.ndarray] | None = None  # column indices each input takes; None: positional over all columns

    def output_for(self, role: str) -> str | None:
        return next((name for name, r in self.roles.items() if r == role), None)

    def bind(self, names: Sequence[str] | None, n_features: int, schema: InputSchema | None = None) -> None:
        """Match the artifact's inputs to the model's columns (by name, else by position) and check their types."""
        self.schema = schema
        self.bound = bind_inputs(self.path, self.inputs, names, n_features)
        for feature, columns in zip(self.inputs, self.bound, strict=True):
            for j in columns:
                column_kind = schema.columns[j].kind if schema is not None else "double"
                label = repr(names[j]) if names else f"{j}"
                if (feature.kind == "string") != (column_kind == "string"):
                    raise ArtifactError(
                        f"{self.path}: input {feature.name!r} is {feature.kind} but column {label} holds "
                        f"{'strings' if column_kind == 'string' else 'numbers'}")

    def feeds(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """{input name: values} for rows X by the contract: numbers as the input's dtype, strings as str."""
        bound = self.bound if self.bound is not None else bind_inputs(self.path, self.inputs, None, X.shape[1])
        values: dict[str, np.ndarray] = {}
        for feature, columns in zip(self.inputs, bound, strict=True):
            if feature.terms is not None:  # Core ML's term-counts Dictionary of a text column
                values[feature.name] = self._term_counts(feature, X, int(columns[0]))
                continue
            if feature.kind == "string" and self.schema is not None:
                matrix = np.empty((len(X), len(columns)), dtype=object)
                for k, j in enumerate(columns):
                    matrix[:, k] = self.schema.artifact_values(X, int(j))
            else:  # numbers are carried in X as they are fed (already on the contract dtype)
                matrix = X[:, columns]
            values[feature.name] = feature.values(matrix)
        return values

    def _term_counts(self, feature: ArtifactInput, X: np.ndarray, j: int) -> np.ndarray:
        """What the app feeds a text column's Dictionary input: the term counts of each document, by scikit-learn's
        own analyzer (parity/text_inputs.py)."""
        column = self.schema.columns[j] if self.schema is not None else None
        if column is None or column.term_counter is None or self.schema is None:
            raise ArtifactError(f"{self.path}: input {feature.name!r} takes term counts, but the Python model reads "
                                f"no text column {column.name if column else j!r} with a CountVectorizer/"
                                "TfidfVectorizer")
        counts = column.term_counter(self.schema.artifact_values(X, j).tolist(), feature.terms or ())
        out = np.empty(len(counts), dtype=object)
        out[:] = counts
        return out

    def predict(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Outputs by canonical role; X are contract-dtype rows carried as float64 (string columns as codes)."""
        if self.kind == "coreml":
            return _coreml_predict(self, X)
        return _onnx_predict(self, X)


@dataclass(frozen=True)
class ArtifactInput:
    """One declared input of an artifact. `width` values per row (None: dynamic, takes the remaining columns);
    `rank` is the ONNX tensor rank (1: [N], 2: [N, w]) or, for Core ML, 0 for a scalar feature (Double, Int64,
    String) and 1 for a MultiArray."""

    name: str
    kind: Literal["double", "float", "int64", "string"]
    width: int | None
    rank: int
    terms: tuple[str, ...] | None = None  # Core ML Dictionary input of a text column: the keys its DictVectorizer knows

    def values(self, matrix: np.ndarray) -> np.ndarray:
        """The feed for this input from its columns' contract values, (n, width): float64 or object (str)."""
        if self.kind == "string":
            # Guard the ORT Python binding trap (categorical-semantics.md §4.1): it str()-converts any object, so a
            # None or NaN would silently become "None"/"nan". The contract feeds strings only ("" for missing).
            if not all(isinstance(v, str) for v in matrix.ravel().tolist()):
                raise ArtifactError(f"input {self.name!r}: a non-string value reached a string input")
        else:
            matrix = np.asarray(matrix, dtype=np.float64)
            if self.kind == "float":
                with np.errstate(over="ignore"):
                    matrix = matrix.astype(np.float32)
            elif self.kind == "int64":
                if not np.all(np.isfinite(matrix)) or not np.all(matrix == np.round(matrix)):
                    raise ArtifactError(f"input {self.name!r} is int64: it cannot take a missing (NaN), infinite or "
                                        f"fractional value")
                matrix = matrix.astype(np.int64)
        if self.rank <= 1:
            return np.ascontiguousarray(matrix[:, 0] if self.rank == 0 or matrix.shape[1] == 1 else matrix.ravel())
        return np.ascontiguousarray(matrix)


def bind_inputs(path: Path, inputs: Sequence[ArtifactInput], names: Sequence[str] | None,
                n_features: int) -> list[np.ndarray]:
    """Column indices per input: by name when every input is named after a column and takes one value, else in
    column order by the inputs' widths (one dynamic width takes what the others leave)."""
    by_name = names is not None and inputs and all(i.name in names and i.width in (1, None) for i in inputs)
    if by_name and names is not None and len({i.name for i in inputs}) == len(inputs):
        return [np.array([list(names).index(i.name)], dtype=np.int64) for i in inputs]
    known = sum(i.width for i in inputs if i.width is not None)
    dynamic = [i for i in inputs if i.width is None]
    if len(dynamic) > 1 or (not dynamic and known != n_features) or known > n_features:
        layout = ", ".join(f"{i.name}:{i.width if i.width is not None else '?'}" for i in inputs)
        raise ArtifactError(f"{path}: inputs ({layout}) do not match the model's {n_features} columns by name or by "
                            f"position")
    bound, start = [], 0
    for feature in inputs:
        width = feature.width if feature.width is not None else n_features - known
        bound.append(np.arange(start, start + width, dtype=np.int64))
        start += width
    return bound


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
    inputs = [_onnx_input(path, i) for i in session.get_inputs()]
    dtype: Literal["float32", "float64"] = "float32" if any(i.kind == "float" for i in inputs) else "float64"
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
        inputs=inputs,
    )


_ONNX_INPUT_KINDS: dict[str, Literal["double", "float", "int64", "string"]] = {
    "tensor(double)": "double", "tensor(float)": "float", "tensor(int64)": "int64", "tensor(string)": "string"}


def _onnx_input(path: Path, node_arg: Any) -> ArtifactInput:
    kind = _ONNX_INPUT_KINDS.get(node_arg.type)
    shape = list(node_arg.shape or [])
    if kind is None or len(shape) not in (1, 2):
        raise ArtifactError(f"{path}: input {node_arg.name!r} is {node_arg.type} of shape {shape}; supported: "
                            f"{', '.join(_ONNX_INPUT_KINDS)} of shape [N] or [N, n]")
    width = 1 if len(shape) == 1 else (shape[1] if isinstance(shape[1], int) and shape[1] > 0 else None)
    return ArtifactInput(node_arg.name, kind, width, len(shape))


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
    names = list(artifact.roles)
    values = session.run(names, artifact.feeds(X))
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
                        roles=roles, class_labels=class_labels, dtype="float64", handle=spec,
                        inputs=[_coreml_input(path, feature, dictionary_terms(spec))
                                for feature in spec.description.input])
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


_COREML_INPUT_KINDS: dict[str, Literal["double", "int64", "string"]] = {
    "doubleType": "double", "int64Type": "int64", "stringType": "string", "multiArrayType": "double"}


def dictionary_terms(spec: Any) -> dict[str, tuple[str, ...]]:
    """{input name: stringToIndex} of the DictVectorizers reading a String-keyed Dictionary input."""
    found: dict[str, tuple[str, ...]] = {}
    kind = spec.WhichOneof("Type") or ""
    if kind in ("pipeline", "pipelineClassifier", "pipelineRegressor"):
        pipeline = spec.pipeline if kind == "pipeline" else getattr(spec, kind).pipeline
        for sub in pipeline.models:
            found.update(dictionary_terms(sub))
    elif kind == "dictVectorizer" and spec.dictVectorizer.WhichOneof("Map") == "stringToIndex":
        found[spec.description.input[0].name] = tuple(spec.dictVectorizer.stringToIndex.vector)
    return found


def _coreml_input(path: Path, feature: Any, terms: dict[str, tuple[str, ...]] | None = None) -> ArtifactInput:
    """A Core ML input feature: Double / Int64 / String take one column; a MultiArray its elements (fed as
    doubles: the evaluator and Core ML convert to the array's dataType); a String-keyed Dictionary read by a
    DictVectorizer is a text column's term counts (one column of documents)."""
    which = feature.type.WhichOneof("Type")
    if which == "dictionaryType" and terms and feature.name in terms:
        return ArtifactInput(feature.name, "string", 1, 0, terms=terms[feature.name])
    kind = _COREML_INPUT_KINDS.get(which or "")
    if kind is None:
        raise ArtifactError(f"{path}: input {feature.name!r} is {which}; supported: "
                            f"{', '.join(_COREML_INPUT_KINDS)}")
    if which != "multiArrayType":
        return ArtifactInput(feature.name, kind, 1, 0)
    shape = [int(d) for d in feature.type.multiArrayType.shape]
    width = int(np.prod(shape)) if shape and all(d > 0 for d in shape) else None
    return ArtifactInput(feature.name, kind, width, 2)


def coreml_inputs(artifact: Artifact, X: np.ndarray) -> dict[str, np.ndarray]:
    """{input name: values} for the Core ML artifact: MultiArray (n, w), Double/Int64/String (n,)."""
    return artifact.feeds(X)


def _coreml_predict(artifact: Artifact, X: np.ndarray) -> dict[str, np.ndarray]:
    reference = importlib.import_module("parity.coreml_reference")
    if not hasattr(reference, "predict"):
        raise ArtifactError("Core ML reference evaluator unavailable: parity.coreml_reference.predict is missing")
    inputs = coreml_inputs(artifact, X)
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
    raw = native.native_predict(str(artifact.path), coreml_inputs(artifact, X))
    return _coreml_by_role(artifact, raw, len(X))


# ----------------------------------------------------------------------------------------------------------------
# Categories the artifacts know, per string input (for the string-category probes)

# Ops/models that pass a string column through unchanged in shape, so an encoder behind them still reads that column.
_ONNX_PASS_THROUGH = ("Identity", "Reshape", "Squeeze", "Unsqueeze", "Flatten")
_COREML_PASS_THROUGH = ("imputer", "identity")


def artifact_categories(opened: Sequence[Artifact], names: Sequence[str] | None,
                        n_features: int) -> dict[str, list[str]]:
    """{column: categories} read from each artifact's own encoders of its string inputs: Core ML OneHotEncoder
    `stringCategories` and CategoricalMapping `stringToInt64Map` keys; ONNX (ai.onnx.ml) LabelEncoder
    `keys_strings` / string `keys_tensor`, OneHotEncoder and CategoryMapper `cats_strings`."""
    labels = list(names) if names is not None else [f"x{j}" for j in range(n_features)]
    found: dict[str, list[str]] = {}
    for artifact in opened:
        bound = bind_inputs(artifact.path, artifact.inputs, names, n_features)
        column_of = {feature.name: labels[int(columns[0])] for feature, columns in zip(artifact.inputs, bound,
                                                                                      strict=True)
                     if feature.kind == "string" and len(columns) == 1}
        if not column_of:
            continue
        per_input = (_coreml_categories(artifact.handle) if artifact.kind == "coreml"
                     else _onnx_categories(artifact.path) if artifact.kind == "onnx" else {})
        for input_name, categories in per_input.items():
            column = column_of.get(input_name)
            if column is not None:
                known = found.setdefault(column, [])
                known += [c for c in categories if c not in known]
    return found


def _coreml_categories(spec: Any) -> dict[str, list[str]]:
    alias = {feature.name: feature.name for feature in spec.description.input}
    found: dict[str, list[str]] = {}

    def visit(model: Any) -> None:
        kind = model.WhichOneof("Type")
        if kind in ("pipeline", "pipelineClassifier", "pipelineRegressor"):
            for sub in (model.pipeline if kind == "pipeline" else getattr(model, kind).pipeline).models:
                visit(sub)
            return
        inputs, outputs = list(model.description.input), list(model.description.output)
        if len(inputs) != 1 or inputs[0].name not in alias:
            return
        source = alias[inputs[0].name]
        if kind in _COREML_PASS_THROUGH and outputs:
            alias[outputs[0].name] = source
        elif kind == "oneHotEncoder" and model.oneHotEncoder.WhichOneof("CategoryType") == "stringCategories":
            found.setdefault(source, []).extend(model.oneHotEncoder.stringCategories.vector)
        elif kind == "categoricalMapping" and model.categoricalMapping.WhichOneof("MappingType") == "stringToInt64Map":
            found.setdefault(source, []).extend(sorted(model.categoricalMapping.stringToInt64Map.map))

    visit(spec)
    return found


def _onnx_categories(path: Path) -> dict[str, list[str]]:
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path), load_external_data=False).graph
    alias = {i.name: i.name for i in graph.input}
    found: dict[str, list[str]] = {}
    for node in graph.node:  # nodes are topologically sorted (ONNX IR)
        if not node.input or node.input[0] not in alias:
            continue
        source = alias[node.input[0]]
        if node.op_type in _ONNX_PASS_THROUGH:
            alias[node.output[0]] = source
            continue
        for attribute in node.attribute:
            strings: list[str] = []
            if node.op_type == "LabelEncoder" and attribute.name == "keys_strings":
                strings = [s.decode("utf-8") for s in attribute.strings]
            elif node.op_type == "LabelEncoder" and attribute.name == "keys_tensor":
                keys = numpy_helper.to_array(attribute.t)
                if keys.dtype.kind in "OSU":
                    strings = [k.decode("utf-8") if isinstance(k, bytes) else str(k) for k in keys.ravel().tolist()]
            elif node.op_type in ("OneHotEncoder", "CategoryMapper") and attribute.name == "cats_strings":
                strings = [s.decode("utf-8") for s in attribute.strings]
            if strings:
                found.setdefault(source, []).extend(strings)
    return found


# ----------------------------------------------------------------------------------------------------------------
# Feeding an artifact straight from a data file (mlexport predict on models with string inputs)


def declared_inputs(path: Path) -> list[ArtifactInput]:
    """The inputs an artifact declares (name, kind, width), read from the file itself; no roles metadata needed."""
    path = Path(path)
    if path.suffix.lower() == ".mlmodel":
        from parity.coreml_reference.spec_loading import load_model

        return [_coreml_input(path, feature) for feature in load_model(path).description.input]
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph classes
        raise ArtifactError(f"{path}: onnxruntime cannot load the model ({type(exc).__name__}: {exc})") from exc
    return [_onnx_input(path, i) for i in session.get_inputs()]


def feeds_from_data(path: Path, inputs: Sequence[ArtifactInput], data: str | Path,
                    column_names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """{input name: values} for an artifact with one input per column (string inputs included), from a .csv or
    .parquet whose columns are `column_names` (default: the input names), matched by name. Values follow the
    contract (parity/columns.py): strings NFC with "" for missing, numbers as each input's dtype."""
    from parity.columns import schema_from_frame
    from parity.data import read_frame

    if any(i.width != 1 for i in inputs):
        layout = ", ".join(f"{i.name}:{i.width}" for i in inputs)
        raise ArtifactError(f"{path}: inputs ({layout}) mix string and multi-column inputs; supported for data files: "
                            f"one input per column")
    names = list(column_names) if column_names is not None else [i.name for i in inputs]
    kinds: dict[str, Any] = {name: "string" if i.kind == "string" else "int64" if i.kind == "int64" else "double"
                             for name, i in zip(names, inputs, strict=True)}
    frame = read_frame(data, len(names), names, kinds)
    schema = schema_from_frame(frame, names, kinds, str(data))
    X = schema.encode_frame(frame, str(data))
    artifact = Artifact(path=Path(path), kind="coreml", runtime="", roles={}, class_labels=None, dtype="float64",
                        inputs=list(inputs))
    artifact.bound = [np.array([j], dtype=np.int64) for j in range(len(inputs))]  # columns already in input order
    artifact.schema = schema
    return artifact.feeds(X)
