"""The front-end registry: ONE table of supported model types, keyed by library-qualified type name
(`sklearn.ensemble.RandomForestClassifier`, later `xgboost.…`), filled by one adapter module per library.

An adapter (`export.from_sklearn`, …) calls `register` for each type it converts; a row carries the converter, the
family and the per-format support *as data* (`mlexport supported` and the README table are generated from it).
Lookup is by exact type: a subclass may override `predict`, so it is refused rather than mis-exported.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from export import ir
from export.errors import NotFittedError, UnsupportedEstimatorError, UsageError

Family = Literal["tree", "linear", "kernel", "neighbours", "network", "naive_bayes", "transform", "composition"]
Route = Literal["ir", "skl2onnx", "none"]

# Adapter modules, imported on first lookup (each registers its rows). A new library adds its module here.
ADAPTERS: tuple[str, ...] = ("export.from_sklearn", "export.from_boosting.frontend")


@dataclass(frozen=True)
class Converted:
    """What a converter returns for one fitted estimator: the body node and the head its output means (a transformer
    returns `ir.Transformed()`). Composite converters (Pipeline, ColumnTransformer) combine these."""

    node: ir.Node
    head: ir.Head
    inputs: ir.Schema | None = None  # the model's own inputs when it records them (boosting files); else derived
    # from the scikit-learn attributes (`input_schema`)


Converter = Callable[[Any], Converted]
ModelBuilder = Callable[[Any], "ir.Model | None"]
"""A whole-model front-end for estimators whose inputs are not one double row (DataFrames with string columns):
returns the Model, or None when the estimator is not its kind (then the one-step route applies)."""


@dataclass(frozen=True)
class FormatSupport:
    """How one format exports a type: `route` 'ir' (our exact writer), 'skl2onnx' (ONNX only, checked by parity) or
    'none' (refused), and what the user should know (`note`, '' when nothing)."""

    route: Route
    note: str = ""

    @property
    def supported(self) -> bool:
        return self.route != "none"

    def describe(self) -> str:
        text = {"ir": "yes", "skl2onnx": "yes (skl2onnx)", "none": "no"}[self.route]
        return f"{text}: {self.note}" if self.note else text


EXACT = FormatSupport("ir")


@dataclass(frozen=True)
class FrontEnd:
    """One row of the supported table."""

    qualified_name: str
    cls: type | None  # None: a row of an optional library, matched by its qualified name without importing it
    family: Family
    converter: Converter
    coreml: FormatSupport
    onnx: FormatSupport
    notes: str

    @property
    def name(self) -> str:
        return self.qualified_name.rsplit(".", 1)[1]

    @property
    def library(self) -> str:
        return self.qualified_name.split(".", 1)[0]


_REGISTRY: dict[str, FrontEnd] = {}
_MODEL_BUILDERS: list[ModelBuilder] = []
_loaded = False


def qualified_name(cls: type) -> str:
    """`library.public.module.ClassName`: the defining module cut at its first private part, i.e. the public
    package that exports it (`sklearn.ensemble._hist_gradient_boosting.gradient_boosting.X` -> `sklearn.ensemble.X`)."""
    public: list[str] = []
    for part in cls.__module__.split("."):
        if part.startswith("_"):
            break
        public.append(part)
    return ".".join([*public, cls.__qualname__])


def register(cls: type, family: Family, converter: Converter, notes: str = "", *,
             coreml: FormatSupport = EXACT, onnx: FormatSupport = EXACT) -> FrontEnd:
    """Add one supported type (called by adapter modules at import); a second row for the same name is a bug."""
    row = FrontEnd(qualified_name(cls), cls, family, converter, coreml, onnx, notes)
    if row.qualified_name in _REGISTRY:
        raise ValueError(f"{row.qualified_name} is registered twice")
    return _add(row)


def register_named(name: str, family: Family, converter: Converter, notes: str = "", *,
                   coreml: FormatSupport = EXACT, onnx: FormatSupport = EXACT) -> FrontEnd:
    """Add a type of an optional library by its qualified name (`xgboost.sklearn.XGBClassifier`), so the table
    lists it whether or not the library is installed; lookup matches `qualified_name(type(model))` exactly."""
    return _add(FrontEnd(name, None, family, converter, coreml, onnx, notes))


def _add(row: FrontEnd) -> FrontEnd:
    if row.qualified_name in _REGISTRY:
        raise ValueError(f"{row.qualified_name} is registered twice")
    _REGISTRY[row.qualified_name] = row
    return row


def register_model_builder(builder: ModelBuilder) -> None:
    """Add a whole-model front-end (called by adapter modules at import), tried in order before the one-step
    route."""
    _MODEL_BUILDERS.append(builder)


def _load_adapters() -> None:
    global _loaded
    if not _loaded:
        for module in ADAPTERS:
            importlib.import_module(module)
        _loaded = True


def supported() -> tuple[FrontEnd, ...]:
    """Every registered row, in registration order (the table's order)."""
    _load_adapters()
    return tuple(_REGISTRY.values())


def supported_names() -> str:
    # other libraries by qualified name: xgboost's and lightgbm's both call theirs `Booster`
    return ", ".join(row.name if row.library == "sklearn" else row.qualified_name for row in supported())


def lookup(estimator: Any) -> FrontEnd:
    """The row for `type(estimator)` exactly, or a one-line error listing what is supported."""
    _load_adapters()
    cls = type(estimator)
    row = _REGISTRY.get(qualified_name(cls))
    if row is None or (row.cls is not None and row.cls is not cls):
        parents = [r.name for r in _REGISTRY.values() if r.cls is not None and isinstance(estimator, r.cls)]
        why = f" (a subclass of {parents[0]}; only exact types are supported)" if parents else ""
        raise UnsupportedEstimatorError(f"{cls.__name__} is not supported{why}; supported: {supported_names()}")
    return row


def convert(estimator: Any) -> Converted:
    """Lower one fitted estimator (also a member of a composite) to a body node and its head."""
    row = lookup(estimator)
    if row.library == "sklearn":  # the other libraries' converters serialise the model, which checks it is fitted
        _require_fitted(estimator)
    return row.converter(estimator)


def _require_fitted(estimator: Any) -> None:
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(estimator)
    except SklearnNotFittedError as error:
        raise NotFittedError(f"{type(estimator).__name__} is not fitted; fit it before exporting") from error


def input_schema(estimator: Any, feature_names: tuple[str, ...] | None = None) -> ir.Schema:
    """The inputs of a fitted scikit-learn-style estimator: one double column per `feature_names_in_` (or the
    user's `feature_names`), else one block of `n_features_in_` doubles. NaN is a legitimate value iff the
    estimator's tags say it accepts NaN (`input_tags.allow_nan`, scikit-learn's own statement)."""
    from export.signature import coreml_input_names

    n_features = getattr(estimator, "n_features_in_", None)
    if not isinstance(n_features, (int, np.integer)):
        raise UsageError(f"{type(estimator).__name__} has no n_features_in_; cannot tell how many inputs it takes")
    trained = getattr(estimator, "feature_names_in_", None)
    names = feature_names or (tuple(str(n) for n in trained) if trained is not None else None)
    missing: ir.MissingRule = "nan" if _allows_nan(estimator) else "refused"
    if names is None:
        return ir.Schema.block(int(n_features), missing=missing)
    if len(names) != n_features:
        raise UsageError(f"{len(names)} feature names for a model that takes {n_features} features")
    return ir.Schema.doubles(tuple(names), coreml_input_names(tuple(names)), missing=missing)


def _allows_nan(estimator: Any) -> bool:
    tags = getattr(estimator, "__sklearn_tags__", None)
    try:
        return bool(tags().input_tags.allow_nan) if tags is not None else False
    except (AttributeError, TypeError):
        return False


def to_ir(estimator: Any, feature_names: tuple[str, ...] | None = None) -> ir.Model:
    """Lower a fitted estimator to the IR root, exactly, or raise a one-line error saying why not."""
    _load_adapters()
    trained = getattr(estimator, "feature_names_in_", None)
    if feature_names is None or trained is None or tuple(str(n) for n in trained) == tuple(feature_names):
        for builder in _MODEL_BUILDERS:
            model = builder(estimator)
            if model is not None:
                # no recorded names (a text model fitted on bare documents): the user's names its columns
                return model if feature_names is None or trained is not None else renamed_columns(model,
                                                                                                  feature_names)
    converted = convert(estimator)
    if converted.inputs is None:
        return ir.Model.single(converted.node, converted.head, input_schema(estimator, feature_names))
    inputs = converted.inputs if feature_names is None else renamed(converted.inputs, feature_names)
    return ir.Model.single(converted.node, converted.head, inputs)


def renamed(inputs: ir.Schema, feature_names: tuple[str, ...]) -> ir.Schema:
    """A numeric schema with the user's column names (`--feature-names`) in place of the recorded ones."""
    from export.signature import coreml_input_names

    width = sum(column.width or 1 for column in inputs.columns)
    if len(feature_names) != width:
        raise UsageError(f"{len(feature_names)} feature names for a model that takes {width} features")
    return ir.Schema.doubles(tuple(feature_names), coreml_input_names(tuple(feature_names)),
                             missing=inputs.columns[0].missing)


def renamed_columns(model: ir.Model, feature_names: tuple[str, ...]) -> ir.Model:
    """`model` with its schema columns (and the steps reading them) named `feature_names`, in order."""
    from dataclasses import replace

    from export.signature import coreml_input_names

    if len(feature_names) != len(model.inputs.columns):
        raise UsageError(f"{len(feature_names)} feature names for a model that takes {len(model.inputs.columns)} "
                         f"input columns ({', '.join(model.inputs.names)})")
    new = dict(zip(model.inputs.names, feature_names, strict=True))
    columns = tuple(replace(c, name=n, input_name=i) for c, n, i in
                    zip(model.inputs.columns, feature_names, coreml_input_names(tuple(feature_names)), strict=True))
    body = tuple(replace(step, inputs=tuple(new.get(name, name) for name in step.inputs)) for step in model.body)
    return ir.Model(ir.Schema(columns), body, model.head)
