"""Real Core ML predictions where they exist (macOS with coremltools' libcoremlpython), in the evaluator's format.

Used by the parity suite only when `native_available()` is true; elsewhere nothing here runs, and nothing may be
reported as checked against real Core ML.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import numpy as np

from parity.coreml_reference.feature_columns import columns_from_inputs, feature_kind
from parity.coreml_reference.spec_loading import load_model, quiet_coremltools
from parity.errors import EvaluatorInputError, RuntimeUnavailableError


def native_available() -> tuple[bool, str]:
    """(True, "") only on macOS with coremltools' compiled Core ML bridge; else (False, reason)."""
    system = platform.system()
    if system != "Darwin":
        return False, f"unavailable on this platform: Core ML prediction needs macOS (this is {system})"
    try:
        with quiet_coremltools():
            import coremltools.libcoremlpython  # noqa: F401
    except ImportError as exc:
        return False, f"unavailable on this platform: coremltools.libcoremlpython cannot be imported ({exc})"
    return True, ""


def native_predict(path: str | Path, inputs: Any) -> dict[str, np.ndarray]:
    """Predict row by row with `coremltools.models.MLModel(path).predict`, returned like `predict()` is.

    Core ML's Python API takes one feature dictionary per call, so this loops over rows; it is a verification
    path on macOS, not a hot path.
    """
    available, reason = native_available()
    if not available:
        raise RuntimeUnavailableError(reason)
    import coremltools  # imported only on macOS, after native_available() succeeded

    from parity.coreml_reference import class_labels as reference_class_labels
    from parity.coreml_reference import recorded_feature_names

    spec = load_model(path)
    description = spec.description
    columns = columns_from_inputs(description.input, inputs, recorded_feature_names(spec))
    model = coremltools.models.MLModel(str(path))
    n_rows = next(iter(columns.values())).shape[0] if columns else 0  # type: ignore[union-attr]
    labels = reference_class_labels(spec)
    rows: list[dict[str, Any]] = []
    for row in range(n_rows):
        features: dict[str, Any] = {}
        for feature in description.input:
            column = columns[feature.name]
            if not isinstance(column, np.ndarray):
                raise EvaluatorInputError(f"input {feature.name!r}: dictionary inputs are not supported natively")
            kind = feature_kind(feature)
            value = column[row]
            if kind == "multiArrayType":
                features[feature.name] = np.asarray(value).reshape(tuple(feature.type.multiArrayType.shape))
            elif kind == "int64Type":
                features[feature.name] = int(value)
            elif kind == "doubleType":
                features[feature.name] = float(value)
            else:
                features[feature.name] = value
        rows.append(model.predict(features))
    outputs: dict[str, np.ndarray] = {}
    for feature in description.output:
        kind = feature_kind(feature)
        values = [row_output[feature.name] for row_output in rows]
        if kind == "dictionaryType":
            order = labels if feature.name == description.predictedProbabilitiesName and labels else sorted(values[0])
            outputs[feature.name] = np.array([[float(v.get(key, 0.0)) for key in order] for v in values])
        elif kind == "multiArrayType":
            outputs[feature.name] = np.array([np.asarray(v, dtype=np.float64).ravel() for v in values])
        elif kind == "int64Type":
            outputs[feature.name] = np.array(values, dtype=np.int64)
        elif kind == "stringType":
            outputs[feature.name] = np.array(values, dtype=object)
        else:
            outputs[feature.name] = np.array(values, dtype=np.float64)
    return outputs
