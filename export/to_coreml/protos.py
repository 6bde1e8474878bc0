"""Quiet access to coremltools' generated protobuf modules: the only coremltools code the Core ML writer uses."""

from __future__ import annotations

import logging
import warnings
from types import ModuleType
from typing import Any


def _import_proto_modules() -> dict[str, ModuleType]:
    # Importing any coremltools.proto module runs coremltools/__init__, which logs (through the "coremltools"
    # logger) a scikit-learn version-gate warning and "Failed to load _MLModelProxy" lines on Linux. The writer only
    # needs the generated protobuf classes, so that logger (and Python warnings) are silenced for the import.
    core_logger = logging.getLogger("coremltools")
    previous_level = core_logger.level
    core_logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from coremltools.proto import (
                FeatureTypes_pb2,
                GLMClassifier_pb2,
                GLMRegressor_pb2,
                Model_pb2,
                Normalizer_pb2,
                OneHotEncoder_pb2,
                TreeEnsemble_pb2,
            )
    finally:
        core_logger.setLevel(previous_level)
    return {
        "FeatureTypes_pb2": FeatureTypes_pb2,
        "GLMClassifier_pb2": GLMClassifier_pb2,
        "GLMRegressor_pb2": GLMRegressor_pb2,
        "Model_pb2": Model_pb2,
        "Normalizer_pb2": Normalizer_pb2,
        "OneHotEncoder_pb2": OneHotEncoder_pb2,
        "TreeEnsemble_pb2": TreeEnsemble_pb2,
    }


_MODULES = _import_proto_modules()
FeatureTypes_pb2 = _MODULES["FeatureTypes_pb2"]
GLMClassifier_pb2 = _MODULES["GLMClassifier_pb2"]
GLMRegressor_pb2 = _MODULES["GLMRegressor_pb2"]
Model_pb2 = _MODULES["Model_pb2"]
Normalizer_pb2 = _MODULES["Normalizer_pb2"]
OneHotEncoder_pb2 = _MODULES["OneHotEncoder_pb2"]
TreeEnsemble_pb2 = _MODULES["TreeEnsemble_pb2"]

DOUBLE_ARRAY = FeatureTypes_pb2.ArrayFeatureType.DOUBLE
FLOAT32_ARRAY = FeatureTypes_pb2.ArrayFeatureType.FLOAT32

# The generated message classes carry no static types; `Spec` names a `Model_pb2.Model` in signatures.
Spec = Any
