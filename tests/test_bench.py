"""`mlexport bench` runs end to end and prints every ratio line (numbers are measured, never asserted on here:
performance is judged from the benchmark's output, not from timed tests)."""

from __future__ import annotations

import json

from export.cli import main


def test_quick_bench_prints_every_ratio(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["bench", "--quick"]) == 0
    out = capsys.readouterr().out
    for line in ("Core ML export time / coremltools' converter", ".mlmodel size / coremltools' .mlmodel",
                 ".onnx size / skl2onnx's .onnx", "Core ML evaluator time / scikit-learn predict_proba",
                 "full parity run / scikit-learn predict_proba", ".onnx export time / skl2onnx's",
                 "full parity run / scikit-learn predict"):
        assert line in out
    assert "coremltools peer: skipped in --quick" in out  # never a made-up peer number


def test_quick_bench_json(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["bench", "--quick", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["parity"]["verdict"] == "passed"
    assert results["evaluator"]["label_mismatches"] == 0
    assert results["export"]["onnx_size_ratio"] > 0
    assert all(row["parity_verdict"] == "passed" for row in results["meta"].values())  # soft voting, calibration
