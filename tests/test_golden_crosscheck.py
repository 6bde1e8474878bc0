"""The Swift comparison core (ios_stub's `parity-check`) and the Python one (`parity.golden.check_replay`) must give
the same verdict, row by row, on the same golden.json and recorded outputs — so the two rule sets cannot drift."""

from __future__ import annotations

import copy
import json
import math
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from swift_build import swift_product

from parity.golden import check_replay

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def parity_check_binary() -> Path:
    return swift_product("parity-check", "the Swift/Python cross-check")


def _classifier_golden() -> dict[str, Any]:
    return {
        "format": "mlexport-golden", "format_version": 1,
        "model": {"name": "m", "file": "m.mlmodel", "task": "classifier"},
        "input": {"kind": "multiarray", "multiarray_name": "input", "dtype": "float64",
                  "features": [{"name": "a", "coreml_name": "a"}, {"name": "b", "coreml_name": "b"}]},
        "outputs": [{"name": "classLabel", "kind": "label", "type": "int64"},
                    {"name": "classProbability", "kind": "probabilities"}],
        "class_labels": [3, 7, 9],
        "tolerances": {"classProbability": {"rtol": 1e-9, "atol": 1e-12, "reason": "test"}},
        "tie_tolerance": 1e-12,
        "rows": [
            {"id": 0, "probe": "user-data", "inputs": [0.5, 1.0],
             "expected": {"classLabel": 7, "classProbability": [0.25, 0.5, 0.25]}},
            {"id": 1, "probe": "thresholds", "inputs": [2.0, "NaN"],  # a reference tie between 3 and 9
             "expected": {"classLabel": 3, "classProbability": [0.4, 0.2, 0.4]}},
            {"id": 2, "probe": "extremes", "inputs": ["Infinity", -1.0],
             "expected": {"classLabel": 9, "classProbability": [0.0, 0.0, 1.0]}},
        ],
    }


def _regressor_golden() -> dict[str, Any]:
    return {
        "format": "mlexport-golden", "format_version": 1,
        "model": {"name": "r", "file": "r.mlmodel", "task": "regressor"},
        "input": {"kind": "named_doubles", "dtype": "float32",
                  "features": [{"name": "x 1", "coreml_name": "x_1"}]},
        "outputs": [{"name": "prediction", "kind": "scores", "width": 2}],
        "class_labels": None,
        "tolerances": {"prediction": {"rtol": 1e-6, "atol": 1e-9, "reason": "test"}},
        "tie_tolerance": 1e-12,
        "rows": [
            {"id": 0, "probe": "user-data", "inputs": [1.5], "expected": {"prediction": [100.0, -2.0]}},
            {"id": 1, "probe": "nan", "inputs": ["NaN"], "expected": {"prediction": ["NaN", "Infinity"]}},
        ],
    }


def _string_golden() -> dict[str, Any]:
    """Version 2: named String / Int64 / Double inputs ("" = missing string), string class labels."""
    return {
        "format": "mlexport-golden", "format_version": 2,
        "model": {"name": "s", "file": "s.mlmodel", "task": "classifier"},
        "input": {"kind": "named", "dtype": "float64", "missing_string": "", "unicode": "NFC",
                  "features": [{"name": "city", "coreml_name": "city", "type": "string"},
                               {"name": "rooms", "coreml_name": "rooms", "type": "int64"},
                               {"name": "area m²", "coreml_name": "area_m_", "type": "double"}]},
        "outputs": [{"name": "classLabel", "kind": "label", "type": "string"},
                    {"name": "classProbability", "kind": "probabilities"}],
        "class_labels": ["no", "yes", "é"],
        "tolerances": {"classProbability": {"rtol": 1e-9, "atol": 1e-12, "reason": "test"}},
        "tie_tolerance": 1e-12,
        "rows": [
            {"id": 0, "probe": "user-data", "inputs": ["Zürich", 3, 71.5],
             "expected": {"classLabel": "yes", "classProbability": [0.25, 0.5, 0.25]}},
            {"id": 1, "probe": "string-categories", "inputs": ["", 1, "NaN"],  # a reference tie: no / é
             "expected": {"classLabel": "no", "classProbability": [0.4, 0.2, 0.4]}},
            {"id": 2, "probe": "string-categories", "inputs": ["NaN", 2, 0.5],
             "expected": {"classLabel": "é", "classProbability": [0.0, 0.0, 1.0]}},
        ],
    }


def _text_golden() -> dict[str, Any]:
    """Version 3: a text column (raw document + the term counts Core ML is fed) next to a double column."""
    return {
        "format": "mlexport-golden", "format_version": 3,
        "model": {"name": "t", "file": "t.mlmodel", "task": "classifier"},
        "input": {"kind": "named", "dtype": "float64", "missing_string": "", "unicode": "NFC",
                  "features": [{"name": "title", "coreml_name": "title", "type": "text", "rules": "t.text.json"},
                               {"name": "year", "coreml_name": "year", "type": "double"}]},
        "outputs": [{"name": "classLabel", "kind": "label", "type": "string"},
                    {"name": "classProbability", "kind": "probabilities"}],
        "class_labels": ["Etching", "Oil"],
        "tolerances": {"classProbability": {"rtol": 1e-4, "atol": 1e-5, "reason": "test"}},
        "tie_tolerance": 2e-5,
        "rows": [
            {"id": 0, "probe": "user-data", "inputs": [{"text": "Study for Oil", "counts": {"oil": 1.0, "study": 1.0}},
                                                       1990],
             "expected": {"classLabel": "Oil", "classProbability": [0.3, 0.7]}},
            {"id": 1, "probe": "text", "inputs": [{"text": "", "counts": {}}, 1991],
             "expected": {"classLabel": "Etching", "classProbability": [0.5, 0.5]}},
        ],
    }


def _faithful_replay(golden: dict[str, Any]) -> dict[str, Any]:
    rows = []
    for row in golden["rows"]:
        outputs = {}
        for output in golden["outputs"]:
            value = row["expected"][output["name"]]
            if output["kind"] == "probabilities":
                value = {str(label): p for label, p in zip(golden["class_labels"], value, strict=True)}
            outputs[output["name"]] = copy.deepcopy(value)
        rows.append({"id": row["id"], "outputs": outputs})
    return {"rows": rows}


def _cases() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    classifier, regressor, strings = _classifier_golden(), _regressor_golden(), _string_golden()
    text = _text_golden()
    cases = [("classifier faithful", classifier, _faithful_replay(classifier)),
             ("regressor faithful", regressor, _faithful_replay(regressor)),
             ("string inputs faithful", strings, _faithful_replay(strings)),
             ("text inputs faithful", text, _faithful_replay(text))]

    def variant(name: str, golden: dict[str, Any], change: Any) -> None:
        replay = _faithful_replay(golden)
        change(replay["rows"])
        cases.append((name, golden, replay))

    inside = 0.5 + 0.9e-9 * 0.5
    outside = 0.5 + 1.1e-9 * 0.5 + 1e-12
    variant("probability just inside", classifier, lambda r: r[0]["outputs"]["classProbability"].update({"7": inside}))
    variant("probability just outside", classifier,
            lambda r: r[0]["outputs"]["classProbability"].update({"7": outside}))
    variant("tie label accepted", classifier, lambda r: r[1]["outputs"].update({"classLabel": 9}))
    variant("non-tie label refused", classifier, lambda r: r[1]["outputs"].update({"classLabel": 7}))
    variant("missing output", classifier, lambda r: r[2]["outputs"].pop("classProbability"))
    variant("missing class key", classifier, lambda r: r[2]["outputs"]["classProbability"].pop("9"))
    variant("regressor just outside", regressor,
            lambda r: r[0]["outputs"].update({"prediction": [100.0 * (1 + 1e-6) + 2e-9, -2.0]}))
    variant("regressor just inside", regressor,
            lambda r: r[0]["outputs"].update({"prediction": [100.0 * (1 + 0.9e-6), -2.0]}))
    variant("infinity must match exactly", regressor,
            lambda r: r[1]["outputs"].update({"prediction": ["NaN", 1e308]}))
    variant("NaN where a number is expected", regressor,
            lambda r: r[0]["outputs"].update({"prediction": ["NaN", -2.0]}))
    variant("string tie label accepted", strings, lambda r: r[1]["outputs"].update({"classLabel": "é"}))
    variant("string label refused", strings, lambda r: r[0]["outputs"].update({"classLabel": "no"}))
    # Swift's String == is canonical equivalence; the Python core compares NFC forms (golden.md), so both accept:
    variant("string label NFD accepted", strings, lambda r: r[2]["outputs"].update({"classLabel": "e\u0301"}))
    variant("string class key missing", strings, lambda r: r[0]["outputs"]["classProbability"].pop("é"))
    variant("text tie label accepted", text, lambda r: r[1]["outputs"].update({"classLabel": "Oil"}))
    variant("text label refused", text, lambda r: r[0]["outputs"].update({"classLabel": "Etching"}))
    variant("text probability just outside", text,
            lambda r: r[0]["outputs"]["classProbability"].update({"Oil": 0.7 + 1e-5 + 0.7e-4 + 1e-9}))
    return cases


def _swift_verdict(binary: Path, golden: dict[str, Any], replay: dict[str, Any], tmp: Path) -> tuple[bool, set]:
    (tmp / "golden.json").write_text(json.dumps(golden))
    (tmp / "replay.json").write_text(json.dumps(replay))
    proc = subprocess.run([str(binary), str(tmp / "golden.json"), str(tmp / "replay.json")], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode in (0, 1), proc.stderr
    verdict = json.loads(proc.stdout)
    assert verdict["passed"] == (proc.returncode == 0)
    return verdict["passed"], {(f["row"], f["output"]) for f in verdict["failures"]}


@pytest.mark.parametrize(("name", "golden", "replay"), _cases(), ids=[c[0] for c in _cases()])
def test_swift_and_python_cores_agree(parity_check_binary: Path, tmp_path: Path, name: str, golden: dict[str, Any],
                                      replay: dict[str, Any]) -> None:
    python_failures = {(f["row"], f["output"]) for f in check_replay(golden, replay)}
    swift_passed, swift_failures = _swift_verdict(parity_check_binary, golden, replay, tmp_path)
    assert swift_failures == python_failures, name
    assert swift_passed == (not python_failures)
    # The expected verdict, stated independently of both cores:
    expected_to_fail = any(word in name for word in ("outside", "refused", "missing", "must match", "NaN where"))
    assert bool(python_failures) == expected_to_fail, name


def test_cases_are_valid_golden_files() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "parity" / "golden.schema.json").read_text())
    for golden in (_classifier_golden(), _regressor_golden(), _string_golden(), _text_golden()):
        jsonschema.validate(golden, schema)


def test_just_inside_and_outside_are_where_the_rule_says() -> None:
    # |g - e| <= atol + rtol·|e| with e = 0.5: the two probes straddle the bound.
    bound = 1e-12 + 1e-9 * 0.5
    assert 0.9e-9 * 0.5 <= bound < 1.1e-9 * 0.5 + 1e-12
    assert math.isclose(float(np.float64(0.5) + 0.45e-9) - 0.5, 0.45e-9, rel_tol=1e-6)
