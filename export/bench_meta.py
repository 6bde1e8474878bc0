"""`mlexport bench`, meta-estimator part (issue 14): a soft VotingClassifier and a CalibratedClassifierCV — our ONNX
export time against skl2onnx's (which converts both; flatten_transform=False for its VotingClassifier, which it
refuses otherwise), our Core ML export time (no peer converts these), skl2onnx's measured error against
scikit-learn, and the full parity run against scikit-learn's own predict — every number measured in the same run.

Data: make_classification, 3 classes, 20 features (20,000 rows; quick: 2,000); members: LogisticRegression,
RandomForestClassifier(100, max_depth 8; quick: 10 trees), DecisionTreeClassifier(max_depth 8) (GaussianNB's
K > 2 softmax has no Core ML encoding); calibration: LinearSVC, sigmoid, cv=3.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from export.errors import describe_exception


def _models(quick: bool) -> tuple[np.ndarray, dict[str, Any]]:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier, VotingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC
    from sklearn.tree import DecisionTreeClassifier

    n_rows, trees = (2_000, 10) if quick else (20_000, 100)
    X, y = make_classification(n_samples=n_rows, n_features=20, n_informative=8, n_classes=3, random_state=3)
    voting = VotingClassifier([("lr", LogisticRegression(max_iter=1000)),
                               ("forest", RandomForestClassifier(trees, max_depth=8, random_state=0)),
                               ("tree", DecisionTreeClassifier(max_depth=8, random_state=0))], voting="soft",
                              flatten_transform=False)
    calibrated = CalibratedClassifierCV(LinearSVC(), method="sigmoid", cv=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LinearSVC / LogisticRegression convergence on synthetic rows
        voting.fit(X, y)
        calibrated.fit(X, y)
    return X, {f"VotingClassifier(soft; LR, RF {trees} trees, tree) on {n_rows}x20": voting,
               f"CalibratedClassifierCV(LinearSVC, sigmoid, cv=3) on {n_rows}x20": calibrated}


def _skl2onnx(estimator: Any, X: np.ndarray) -> dict[str, Any]:
    from export.bench import _best_of

    try:
        import onnxruntime as ort
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType

        seconds, model = _best_of(3, lambda: convert_sklearn(
            estimator, initial_types=[("input", FloatTensorType([None, X.shape[1]]))],
            options={id(estimator): {"zipmap": False}}))
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        label, proba = session.run(None, {"input": X.astype(np.float32)})[:2]
    except Exception as exc:  # the peer's own failure is a measured result, reported as text
        return {"status": f"failed: {describe_exception(exc, 120)}"}
    expected = estimator.predict_proba(X.astype(np.float32).astype(np.float64))
    return {"status": "converted", "seconds": seconds,
            "max_abs_probability_error": float(np.abs(proba - expected).max()),
            "label_mismatches": int((label != estimator.predict(X.astype(np.float32).astype(np.float64))).sum())}


def bench_meta(quick: bool, say: Callable[[str], None]) -> dict[str, Any]:
    from export.bench import _best_of, parity_fields
    from export.frontends import to_ir
    from export.to_coreml import CoreMLInterface, save_spec, to_spec
    from export.to_onnx import OnnxOptions, save_onnx, to_onnx
    from parity.bench import bench_parity_run

    X, models = _models(quick)
    results: dict[str, Any] = {}
    for title, estimator in models.items():
        with tempfile.TemporaryDirectory(prefix="mlexport-bench-meta-") as tmp_name:
            tmp = Path(tmp_name)
            say(f"meta: exporting {title}")

            def onnx(contract: str, estimator: Any = estimator, tmp: Path = tmp) -> int:
                result = to_onnx(estimator, to_ir(estimator), OnnxOptions(input_dtype=contract))  # type: ignore[arg-type]
                save_onnx(result.model, tmp / f"ours-{contract}.onnx")
                return (tmp / f"ours-{contract}.onnx").stat().st_size

            def coreml(estimator: Any = estimator, tmp: Path = tmp) -> int:
                save_spec(to_spec(to_ir(estimator), CoreMLInterface()), tmp / "ours.mlmodel", validate=False)
                return (tmp / "ours.mlmodel").stat().st_size

            onnx_seconds, _ = _best_of(3, lambda: onnx("float32"))  # skl2onnx's contract: float32 input
            coreml_seconds, _ = _best_of(3, coreml)
            onnx("float64")
            row: dict[str, Any] = {"mlexport_onnx_seconds": onnx_seconds, "mlexport_coreml_seconds": coreml_seconds}
            say(f"meta: skl2onnx on {title}")
            peer = _skl2onnx(estimator, X)
            row["skl2onnx"] = peer
            if "seconds" in peer:
                row["onnx_time_ratio"] = onnx_seconds / peer["seconds"]
            say(f"meta: full parity run for {title} on {len(X)} rows")
            parity_run = bench_parity_run(estimator, X, [tmp / "ours.mlmodel", tmp / "ours-float64.onnx"],
                                          method="predict")
            row.update(parity_fields(parity_run))
            results[title] = row
    return results


def format_meta(results: dict[str, Any]) -> list[str]:
    from export.bench import ratio_line

    lines = []
    for title, row in results.items():
        peer = row["skl2onnx"]
        note = peer["status"] if "seconds" not in peer else (
            f"skl2onnx max |Δp| {peer['max_abs_probability_error']:.2g}, {peer['label_mismatches']} labels ≠")
        lines.append(f"  {title}")
        lines.append(ratio_line("meta-estimator .onnx export time / skl2onnx's", row.get("onnx_time_ratio"), note))
        lines.append(ratio_line("meta-estimator full parity run / scikit-learn predict", row.get("parity_ratio"),
                           f"parity {row.get('parity_verdict')}"))
    return lines
