"""Quiet access to coremltools' generated protobuf modules: the only coremltools code the Core ML writer uses."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from parity.coreml_reference.spec_loading import quiet_coremltools


def _import_proto_modules() -> dict[str, ModuleType]:
    with quiet_coremltools():  # coremltools' import-time version-gate warning and "Failed to load" lines
        from coremltools.proto import (
            FeatureTypes_pb2,
            GLMClassifier_pb2,
            GLMRegressor_pb2,
            Model_pb2,
            Normalizer_pb2,
            OneHotEncoder_pb2,
            TreeEnsemble_pb2,
        )
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
