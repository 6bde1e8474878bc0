"""Core ML reference evaluator for `pipeline` / `pipelineClassifier` / `pipelineRegressor` (Model.proto, §1.15).

Feature flow (PipelineValidator.cpp): a name -> FeatureDescription table starts with the pipeline's inputs; each
sub-model's inputs must be in the table with an equivalent type (Comparison.cpp isEquivalent: same type case;
MultiArray same dataType, rank and fixed shape; Dictionary same key type); after a model runs, its outputs are added,
overwriting same-named entries. Evaluation mirrors that with an environment dict of columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from parity.coreml_reference.feature_columns import Column
from parity.coreml_reference.validation import fail

Evaluate = Callable[[Mapping[str, Column]], dict[str, Column]]
PIPELINE_TYPES = ("pipeline", "pipelineClassifier", "pipelineRegressor")


def pipeline_params(spec: Any, model_type: str) -> Any:
    """The `Pipeline` message of any of the three pipeline model types."""
    return spec.pipeline if model_type == "pipeline" else getattr(spec, model_type).pipeline


def types_equivalent(a: Any, b: Any) -> bool:
    """Comparison.cpp isEquivalent for two FeatureTypes."""
    kind = a.WhichOneof("Type")
    if kind != b.WhichOneof("Type"):
        return False
    if kind == "multiArrayType":
        x, y = a.multiArrayType, b.multiArrayType
        if x.dataType != y.dataType:
            return False
        x_flexible, y_flexible = x.WhichOneof("ShapeFlexibility"), y.WhichOneof("ShapeFlexibility")
        if x_flexible or y_flexible:
            return True  # rank of flexible shapes is not compared here; the evaluator refuses flexible shapes anyway
        return list(x.shape) == list(y.shape)
    if kind == "dictionaryType":
        return bool(a.dictionaryType.WhichOneof("KeyType") == b.dictionaryType.WhichOneof("KeyType"))
    return True


def _check_names(model_type: str, params: Any, n_models: int) -> None:
    if n_models == 0:
        raise fail(model_type, "Pipeline must contain one or more models")
    if len(params.names) and len(params.names) != n_models:
        raise fail(model_type, f"{len(params.names)} names for {n_models} models")
    if len(set(params.names)) != len(params.names):
        raise fail(model_type, "pipeline names must be unique")


def build_pipeline_of(model_type: str, build_submodel: Callable[[Any], Evaluate]) -> Callable[[Any], Evaluate]:
    """Builder for one of the pipeline types; `build_submodel` validates and compiles a nested Model."""

    def build(spec: Any) -> Evaluate:
        params = pipeline_params(spec, model_type)
        models = list(params.models)
        _check_names(model_type, params, len(models))
        table = {feature.name: feature.type for feature in spec.description.input}
        stages = []
        for position, model in enumerate(models):
            stage_type = model.WhichOneof("Type")
            for feature in model.description.input:
                if feature.name not in table:
                    raise fail(model_type, f"the input {feature.name!r} of model {position} ({stage_type}) is not a "
                                           f"pipeline input or the output of a previous model")
                if not types_equivalent(feature.type, table[feature.name]):
                    raise fail(model_type, f"the input {feature.name!r} of model {position} ({stage_type}) does not "
                                           f"match the type previously specified for it")
            try:
                evaluate_stage = build_submodel(model)
            except RecursionError as exc:
                raise fail(model_type, "pipelines are nested too deeply") from exc
            stages.append(([feature.name for feature in model.description.input], evaluate_stage))
            for feature in model.description.output:
                table[feature.name] = feature.type
        for feature in spec.description.output:
            if feature.name not in table:
                raise fail(model_type, f"pipeline output {feature.name!r} is not produced by any contained model")
            if not types_equivalent(feature.type, table[feature.name]):
                raise fail(model_type, f"type of pipeline output {feature.name!r} does not match the type produced")
        outputs = [feature.name for feature in spec.description.output]

        def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
            values: dict[str, Column] = dict(env)
            for input_names, evaluate_stage in stages:
                values.update(evaluate_stage({name: values[name] for name in input_names}))
            return {name: values[name] for name in outputs}

        return evaluate

    return build
