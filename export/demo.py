"""`mlexport demo`: the whole flow on a model trained here, on a dataset that ships with scikit-learn.

Trains a random forest on iris (named features, string class labels — what an iOS developer meets in practice),
saves it as .skops, exports it to Core ML and ONNX from that file, and runs the parity suite. Deterministic: the
same versions regenerate `artifacts/demo/` byte for byte.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from export.exporter import ExportOptions, ExportResult, export_model
from export.loading import dump_skops

DEMO_NAME = "iris_classifier"
DEMO_FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")


@dataclass
class DemoResult:
    export: ExportResult
    summary: str

    @property
    def parity_verdict(self) -> str:
        return self.export.parity_verdict


def train_demo_model() -> tuple[object, np.ndarray]:
    """The demo estimator (fitted, seeded) and the rows it is checked on."""
    import pandas as pd
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    iris = load_iris()
    frame = pd.DataFrame(iris.data, columns=list(DEMO_FEATURES))
    labels = np.asarray(iris.target_names)[iris.target]
    model = RandomForestClassifier(n_estimators=30, max_depth=6, random_state=0)
    model.fit(frame, labels)
    return model, np.asarray(iris.data, dtype=np.float64)


def run_demo(out: Path, progress: Callable[[str], None] | None = None) -> DemoResult:
    say = progress or (lambda message: None)
    say("training RandomForestClassifier(n_estimators=30, max_depth=6) on iris")
    model, rows = train_demo_model()
    with tempfile.TemporaryDirectory(prefix="mlexport-demo-") as tmp:
        model_path = Path(tmp) / f"{DEMO_NAME}.skops"
        dump_skops(model, model_path)
        say(f"saved {model_path.name}; exporting")
        options = ExportOptions(
            formats=("coreml", "onnx"), name=DEMO_NAME, author="mlexport demo", license="BSD-3-Clause",
            version="1.0.0", description="Iris species from sepal and petal measurements (cm); mlexport demo",
            force=True, reproducible=True)
        result = export_model(model_path, out, options, data=rows, progress=say)
    files = "\n".join(f"  {path}" for path in sorted(result.artifacts.values()))
    summary = (f"mlexport demo: exported {DEMO_NAME} to {out}\n{files}\n"
               f"  {out / 'manifest.json'}  (hashes, versions, options)\n"
               f"  {out / 'parity.html'}  (open in a browser)\n"
               f"  {out / 'golden.json'}  (for ios_stub: `mlexport ios-stub {out} --out IrisParityTests`)\n"
               f"parity {result.parity_verdict}: {result.parity_summary}")
    return DemoResult(export=result, summary=summary)
