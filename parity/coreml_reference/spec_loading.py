"""Entry step of the Core ML reference evaluator: import coremltools' protobuf modules quietly and load a spec."""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from parity.errors import CoreMLSpecError


@contextlib.contextmanager
def quiet_coremltools() -> Iterator[None]:
    """Import coremltools modules without its noise. Importing any coremltools module runs coremltools/__init__,
    which logs (through the "coremltools" logger) a scikit-learn version-gate warning and "Failed to load
    _MLModelProxy" lines on Linux; we only need the generated protobuf classes (and, on macOS, the Core ML bridge),
    so that logger and Python warnings are silenced for the import. Shared by the evaluator and export's writer."""
    core_logger = logging.getLogger("coremltools")
    previous_level = core_logger.level
    core_logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        core_logger.setLevel(previous_level)


def _import_proto_modules() -> tuple[Any, Any]:
    with quiet_coremltools():
        from coremltools.proto import FeatureTypes_pb2, Model_pb2
    return Model_pb2, FeatureTypes_pb2


Model_pb2, FeatureTypes_pb2 = _import_proto_modules()

# The largest spec we agree to parse; a classic .mlmodel is a single protobuf message (protobuf caps at 2 GiB).
_MAX_SPEC_BYTES = 2**31 - 1


def load_model(model: Any) -> Any:
    """Return a `Model_pb2.Model` for a path (str/Path to a classic .mlmodel) or an already-parsed Model message."""
    if isinstance(model, Model_pb2.Model):
        return model
    if isinstance(model, str | os.PathLike):
        path = Path(model)
        if path.is_dir():
            raise CoreMLSpecError(
                f"{path}: is a directory (an .mlpackage?); only classic single-file .mlmodel specs are supported"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CoreMLSpecError(f"{path}: cannot read the .mlmodel file ({exc.strerror or exc})") from exc
        return parse_model_bytes(data, origin=str(path))
    if isinstance(model, bytes | bytearray | memoryview):
        return parse_model_bytes(bytes(model), origin="<bytes>")
    raise CoreMLSpecError(
        f"model must be a path to a .mlmodel, serialized bytes or a coremltools.proto.Model_pb2.Model, "
        f"got {type(model).__name__}"
    )


def parse_model_bytes(data: bytes, origin: str) -> Any:
    """Parse serialized Model bytes; a truncated or corrupt file raises CoreMLSpecError naming `origin`."""
    if len(data) == 0:
        raise CoreMLSpecError(f"{origin}: empty file is not a Core ML Model spec")
    if len(data) > _MAX_SPEC_BYTES:
        raise CoreMLSpecError(f"{origin}: {len(data)} bytes exceeds protobuf's 2 GiB message limit")
    spec = Model_pb2.Model()
    try:
        spec.ParseFromString(data)
    except Exception as exc:  # google.protobuf.message.DecodeError and RecursionError from hostile nesting
        raise CoreMLSpecError(f"{origin}: not a valid Core ML Model protobuf ({type(exc).__name__}: {exc})") from exc
    return spec
