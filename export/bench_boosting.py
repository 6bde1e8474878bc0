"""`mlexport bench`, boosting part: per library, export time and artifact size against the peers that convert it
(onnxmltools for XGBoost and LightGBM ONNX, coremltools' XGBoost converter for Core ML), and the full parity run
against the library's own predict — every number measured in the same run, as ratios.

Model per library: 300 trees (quick: 30), depth 6, binary classification on 20,000 x 20 synthetic rows (quick:
2,000), saved with the library's own save_model and exported from that file. A peer that is not installed or
fails to convert is reported as such, never as a number.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from export.errors import describe_exception


def _timed(work: Callable[[], Any], repeats: int = 3) -> tuple[float, Any]:
    from export.bench import _best_of  # bench imports this module lazily, so no cycle at import time

    return _best_of(repeats, work)


def _train(library: str, X: np.ndarray, y: np.ndarray, trees: int, path: Path) -> Any:
    if library == "xgboost":
        import xgboost

        booster = xgboost.train({"objective": "binary:logistic", "max_depth": 6, "nthread": 2},
                                xgboost.DMatrix(X, label=y), num_boost_round=trees)
        booster.save_model(str(path))
        return booster
    if library == "lightgbm":
        import lightgbm

        lgbm = lightgbm.train({"objective": "binary", "num_leaves": 63, "max_depth": 6, "verbose": -1,
                               "num_threads": 2}, lightgbm.Dataset(X, y), num_boost_round=trees)
        lgbm.save_model(str(path))
        return lgbm
    import catboost

    model = catboost.CatBoostClassifier(iterations=trees, depth=6, verbose=0, thread_count=2,
                                        allow_writing_files=False).fit(X, y)
    model.save_model(str(path))
    return model


def _ours(path: Path, tmp: Path) -> tuple[float, float, int, int]:
    """(Core ML seconds, ONNX seconds, .mlmodel bytes, .onnx bytes) from the model file, best of 3."""
    from export.from_boosting import load_file, sniff
    from export.to_coreml import CoreMLInterface, save_spec, to_spec
    from export.to_onnx import OnnxOptions, save_onnx, to_onnx

    kind = sniff(path.read_bytes()[:16])
    assert kind is not None

    def coreml() -> int:
        model = load_file(path, kind)
        spec = to_spec(model.to_ir(), CoreMLInterface())
        save_spec(spec, tmp / "ours.mlmodel", validate=False)  # to_spec validated it
        return (tmp / "ours.mlmodel").stat().st_size

    def onnx() -> int:
        model = load_file(path, kind)
        result = to_onnx(None, model.to_ir(), OnnxOptions(input_dtype="float64"))
        save_onnx(result.model, tmp / "ours.onnx")
        return (tmp / "ours.onnx").stat().st_size

    coreml_seconds, coreml_bytes = _timed(coreml)
    onnx_seconds, onnx_bytes = _timed(onnx)
    return coreml_seconds, onnx_seconds, coreml_bytes, onnx_bytes


def _onnxmltools(library: str, native: Any, n_features: int) -> dict[str, Any]:
    try:
        import onnxmltools
        from onnxmltools.convert.common.data_types import FloatTensorType
    except ImportError:
        return {"status": "unavailable: pip install 'mlexport[bench]' (onnxmltools)"}
    convert = onnxmltools.convert_xgboost if library == "xgboost" else onnxmltools.convert_lightgbm
    try:
        seconds, model = _timed(lambda: convert(native, initial_types=[("input", FloatTensorType([None, n_features]))],
                                                target_opset=15))
    except Exception as exc:  # the peer's own failure is a measured result, reported as text
        return {"status": f"failed: {describe_exception(exc, 120)}"}
    return {"status": "converted", "seconds": seconds, "bytes": len(model.SerializeToString())}


def _coremltools_xgboost(native: Any, n_features: int, tmp: Path) -> dict[str, Any]:
    try:
        from coremltools.converters import xgboost as converter

        seconds, model = _timed(lambda: converter.convert(native, feature_names=[f"f{j}" for j in range(n_features)],
                                                          mode="classifier", n_classes=2))
        model.save(str(tmp / "peer.mlmodel"))
    except Exception as exc:
        return {"status": f"failed: {describe_exception(exc, 120)}"}
    return {"status": "converted (note: coremltools 9 ignores base_score)", "seconds": seconds,
            "bytes": (tmp / "peer.mlmodel").stat().st_size}


def bench_boosting(quick: bool, say: Callable[[str], None]) -> dict[str, Any]:
    from sklearn.datasets import make_classification

    from export import from_boosting
    from export.bench import parity_fields
    from parity.bench import bench_parity_run

    n_rows, trees = (2_000, 30) if quick else (20_000, 300)
    X, y = make_classification(n_samples=n_rows, n_features=20, random_state=2)
    results: dict[str, Any] = {"model": f"{trees} trees, depth 6, binary, {n_rows}x20"}
    suffixes = {"xgboost": ".json", "lightgbm": ".txt", "catboost": ".cbm"}
    for library, suffix in suffixes.items():
        try:
            from_boosting.require_library(library)  # type: ignore[arg-type]
        except Exception as exc:
            results[library] = {"status": f"unavailable: {exc}"}
            continue
        with tempfile.TemporaryDirectory(prefix=f"mlexport-bench-{library}-") as tmp_name:
            tmp = Path(tmp_name)
            say(f"boosting: training {library} ({trees} trees) and exporting it")
            native = _train(library, X, y, trees, tmp / f"model{suffix}")
            coreml_s, onnx_s, coreml_b, onnx_b = _ours(tmp / f"model{suffix}", tmp)
            row: dict[str, Any] = {"mlexport_coreml_seconds": coreml_s, "mlexport_onnx_seconds": onnx_s,
                                   "mlexport_mlmodel_bytes": coreml_b, "mlexport_onnx_bytes": onnx_b}
            if library in ("xgboost", "lightgbm"):
                peer = _onnxmltools(library, native, X.shape[1])
                row["onnxmltools"] = peer
                if "seconds" in peer:
                    row["onnx_time_ratio"] = onnx_s / peer["seconds"]
                    row["onnx_size_ratio"] = onnx_b / peer["bytes"]
            if library == "xgboost":
                peer = _coremltools_xgboost(native, X.shape[1], tmp)
                row["coremltools"] = peer
                if "seconds" in peer:
                    row["coreml_time_ratio"] = coreml_s / peer["seconds"]
                    row["coreml_size_ratio"] = coreml_b / peer["bytes"]
            say(f"boosting: full parity run for {library} on {n_rows} rows")
            model = from_boosting.load_file(tmp / f"model{suffix}", from_boosting.sniff(
                (tmp / f"model{suffix}").read_bytes()[:16]) or "xgboost-json")
            parity_run = bench_parity_run(model.reference(), X, [tmp / "ours.mlmodel", tmp / "ours.onnx"])
            row.update(parity_fields(parity_run))
            results[library] = row
    return results


def format_boosting(results: dict[str, Any]) -> list[str]:
    from export.bench import ratio_line as line

    lines = [f"  boosting: {results['model']}"]
    for library in ("xgboost", "lightgbm", "catboost"):
        row = results.get(library, {})
        if "status" in row:
            lines.append(f"  {library}: {row['status']}")
            continue
        if library in ("xgboost", "lightgbm"):
            status = row["onnxmltools"]["status"]
            lines.append(line(f"{library} .onnx export time / onnxmltools'", row.get("onnx_time_ratio"), status))
            lines.append(line(f"{library} .onnx size / onnxmltools'", row.get("onnx_size_ratio"), status))
        if library == "xgboost":
            status = row["coremltools"]["status"]
            lines.append(line("xgboost .mlmodel export time / coremltools'", row.get("coreml_time_ratio"), status))
            lines.append(line("xgboost .mlmodel size / coremltools'", row.get("coreml_size_ratio"), status))
        lines.append(line(f"{library} full parity run / {library} predict", row.get("parity_ratio"),
                          f"parity {row.get('parity_verdict')}"))
    return lines
