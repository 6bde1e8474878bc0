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
                 "full parity run / scikit-learn predict_proba", "DataFrame .onnx export time / skl2onnx's",
                 "DataFrame .onnx size / skl2onnx's", "DataFrame full parity run / scikit-learn predict_proba",
                 "meta-estimator .onnx export time / skl2onnx's",
                 "meta-estimator full parity run / scikit-learn predict"):
        assert line in out
    assert "coremltools peer: skipped in --quick" in out  # never a made-up peer number


def test_quick_bench_json(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["bench", "--quick", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["parity"]["verdict"] == "passed"
    assert results["evaluator"]["label_mismatches"] == 0
    assert results["export"]["onnx_size_ratio"] > 0
    assert all(row["parity_verdict"] == "passed" for row in results["meta"].values())  # soft voting, calibration
    dataframe = results["dataframe"]  # 10 string + 10 numeric columns, skl2onnx measured in the same run
    assert dataframe["parity_verdict"] == "passed"
    assert dataframe["skl2onnx"]["status"].startswith("converted"), dataframe["skl2onnx"]
    assert dataframe["onnx_time_ratio"] == dataframe["mlexport_onnx_seconds"] / dataframe["skl2onnx"]["seconds"]
    assert dataframe["parity_ratio"] == dataframe["parity_seconds"] / dataframe["predict_seconds"]


def test_dataframe_bench_model_has_twenty_mixed_columns() -> None:
    from export.bench_dataframe import dataframe_bench_data, dataframe_bench_model
    from export.frontends import to_ir

    X, y = dataframe_bench_data(300)
    kinds = [c.kind for c in to_ir(dataframe_bench_model(X, y)).inputs.columns]
    assert kinds == ["string"] * 10 + ["double"] * 10 and set(y) == {"no", "yes"}
