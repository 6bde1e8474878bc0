"""parity.check end to end on artifacts made without `export` (skl2onnx directly) plus Core ML from the writer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

import parity
from parity.errors import ArtifactError, ParityInputError

RENAMES = {"label": "classLabel", "probabilities": "classProbability", "variable": "prediction"}
ROLES = {"classLabel": "label", "classProbability": "probabilities", "prediction": "prediction"}


def skl2onnx_artifact(estimator: object, X: np.ndarray, path: Path, dtype: type = np.float32) -> Path:
    """An ONNX file in the mlexport contract (renamed outputs, zipmap off, roles in metadata) made by skl2onnx."""
    from skl2onnx import to_onnx

    options = {id(estimator): {"zipmap": False}} if hasattr(estimator, "classes_") else None
    model = to_onnx(estimator, X[:1].astype(dtype), options=options, target_opset={"": 17, "ai.onnx.ml": 3})
    for node in model.graph.node:
        node.output[:] = [RENAMES.get(name, name) for name in node.output]
    for output in model.graph.output:
        output.name = RENAMES.get(output.name, output.name)
    roles = {o.name: ROLES[o.name] for o in model.graph.output}
    helper.set_model_props(model, {"mlexport.output_roles": json.dumps(roles)})
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def classification() -> tuple[np.ndarray, np.ndarray]:
    return make_classification(n_samples=300, n_features=5, n_informative=3, random_state=0)


def test_faithful_float32_logistic_passes(classification: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    X, y = classification
    model = LogisticRegression().fit(X, y)
    path = skl2onnx_artifact(model, X, tmp_path / "logistic.onnx")
    report = parity.check(model, [path], inputs=X, contract="float32")
    assert report.verdict == "passed", parity.to_markdown(report)
    statuses = {r.runtime.split()[0]: r.status for r in report.runtimes}
    assert statuses["onnxruntime"] == "ran" and statuses["scikit-learn"] == "ran"
    probes = {c.probe for c in report.checks}
    assert {"user-data", "extremes", "one-row", "large-batch"} <= probes
    assert "nan" not in probes  # LogisticRegression refuses NaN
    assert all(c.comparison.tolerance is None or c.comparison.tolerance.reason for c in report.checks)


def test_intercept_offset_is_named_constant_offset(tmp_path: Path) -> None:
    X, y = make_regression(n_samples=200, n_features=4, random_state=0)
    model = LinearRegression().fit(X, y)
    path = skl2onnx_artifact(model, X, tmp_path / "linear.onnx")
    onnx_model = onnx.load(str(path))
    (regressor,) = [n for n in onnx_model.graph.node if n.op_type == "LinearRegressor"]
    intercepts = next(a for a in regressor.attribute if a.name == "intercepts")
    intercepts.floats[0] += 0.5  # hand-injected base-value fault
    onnx.save(onnx_model, str(path))
    report = parity.check(model, [path], inputs=X, contract="float32")
    assert report.verdict == "failed"
    user = next(c for c in report.checks if c.probe == "user-data")
    assert user.comparison.violations == len(X)
    assert user.comparison.cause is not None and "constant offset" in user.comparison.cause
    assert "+0.5" in user.comparison.cause


def test_skl2onnx_nan_routing_bug_is_caught_and_named(tmp_path: Path) -> None:
    # skl2onnx 1.20 drops scikit-learn's learned NaN routing (sklearn-onnx #1253): docs/onnx-parity.md §1.4.
    rng = np.random.default_rng(0)
    X, y = make_classification(n_samples=400, n_features=4, random_state=1)
    X[rng.random(X.shape) < 0.15] = np.nan
    model = RandomForestClassifier(n_estimators=5, max_depth=5, random_state=0).fit(X, y)
    path = skl2onnx_artifact(model, np.nan_to_num(X), tmp_path / "forest.onnx")
    report = parity.check(model, [path], inputs=X, contract="float32")
    assert report.verdict == "failed"
    failing = [c for c in report.checks if not c.passed]
    assert failing
    assert all("NaN" in (c.comparison.cause or "") for c in failing), [c.comparison.cause for c in failing]
    # rows without any NaN agree exactly where routing is concerned: the threshold sets pass
    assert all(c.passed for c in report.checks if c.probe in ("thresholds", "float32-neighbours"))


def test_missing_roles_metadata_is_refused(classification: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    X, y = classification
    model = LogisticRegression().fit(X, y)
    path = skl2onnx_artifact(model, X, tmp_path / "bare.onnx")
    bare = onnx.load(str(path))
    del bare.metadata_props[:]
    onnx.save(bare, str(path))
    with pytest.raises(ArtifactError, match="mlexport.output_roles"):
        parity.check(model, [path], inputs=X)


def test_argument_errors(classification: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    X, y = classification
    model = LogisticRegression().fit(X, y)
    with pytest.raises(ParityInputError, match="contract"):
        parity.check(model, [tmp_path / "x.onnx"], contract="float16")
    with pytest.raises(ParityInputError, match="at least one"):
        parity.check(model, [])
    path = skl2onnx_artifact(model, X, tmp_path / "m.onnx")
    with pytest.raises(ParityInputError, match=r"\(n, 5\)"):
        parity.check(model, [path], inputs=X[:, :3])
    with pytest.raises(ArtifactError, match="not found"):
        parity.check(model, [tmp_path / "absent.onnx"])
    with pytest.raises(ArtifactError, match="supported"):
        (tmp_path / "model.pkl").write_bytes(b"x")
        parity.check(model, [tmp_path / "model.pkl"])


def test_reference_drift_is_reported_apart_and_never_fails(tmp_path: Path) -> None:
    # HGB compares float64 x: rounding inputs to float32 changes scikit-learn's own output near thresholds.
    X, y = make_regression(n_samples=300, n_features=3, random_state=0)
    X = np.round(X, 3)  # many thresholds equal data values, as in docs/onnx-parity.md §1.4
    model = HistGradientBoostingRegressor(max_iter=20, random_state=0).fit(X, y)
    path = skl2onnx_artifact(LinearRegression().fit(X, model.predict(X)), X, tmp_path / "other.onnx",
                             dtype=np.float64)
    report = parity.check(model, [path], inputs=X, contract="float64")
    drift = [d for d in report.drift if d.probe == "thresholds"]
    assert drift and drift[0].rows_changed > 0  # scikit-learn differs from itself on float32-rounded thresholds
    # the drift is a fact about the model: it does not appear among checks
    assert all(c.probe != "drift" for c in report.checks)


def test_coreml_native_is_never_reported_as_passed(classification: tuple[np.ndarray, np.ndarray],
                                                   tmp_path: Path) -> None:
    export = pytest.importorskip("export.to_coreml")
    from export.frontends import to_ir

    X, y = classification
    model = LogisticRegression().fit(X, y)
    spec = export.to_spec(to_ir(model), export.CoreMLInterface())
    path = tmp_path / "logistic.mlmodel"
    export.save_spec(spec, path)
    report = parity.check(model, [path], inputs=X)
    native = [r for r in report.runtimes if r.runtime == "Core ML native"]
    assert len(native) == 1
    import platform

    if platform.system() != "Darwin":
        assert native[0].status.startswith("unavailable on this platform")
    assert all(r.status != "passed" for r in report.runtimes)
    evaluator = [r for r in report.runtimes if r.runtime.startswith("Core ML reference")]
    assert evaluator and evaluator[0].status == "ran"


def test_dataframe_inputs_are_matched_by_column_name(classification: tuple[np.ndarray, np.ndarray],
                                                     tmp_path: Path) -> None:
    import pandas as pd

    X, y = classification
    names = [f"f{i}" for i in range(5)]
    model = LogisticRegression().fit(X, y)
    path = skl2onnx_artifact(model, X, tmp_path / "logistic.onnx")
    shuffled = pd.DataFrame(X, columns=names)[names[::-1]]  # same data, columns in reverse order
    report = parity.check(model, [path], inputs=shuffled, contract="float32", feature_names=names)
    assert report.verdict == "passed", parity.to_markdown(report)
    with pytest.raises(ParityInputError, match=r"missing columns \['f2'\]"):
        parity.check(model, [path], inputs=shuffled.drop(columns=["f2"]), feature_names=names)


def test_non_tree_model_gets_no_threshold_note(classification: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    X, y = classification
    model = LogisticRegression().fit(X, y)
    report = parity.check(model, [skl2onnx_artifact(model, X, tmp_path / "m.onnx")], inputs=X, contract="float32")
    assert not any("threshold" in note for note in report.notes)


def test_without_user_data_probes_come_from_the_model(classification: tuple[np.ndarray, np.ndarray],
                                                      tmp_path: Path) -> None:
    X, y = classification
    forest = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y)
    path = skl2onnx_artifact(forest, X, tmp_path / "forest.onnx")
    report = parity.check(forest, [path], contract="float32")
    names = {p.name for p in report.probes}
    assert "model-derived" in names and "user-data" not in names
    assert {"thresholds", "float32-neighbours", "nan"} <= names
    assert any("no user data" in note for note in report.notes)
    # skl2onnx sends NaN to the false branch even for a forest trained without NaN (scikit-learn: the child with
    # more samples; sklearn-onnx #1253): only the nan set may fail, and it must say so.
    assert all(c.passed for c in report.checks if c.probe != "nan"), parity.to_markdown(report)
    assert all("NaN routing" in (c.comparison.cause or "") for c in report.failures())


def test_native_core_ml_runs_as_its_own_runtime_when_available(classification: tuple[np.ndarray, np.ndarray],
                                                               tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulate macOS: a native module that is "available" and predicts (here through the reference evaluator).
    export = pytest.importorskip("export.to_coreml")
    import parity.coreml_reference as reference
    from export.frontends import to_ir
    from parity.coreml_reference import native

    X, y = classification
    model = LogisticRegression().fit(X, y)
    path = tmp_path / "logistic.mlmodel"
    export.save_spec(export.to_spec(to_ir(model), export.CoreMLInterface()), path)
    calls = []

    def fake_native_predict(artifact_path: object, inputs: object) -> dict[str, np.ndarray]:
        calls.append(artifact_path)
        return reference.predict(str(artifact_path), inputs)

    monkeypatch.setattr(native, "native_available", lambda: (True, ""))
    monkeypatch.setattr(native, "native_predict", fake_native_predict)
    report = parity.check(model, [path], inputs=X)
    assert calls
    native_status = [r for r in report.runtimes if r.runtime == "Core ML native"]
    assert [r.status for r in native_status] == ["ran"]
    assert {c.runtime for c in report.checks} == {"Core ML native", report.artifacts[0].runtime}
    assert report.verdict == "passed", parity.to_markdown(report)


def test_swapped_class_labels_in_the_graph_are_named(classification: tuple[np.ndarray, np.ndarray],
                                                     tmp_path: Path) -> None:
    X, y = classification
    model = LogisticRegression().fit(X, y)
    path = skl2onnx_artifact(model, X, tmp_path / "logistic.onnx")
    graph_model = onnx.load(str(path))
    (classifier,) = [n for n in graph_model.graph.node if n.op_type == "LinearClassifier"]
    labels = next(a for a in classifier.attribute if a.name == "classlabels_ints")
    labels.ints[:] = list(labels.ints)[::-1]
    onnx.save(graph_model, str(path))
    report = parity.check(model, [path], inputs=X, contract="float32")
    assert report.verdict == "failed"
    assert report.artifacts[0].problems == [
        "class-label order swapped: artifact lists ['1', '0'], scikit-learn classes_ is ['0', '1']"]
    assert "class-label order swapped" in parity.to_junit(report)  # the artifact-level failure reaches JUnit


class _RefusesEverything(LogisticRegression):
    """A fitted model whose predictions raise on every row: every probe set and the user's rows are refused."""

    def predict(self, X: object) -> np.ndarray:
        raise ValueError("this model refuses every row")

    def predict_proba(self, X: object) -> np.ndarray:
        raise ValueError("this model refuses every row")


def test_a_run_that_compares_nothing_fails(classification: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    X, y = classification
    fitted = LogisticRegression().fit(X, y)
    path = skl2onnx_artifact(fitted, X, tmp_path / "logistic.onnx")
    refusing = _RefusesEverything().fit(X, y)
    report = parity.check(refusing, [path], inputs=X, contract="float32")
    assert not report.checks
    assert report.verdict == "failed"
    assert any("nothing was compared" in note for note in report.notes), report.notes
