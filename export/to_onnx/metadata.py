"""ONNX model metadata (producer, doc string, `mlexport.*` metadata_props) and deterministic, atomic saving."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path

import onnx

from export import ir
from export.errors import OutputDirError
from export.to_onnx.heads import HeadOutput
from export.to_onnx.options import OnnxOptions

PRODUCER_NAME = "mlexport"


def _version(distribution: str) -> str:
    try:
        return importlib_metadata.version(distribution)
    except importlib_metadata.PackageNotFoundError:
        return "not installed"


def library_versions(route: str) -> dict[str, str]:
    """Versions that determine the bytes and semantics of the artifact (onnx-parity.md §5: record them)."""
    versions = {name: _version(name) for name in ("mlexport", "onnx", "onnxruntime", "scikit-learn", "numpy")}
    if route == "skl2onnx":
        versions["skl2onnx"] = _version("skl2onnx")
    return versions


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def apply_metadata(model: onnx.ModelProto, *, options: OnnxOptions, schema: ir.Schema, heads: Sequence[HeadOutput],
                   class_labels: Sequence[object] | None, route: str, opsets: Mapping[str, int],
                   source_name: str) -> None:
    """Sets producer, doc_string and metadata_props (sorted by key, so the bytes do not depend on dict order).

    `options.metadata` entries are written first; the writer's own `mlexport.*` keys (output roles, input dtype,
    route, opsets, versions, labels) then override any caller entry of the same key, because they describe the
    graph actually built."""
    versions = library_versions(route)
    entries: dict[str, str] = dict(options.metadata)
    entries.update({
        "mlexport.output_roles": _json({h.name: h.role for h in heads}),
        "mlexport.feature_names": _json(None if schema.is_block else list(schema.names)),
        "mlexport.input_dtype": options.input_dtype,
        "mlexport.input_name": options.input_name,
        "mlexport.onnx_route": route,
        "mlexport.target_opset": _json(dict(opsets)),
        "mlexport.versions": _json(versions),
    })
    if class_labels is not None:
        entries["mlexport.class_labels"] = _json(list(class_labels))
    del model.metadata_props[:]
    for key in sorted(entries):
        prop = model.metadata_props.add()
        prop.key = key
        prop.value = str(entries[key])
    model.producer_name = PRODUCER_NAME
    model.producer_version = versions["mlexport"]
    outputs = ", ".join(f"{h.name} ({h.role})" for h in heads)
    model.doc_string = f"{source_name} exported by mlexport via the {route} route. {_describe_inputs(model)}. " \
                       f"Outputs: {outputs}."


def _describe_inputs(model: onnx.ModelProto) -> str:
    """'Input 'input': [N, 4] float64' — or one entry per input of a per-column graph."""
    names = {onnx.TensorProto.DOUBLE: "float64", onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT64: "int64",
             onnx.TensorProto.STRING: "string"}
    described = []
    for value in model.graph.input:
        tensor = value.type.tensor_type
        dims = ", ".join(d.dim_param or str(d.dim_value) for d in tensor.shape.dim)
        described.append(f"{value.name!r}: [{dims}] {names.get(tensor.elem_type, str(tensor.elem_type))}")
    return ("Input " if len(described) == 1 else "Inputs ") + ", ".join(described)


def save_onnx(model: onnx.ModelProto, path: str | os.PathLike[str]) -> Path:
    """Writes `model` with deterministic protobuf serialisation (same model -> same bytes), atomically: a temporary
    file in the same directory is renamed over `path`, so a reader never sees a partial file."""
    target = Path(path)
    data = model.SerializeToString(deterministic=True)
    tmp_name: str | None = None
    try:
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp",
                                         delete=False) as handle:
            tmp_name = handle.name
            handle.write(data)
        os.chmod(tmp_name, 0o644)  # NamedTemporaryFile creates 0600; an exported model is an ordinary file
        os.replace(tmp_name, target)
    except OSError as exc:
        if tmp_name is not None and os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise OutputDirError(f"cannot write ONNX model to {target}: {exc}") from exc
    return target
