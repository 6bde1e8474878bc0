"""`mlexport bench`: performance as ratios against the peers, every number measured in the same run.

1. Export (issue 4): RandomForestClassifier(300 trees, max_depth 12) on 20,000 x 20 synthetic rows — our Core ML
   export time and .mlmodel size against coremltools' own converter (run in a side venv with scikit-learn 1.5.1,
   numpy<2, coremltools 9.0, because it refuses newer scikit-learn), and our .onnx size against skl2onnx's.
2. Core ML reference evaluator (issue 3): 100,000 rows through that forest, evaluator time / scikit-learn
   predict_proba time.
3. Full parity run (issue 5): scikit-learn + onnxruntime + Core ML evaluator on 100,000 rows, / predict_proba time.
4. XGBoost / LightGBM / CatBoost (issue 12, export/bench_boosting.py): export time and size vs onnxmltools and
   coremltools' XGBoost converter, full parity run vs the library's predict.
5. A 20-column mixed DataFrame model (issue 11, export/bench_dataframe.py): ONNX export time and size vs
   skl2onnx on the same pipeline, full parity run vs scikit-learn's predict_proba.
6. Meta-estimators (issue 14, export/bench_meta.py): a soft VotingClassifier and a CalibratedClassifierCV — ONNX
   export time vs skl2onnx, full parity run vs scikit-learn's predict.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

PEER_REQUIREMENTS = ("scikit-learn==1.5.1", "numpy<2", "coremltools==9.0")
PEER_SCRIPT = Path(__file__).parent / "bench_peers" / "coremltools_convert.py"


def _best_of(repeats: int, work: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def find_peer_python(explicit: str | None, say: Callable[[str], None]) -> tuple[str | None, str]:
    """The side venv's python for coremltools' converter: given, cached, or created now from PyPI."""
    if explicit:
        from export.path_checks import existing_file

        return str(existing_file(explicit, "--peer-python")), "given with --peer-python"
    venv = Path(os.environ.get("MLEXPORT_PEER_VENV", Path.home() / ".cache" / "mlexport" / "coremltools-peer"))
    python = venv / "bin" / "python"
    if python.exists():
        return str(python), f"cached side venv {venv}"
    say(f"creating a side venv for coremltools' converter at {venv} ({', '.join(PEER_REQUIREMENTS)})")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER_REQUIREMENTS], check=True,
                       capture_output=True, timeout=900)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        return None, f"unavailable: could not create the side venv ({type(exc).__name__})"
    return str(python), f"created side venv {venv}"


def bench_export(n_rows: int, n_estimators: int, max_depth: int, peer: str | None,
                 say: Callable[[str], None]) -> dict[str, Any]:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    from export.frontends import to_ir
    from export.to_coreml import CoreMLInterface, save_spec, to_spec
    from export.to_onnx import OnnxOptions, save_onnx, to_onnx

    X, y = make_classification(n_samples=n_rows, n_features=20, random_state=0)
    say(f"export: training RandomForestClassifier({n_estimators}, max_depth={max_depth}) on {n_rows}x20")
    forest = RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth, random_state=0, n_jobs=-1)
    forest.fit(X, y)
    out: dict[str, Any] = {"model": f"RandomForestClassifier({n_estimators}, max_depth={max_depth}) on {n_rows}x20"}
    with tempfile.TemporaryDirectory(prefix="mlexport-bench-") as tmp:
        tmpdir = Path(tmp)
        interface = CoreMLInterface()

        def ours_coreml() -> int:
            save_spec(to_spec(to_ir(forest), interface), tmpdir / "ours.mlmodel", validate=False)  # to_spec validated
            return (tmpdir / "ours.mlmodel").stat().st_size

        say("export: timing mlexport's Core ML export (best of 3)")
        out["mlexport_coreml_seconds"], out["mlexport_mlmodel_bytes"] = _best_of(3, ours_coreml)

        def ours_onnx() -> int:
            result = to_onnx(forest, to_ir(forest), OnnxOptions(input_dtype="float32"))
            save_onnx(result.model, tmpdir / "ours.onnx")
            return (tmpdir / "ours.onnx").stat().st_size

        say("export: timing mlexport's ONNX export and skl2onnx (best of 3 each)")
        out["mlexport_onnx_seconds"], out["mlexport_onnx_bytes"] = _best_of(3, ours_onnx)

        def skl2onnx_onnx() -> int:
            model = convert_sklearn(forest, initial_types=[("input", FloatTensorType([None, 20]))],
                                    options={id(forest): {"zipmap": False}})
            return len(model.SerializeToString())

        out["skl2onnx_seconds"], out["skl2onnx_onnx_bytes"] = _best_of(3, skl2onnx_onnx)
        out["onnx_size_ratio"] = out["mlexport_onnx_bytes"] / out["skl2onnx_onnx_bytes"]
        if peer:
            say("export: timing coremltools' converter in the side venv (best of 3)")
            proc = subprocess.run(
                [peer, str(PEER_SCRIPT), "--n-rows", str(n_rows), "--n-features", "20", "--n-estimators",
                 str(n_estimators), "--max-depth", str(max_depth), "--seed", "0", "--out", str(tmpdir / "peer")],
                capture_output=True, text=True, timeout=1800)
            if proc.returncode == 0:
                peer_result = json.loads(proc.stdout.strip().splitlines()[-1])
                out["coremltools"] = peer_result
                out["coreml_time_ratio"] = out["mlexport_coreml_seconds"] / peer_result["convert_seconds"]
                out["mlmodel_size_ratio"] = out["mlexport_mlmodel_bytes"] / peer_result["mlmodel_bytes"]
            else:
                out["coremltools"] = f"failed: {proc.stderr.strip().splitlines()[-1:]}"
    return out


def bench_parity(n_rows: int, n_estimators: int, max_depth: int, say: Callable[[str], None]) -> dict[str, Any]:
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    from export.frontends import to_ir
    from export.to_coreml import CoreMLInterface, save_spec, to_spec
    from export.to_onnx import OnnxOptions, save_onnx, to_onnx
    from parity.bench import bench_parity_run

    X, y = make_classification(n_samples=n_rows, n_features=20, random_state=1)
    say(f"parity: training RandomForestClassifier({n_estimators}, max_depth={max_depth}) on {n_rows}x20")
    forest = RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth, random_state=0, n_jobs=-1)
    forest.fit(X, y)
    # Train on both cores, but compare with the model as specified (default n_jobs: one-thread predict_proba).
    forest.n_jobs = None
    node = to_ir(forest)
    with tempfile.TemporaryDirectory(prefix="mlexport-bench-") as tmp:
        coreml, onnx_path = Path(tmp) / "rf.mlmodel", Path(tmp) / "rf.onnx"
        save_spec(to_spec(node, CoreMLInterface()), coreml,
                  validate=False)
        save_onnx(to_onnx(forest, node, OnnxOptions(input_dtype="float64")).model, onnx_path)
        say(f"parity: full parity run on {n_rows} rows (scikit-learn + onnxruntime + Core ML evaluator)")
        return bench_parity_run(forest, X, [coreml, onnx_path])


def run_bench(quick: bool = False, peer_python: str | None = None,
              progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run every benchmark; return the raw numbers (`format_bench` renders the table of ratios)."""
    say = progress or (lambda message: None)
    from parity.coreml_reference.bench import bench_random_forest

    sizes = dict(export_rows=2_000, rows=10_000, trees=30) if quick else dict(export_rows=20_000, rows=100_000,
                                                                             trees=300)
    peer, peer_note = (None, "skipped in --quick") if quick and not peer_python else find_peer_python(peer_python, say)
    results: dict[str, Any] = {"peer_venv": peer_note, "quick": quick}
    results["export"] = bench_export(sizes["export_rows"], sizes["trees"], 12, peer, say)
    say(f"evaluator: {sizes['rows']} rows through a {sizes['trees']}-tree forest")
    results["evaluator"] = bench_random_forest(n_rows=sizes["rows"], n_estimators=sizes["trees"], max_depth=12)
    results["parity"] = bench_parity(sizes["rows"], sizes["trees"], 12, say)
    from export.bench_boosting import bench_boosting

    results["boosting"] = bench_boosting(quick, say)
    from export.bench_dataframe import bench_dataframe

    results["dataframe"] = bench_dataframe(quick, say)
    from export.bench_meta import bench_meta

    results["meta"] = bench_meta(quick, say)
    return results


def parity_fields(parity_run: dict[str, Any]) -> dict[str, Any]:
    """The columns every bench section reports from one `parity.bench.bench_parity_run`."""
    return {"parity_seconds": parity_run["parity_seconds"],
            "predict_seconds": parity_run["sklearn_predict_proba_seconds"],
            "parity_ratio": parity_run["ratio"], "parity_verdict": parity_run["verdict"]}


def ratio_line(label: str, value: float | None, note: str) -> str:
    """One aligned line of the bench's text output (every section uses it): label, the ratio (n/a when not
    measured), a note (the target, or why it was not measured)."""
    shown = "n/a" if value is None or not np.isfinite(value) else f"{value:.3f}"
    return f"  {label:<58} {shown:>8}   {note}"


def format_bench(results: dict[str, Any]) -> str:
    export, evaluator, parity_run = results["export"], results["evaluator"], results["parity"]
    lines = [f"mlexport bench{' (--quick)' if results['quick'] else ''} — ratios measured in this run",
             f"  coremltools peer: {results['peer_venv']}", f"  {export['model']}",
             ratio_line("Core ML export time / coremltools' converter", export.get("coreml_time_ratio"),
                        "target <= 0.5"),
             ratio_line(".mlmodel size / coremltools' .mlmodel", export.get("mlmodel_size_ratio"), "target <= 1.0"),
             ratio_line(".onnx size / skl2onnx's .onnx", export.get("onnx_size_ratio"), "target <= 0.6"),
             ratio_line("Core ML evaluator time / scikit-learn predict_proba", evaluator.get("ratio"),
                        "target <= 1.0"),
             ratio_line("full parity run / scikit-learn predict_proba", parity_run.get("ratio"), "target <= 2.5"),
             ratio_line("  its CPU seconds / (cores × predict_proba's): idle floor",
                        parity_run.get("cpu_ratio_per_core"), "target <= 2.5"),
             f"  (load average {', '.join(f'{v:.1f}' for v in parity_run.get('load_average_before', []))} on "
             f"{parity_run.get('cores')} cores; per-stage seconds in --json: parity.breakdown_seconds / "
             f"breakdown_cpu_seconds)"]
    if "boosting" in results:
        from export.bench_boosting import format_boosting

        lines += format_boosting(results["boosting"])
    if "dataframe" in results:
        from export.bench_dataframe import format_dataframe

        lines += format_dataframe(results["dataframe"])
    if "meta" in results:
        from export.bench_meta import format_meta

        lines += format_meta(results["meta"])
    return "\n".join(lines)
