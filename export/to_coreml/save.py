"""Last step of the Core ML writer: a validated spec → NAME.mlmodel, atomically and byte-reproducibly."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from export.errors import OutputDirError
from export.to_coreml.protos import Spec
from export.to_coreml.validate import validate_spec


def spec_bytes(spec: Spec) -> bytes:
    """Deterministic serialisation (map entries such as metadata.userDefined sorted), so equal specs give equal
    files."""
    return bytes(spec.SerializeToString(deterministic=True))


def save_spec(spec: Spec, path: str | os.PathLike[str], validate: bool = True) -> Path:
    """Validate `spec`, then write it to `path` (.mlmodel) via a temporary file and os.replace.

    `validate=False` is for a spec `to_spec` has just returned (it validates before returning, and validating a
    300-tree forest again costs as much as writing it); specs from anywhere else should keep the default."""
    target = Path(path)
    if target.suffix != ".mlmodel":
        raise OutputDirError(f"{target}: a classic Core ML model file must end in .mlmodel")
    if validate:
        validate_spec(spec)
    data = spec_bytes(spec)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputDirError(f"{directory}: cannot write the Core ML model ({exc.strerror or exc})") from exc
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)  # mkstemp creates 0600; a shipped model is an ordinary readable file
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
