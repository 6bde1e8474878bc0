"""IR DictVectorizer -> ONNX: a batched dictionary input as two padded tensors, summed into the dense columns.

ONNX-ML's DictVectorizer reads one map, not a batch (and onnxruntime takes no sequence of maps as a batched input),
so a dictionary column is two inputs, `NAME_keys` [N, K] string and `NAME_values` [N, K] double (the contract's
float type; K = the longest row, shorter rows padded with key "" and value 0):

    LabelEncoder (key -> column index, anything else -> -1: unknown keys and the "" padding are ignored, as
    scikit-learn ignores unknown keys) -> Equal with 0..n-1 [N, K, n] -> Where(hit, value, 0) -> ReduceSum over K

Each output column is the sum of its key's values in the row: one value plus zeros, exact (a NaN or infinity stays
in its own column, Where never multiplies); a key given twice in a row sums, as scikit-learn's densified output
sums duplicate entries. String values are the feeder's to map (README "DictVectorizer inputs"): key
"k=v" (`separator`) with value 1, like scikit-learn's transform.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from export import ir
from export.to_onnx.graph_builder import GraphBuilder

KEYS_SUFFIX = "_keys"
VALUES_SUFFIX = "_values"


def dictionary_inputs(input_name: str, value_elem_type: int) -> list[onnx.ValueInfoProto]:
    """The two graph inputs of one dictionary column."""
    return [helper.make_tensor_value_info(input_name + KEYS_SUFFIX, onnx.TensorProto.STRING, ["N", "K"]),
            helper.make_tensor_value_info(input_name + VALUES_SUFFIX, value_elem_type, ["N", "K"])]


def emit_dict_vectorizer(b: GraphBuilder, keys: str, values: str, node: ir.DictVectorizer) -> tuple[str, int]:
    """The dense [N, n] double columns of the dictionaries (keys, values) (values already double)."""
    n = node.n_outputs
    index = b.op("LabelEncoder", [keys], "dict_column", domain="ai.onnx.ml", keys_strings=list(node.terms),
                 values_int64s=list(range(n)), default_int64=-1)  # [N, K]
    index = b.op("Unsqueeze", [index, b.const("axis", np.array([2], dtype=np.int64))], "dict_column_3d")
    hits = b.op("Equal", [index, b.const("dict_columns", np.arange(n, dtype=np.int64).reshape(1, 1, n))],
                "dict_hits")  # [N, K, n]
    values = b.op("Unsqueeze", [values, b.const("axis", np.array([2], dtype=np.int64))], "dict_values_3d")
    placed = b.op("Where", [hits, values, b.const("zero", np.array(0.0))], "dict_placed")
    dense = b.op("ReduceSum", [placed, b.const("axes", np.array([1], dtype=np.int64))], "dict_dense", keepdims=0)
    return dense, n
