"""Reading artifacts back: `mlexport inspect` (interface and metadata) and `mlexport predict` (run one on data).

Works on any .mlmodel, .onnx or .ort file, not only ours, so app developers can check what they were handed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from export.errors import InputFileError, describe_exception

ARTIFACT_SUFFIXES = (".mlmodel", ".onnx", ".ort")


def _check_artifact(path: Path) -> str:
    if not path.is_file():
        raise InputFileError(f"artifact '{path}' does not exist")
    suffix = path.suffix.lower()
    if suffix not in ARTIFACT_SUFFIXES:
        raise InputFileError(f"artifact '{path}': unknown kind '{suffix}'; allowed: {', '.join(ARTIFACT_SUFFIXES)}")
    return suffix


def describe_artifact(path: Path) -> dict[str, Any]:
    """Inputs, outputs, types, class labels, metadata, model kind and size of an artifact."""
    suffix = _check_artifact(path)
    info: dict[str, Any] = {"file": str(path), "bytes": path.stat().st_size}
    if suffix == ".mlmodel":
        info.update(_describe_mlmodel(path))
    elif suffix == ".onnx":
        info.update(_describe_onnx(path))
    else:
        info.update(_describe_ort(path))
    return info


def _feature_type(feature_type: Any) -> str:
    kind = feature_type.WhichOneof("Type")
    if kind == "multiArrayType":
        from coremltools.proto import FeatureTypes_pb2

        array = feature_type.multiArrayType
        dtype = FeatureTypes_pb2.ArrayFeatureType.ArrayDataType.Name(array.dataType)
        return f"MultiArray<{dtype}>{list(array.shape)}"
    if kind == "dictionaryType":
        return f"Dictionary<{feature_type.dictionaryType.WhichOneof('KeyType').replace('KeyType', '')}, Double>"
    return {"doubleType": "Double", "int64Type": "Int64", "stringType": "String"}.get(kind or "", str(kind))


def _load_mlmodel(path: Path) -> Any:
    from parity.coreml_reference.spec_loading import load_model
    from parity.errors import CoreMLSpecError

    try:
        return load_model(path)
    except CoreMLSpecError as exc:
        raise InputFileError(f"artifact '{path}' is not a readable Core ML model ({exc})") from None


def _describe_mlmodel(path: Path) -> dict[str, Any]:
    from parity.coreml_reference import class_labels

    spec = _load_mlmodel(path)
    description = spec.description
    meta = description.metadata
    return {
        "format": "coreml",
        "model_kind": spec.WhichOneof("Type"),
        "specification_version": spec.specificationVersion,
        "inputs": [{"name": f.name, "type": _feature_type(f.type), "description": f.shortDescription}
                   for f in description.input],
        "outputs": [{"name": f.name, "type": _feature_type(f.type), "description": f.shortDescription}
                    for f in description.output],
        "predicted_feature": description.predictedFeatureName or None,
        "predicted_probabilities": description.predictedProbabilitiesName or None,
        "class_labels": _plain(class_labels(spec)),
        "metadata": {"author": meta.author, "license": meta.license, "version": meta.versionString,
                     "short_description": meta.shortDescription,
                     "user_defined": dict(sorted(meta.userDefined.items()))},
    }


def _tensor_type(value_info: Any) -> str:
    import onnx

    tensor = value_info.type.tensor_type
    dims = ["N" if d.dim_param else (d.dim_value if d.HasField("dim_value") else "?") for d in tensor.shape.dim]
    return f"{onnx.TensorProto.DataType.Name(tensor.elem_type).lower()}{dims}"


def _describe_onnx(path: Path) -> dict[str, Any]:
    import onnx

    try:
        model = onnx.load(str(path))
    except Exception as exc:
        raise InputFileError(f"artifact '{path}' is not a readable ONNX model ({type(exc).__name__})") from None
    meta = {p.key: p.value for p in model.metadata_props}
    initializers = {i.name for i in model.graph.initializer}
    return {
        "format": "onnx",
        "model_kind": ", ".join(sorted({f"{n.domain or 'ai.onnx'}:{n.op_type}" for n in model.graph.node})),
        "opset": {o.domain or "ai.onnx": o.version for o in model.opset_import},
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "inputs": [{"name": i.name, "type": _tensor_type(i)} for i in model.graph.input if i.name not in initializers],
        "outputs": [{"name": o.name, "type": _tensor_type(o)} for o in model.graph.output],
        "class_labels": json.loads(meta["mlexport.class_labels"]) if "mlexport.class_labels" in meta else None,
        "metadata": dict(sorted(meta.items())),
    }


def _describe_ort(path: Path) -> dict[str, Any]:
    session = _ort_session(path)
    meta = session.get_modelmeta()
    custom = dict(sorted(meta.custom_metadata_map.items()))
    return {
        "format": "ort",
        "model_kind": "ORT format (ONNX Runtime Mobile)",
        "producer": meta.producer_name,
        "inputs": [{"name": i.name, "type": f"{i.type}{i.shape}"} for i in session.get_inputs()],
        "outputs": [{"name": o.name, "type": f"{o.type}{o.shape}"} for o in session.get_outputs()],
        "class_labels": json.loads(custom["mlexport.class_labels"]) if "mlexport.class_labels" in custom else None,
        "metadata": custom,
    }


def _ort_session(path: Path) -> Any:
    import onnxruntime as ort

    try:
        return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise InputFileError(f"artifact '{path}' cannot be loaded by onnxruntime ({describe_exception(exc)})") from None


def _plain(values: Any) -> Any:
    if values is None:
        return None
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def format_description(info: dict[str, Any]) -> str:
    """Human-readable text of `describe_artifact`'s result."""
    lines = [f"{info['file']} ({info['format']}, {info['bytes']:,} bytes)", f"  kind: {info['model_kind']}"]
    if "specification_version" in info:
        lines.append(f"  specification version: {info['specification_version']}")
    if "opset" in info:
        lines.append("  opset: " + ", ".join(f"{k}={v}" for k, v in info["opset"].items()))
    lines.append("  inputs:")
    lines += [f"    {i['name']}: {i['type']}" + (f"  — {i['description']}" if i.get("description") else "")
              for i in info["inputs"]]
    lines.append("  outputs:")
    lines += [f"    {o['name']}: {o['type']}" + (f"  — {o['description']}" if o.get("description") else "")
              for o in info["outputs"]]
    if info.get("class_labels") is not None:
        lines.append(f"  class labels: {info['class_labels']}")
    meta = info.get("metadata") or {}
    if meta:
        lines.append("  metadata:")
        for key, value in meta.items():
            if isinstance(value, dict):
                lines += [f"    {key}.{k}: {v}" for k, v in value.items()]
            elif value:
                lines.append(f"    {key}: {value}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------------
# mlexport predict


def _n_features(info: dict[str, Any]) -> int:
    """Number of data columns an artifact takes: one per Double/Int64 input, a MultiArray's or tensor's width."""
    total = 0
    for item in info["inputs"]:
        kind = item["type"]
        if kind.startswith("MultiArray"):
            total += int(np.prod(json.loads(kind[kind.index("["):])))
        elif kind in ("Double", "Int64"):
            total += 1
        elif "[" in kind and kind.rstrip("]").split(",")[-1].strip().isdigit():
            total += int(kind.rstrip("]").split(",")[-1])
        else:
            raise InputFileError(f"artifact '{info['file']}': input '{item['name']}' of type {kind} cannot be fed "
                                 "from a numeric data file")
    return total


def predict_artifact(artifact: Path, data: Path) -> dict[str, np.ndarray]:
    """Run `artifact` on the rows of `data`: {output name: values}. Core ML runs through the reference evaluator."""
    from parity.data import load_table
    from parity.errors import DataFileError

    info = describe_artifact(artifact)
    typed = _predict_typed(artifact, data)
    if typed is not None:
        return typed
    try:
        X, _ = load_table(data, _n_features(info))
    except DataFileError as exc:
        raise InputFileError(str(exc)) from None
    if info["format"] == "coreml":
        from parity.coreml_reference import predict

        return predict(artifact, X)
    session = _ort_session(artifact)
    (model_input,) = session.get_inputs()
    dtype = np.float32 if "float)" in model_input.type or model_input.type == "tensor(float)" else np.float64
    names = [o.name for o in session.get_outputs()]
    values = session.run(names, {model_input.name: X.astype(dtype)})
    return {name: np.asarray(value) for name, value in zip(names, values, strict=True)}


def _predict_typed(artifact: Path, data: Path) -> dict[str, np.ndarray] | None:
    """An artifact with String/string inputs (one per DataFrame column): rows read by column name and kind from a
    .csv / .parquet file and fed as an app would (strings NFC, a missing string as ""); outputs by their names.
    None for an artifact of numeric inputs only (the numeric path above)."""
    from parity.columns import schema_from_frame
    from parity.data import read_frame
    from parity.errors import ArtifactError, DataFileError, ParityInputError
    from parity.runtimes import open_artifact

    try:
        opened = open_artifact(artifact)
    except ArtifactError as exc:
        raise InputFileError(str(exc)) from None
    if not any(feature.kind == "string" for feature in opened.inputs):
        return None
    names = [feature.name for feature in opened.inputs]
    kinds: dict[str, str] = {feature.name: feature.kind for feature in opened.inputs}
    try:
        frame = read_frame(data, len(names), names, kinds)
        schema = schema_from_frame(frame, names, kinds, str(data))  # type: ignore[arg-type]
        X = schema.encode_frame(frame, str(data))
        opened.bind(names, len(names), schema)
        outputs = opened.predict(X)
    except (DataFileError, ParityInputError, ArtifactError) as exc:
        raise InputFileError(str(exc)) from None
    by_role = {role: name for name, role in opened.roles.items()}
    return {by_role.get(role, role): np.asarray(values) for role, values in outputs.items()}
