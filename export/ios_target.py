"""After an export: lay out a self-contained Xcode test-target folder (model, golden.json, ModelParity, one XCTest).

`mlexport ios-stub DIR --out FOLDER` calls `write_ios_test_target`. The folder holds everything an iOS developer
drags into their app's test target to check the exported .mlmodel on a device or simulator against golden.json:

    FOLDER/
      <name>.mlmodel            copied from the export, byte for byte (SHA-256 checked against manifest.json)
      golden.json               copied likewise
      <name>.text.json          a text model: the TextFeatures rules golden.json's text inputs name
      <Name>ParityTests.swift   ios_stub/Example/ModelParityExampleTests.swift with the model name filled in
      ModelParity/*.swift       ios_stub/Sources/ModelParity, so the folder needs no package dependency
      README.txt                the Xcode steps
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from export.errors import ExportFailedError, InputFileError
from export.loading import sha256_file
from export.manifest import MANIFEST_NAME, read_manifest
from export.output_dir import atomic_output_dir, check_output_dir, name_some


def _ios_stub_dir() -> Path:
    """The Swift harness: inside the installed wheel (`export/_ios_stub`), else the source tree's `ios_stub/`."""
    packaged = Path(__file__).resolve().parent / "_ios_stub"
    return packaged if (packaged / "Sources").is_dir() else Path(__file__).resolve().parent.parent / "ios_stub"


IOS_STUB_DIR = _ios_stub_dir()
MODEL_PARITY_SOURCES = IOS_STUB_DIR / "Sources" / "ModelParity"
EXAMPLE_TEST = IOS_STUB_DIR / "Example" / "ModelParityExampleTests.swift"

MODEL_SUFFIX = ".mlmodel"
GOLDEN_NAME = "golden.json"
GOLDEN_FORMAT = "mlexport-golden"

# The two spots of the example test that name the model; each must occur exactly once in the template.
_TEMPLATE_CLASS = "final class ModelParityExampleTests"
_TEMPLATE_MODEL_NAME = 'static let modelName = "YourModel"'
_TEMPLATE_PLACEHOLDER = "YourModel"


class IosTargetSourceError(InputFileError, ValueError):
    """The export directory lacks (or has a corrupt copy of) a file the test target needs.

    A ValueError as well as an InputFileError, so API callers can catch the builtin and the CLI maps it like any
    other input-file problem.
    """


def write_ios_test_target(export_dir: Path, out: Path, *, force: bool = False) -> Path:
    """Write the Xcode test-target folder for the export in `export_dir` to `out` and return `out`.

    Atomic: everything is written into a temporary sibling of `out` and renamed into place, so `out` is either the
    complete folder or untouched. An existing `out` is refused unless `force` (then replaced).
    """
    export_dir = Path(export_dir)
    out = Path(out)
    if not export_dir.is_dir():
        problem = "is not a directory" if export_dir.exists() else "does not exist"
        raise IosTargetSourceError(f"export directory '{export_dir}' {problem}")
    golden_path = export_dir / GOLDEN_NAME
    if not golden_path.is_file():
        raise IosTargetSourceError(
            f"'{golden_path}' does not exist; export with parity enabled and a Core ML format to write it")
    manifest = _read_manifest(export_dir)
    model_path = _find_model(export_dir, manifest)
    _check_golden(golden_path, model_path)
    for path in (model_path, golden_path):
        _check_hash(export_dir, path, manifest)
    out.parent.mkdir(parents=True, exist_ok=True)
    check_output_dir(out, force=force, replaceable=_replaceable_target)
    template = _read_template()
    sources = sorted(MODEL_PARITY_SOURCES.glob("*.swift"))
    if not sources:
        raise ExportFailedError(f"no ModelParity Swift sources in '{MODEL_PARITY_SOURCES}'; ios-stub needs the "
                                "mlexport installation (reinstall mlexport)")

    model_name = model_path.name[: -len(MODEL_SUFFIX)]
    with atomic_output_dir(out) as staging:
        shutil.copyfile(model_path, staging / model_path.name)
        shutil.copyfile(golden_path, staging / GOLDEN_NAME)
        for rules in _text_rules_files(export_dir, golden_path):  # a text model: TextFeatures' rules
            shutil.copyfile(rules, staging / rules.name)
        test_file = staging / f"{swift_type_name(model_name)}ParityTests.swift"
        test_file.write_text(fill_example_test(template, model_name), encoding="utf-8")
        (staging / "ModelParity").mkdir()
        for source in sources:
            shutil.copyfile(source, staging / "ModelParity" / source.name)
        (staging / "README.txt").write_text(readme_text(model_name, test_file.name), encoding="utf-8")
    return out


def _text_rules_files(export_dir: Path, golden_path: Path) -> list[Path]:
    """The rules files (NAME.text.json) golden.json's text inputs name (format_version 3), each in the export."""
    golden = json.loads(golden_path.read_text(encoding="utf-8"))
    files = []
    for feature in golden.get("input", {}).get("features", []):
        if feature.get("type") == "text":
            path = export_dir / str(feature.get("rules", ""))
            if not path.is_file() or path.parent != export_dir:
                raise IosTargetSourceError(f"'{path}' does not exist; golden.json's text input "
                                           f"{feature.get('name')!r} needs its rules file (re-export the model)")
            files.append(path)
    return files


def swift_type_name(model_name: str) -> str:
    """UpperCamelCase Swift identifier for a model name: 'iris_classifier' -> 'IrisClassifier'.

    Distinct from Xcode's generated model class (named exactly like the file), so the two never collide.
    """
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", model_name) if p]
    name = "".join(p[0].upper() + p[1:] for p in parts) or "Model"
    return f"Model{name}" if name[0].isdigit() else name


def fill_example_test(template: str, model_name: str) -> str:
    """The example XCTest with its class renamed and `modelName` set to `model_name`."""
    for token in (_TEMPLATE_CLASS, _TEMPLATE_MODEL_NAME):
        if template.count(token) != 1:
            raise ExportFailedError(f"'{EXAMPLE_TEST}' must contain `{token}` exactly once to be filled in")
    literal = model_name.replace("\\", "\\\\").replace('"', '\\"')
    text = template.replace(_TEMPLATE_CLASS, f"final class {swift_type_name(model_name)}ParityTests")
    text = text.replace(_TEMPLATE_MODEL_NAME, f'static let modelName = "{literal}"')
    return text.replace(_TEMPLATE_PLACEHOLDER, model_name)  # the doc comment's file names


def readme_text(model_name: str, test_file_name: str) -> str:
    """README.txt of the folder: the Xcode steps, for this model."""
    return f"""\
On-device parity check for {model_name}{MODEL_SUFFIX}
{"=" * (len(model_name) + len(MODEL_SUFFIX) + 26)}

This folder checks that Core ML, on a real Apple device or simulator, gives the outputs mlexport recorded in
golden.json for this model (within the tolerances written there).

In Xcode:
1. Drag this whole folder into your project. In the dialog, tick "Copy items if needed" and, under "Add to
   targets", tick ONLY your app's unit-test target (not the app).
2. Check the target membership: {model_name}{MODEL_SUFFIX} must be in the test target (Xcode compiles it to
   {model_name}.mlmodelc); golden.json must be in the test target's "Copy Bundle Resources"; the .swift files
   (ModelParity/*.swift and {test_file_name}) in its "Compile Sources".
   If the test target already depends on the ModelParity Swift package, delete the ModelParity/ folder instead.
3. Choose a simulator or a connected device and run the tests (Cmd-U), or only {test_file_name}.

A pass prints "Parity PASSED ..." in the test log. A failure lists each failing row: its probe, the output, the
expected and actual values and the tolerance that applied.

ModelParity/CoreMLStandIn.swift compiles to nothing on Apple platforms: it only lets the sources build on Linux.

A text model: its input is each text column's term counts, which the app computes with TextFeatures and the
NAME.text.json rules copied here (add them to "Copy Bundle Resources" too); testTextFeaturesMatchGoldenCounts checks
TextFeatures on the device against scikit-learn's counts on every golden row.
"""


def _read_manifest(export_dir: Path) -> dict[str, Any] | None:
    """manifest.json as a dict, or None when the export has none (older or hand-made directories)."""
    if not (export_dir / MANIFEST_NAME).is_file():
        return None
    try:
        return read_manifest(export_dir)
    except InputFileError as exc:
        raise IosTargetSourceError(str(exc)) from None


def _find_model(export_dir: Path, manifest: dict[str, Any] | None) -> Path:
    """The export's .mlmodel: `manifest["name"] + ".mlmodel"` when listed, else the one *.mlmodel in the dir."""
    listed = manifest.get("files") if manifest else None
    name = manifest.get("name") if manifest else None
    if isinstance(name, str) and isinstance(listed, dict) and f"{name}{MODEL_SUFFIX}" in listed:
        path = export_dir / f"{name}{MODEL_SUFFIX}"
        if not path.is_file():
            raise IosTargetSourceError(f"'{path}' is listed in manifest.json but does not exist")
        return path
    candidates = sorted(p for p in export_dir.glob(f"*{MODEL_SUFFIX}") if p.is_file())
    if not candidates:
        raise IosTargetSourceError(f"no {MODEL_SUFFIX} file in '{export_dir}'; export with the coreml format")
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        raise IosTargetSourceError(
            f"several {MODEL_SUFFIX} files in '{export_dir}' ({names}) and manifest.json names none of them")
    return candidates[0]


def _check_golden(golden_path: Path, model_path: Path) -> None:
    """golden.json must be an mlexport golden file written for this very model file."""
    try:
        golden = json.loads(golden_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IosTargetSourceError(f"'{golden_path}' is not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(golden, dict) or golden.get("format") != GOLDEN_FORMAT:
        raise IosTargetSourceError(f"'{golden_path}' is not a golden file (field 'format' must be '{GOLDEN_FORMAT}')")
    model = golden.get("model")
    file_name = model.get("file") if isinstance(model, dict) else None
    if file_name != model_path.name:
        raise IosTargetSourceError(
            f"'{golden_path}' field 'model.file' is {file_name!r}, but the export's model is '{model_path.name}'")


def _check_hash(export_dir: Path, path: Path, manifest: dict[str, Any] | None) -> None:
    """A file the manifest lists must still have its recorded SHA-256 (no stale or half-copied export)."""
    files = manifest.get("files") if manifest else None
    entry = files.get(path.relative_to(export_dir).as_posix()) if isinstance(files, dict) else None
    if isinstance(entry, dict) and "sha256" in entry and sha256_file(path) != entry["sha256"]:
        raise IosTargetSourceError(f"'{path}' does not match its SHA-256 in manifest.json; re-export")


def _read_template() -> str:
    if not EXAMPLE_TEST.is_file():
        raise ExportFailedError(f"'{EXAMPLE_TEST}' is missing; ios-stub needs the Swift sources shipped with mlexport "
                                "(reinstall mlexport)")
    return EXAMPLE_TEST.read_text(encoding="utf-8")


def _replaceable_target(out: Path) -> str | None:
    """None when `out` holds only what ios-stub writes (see the module docstring), so --force deletes nothing else."""
    def ours(path: Path) -> bool:
        if path.is_dir():
            return path.name == "ModelParity" and all(p.suffix == ".swift" and p.is_file() for p in path.iterdir())
        return (path.name in (GOLDEN_NAME, "README.txt") or path.suffix == MODEL_SUFFIX
                or path.name.endswith(".text.json")
                or path.name.endswith("ParityTests.swift"))

    if not (out / "README.txt").is_file() or not (out / "ModelParity").is_dir():
        held = sorted(p.name for p in out.iterdir())
        return f"it is not a folder written by `mlexport ios-stub` and holds {name_some(held)}"
    foreign = sorted(p.name for p in out.iterdir() if not ours(p))
    if foreign:
        return f"it holds files that `mlexport ios-stub` did not write ({name_some(foreign)})"
    return None
