"""skl2onnx route: estimators the IR writer does not cover, converted by skl2onnx, then normalised to the contract
(output names, [N, T] regressor output, the exact input name, no ZipMap) and refused where skl2onnx is known wrong."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
from onnx import helper
from sklearn.base import is_classifier, is_regressor
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.ensemble._forest import BaseForest
from sklearn.preprocessing import KBinsDiscretizer, QuantileTransformer
from sklearn.tree import BaseDecisionTree

from export.errors import ExportFailedError, UnsupportedEstimatorError, UsageError
from export.to_onnx.heads import HeadOutput
from export.to_onnx.options import SKL2ONNX_ROUTE_OPSET, OnnxOptions
from parity.sub_estimators import final_step, sub_estimators

# Models whose own trees read the raw input: skl2onnx's float32 threshold adjustment (`sklearn_threshold`) makes
# these routing-exact; a tree after a float32 transform is not (onnx-parity.md §1.4, Scaler -> RF 9/442 rows).
_PLAIN_TREE_MODELS = (BaseDecisionTree, BaseForest, GradientBoostingClassifier, GradientBoostingRegressor)


def refusal_reason(estimator: object, options: OnnxOptions) -> str | None:
    """Why skl2onnx 1.20 would produce a wrong or dead model for `estimator` (None when no known problem)."""
    estimators = sub_estimators(estimator)
    if options.input_dtype == "float32":
        for est in estimators:
            if isinstance(est, (KBinsDiscretizer, QuantileTransformer)):
                # Discontinuous in float: KBinsDiscretizer off by a whole bin in 72/2314 cells, QuantileTransformer
                # by up to 0.025 (onnx-parity.md §1.5); QuantileTransformer is exact in double.
                return (f"{type(est).__name__} computed in float32 by skl2onnx lands inputs in the wrong bin/quantile; "
                        "use input_dtype float64 where the runtime loads it")
    for est in estimators:
        if isinstance(est, (HistGradientBoostingClassifier, HistGradientBoostingRegressor)):
            return (f"{type(est).__name__} via skl2onnx 1.20 fails to convert with onnx >= 1.22, uses float32 "
                    "thresholds and ignores categorical splits; it needs the exact IR route")
    trees = [est for est in estimators if isinstance(est, BaseDecisionTree) and hasattr(est, "tree_")]
    if not trees:
        return None
    if options.input_dtype == "float64":
        return ("decision trees via skl2onnx with double input do not load in onnxruntime (skl2onnx #1074) and, "
                "patched, route wrongly on float thresholds; trees need the exact IR route")
    for est in trees:
        internal = est.tree_.children_left >= 0
        if np.any(np.asarray(est.tree_.missing_go_to_left)[internal]):
            return ("a decision tree with learned NaN routing (tree_.missing_go_to_left) loses it in skl2onnx 1.20 "
                    "(every NaN goes to the false branch, skl2onnx #1253); trees need the exact IR route")
    if not isinstance(estimator, _PLAIN_TREE_MODELS):
        return (f"{type(estimator).__name__} feeds trees with values computed in float32 by skl2onnx, which flips "
                "branches near thresholds; it needs the exact IR route")
    return None


def _converter_options(estimator: object) -> dict[int, dict[str, object]]:
    """{'zipmap': False} for the final classifier when its converter has the option: ZipMap is float-only and
    unreadable on iOS (onnxruntime#22505); a plain [N, K] tensor is the contract."""
    from skl2onnx._supported_operators import sklearn_operator_name_map
    from skl2onnx.common._registration import get_converter

    final = final_step(estimator)
    alias = sklearn_operator_name_map.get(type(final))
    if alias is None or not is_classifier(final):
        return {}
    allowed = get_converter(alias).get_allowed_options() or {}
    return {id(final): {"zipmap": False}} if "zipmap" in allowed else {}


def _rename(graph: onnx.GraphProto, old: str, new: str) -> None:
    """Renames a value everywhere in `graph` (inputs, outputs, node inputs/outputs; skl2onnx emits no subgraphs)."""
    if old == new:
        return
    taken = {v for node in graph.node for v in (*node.input, *node.output)} | {i.name for i in graph.initializer}
    if new in taken:
        raise ExportFailedError(f"skl2onnx graph already uses the name {new!r}; cannot rename {old!r} to it")
    for value in (*graph.input, *graph.output, *graph.value_info):
        if value.name == old:
            value.name = new
    for node in graph.node:
        node.input[:] = [new if v == old else v for v in node.input]
        node.output[:] = [new if v == old else v for v in node.output]


def _ensure_2d_output(graph: onnx.GraphProto, name: str) -> None:
    """Regressor `prediction` must be [N, T]; a rank-1 skl2onnx output is reshaped to [N, 1]."""
    output = next(o for o in graph.output if o.name == name)
    if len(output.type.tensor_type.shape.dim) == 2:
        return
    raw = f"{name}__rank1"
    _rename(graph, name, raw)
    output.name = name
    shape = helper.make_tensor(f"{name}__shape", onnx.TensorProto.INT64, [2], [-1, 1])
    graph.initializer.append(shape)
    graph.node.append(helper.make_node("Reshape", [raw, shape.name], [name], name=f"{name}__reshape"))
    output.type.tensor_type.shape.Clear()
    output.type.tensor_type.shape.dim.add().dim_param = "N"
    output.type.tensor_type.shape.dim.add().dim_value = 1


def _dedupe_opsets(model: onnx.ModelProto) -> dict[str, int]:
    """skl2onnx can list one domain twice in opset_import; keep the highest version of each (what the graph uses)."""
    versions: dict[str, int] = {}
    for opset in model.opset_import:
        versions[opset.domain] = max(versions.get(opset.domain, 0), opset.version)
    del model.opset_import[:]
    for domain in sorted(versions):
        model.opset_import.append(helper.make_opsetid(domain, versions[domain]))
    return versions


def _check_loads(model: onnx.ModelProto, options: OnnxOptions) -> None:
    try:
        onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types (Fail, NotImplemented, InvalidGraph)
        hint = " (retry with --input-dtype float32)" if options.input_dtype == "float64" else ""
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnsupportedEstimatorError(f"skl2onnx produced a model onnxruntime {onnxruntime.__version__} cannot "
                                        f"load with input_dtype={options.input_dtype}{hint}: {first_line}") from exc


def convert_with_skl2onnx(estimator: object, options: OnnxOptions,
                          n_features: int) -> tuple[onnx.ModelProto, list[HeadOutput], dict[str, int]]:
    """skl2onnx conversion normalised to the contract; returns (model, outputs with roles, opsets used)."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    n_in = getattr(estimator, "n_features_in_", None)
    if n_in is not None and int(n_in) != n_features:
        raise UsageError(f"the model's inputs have {n_features} values but {type(estimator).__name__} was fitted on "
                         f"{n_in} features")
    reason = refusal_reason(estimator, options)
    if reason is not None:
        raise UnsupportedEstimatorError(f"ONNX skl2onnx route refused for {type(estimator).__name__}: {reason}")
    tensor_type = FloatTensorType if options.input_dtype == "float32" else DoubleTensorType
    try:
        initial_types = [(options.input_name, tensor_type([None, n_features]))]
        model = convert_sklearn(estimator, initial_types=initial_types, options=_converter_options(estimator),
                                target_opset=dict(SKL2ONNX_ROUTE_OPSET))
    except Exception as exc:  # skl2onnx raises RuntimeError/NameError/TypeError/MissingShapeCalculator...
        raise UnsupportedEstimatorError(f"skl2onnx cannot convert {type(estimator).__name__} with "
                                        f"input_dtype={options.input_dtype}: {type(exc).__name__}: {exc}") from exc
    graph = model.graph
    if any(node.op_type == "ZipMap" for node in graph.node):
        raise ExportFailedError(f"skl2onnx left a ZipMap in the graph of {type(estimator).__name__} although "
                                "zipmap=False was requested; the contract needs a plain [N, K] tensor")
    if len(graph.input) != 1:
        raise UnsupportedEstimatorError(f"skl2onnx made {len(graph.input)} inputs for {type(estimator).__name__}; "
                                        "the contract is one [N, n_features] tensor")
    # skl2onnx 1.20 rewrites input names to C identifiers ('my input-1' -> 'my_input_1', #1235): restore it.
    _rename(graph, graph.input[0].name, options.input_name)

    final = final_step(estimator)
    elem = options.onnx_elem_type
    heads: list[HeadOutput]
    if is_classifier(final):
        label_type = graph.output[0].type.tensor_type.elem_type
        _rename(graph, graph.output[0].name, options.label_name)
        heads = [HeadOutput(options.label_name, label_type, ("N",), "label")]
        n_classes = len(getattr(final, "classes_", []))
        if hasattr(final, "predict_proba") and len(graph.output) > 1:
            _rename(graph, graph.output[1].name, options.probability_name)
            heads.append(HeadOutput(options.probability_name, elem, ("N", n_classes), "probabilities"))
        # Scores of a model without predict_proba are not a contract output: drop them.
        keep = [o for o in graph.output if o.name in {h.name for h in heads}]
        del graph.output[:]
        graph.output.extend(keep)
    elif is_regressor(final):
        _rename(graph, graph.output[0].name, options.prediction_name)
        _ensure_2d_output(graph, options.prediction_name)
        n_targets = graph.output[0].type.tensor_type.shape.dim[1].dim_value or 1
        heads = [HeadOutput(options.prediction_name, elem, ("N", n_targets), "prediction")]
    else:
        _rename(graph, graph.output[0].name, options.transformed_name)
        width = graph.output[0].type.tensor_type.shape.dim[-1].dim_value
        heads = [HeadOutput(options.transformed_name, elem, ("N", width), "transformed")]
    if len(graph.output) != len(heads):
        raise UnsupportedEstimatorError(f"skl2onnx made outputs {[o.name for o in graph.output]} for "
                                        f"{type(estimator).__name__}; the contract expects {[h.name for h in heads]}")
    opsets = _dedupe_opsets(model)
    _check_loads(model, options)
    return model, heads, opsets
