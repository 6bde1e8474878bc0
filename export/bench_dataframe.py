"""`mlexport bench`, DataFrame part (issue 11): a 20-column mixed DataFrame model — 10 string columns (3 to 21
categories each, pandas 3 `str`) one-hot encoded and 10 numeric columns scaled by a ColumnTransformer, then a
LogisticRegression with string labels — on 20,000 seeded synthetic rows (quick: 2,000).

Measured in the same run, as ratios: our ONNX export time (front-end + writer, float32 numeric inputs) against
skl2onnx's `convert_sklearn` of the same pipeline (string tensors for the string columns, float tensors for the
numeric ones: its double-tensor graph does not load in onnxruntime), the .onnx sizes, and the full parity run
(scikit-learn + onnxruntime + Core ML evaluator on the rows and every probe set) against scikit-learn's
`predict_proba` on the rows. skl2onnx's artifact is not proven: its largest probability difference from
scikit-learn on the rows is reported beside it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from export.errors import describe_exception

N_STRING_COLUMNS = 10
N_NUMERIC_COLUMNS = 10


def dataframe_bench_data(n_rows: int, seed: int = 3) -> tuple[Any, np.ndarray]:
    """(X, y): string columns `cat0..cat9` with 3, 5, ..., 21 categories, numeric `num0..num9`, labels "no"/"yes"
    from a noisy sum of both kinds."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    signal = np.zeros(n_rows)
    for j in range(N_STRING_COLUMNS):
        n_categories = 3 + 2 * j
        codes = rng.integers(0, n_categories, n_rows)
        columns[f"cat{j}"] = pd.Series(np.array([f"c{j}_{k}" for k in range(n_categories)])[codes], dtype="str")
        signal += rng.normal(size=n_categories)[codes]
    for j in range(N_NUMERIC_COLUMNS):
        values = rng.normal(size=n_rows) * (j + 1)
        columns[f"num{j}"] = values
        signal += values / (j + 1) * rng.normal()
    y = np.where(signal + rng.normal(size=n_rows) > np.median(signal), "yes", "no")
    return pd.DataFrame(columns), y


def dataframe_bench_model(X: Any, y: np.ndarray) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    columns = ColumnTransformer([
        ("strings", OneHotEncoder(handle_unknown="ignore"), [f"cat{j}" for j in range(N_STRING_COLUMNS)]),
        ("numbers", StandardScaler(), [f"num{j}" for j in range(N_NUMERIC_COLUMNS)])])
    return Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=1000))]).fit(X, y)


def _skl2onnx(model: Any, X: Any) -> dict[str, Any]:
    """skl2onnx's conversion of the same pipeline: seconds, bytes, and its max |Δp| from scikit-learn on X."""
    from export.bench import _best_of  # bench imports this module lazily, so no cycle at import time

    try:
        import onnxruntime as ort
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType, StringTensorType

        types = [(c, StringTensorType([None, 1]) if c.startswith("cat") else FloatTensorType([None, 1]))
                 for c in X.columns]
        options = {id(model.steps[-1][1]): {"zipmap": False}}
        seconds, converted = _best_of(3, lambda: convert_sklearn(model, initial_types=types, options=options))
        session = ort.InferenceSession(converted.SerializeToString(), providers=["CPUExecutionProvider"])
        feeds = {c: (X[c].to_numpy(dtype=object) if c.startswith("cat") else X[c].to_numpy(dtype=np.float32))
                 .reshape(-1, 1) for c in X.columns}
        probabilities = session.run(None, feeds)[1]
    except Exception as exc:  # the peer's own failure is a measured result, reported as text
        return {"status": f"failed: {describe_exception(exc, 120)}"}
    drift = float(np.max(np.abs(np.asarray(probabilities, dtype=np.float64) - model.predict_proba(X))))
    return {"status": f"converted (not proven: max |Δp| {drift:.1e} vs scikit-learn on the rows)",
            "seconds": seconds, "bytes": len(converted.SerializeToString()), "max_abs_probability_error": drift}


def bench_dataframe(quick: bool, say: Callable[[str], None]) -> dict[str, Any]:
    from export.bench import _best_of, parity_fields
    from export.frontends import to_ir
    from export.to_coreml import CoreMLInterface, save_spec, to_spec
    from export.to_onnx import OnnxOptions, save_onnx, to_onnx
    from parity.bench import bench_parity_run

    n_rows = 2_000 if quick else 20_000
    X, y = dataframe_bench_data(n_rows)
    say(f"dataframe: training ColumnTransformer(OneHotEncoder x10 str, StandardScaler x10) + LogisticRegression on "
        f"{n_rows} rows")
    model = dataframe_bench_model(X, y)
    results: dict[str, Any] = {"model": f"ColumnTransformer(OneHotEncoder on {N_STRING_COLUMNS} str columns, "
                                        f"StandardScaler on {N_NUMERIC_COLUMNS}) + LogisticRegression, {n_rows} rows"}
    with tempfile.TemporaryDirectory(prefix="mlexport-bench-dataframe-") as tmp_name:
        tmp = Path(tmp_name)

        def ours_onnx() -> int:
            result = to_onnx(model, to_ir(model), OnnxOptions(input_dtype="float32"))
            save_onnx(result.model, tmp / "ours32.onnx")
            return (tmp / "ours32.onnx").stat().st_size

        def ours_coreml() -> int:
            save_spec(to_spec(to_ir(model), CoreMLInterface()), tmp / "ours.mlmodel", validate=False)
            return (tmp / "ours.mlmodel").stat().st_size

        say("dataframe: timing mlexport's ONNX and Core ML export and skl2onnx (best of 3 each)")
        results["mlexport_onnx_seconds"], results["mlexport_onnx_bytes"] = _best_of(3, ours_onnx)
        results["mlexport_coreml_seconds"], results["mlexport_mlmodel_bytes"] = _best_of(3, ours_coreml)
        peer = _skl2onnx(model, X)
        results["skl2onnx"] = peer
        if "seconds" in peer:
            results["onnx_time_ratio"] = results["mlexport_onnx_seconds"] / peer["seconds"]
            results["onnx_size_ratio"] = results["mlexport_onnx_bytes"] / peer["bytes"]
        save_onnx(to_onnx(model, to_ir(model), OnnxOptions(input_dtype="float64")).model, tmp / "ours.onnx")
        say(f"dataframe: full parity run on {n_rows} rows (scikit-learn + onnxruntime + Core ML evaluator)")
        parity_run = bench_parity_run(model, X, [tmp / "ours.mlmodel", tmp / "ours.onnx"])
    results.update(parity_fields(parity_run))
    return results


def format_dataframe(results: dict[str, Any]) -> list[str]:
    from export.bench import ratio_line

    status = results["skl2onnx"]["status"]
    return [f"  dataframe: {results['model']}",
            ratio_line("DataFrame .onnx export time / skl2onnx's", results.get("onnx_time_ratio"), status),
            ratio_line("DataFrame .onnx size / skl2onnx's", results.get("onnx_size_ratio"), status),
            ratio_line("DataFrame full parity run / scikit-learn predict_proba", results.get("parity_ratio"),
                  f"parity {results.get('parity_verdict')}")]
