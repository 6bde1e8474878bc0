"""`mlexport demo`: the whole flow on two models trained here, on data that ships with scikit-learn and mlexport.

1. A random forest on iris (named features, string class labels — what an iOS developer meets in practice).
2. A churn classifier on a real DataFrame with string columns and string labels (`export/demo_data/`, 1,000 rows
   of IBM's Telco customer churn): a ColumnTransformer that ordinal-encodes `contract`, one-hot encodes three
   other string columns, imputes and scales the numeric ones and passes two 0/1 columns through, then a
   LogisticRegression. Its checked rows (a held-out DataFrame) are kept in the export as Parquet.

Each is saved as .skops, exported to Core ML and ONNX from that file, and checked by the parity suite.
Deterministic: the same versions regenerate `artifacts/demo/` and `artifacts/demo_dataframe/` byte for byte.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from export.exporter import ExportOptions, ExportResult, export_model
from export.loading import dump_skops

DEMO_NAME = "iris_classifier"
DEMO_FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
DATAFRAME_DEMO_NAME = "churn_classifier"
# 1,000 rows of telco_churn.csv (provenance: export/demo_data/README.md); packaged, so the demo needs no download.
CHURN_CSV = Path(__file__).parent / "demo_data" / "telco_churn_demo.csv"
CHURN_TRAINING_ROWS = 800  # rows 0-799 train the model; rows 800-999 are the parity rows (--data)
CONTRACT_ORDER = ["Month-to-month", "One year", "Two year"]  # OrdinalEncoder: the contract length, in order
ONE_HOT_COLUMNS = ["internet_service", "payment_method", "tech_support"]
SCALED_COLUMNS = ["tenure", "monthly_charges", "total_charges"]  # total_charges is missing for new customers
PASSTHROUGH_COLUMNS = ["paperless_billing", "senior_citizen"]  # 0/1 integers, remainder="passthrough"


@dataclass
class DemoResult:
    export: ExportResult
    summary: str
    dataframe_export: ExportResult | None = None

    @property
    def parity_verdict(self) -> str:
        verdicts = [self.export.parity_verdict] + ([self.dataframe_export.parity_verdict]
                                                   if self.dataframe_export is not None else [])
        return "failed" if "failed" in verdicts else verdicts[0]


def train_demo_model() -> tuple[object, np.ndarray]:
    """The iris estimator (fitted, seeded) and the rows it is checked on."""
    import pandas as pd
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    iris = load_iris()
    frame = pd.DataFrame(iris.data, columns=list(DEMO_FEATURES))
    labels = np.asarray(iris.target_names)[iris.target]
    model = RandomForestClassifier(n_estimators=30, max_depth=6, random_state=0)
    model.fit(frame, labels)
    return model, np.asarray(iris.data, dtype=np.float64)


def train_dataframe_demo_model() -> tuple[object, Any]:
    """The churn pipeline fitted on rows 0-799 of the packaged CSV (pandas 3 reads its strings as `str`), and the
    held-out rows 800-999 as a DataFrame (string columns included) it is checked on."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    frame = pd.read_csv(CHURN_CSV)
    X, y = frame.drop(columns="churn"), frame["churn"]  # labels "No" / "Yes"
    columns = ColumnTransformer([
        ("contract", OrdinalEncoder(categories=[CONTRACT_ORDER], handle_unknown="use_encoded_value",
                                    unknown_value=-1), ["contract"]),  # unseen or missing: -1
        ("services", OneHotEncoder(handle_unknown="ignore"), ONE_HOT_COLUMNS),
        ("numbers", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), SCALED_COLUMNS)],
        remainder="passthrough")
    model = Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=1000))])
    model.fit(X.iloc[:CHURN_TRAINING_ROWS], y.iloc[:CHURN_TRAINING_ROWS])
    return model, X.iloc[CHURN_TRAINING_ROWS:].reset_index(drop=True)


def dataframe_demo_dir(out: Path) -> Path:
    """Where the DataFrame demo goes by default: beside `out` (artifacts/demo -> artifacts/demo_dataframe)."""
    return out.with_name(f"{out.name}_dataframe")


def _export_from_skops(model: Any, rows: Any, out: Path, name: str, description: str,
                       say: Callable[[str], None]) -> ExportResult:
    with tempfile.TemporaryDirectory(prefix="mlexport-demo-") as tmp:
        model_path = Path(tmp) / f"{name}.skops"
        dump_skops(model, model_path)
        say(f"saved {model_path.name}; exporting")
        options = ExportOptions(
            formats=("coreml", "onnx"), name=name, author="mlexport demo", license="BSD-3-Clause",
            version="1.0.0", description=description, force=True, reproducible=True)
        return export_model(model_path, out, options, data=rows, progress=say)


def _summary(result: ExportResult, out: Path, target: str) -> str:
    files = "\n".join(f"  {path}" for path in sorted(result.artifacts.values()))
    return (f"mlexport demo: exported {result.name} to {out}\n{files}\n"
            f"  {out / 'manifest.json'}  (hashes, versions, options)\n"
            f"  {out / 'parity.html'}  (open in a browser)\n"
            f"  {out / 'golden.json'}  (for ios_stub: `mlexport ios-stub {out} --out {target}`)\n"
            f"parity {result.parity_verdict}: {result.parity_summary}")


def run_demo(out: Path, progress: Callable[[str], None] | None = None,
             dataframe_out: Path | None = None) -> DemoResult:
    """Both demos: iris into `out`, the churn DataFrame model into `dataframe_out` (default: beside `out`)."""
    say = progress or (lambda message: None)
    say("training RandomForestClassifier(n_estimators=30, max_depth=6) on iris")
    model, rows = train_demo_model()
    result = _export_from_skops(model, rows, out, DEMO_NAME,
                                "Iris species from sepal and petal measurements (cm); mlexport demo", say)
    frame_out = dataframe_out if dataframe_out is not None else dataframe_demo_dir(out)
    say("training ColumnTransformer(OrdinalEncoder, OneHotEncoder, SimpleImputer+StandardScaler) + "
        "LogisticRegression on 800 rows of Telco customer churn")
    frame_model, frame_rows = train_dataframe_demo_model()
    frame_result = _export_from_skops(
        frame_model, frame_rows, frame_out, DATAFRAME_DEMO_NAME,
        "Customer churn (No/Yes) from contract, services, payment and charges (IBM Telco customer churn); "
        "string inputs: a missing string is fed as \"\"; mlexport demo", say)
    summary = (_summary(result, out, "IrisParityTests") + "\n"
               + _summary(frame_result, frame_out, "ChurnParityTests"))
    return DemoResult(export=result, summary=summary, dataframe_export=frame_result)
