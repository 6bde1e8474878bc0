"""Feature values for n rows inside the Core ML reference evaluator: user inputs in, model outputs back out.

A feature of a Core ML model holds one value per prediction; the evaluator runs all n rows at once, so each
feature is a *column*:

* Double -> float64 array (n,); Int64 -> int64 array (n,); String -> object array (n,) of str;
* MultiArray -> float64 array (n, w) with w = prod(shape) (row-major flattening, as Core ML's vectorizers do);
* Dictionary -> `DictColumn` (dense: a key absent from a row's dictionary holds 0.0, which is what every
  Core ML consumer of dictionaries — FeatureVectorizer, DictVectorizer — does with absent keys).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from parity.errors import CoreMLSpecError, EvaluatorInputError

# Refuse absurd declared widths rather than allocating them (fuzzed specs can declare shape [2**62]).
MAX_FEATURE_WIDTH = 1 << 24

SUPPORTED_FEATURE_TYPES = ("int64Type", "doubleType", "stringType", "multiArrayType", "dictionaryType")


@dataclass(frozen=True)
class DictColumn:
    """A Dictionary feature for n rows: `values[:, j]` is the value stored under `keys[j]` (0.0 when absent)."""

    keys: np.ndarray  # (k,) int64 or object (str)
    values: np.ndarray  # (n, k) float64


Column = np.ndarray | DictColumn


def feature_kind(feature: Any) -> str:
    """The FeatureType oneof name of a FeatureDescription (`doubleType`, `multiArrayType`, ...)."""
    kind = feature.type.WhichOneof("Type")
    if kind is None:
        raise CoreMLSpecError(f"feature {feature.name!r}: FeatureType is not set (every feature needs a type)")
    return str(kind)


def multiarray_width(feature: Any) -> int:
    """Number of elements of a MultiArray feature (prod of `multiArrayType.shape`)."""
    shape = list(feature.type.multiArrayType.shape)
    if not shape:
        raise CoreMLSpecError(
            f"feature {feature.name!r}: multiArrayType has no fixed shape (flexible enumeratedShapes/shapeRange "
            f"are not supported by the reference evaluator; supported: a fixed shape)"
        )
    if any(dim <= 0 for dim in shape):
        raise CoreMLSpecError(f"feature {feature.name!r}: multiArrayType.shape {shape} has a non-positive dimension")
    width = 1
    for dim in shape:
        width *= int(dim)
        if width > MAX_FEATURE_WIDTH:
            raise CoreMLSpecError(
                f"feature {feature.name!r}: multiArrayType.shape {shape} exceeds the evaluator's "
                f"{MAX_FEATURE_WIDTH}-element limit"
            )
    return width


def slot_count(feature: Any) -> int:
    """Slots a feature takes when Core ML vectorizes inputs (§0.3): Double/Int64 one, MultiArray its elements."""
    kind = feature_kind(feature)
    if kind in ("doubleType", "int64Type"):
        return 1
    if kind == "multiArrayType":
        return multiarray_width(feature)
    raise CoreMLSpecError(
        f"feature {feature.name!r} of type {kind} cannot be vectorized (supported: doubleType, int64Type, "
        f"multiArrayType)"
    )


def vectorize_features(features: Sequence[Any], env: Mapping[str, Column]) -> np.ndarray:
    """Concatenate input features in description order into an (n, F) float64 matrix (GLM/SVM/tree inputs)."""
    blocks = []
    for feature in features:
        width = slot_count(feature)
        column = env[feature.name]
        if isinstance(column, DictColumn):
            raise CoreMLSpecError(f"feature {feature.name!r}: a dictionary value reached a vectorized input")
        block = as_row_matrix(np.asarray(column, dtype=np.float64))
        if block.shape[1] != width:
            raise CoreMLSpecError(
                f"feature {feature.name!r}: carries {block.shape[1]} values per row but its description declares "
                f"{width}"
            )
        blocks.append(block)
    if len(blocks) == 1:
        return blocks[0]
    return np.concatenate(blocks, axis=1)


def as_row_matrix(array: np.ndarray) -> np.ndarray:
    """(n, ...) -> (n, w) with w the product of the trailing dimensions (also for n == 0, unlike reshape(n, -1))."""
    return array.reshape(array.shape[0], int(np.prod(array.shape[1:], dtype=np.int64)))


def row_count(env: Mapping[str, Column]) -> int:
    """Number of rows of the first column of an environment (all columns share it)."""
    for column in env.values():
        return int(column.values.shape[0] if isinstance(column, DictColumn) else column.shape[0])
    raise CoreMLSpecError("model has no input features")


# ---------------------------------------------------------------------------------------------------------------
# User inputs -> columns


def columns_from_inputs(input_features: Sequence[Any], inputs: Any,
                        recorded_names: Sequence[str] | None = None) -> dict[str, Column]:
    """Convert `inputs` (dict name -> per-row values, a pandas DataFrame, or a 2-D array laid out in description
    order) to columns. A DataFrame with string column names is matched by name — against the input names, or the
    original feature names `recorded_names` the exporter stored (`mlexport.feature_names` metadata) — never by
    position, so a reordered frame predicts what its columns say."""
    if hasattr(inputs, "columns") and hasattr(inputs, "iloc"):
        inputs = _mapping_from_frame(input_features, inputs, recorded_names)
    if isinstance(inputs, Mapping):
        return _columns_from_mapping(input_features, inputs)
    return _columns_from_matrix(input_features, inputs)


def _mapping_from_frame(input_features: Sequence[Any], frame: Any, recorded_names: Sequence[str] | None) -> Any:
    from parity.data import match_columns
    from parity.errors import DataFileError

    columns = list(frame.columns)
    if not all(isinstance(c, str) for c in columns):
        return frame.to_numpy()  # positional column names (0, 1, ...): the frame is a matrix in input order
    names = [feature.name for feature in input_features]
    try:
        if len(input_features) == 1 and feature_kind(input_features[0]) == "multiArrayType":
            if not recorded_names or len(recorded_names) != multiarray_width(input_features[0]):
                return frame.to_numpy()  # one unnamed MultiArray: nothing to match names against
            order = match_columns(columns, recorded_names)
            return {names[0]: frame.iloc[:, order].to_numpy(dtype=np.float64)}
        aliases = recorded_names if recorded_names and len(recorded_names) == len(names) else None
        order = match_columns(columns, names, aliases)
    except DataFileError as exc:
        raise EvaluatorInputError(f"DataFrame columns: {exc}") from None
    return {name: frame.iloc[:, j].to_numpy() for name, j in zip(names, order, strict=True)}


def _columns_from_mapping(input_features: Sequence[Any], inputs: Mapping[str, Any]) -> dict[str, Column]:
    expected = [feature.name for feature in input_features]
    unknown = sorted(str(name) for name in inputs if name not in expected)
    if unknown:
        raise EvaluatorInputError(f"unknown input name(s) {unknown}; the model's inputs are {expected}")
    columns: dict[str, Column] = {}
    n_rows: int | None = None
    for feature in input_features:
        if feature.name not in inputs:
            raise EvaluatorInputError(f"missing input {feature.name!r}; the model's inputs are {expected}")
        column = _column_for_feature(feature, inputs[feature.name])
        rows = column.values.shape[0] if isinstance(column, DictColumn) else column.shape[0]
        if n_rows is None:
            n_rows = rows
        elif rows != n_rows:
            raise EvaluatorInputError(f"input {feature.name!r} has {rows} rows but earlier inputs have {n_rows}")
        columns[feature.name] = column
    return columns


def _columns_from_matrix(input_features: Sequence[Any], inputs: Any) -> dict[str, Column]:
    try:
        matrix = np.asarray(inputs, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise EvaluatorInputError(f"2-D inputs must be numeric: {exc}") from exc
    if matrix.ndim != 2:
        raise EvaluatorInputError(
            f"inputs must be a dict {{input name: values}} or a 2-D array, got an array of shape {matrix.shape}"
        )
    widths = []
    for feature in input_features:
        kind = feature_kind(feature)
        if kind not in ("doubleType", "int64Type", "multiArrayType"):
            raise EvaluatorInputError(
                f"input {feature.name!r} is {kind}; pass inputs as a dict {{name: values}} for non-numeric inputs"
            )
        widths.append(slot_count(feature))
    if sum(widths) != matrix.shape[1]:
        layout = ", ".join(f"{f.name}:{w}" for f, w in zip(input_features, widths, strict=True))
        raise EvaluatorInputError(
            f"2-D inputs have {matrix.shape[1]} columns but the model's inputs take {sum(widths)} ({layout})"
        )
    columns: dict[str, Column] = {}
    start = 0
    for feature, width in zip(input_features, widths, strict=True):
        block = matrix[:, start : start + width]
        start += width
        columns[feature.name] = _column_for_feature(feature, block if width > 1 else block[:, 0])
    return columns


def _column_for_feature(feature: Any, values: Any) -> Column:
    kind = feature_kind(feature)
    name = feature.name
    if kind == "doubleType":
        return _numeric_vector(name, values)
    if kind == "int64Type":
        return _int64_vector(name, values)
    if kind == "stringType":
        return _string_vector(name, values)
    if kind == "multiArrayType":
        return _multiarray(name, values, multiarray_width(feature))
    if kind == "dictionaryType":
        return _dictionaries(name, values, feature.type.dictionaryType.WhichOneof("KeyType"))
    raise CoreMLSpecError(
        f"input {name!r} has feature type {kind}; supported: {', '.join(SUPPORTED_FEATURE_TYPES)}"
    )


def _as_array(name: str, values: Any, dtype: Any = None) -> np.ndarray:
    try:
        return np.asarray(values) if dtype is None else np.asarray(values, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise EvaluatorInputError(f"input {name!r}: cannot convert values ({exc})") from exc


def _one_per_row(name: str, array: np.ndarray) -> np.ndarray:
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise EvaluatorInputError(f"input {name!r}: expected one value per row (1-D), got shape {array.shape}")
    return array


def _numeric_vector(name: str, values: Any) -> np.ndarray:
    return _one_per_row(name, _as_array(name, values, np.float64))


def _int64_vector(name: str, values: Any) -> np.ndarray:
    array = _one_per_row(name, _as_array(name, values))
    if array.dtype.kind in "iub":
        return array.astype(np.int64)
    as_float = _as_array(name, array, np.float64)
    if not np.all(np.isfinite(as_float)) or not np.all(as_float == np.round(as_float)):
        raise EvaluatorInputError(f"input {name!r} is Int64 but got non-integral values")
    return as_float.astype(np.int64)


def _string_vector(name: str, values: Any) -> np.ndarray:
    array = _one_per_row(name, _as_array(name, values))
    if array.dtype.kind == "U":
        return array.astype(object)
    if array.dtype.kind == "O" and all(isinstance(value, str) for value in array.tolist()):
        return array
    raise EvaluatorInputError(f"input {name!r} is String but got values of dtype {array.dtype}")


def _multiarray(name: str, values: Any, width: int) -> np.ndarray:
    array = _as_array(name, values, np.float64)
    if array.ndim == 1 and width == 1:
        array = array[:, None]
    if array.ndim < 2 or int(np.prod(array.shape[1:])) != width:
        raise EvaluatorInputError(
            f"input {name!r} is a MultiArray of {width} elements per row; got values of shape {array.shape}"
        )
    return array.reshape(array.shape[0], width)


def _dictionaries(name: str, values: Any, key_type: str | None) -> DictColumn:
    if isinstance(values, Mapping) or not isinstance(values, Sequence | np.ndarray):
        raise EvaluatorInputError(f"input {name!r} is a Dictionary: pass a sequence of dicts, one per row")
    want_str = key_type == "stringKeyType"
    key_index: dict[Any, int] = {}
    entries: list[tuple[int, int, float]] = []
    # Dictionaries are Python objects, so visiting them is inherently per row (input conversion, not evaluation).
    for row, row_dict in enumerate(values):
        if not isinstance(row_dict, Mapping):
            raise EvaluatorInputError(f"input {name!r} row {row}: expected a dict, got {type(row_dict).__name__}")
        for key, value in row_dict.items():
            if want_str != isinstance(key, str) or isinstance(key, bool):
                raise EvaluatorInputError(
                    f"input {name!r} row {row}: key {key!r} does not match the dictionary key type {key_type}"
                )
            try:
                number = float(value)
            except (TypeError, ValueError) as exc:
                raise EvaluatorInputError(f"input {name!r} row {row}: value {value!r} is not numeric") from exc
            entries.append((row, key_index.setdefault(key, len(key_index)), number))
    keys = np.array(list(key_index), dtype=object if want_str else np.int64)
    dense = np.zeros((len(values), len(key_index)), dtype=np.float64)
    if entries:
        rows, cols, numbers = zip(*entries, strict=True)
        dense[list(rows), list(cols)] = numbers
    return DictColumn(keys=keys, values=dense)


# ---------------------------------------------------------------------------------------------------------------
# Columns -> public outputs


def public_output(feature: Any, column: Column, class_order: Sequence[Any] | None) -> np.ndarray:
    """Convert an evaluated column to the public array form; dictionaries follow `class_order` when given."""
    kind = feature_kind(feature)
    if isinstance(column, DictColumn):
        if kind != "dictionaryType":
            raise CoreMLSpecError(f"output {feature.name!r} is declared {kind} but the model produced a dictionary")
        if class_order is None:
            return column.values
        return dict_to_matrix(column, class_order)
    if kind == "dictionaryType":
        raise CoreMLSpecError(f"output {feature.name!r} is declared dictionaryType but the model produced an array")
    if kind == "doubleType":
        return _expect_one_per_row(feature, column).astype(np.float64)
    if kind == "int64Type":
        return _expect_one_per_row(feature, column).astype(np.int64)
    if kind == "stringType":
        return _expect_one_per_row(feature, column).astype(object)
    if kind == "multiArrayType":
        return as_row_matrix(column).astype(np.float64)
    raise CoreMLSpecError(f"output {feature.name!r} has unsupported type {kind}")


def _expect_one_per_row(feature: Any, column: np.ndarray) -> np.ndarray:
    if column.ndim == 2 and column.shape[1] == 1:
        return column[:, 0]
    if column.ndim != 1:
        raise CoreMLSpecError(
            f"output {feature.name!r} is a scalar feature but the model produced {column.shape[1:]} values per row"
        )
    return column


def dict_to_matrix(column: DictColumn, key_order: Sequence[Any]) -> np.ndarray:
    """Dense (n, len(key_order)) matrix of a DictColumn with columns in `key_order` (absent keys -> 0.0)."""
    position = {key: j for j, key in enumerate(column.keys.tolist())}
    matrix = np.zeros((column.values.shape[0], len(key_order)), dtype=np.float64)
    for j, key in enumerate(key_order):
        source = position.get(key)
        if source is not None:
            matrix[:, j] = column.values[:, source]
    return matrix
