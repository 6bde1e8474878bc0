"""ONNX -> ORT format (.ort) for ONNX Runtime Mobile, plus the `required_operators.config` for reduced builds."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from export.errors import ExportFailedError, InputFileError

# "basic" graph optimisations only (constant folding, redundant-node removal): they keep the .ort graph made of the
# same standard operators as the .onnx, with no hardware-specific fused kernels, so the .ort runs on any device
# build that runs the .onnx. The converter reads this level from the environment.
_OPTIMIZATION_LEVEL = "basic"
CONFIG_NAME = "required_operators.config"


def to_ort(onnx_path: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Converts `onnx_path` with onnxruntime.tools.convert_onnx_models_to_ort (optimization style Fixed) and writes
    exactly two files into `out_dir`: `<stem>.ort` and `required_operators.config`. Returns their paths."""
    source = Path(onnx_path)
    if not source.is_file():
        raise InputFileError(f"ONNX model {source} does not exist")
    target_dir = Path(out_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    ort_path = target_dir / f"{source.stem}.ort"
    config_path = target_dir / CONFIG_NAME
    with tempfile.TemporaryDirectory(prefix="mlexport-ort-") as work:
        work_dir = Path(work)
        model_copy = work_dir / "model.onnx"  # the converter names outputs after the input file: use a fixed name
        shutil.copyfile(source, model_copy)
        converted = work_dir / "converted"
        env = dict(os.environ, ORT_CONVERT_ONNX_MODELS_TO_ORT_OPTIMIZATION_LEVEL=_OPTIMIZATION_LEVEL)
        command = [sys.executable, "-m", "onnxruntime.tools.convert_onnx_models_to_ort", str(model_copy),
                   "--output_dir", str(converted), "--optimization_style", "Fixed", "--target_platform", "arm"]
        result = subprocess.run(_without_aslr(command), capture_output=True, text=True, env=env, check=False,
                                cwd=work_dir)
        if result.returncode != 0 and "personality" in result.stderr:  # setarch refused (e.g. seccomp): plain run
            result = subprocess.run(command, capture_output=True, text=True, env=env, check=False, cwd=work_dir)
        produced_ort = sorted(converted.glob("*.ort"))
        produced_config = sorted(converted.glob("*.config"))
        if result.returncode != 0 or len(produced_ort) != 1 or len(produced_config) != 1:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ExportFailedError(f"ORT conversion of {source} failed (exit {result.returncode}): {tail[0]}")
        # Anything else the converter writes (logs, optimised copies) stays in the temporary directory.
        shutil.move(produced_ort[0], ort_path)
        # The config's header comment names the temporary model path; name the shipped file instead so the
        # config's bytes do not depend on where the conversion ran.
        lines = produced_config[0].read_text(encoding="utf-8").splitlines()
        lines = [f"# - {ort_path.name}" if line.startswith("# - ") else line for line in lines]
        _write_atomically(config_path, "\n".join(lines) + "\n")
    return ort_path, config_path


def _without_aslr(command: list[str]) -> list[str]:
    """Runs the converter with address-space randomisation off where Linux `setarch -R` exists. With ASLR the .ort
    flatbuffer layout (not its content: opsets, nodes, attributes, initializers compared equal) changes from run to
    run, so it evidently follows heap addresses; without ASLR repeated conversions on one machine give identical
    bytes (measured: 4 runs -> 3 different SHA-256 with ASLR, 5/5 identical without, independent of out_dir)."""
    setarch = shutil.which("setarch")
    if sys.platform != "linux" or setarch is None:
        return command
    return [setarch, platform.machine(), "-R", *command]


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
