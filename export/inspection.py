"""Reading artifacts back: `mlexport inspect` (interface and metadata) and `mlexport predict` (run one on data).

Works on any .mlmodel, .onnx or .ort file, not only ours, so app developers can check what they were handed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from export.errors import InputFileError, describe_exception
from export.path_checks import existing_file
from parity.data import FEATURE_NAMES_KEY

ARTIFACT_SUFFIXES = (".mlmodel", ".onnx", ".ort")


def _check_artifact(path: Path) -> str:
    existing_file(path, "artifact")
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
    inputs = [f.name for f in description.input]
    return {
        "input_name_mapping": _renamed(meta.userDefined.get(FEATURE_NAMES_KEY), inputs),
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


def _renamed(recorded_names: str | None, inputs: list[str]) -> dict[str, str]:
    """{training column: artifact input} for the columns whose input got a sanitised name (one input per column;
    the training names are the `mlexport.feature_names` metadata, in input order)."""
    recorded = _json_list(recorded_names)
    if recorded is None or len(recorded) != len(inputs):
        return {}
    return {original: name for original, name in zip(recorded, inputs, strict=True) if original != name}


def _json_list(text: str | None) -> list[str] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return [str(v) for v in value] if isinstance(value, list) else None


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
    inputs = [i.name for i in model.graph.input if i.name not in initializers]
    return {
        "input_name_mapping": _renamed(meta.get(FEATURE_NAMES_KEY), inputs),
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
        "input_name_mapping": _renamed(custom.get(FEATURE_NAMES_KEY), [i.name for i in session.get_inputs()]),
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
    if info.get("input_name_mapping"):
        target = "for Swift (training column -> Core ML input)" if info["format"] == "coreml" else \
            "like the Core ML inputs (training column -> ONNX input)"
        lines.append(f"  inputs renamed {target}:")
        lines += [f"    {original!r} -> {name}" for original, name in info["input_name_mapping"].items()]
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


def _expected_names(info: dict[str, Any]) -> tuple[list[str] | None, list[str] | None]:
    """(names, aliases) a data file's columns are matched against: the training column names an mlexport export
    records (`mlexport.feature_names`), and for a Core ML model with one scalar input per column its input names
    (which may be rewritten for Swift: both spellings are accepted). (None, None): match by position only."""
    meta = info.get("metadata") or {}
    recorded = _json_list((meta.get("user_defined") or {}).get(FEATURE_NAMES_KEY) if info["format"] == "coreml"
                          else meta.get(FEATURE_NAMES_KEY))
    scalar_inputs = [i["name"] for i in info["inputs"] if i["type"] in ("Double", "Int64")]
    named_inputs = scalar_inputs if info["format"] == "coreml" and len(scalar_inputs) == len(info["inputs"]) else None
    if recorded is not None and named_inputs is not None and len(recorded) != len(named_inputs):
        recorded = None  # metadata that does not describe these inputs: trust the inputs themselves
    if recorded is not None:
        return recorded, named_inputs
    return named_inputs, None


def probability_labels(info: dict[str, Any], outputs: dict[str, np.ndarray]) -> dict[str, list[str]]:
    """{output name: column labels} for the class-probability outputs: the class labels, in score order."""
    labels = info.get("class_labels")
    if not labels:
        return {}
    names = [info["predicted_probabilities"]] if info.get("predicted_probabilities") else list(outputs)
    return {name: [str(label) for label in labels] for name in names
            if name in outputs and np.ndim(outputs[name]) == 2 and np.shape(outputs[name])[1] == len(labels)
            and np.asarray(outputs[name]).dtype.kind == "f"}


def predict_artifact(artifact: Path, data: Path) -> dict[str, np.ndarray]:
    """Run `artifact` on the rows of `data`: {output name: values}. Core ML runs through the reference evaluator.

    Data columns are matched by name whenever the artifact records names (reordered when the set is the model's,
    refused naming the column when one is missing, extra or renamed), exactly as the export's parity check reads
    the same file."""
    from parity.data import load_table
    from parity.errors import DataFileError

    info = describe_artifact(artifact)
    if any(i["type"] == "String" or i["type"].startswith(("string[", "tensor(string)")) for i in info["inputs"]):
        return _predict_typed(artifact, data, info)
    names, aliases = _expected_names(info)
    try:
        X, _ = load_table(data, _n_features(info), names, aliases)
    except DataFileError as exc:
        raise InputFileError(str(exc)) from None
    if info["format"] == "coreml":
        from parity.coreml_reference import predict

        return predict(artifact, X)
    session = _ort_session(artifact)
    (model_input,) = session.get_inputs()
    dtype = np.float32 if "float)" in model_input.type or model_input.type == "tensor(float)" else np.float64
    output_names = [o.name for o in session.get_outputs()]
    values = session.run(output_names, {model_input.name: X.astype(dtype)})
    return {name: np.asarray(value) for name, value in zip(output_names, values, strict=True)}


def _predict_typed(artifact: Path, data: Path, info: dict[str, Any]) -> dict[str, np.ndarray]:
    """An artifact with string inputs (one input per column): the data file's columns are matched by the training
    names the export recorded (else the input names) and fed by the contract (parity.runtimes.feeds_from_data)."""
    from parity.errors import DataFileError, ParityError
    from parity.runtimes import declared_inputs, feeds_from_data

    names, _ = _expected_names(info)
    inputs = declared_inputs(artifact)
    try:
        feeds = feeds_from_data(artifact, inputs, data,
                                names if names is not None and len(names) == len(inputs) else None)
    except (DataFileError, ParityError) as exc:
        raise InputFileError(str(exc)) from None
    if info["format"] == "coreml":
        from parity.coreml_reference import predict

        return predict(artifact, feeds)
    session = _ort_session(artifact)
    output_names = [o.name for o in session.get_outputs()]
    values = session.run(output_names, feeds)
    return {name: np.asarray(value) for name, value in zip(output_names, values, strict=True)}
