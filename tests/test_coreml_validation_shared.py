"""One source of Core ML structural validation: the writer check (export.to_coreml.validate_spec) and the reference
evaluator (parity.coreml_reference.compile_model) run on the same broken specs.

Truth: Apple's validator sources (coremltools mlmodel/src/Validation/InterfaceValidators.cpp,
ValidatorUtils-inl.hpp, TreeEnsembleCommon.cpp) and the installed coremltools' own specification-version constants.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from test_to_coreml_validate import BREAKAGES, glm_classifier, glm_regressor, tree_classifier

from export.errors import ExportFailedError
from export.to_coreml import validate_spec
from export.to_coreml.protos import FeatureTypes_pb2
from parity.coreml_reference import compile_model
from parity.coreml_reference.spec_loading import quiet_coremltools
from parity.coreml_reference.validation import MAX_SPECIFICATION_VERSION
from parity.errors import CoreMLSpecError

# Rules only the writer check has, with why the evaluator does without them. Each entry is asserted to be accepted
# by the evaluator, so this list cannot silently go stale when the evaluator gains the rule.
WRITER_ONLY = {
    "knn below version 4": "Apple's converter itself writes k-NN as version 1; the evaluator accepts Apple's files",
    "duplicate labels": "a writer-contract rule (scikit-learn classes_ are unique); evaluation is unaffected",
    "one-hot width": "the evaluator derives the width from the categories, not from the declared output shape",
    "nn duplicate layer": "the evaluator wires blobs by name; layer names are not read",
    "nn probability blob": "the evaluator refuses it when it evaluates (see the test below), not when it compiles",
    "pipeline sub-model version": "a writer-contract rule on versions; evaluation is unaffected",
}

# Cases decided by a rule that lives once, in parity.coreml_reference.validation: both callers must report the same
# sentence (export adds its "invalid Core ML spec: <where>:" prefix).
SHARED_RULE_CASES = {
    "version 0", "version too new", "no predictedFeatureName", "label type mismatch", "probability key mismatch",
    "regressor output missing", "duplicate node id", "missing child", "two roots", "cycle", "own child",
    "two parents",
}

_BY_NAME = {case[0]: case for case in BREAKAGES}


def _broken(name: str) -> Any:
    _, build, mutate, _ = _BY_NAME[name]
    spec = build()
    mutate(spec)
    return spec


def _parity_message(spec: Any) -> str | None:
    try:
        compile_model(spec)
    except CoreMLSpecError as exc:
        return str(exc)
    return None


def _export_message(spec: Any) -> str | None:
    try:
        validate_spec(spec)
    except ExportFailedError as exc:
        return str(exc)
    return None


def test_writer_only_names_exist() -> None:
    assert set(WRITER_ONLY) | SHARED_RULE_CASES <= set(_BY_NAME)


@pytest.mark.parametrize("name", [case[0] for case in BREAKAGES])
def test_both_callers_refuse_the_same_broken_spec(name: str) -> None:
    spec = _broken(name)
    exported = _export_message(spec)
    assert exported is not None, "the writer check accepted it"
    evaluated = _parity_message(spec)
    if name in WRITER_ONLY:
        assert evaluated is None, f"the evaluator now refuses it ({evaluated}): drop it from WRITER_ONLY"
        return
    assert evaluated is not None, "the evaluator accepted a spec the writer check refuses"
    if name in SHARED_RULE_CASES:
        rule = evaluated.partition(": ")[2]
        assert exported.endswith(rule), (exported, evaluated)


def test_newest_specification_version_is_coremltools_newest() -> None:
    # Independent truth: the installed coremltools' own constants (9.0: _SPECIFICATION_VERSION_IOS_26 = 10).
    with quiet_coremltools():
        import coremltools
    known = [value for name, value in vars(coremltools).items() if name.startswith("_SPECIFICATION_VERSION_IOS_")]
    assert max(known) == MAX_SPECIFICATION_VERSION


@pytest.mark.parametrize("build", [glm_regressor, glm_classifier, tree_classifier])
def test_both_accept_the_newest_version_and_refuse_one_more(build: Callable[[], Any]) -> None:
    spec = build()
    spec.specificationVersion = MAX_SPECIFICATION_VERSION
    assert _export_message(spec) is None and _parity_message(spec) is None
    spec.specificationVersion = MAX_SPECIFICATION_VERSION + 1
    exported, evaluated = _export_message(spec), _parity_message(spec)
    assert exported is not None and evaluated is not None
    assert exported.endswith(evaluated.partition(": ")[2])


def _probability_output(spec: Any) -> Any:
    return next(o for o in spec.description.output if o.name == spec.description.predictedProbabilitiesName)


def test_probability_output_may_be_a_multiarray_in_both() -> None:
    """InterfaceValidators.cpp validateClassifierFeatureDescriptions accepts kMultiArrayType or kDictionaryType for
    predictedProbabilitiesName ("TODO ARRAY TYPE IS INVALID, REMOVE"): both callers accept both."""
    spec = glm_classifier()
    output = _probability_output(spec)
    output.type.Clear()
    output.type.multiArrayType.dataType = FeatureTypes_pb2.ArrayFeatureType.DOUBLE
    output.type.multiArrayType.shape.append(3)
    assert _export_message(spec) is None
    assert _parity_message(spec) is None


def test_probability_output_of_another_type_is_refused_by_both() -> None:
    spec = glm_classifier()
    output = _probability_output(spec)
    output.type.Clear()
    output.type.doubleType.SetInParent()
    exported, evaluated = _export_message(spec), _parity_message(spec)
    assert evaluated is not None and "expected dictionaryType or multiArrayType" in evaluated
    assert exported is not None and exported.endswith(evaluated.partition(": ")[2])


def test_a_missing_probability_blob_is_refused_by_the_evaluator_at_evaluation() -> None:
    import numpy as np

    from parity.coreml_reference import predict

    spec = _broken("nn probability blob")
    width = int(spec.description.input[0].type.multiArrayType.shape[0])
    with pytest.raises(CoreMLSpecError, match="'nothing' is not produced by any layer"):
        predict(spec, np.zeros((2, width)))
