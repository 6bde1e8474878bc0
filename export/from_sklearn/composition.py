"""sklearn Pipeline and ColumnTransformer → IR `Pipeline` / `Concat`; every step goes back through the table."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.preprocessing import FunctionTransformer

from export import ir
from export.from_sklearn.estimator_checks import refuse
from export.frontends import Converted, Converter, convert

# Estimators registered as models that also transform (LinearDiscriminantAnalysis): how their `transform` lowers
# when a Pipeline / ColumnTransformer uses them as a transformer step (filled in by export.from_sklearn).
AS_TRANSFORM: dict[type, Converter] = {}


def _convert_step(step: Any) -> Converted:
    """A step that feeds later steps: its `transform` when it is a model that also transforms, else its row."""
    converter = AS_TRANSFORM.get(type(step))
    return converter(step) if converter is not None else convert(step)


def _flatten(nodes: list[ir.Node]) -> list[ir.Node]:
    """Nested pipelines become one flat step list (same semantics: each step reads the previous output)."""
    flat: list[ir.Node] = []
    for node in nodes:
        flat.extend(node.steps if isinstance(node, ir.Pipeline) else (node,))
    return flat


def _is_passthrough(transformer: Any) -> bool:
    """'passthrough' as given, or as sklearn 1.9 stores it in a fitted ColumnTransformer: an identity
    FunctionTransformer (func=None) — the fitted `transformers_` hold that instead of the string."""
    if isinstance(transformer, str):
        return transformer == "passthrough"
    return type(transformer) is FunctionTransformer and transformer.func is None


def _require_transform(owner: Any, name: str, converted: Converted) -> ir.Node:
    if not isinstance(converted.head, ir.Transformed):
        raise refuse(owner, f"step {name!r} is a model where a transformer is required; supported here: "
                            "transformers (only the last step of a Pipeline may be a model)")
    return converted.node


def pipeline_to_ir(est: Any) -> Converted:
    """Steps in order; 'passthrough' / None steps are identity and skipped."""
    active = [(name, step) for name, step in est.steps if step is not None and not (
        isinstance(step, str) and step == "passthrough")]
    if not active:
        raise refuse(est, "every step is 'passthrough'; supported: at least one transformer or model")
    converted = [_convert_step(step) for _, step in active[:-1]] + [convert(active[-1][1])]
    nodes = [_require_transform(est, name, c) for (name, _), c in zip(active[:-1], converted[:-1], strict=True)]
    return Converted(ir.Pipeline(steps=tuple(_flatten([*nodes, converted[-1].node]))), converted[-1].head)


def column_transformer_to_ir(est: Any) -> Converted:
    """Output = the fitted `transformers_` outputs side by side, in `transformers_` order (the remainder, if kept,
    is last); 'drop' and empty selections contribute nothing. Column selections (ints, names via
    feature_names_in_, slices, masks, callables) are taken already resolved from `_transformer_to_input_indices`."""
    # A sparse fitted output (sparse_output_, from sparse_threshold) holds the same values as the dense one; the
    # export computes the dense row (an app has no sparse input), so it is accepted as is.
    if est.transformer_weights:
        raise refuse(est, f"transformer_weights={est.transformer_weights!r} is not supported; allowed: None")
    n_features = int(est.n_features_in_)
    parts: list[ir.Node] = []
    for name, transformer, _ in est.transformers_:
        indices = np.asarray(est._transformer_to_input_indices[name], dtype=np.int64)
        if indices.size == 0 or (isinstance(transformer, str) and transformer == "drop"):
            continue
        select = ir.ColumnSelect(indices=indices, n_features=n_features)
        if _is_passthrough(transformer):
            parts.append(select)
            continue
        node = _require_transform(est, name, _convert_step(transformer))
        parts.append(ir.Pipeline(steps=(select, *_flatten([node]))))
    if not parts:
        raise refuse(est, "every transformer is 'drop' or selects no columns; supported: at least one output column")
    return Converted(ir.Concat(parts=tuple(parts)), ir.Transformed())


# inverse_func -> the head's regression link (numpy ufuncs, matched by identity); func must be its inverse
_TARGET_INVERSES: dict[Any, tuple[Any, ir.RegressionLink]] = {np.exp: (np.log, "exp"), np.expm1: (np.log1p, "expm1")}


def _target_inverse(est: Any, n_targets: int) -> tuple[ir.Node | None, ir.RegressionLink]:
    """TransformedTargetRegressor.transformer_.inverse_transform as (an affine producer or None, a link)."""
    transformer = est.transformer_
    if type(transformer) is FunctionTransformer:
        if transformer.inv_kw_args or transformer.kw_args:
            raise refuse(est, "func/inverse_func keyword arguments are not supported")
        if transformer.inverse_func is None and transformer.func is None:
            return None, "identity"
        pair = _TARGET_INVERSES.get(transformer.inverse_func)
        if pair is None or transformer.func is not pair[0]:
            raise refuse(est, f"func={getattr(transformer.func, '__name__', transformer.func)!r}, inverse_func="
                              f"{getattr(transformer.inverse_func, '__name__', transformer.inverse_func)!r}; "
                              "supported: np.log/np.exp, np.log1p/np.expm1, or none")
        return None, pair[1]
    name = type(transformer).__name__
    if name in ("StandardScaler", "RobustScaler", "MaxAbsScaler"):
        # inverse_transform: X *= scale_; X += mean_ / center_ (absent parts are None: * 1, + 0)
        scale = getattr(transformer, "scale_", None)
        offset = getattr(transformer, "mean_" if name == "StandardScaler" else "center_", None)
        scale = np.ones(n_targets) if scale is None else np.asarray(scale, dtype=np.float64).ravel()
        offset = np.zeros(n_targets) if offset is None else np.asarray(offset, dtype=np.float64).ravel()
        return ir.LinearModel(coef=np.diag(scale), intercept=offset), "identity"
    raise refuse(est, f"transformer {name} is not supported; supported: StandardScaler, RobustScaler, MaxAbsScaler, "
                      "or func/inverse_func numpy ufuncs (np.log/np.exp, np.log1p/np.expm1)")


def transformed_target_regressor_to_ir(est: Any) -> Converted:
    """TransformedTargetRegressor.predict = transformer_.inverse_transform(regressor_.predict(X)): the inverse ufunc
    as the head's link (exp, expm1), or a scaler's inverse as a LinearModel after the regressor's scores. The
    regressor must predict its raw score (identity link): a second link is not composed."""
    inner = convert(est.regressor_)
    head = inner.head
    if not (isinstance(head, ir.Regression) and head.link == "identity"):
        raise refuse(est, "regressor_ must be a regressor with an identity link (linear models, trees, forests, "
                          "SVR, MLP, pipelines ending in one)")
    inverse, link = _target_inverse(est, head.n_targets)
    node = inner.node if inverse is None else ir.Pipeline(steps=(*_flatten([inner.node]), inverse))
    return Converted(node, ir.Regression(n_targets=head.n_targets, link=link))
