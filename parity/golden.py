"""Golden-vector step of the parity flow: write golden.json (parity/golden.md) for the .mlmodel artifact.

The ios_stub reads it on a device/simulator and runs the same element rule. Rows are a bounded, deterministic
selection covering every probe set; expected values are scikit-learn's on the contract dtype; tolerances are the
ones parity used for the Core ML artifact. Output bytes are deterministic (sorted keys, Python's shortest float repr).
"""

from __future__ import annotations

import json
import math
import os
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

from parity.errors import ArtifactError
from parity.report import ParityReport

FORMAT = "mlexport-golden"
FORMAT_VERSION = 3  # newest version written; each document is written with the lowest version that can say it:
# 1 all inputs double, 2 named Double/Int64/String inputs, 3 a text column (term counts + raw text)
FORMAT_VERSIONS = (1, 2, 3)  # versions check_replay and ios_stub read
MAX_ROWS = 200


def _number(value: float) -> float | str:
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _label(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return int(value)  # boolean classes_ are exported as Int64 labels 0 = False, 1 = True
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def select_rows(n_rows_by_probe: dict[str, int], max_rows: int = MAX_ROWS) -> dict[str, np.ndarray]:
    """Row indices per probe set: every set represented, evenly spaced within each, at most `max_rows` in total."""
    names = list(n_rows_by_probe)
    quota = {name: 0 for name in names}
    remaining = max_rows
    # Round-robin allocation so small sets (one-row) are never crowded out by large ones.
    while remaining > 0 and any(quota[n] < n_rows_by_probe[n] for n in names):
        for name in names:
            if remaining and quota[name] < n_rows_by_probe[name]:
                quota[name] += 1
                remaining -= 1
    return {name: np.unique(np.linspace(0, n_rows_by_probe[name] - 1, quota[name]).round().astype(np.int64))
            for name in names if quota[name]}


def golden_document(report: ParityReport, artifact: str | os.PathLike[str]) -> dict[str, Any]:
    """The golden.json object for the .mlmodel `artifact` (which must be one of the report's artifacts)."""
    from parity.coreml_reference.spec_loading import load_model

    path = Path(artifact)
    result = next((a for a in report.artifacts if Path(a.path) == path), None)
    if result is None or result.kind != "coreml":
        raise ArtifactError(f"{path}: not a Core ML artifact of this parity report; golden.json is for the .mlmodel")
    spec = load_model(path)
    roles = result.roles
    task = ("classifier" if "label" in roles.values() else
            "regressor" if "prediction" in roles.values() else "transformer")
    outputs: list[dict[str, Any]] = []
    output_types = {o.name: o.type.WhichOneof("Type") for o in spec.description.output}
    for name, role in roles.items():
        if role == "label":
            outputs.append({"name": name, "kind": "label",
                            "type": "string" if output_types.get(name) == "stringType" else "int64"})
        elif role == "probabilities":
            outputs.append({"name": name, "kind": "probabilities"})
    tolerances: dict[str, dict[str, Any]] = {}
    coreml_checks = [c for c in report.checks if c.artifact == result.path and c.runtime != "Core ML native"]
    for check in coreml_checks:
        c = check.comparison
        tolerance = c.tolerance if c.tolerance is not None else _bound_tolerance(c)
        if tolerance is None:
            continue
        current = tolerances.get(c.output)
        if current is None or (tolerance.atol, tolerance.rtol) > (current["atol"], current["rtol"]):
            tolerances[c.output] = tolerance.to_json()
    widths: dict[str, int] = {}
    for name, role in roles.items():
        if role in ("prediction", "transformed"):
            reference = next(iter(report.probe_data.values()))[2][role]
            widths[name] = int(np.asarray(reference).reshape(len(reference), -1).shape[1])
            outputs.append({"name": name, "kind": "scores", "width": widths[name]})
    input_section = _input_section(spec, report, path)
    rows = _rows(report, roles, widths, input_section)
    input_section.pop("_terms", None)
    return {
        "format": FORMAT,
        # Version 2 only where version 1 cannot say it (typed named inputs): numeric golden files stay byte-identical.
        "format_version": _version(input_section),
        "model": {"name": path.stem, "file": path.name, "task": task},
        "input": input_section,
        "outputs": outputs,
        "class_labels": None if result.class_labels is None else [_label(v) for v in result.class_labels],
        "tolerances": tolerances,
        "tie_tolerance": _tie_tolerance(coreml_checks),
        "rows": rows,
    }


def _version(section: dict[str, Any]) -> int:
    if section["kind"] != "named":
        return 1
    return 3 if any(f["type"] == "text" for f in section["features"]) else 2


def _bound_tolerance(comparison: Any) -> Any:
    """A bounded output's largest error bound (× the safety factor) as the absolute tolerance golden.json carries."""
    from parity.bounds import SAFETY
    from parity.tolerances import Tolerance

    if comparison.bound_max is None:
        return None
    return Tolerance(0.0, SAFETY * comparison.bound_max, f"error bound × {SAFETY:g}: {comparison.bound_reason}")


def _tie_tolerance(checks: list[Any]) -> float:
    from parity.tolerances import tie_tolerance

    probability = [c.comparison.tolerance or _bound_tolerance(c.comparison) for c in checks
                   if c.comparison.role == "probabilities"]
    probability = [t for t in probability if t is not None]
    return tie_tolerance(max(probability, key=lambda t: t.atol) if probability else None)


def _input_section(spec: Any, report: ParityReport, path: Path) -> dict[str, Any]:
    inputs = list(spec.description.input)
    names = report.feature_names or [f"x{i}" for i in range(report.n_features)]
    section: dict[str, Any] = {"dtype": report.contract}
    if report.schema is not None:
        return _typed_input_section(spec, report, section, path)
    if len(inputs) == 1 and inputs[0].type.WhichOneof("Type") == "multiArrayType":
        section.update(kind="multiarray", multiarray_name=inputs[0].name,
                       features=[{"name": str(n)} for n in names])
    elif len(inputs) == report.n_features and all(i.type.WhichOneof("Type") == "doubleType" for i in inputs):
        section.update(kind="named_doubles",
                       features=[{"name": str(n), "coreml_name": i.name} for n, i in zip(names, inputs, strict=True)])
    else:
        kinds = [i.type.WhichOneof("Type") for i in inputs]
        raise ArtifactError(f"Core ML inputs {kinds} unsupported for golden.json; supported: one MultiArray or "
                            f"{report.n_features} Double inputs")
    return section


_TYPE_OF_KIND = {"doubleType": "double", "int64Type": "int64", "stringType": "string"}


def _typed_input_section(spec: Any, report: ParityReport, section: dict[str, Any], path: Path) -> dict[str, Any]:
    """Version 2 `named` input: one Core ML feature per column, each Double, Int64 or String."""
    from parity.runtimes import ArtifactInput, bind_inputs

    assert report.schema is not None
    from parity.runtimes import dictionary_terms

    inputs = list(spec.description.input)
    kinds = [i.type.WhichOneof("Type") for i in inputs]
    terms = dictionary_terms(spec)
    if any(k not in _TYPE_OF_KIND and not (k == "dictionaryType" and i.name in terms)
           for k, i in zip(kinds, inputs, strict=True)):
        raise ArtifactError(f"{path}: Core ML inputs {kinds} unsupported for golden.json with string inputs; "
                            f"supported: one Double, Int64 or String input per column, or a text column's term "
                            f"counts (a Dictionary read by a DictVectorizer)")
    text_inputs = [i.name for i in inputs if i.name in terms]
    declared = [ArtifactInput(i.name, "double", 1, 0) for i in inputs]
    bound = bind_inputs(path, declared, report.schema.names, report.n_features)
    column_of = {int(columns[0]): feature for feature, columns in zip(inputs, bound, strict=True)}
    features = []
    for j, column in enumerate(report.schema.columns):
        feature = column_of.get(j)
        if feature is None:
            raise ArtifactError(f"{path}: column {column.name!r} has no Core ML input; golden.json needs one per "
                                f"column")
        if feature.name in terms:
            if column.term_counter is None:
                raise ArtifactError(f"{path}: input {feature.name!r} takes term counts, but column {column.name!r} "
                                    "is not read by a CountVectorizer/TfidfVectorizer of the Python model")
            # the app computes the counts with ios_stub's TextFeatures and these rules (written by the exporter)
            rules = f"{path.stem}.text.json" if len(text_inputs) == 1 else f"{path.stem}.{feature.name}.text.json"
            features.append({"name": column.name, "coreml_name": feature.name, "type": "text", "rules": rules})
            continue
        features.append({"name": column.name, "coreml_name": feature.name,
                         "type": _TYPE_OF_KIND[feature.type.WhichOneof("Type")]})
    # The contract every string value in rows[].inputs already follows (parity/columns.py); text is fed as it is.
    section.update(kind="named", features=features, missing_string="", unicode="NFC")
    section["_terms"] = {name: terms[name] for name in text_inputs}  # for the rows; removed before writing
    return section


def _row_inputs(report: ParityReport, X: np.ndarray, i: int, section: dict[str, Any]) -> list[Any]:
    if section["kind"] != "named" or report.schema is None:
        return [_number(v) for v in X[i]]
    values: list[Any] = []
    for j, feature in enumerate(section["features"]):
        if feature["type"] == "text":  # the raw document, and its term counts: what Core ML is fed
            text = str(report.schema.artifact_values(X[i : i + 1], j)[0])
            counts = report.schema.columns[j].term_counter([text], section["_terms"][feature["coreml_name"]])[0]
            values.append({"text": text, "counts": counts})
        elif feature["type"] == "string":
            values.append(str(report.schema.artifact_values(X[i : i + 1], j)[0]))
        elif feature["type"] == "int64" and np.isfinite(X[i, j]) and X[i, j] == round(X[i, j]):
            values.append(int(X[i, j]))
        else:
            values.append(_number(X[i, j]))
    return values


def _rows(report: ParityReport, roles: dict[str, str], widths: dict[str, int],
          section: dict[str, Any]) -> list[dict[str, Any]]:
    selection = select_rows({name: len(data[1]) for name, data in report.probe_data.items()})
    rows: list[dict[str, Any]] = []
    for probe, indices in selection.items():
        _, X, reference = report.probe_data[probe]
        for i in indices:
            expected: dict[str, Any] = {}
            for name, role in roles.items():
                value = reference[role][i]
                if role == "label":
                    expected[name] = _label(value)
                elif role == "probabilities":
                    expected[name] = [_number(v) for v in np.asarray(value).ravel()]
                else:
                    flat = [_number(v) for v in np.asarray(value).ravel()]
                    expected[name] = flat[0] if widths[name] == 1 else flat
            rows.append({"id": len(rows), "probe": probe, "inputs": _row_inputs(report, X, i, section),
                         "expected": expected})
    return rows


def dumps(document: dict[str, Any]) -> str:
    """Deterministic text: sorted keys, 1-space indent, floats as Python's shortest round-trip repr."""
    return json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def write_golden(report: ParityReport, artifact: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Write golden.json for the .mlmodel `artifact` of `report` to `path`; returns the path."""
    text = dumps(golden_document(report, artifact))
    target = Path(path)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, target)
    return target


# ----------------------------------------------------------------------------------------------------------------
# Checking recorded outputs against a golden file: the Python twin of ios_stub's comparison core (`parity-check`).
# Same rules, same "replay" format: {"rows": [{"id": 0, "outputs": {"classLabel": 1,
# "classProbability": {"0": 0.2, "1": 0.8}, "prediction": 3.2}}]} — probability keys are labels rendered as strings.
# String labels and class keys compare as their NFC forms, as Swift's String == does (canonical equivalence).


def _as_float(value: Any) -> float:
    if isinstance(value, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[value]
    return float(value)


def _nfc(value: Any) -> Any:
    """Strings compare as their NFC forms, as Swift's String == does (canonical equivalence); numbers as they are."""
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def check_replay(golden: dict[str, Any], replay: dict[str, Any]) -> list[dict[str, Any]]:
    """Failures ({row, output, reason}) of recorded outputs against `golden`; an empty list means parity holds."""
    from parity.compare import element_failures
    from parity.tolerances import Tolerance

    if golden.get("format_version") not in FORMAT_VERSIONS:
        raise ArtifactError(f"golden.json: format_version {golden.get('format_version')!r} unsupported; supported: "
                            f"{', '.join(map(str, FORMAT_VERSIONS))}")
    labels = golden.get("class_labels") or []
    keys = [_nfc(str(label)) for label in labels]
    recorded = {row["id"]: row.get("outputs", {}) for row in replay.get("rows", [])}
    has_probabilities = next((o["name"] for o in golden["outputs"] if o["kind"] == "probabilities"), None)
    tie = float(golden.get("tie_tolerance", 0.0))
    failures: list[dict[str, Any]] = []
    for row in golden["rows"]:
        outputs = recorded.get(row["id"], {})
        for output in golden["outputs"]:
            name, kind = output["name"], output["kind"]
            if name not in outputs:
                failures.append({"row": row["id"], "output": name, "reason": "missing output"})
                continue
            got, expected = outputs[name], row["expected"][name]
            if kind == "label":
                if _nfc(got) == _nfc(expected):
                    continue
                if has_probabilities and _nfc(str(got)) in keys:
                    probabilities = [_as_float(p) for p in row["expected"][has_probabilities]]
                    if probabilities[keys.index(_nfc(str(got)))] >= max(probabilities) - tie:
                        continue  # a reference tie: scikit-learn picked the first of the tied classes
                failures.append({"row": row["id"], "output": name, "reason": f"label {got!r} != {expected!r}"})
                continue
            tolerance = golden["tolerances"][name]
            bound = Tolerance(float(tolerance["rtol"]), float(tolerance["atol"]), str(tolerance.get("reason", "")))
            if kind == "probabilities":
                got = {_nfc(str(k)): v for k, v in got.items()}
                missing = [k for k in keys if k not in got]
                if missing:
                    failures.append({"row": row["id"], "output": name, "reason": f"missing class {missing[0]}"})
                    continue
                got_values = [_as_float(got[k]) for k in keys]
            else:
                got_values = [_as_float(v) for v in (got if isinstance(got, list) else [got])]
            expected_values = [_as_float(v) for v in (expected if isinstance(expected, list) else [expected])]
            if len(got_values) != len(expected_values):
                failures.append({"row": row["id"], "output": name, "reason": "wrong width"})
            elif element_failures(np.array(expected_values), np.array(got_values), bound).any():
                failures.append({"row": row["id"], "output": name, "reason": "outside tolerance"})
    return failures
