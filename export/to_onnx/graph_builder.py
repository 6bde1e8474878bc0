"""Small ONNX graph builder used by the IR route: unique deterministic names, constants as initializers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper


class GraphBuilder:
    """Accumulates nodes and initializers; every name is derived from a counter, so two builds are byte-identical."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._counter = 0

    def fresh(self, hint: str) -> str:
        self._counter += 1
        return f"{hint}_{self._counter}"

    def const(self, hint: str, value: np.ndarray) -> str:
        """A constant tensor (float64, int64 or str/object arrays) as an initializer; returns its name."""
        name = self.fresh(hint)
        array = np.asarray(value)
        if array.dtype.kind in "UO":
            tensor = helper.make_tensor(name, onnx.TensorProto.STRING, array.shape,
                                        [s.encode("utf-8") for s in array.ravel().tolist()])
        else:
            tensor = numpy_helper.from_array(array, name)
        self.initializers.append(tensor)
        return name

    def op(self, op_type: str, inputs: Sequence[str], hint: str | None = None, *, output: str | None = None,
           domain: str = "", **attrs: Any) -> str:
        """Adds one single-output node and returns the output name (`output` if given, else a fresh one)."""
        out = output if output is not None else self.fresh(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=self.fresh(f"n_{op_type}"),
                                           domain=domain, **attrs))
        return out

    def op_outputs(self, op_type: str, inputs: Sequence[str], hints: Sequence[str], **attrs: Any) -> list[str]:
        """Adds one node with several outputs (e.g. TopK's values and indices); returns their fresh names."""
        outputs = [self.fresh(hint) for hint in hints]
        self.nodes.append(helper.make_node(op_type, list(inputs), outputs, name=self.fresh(f"n_{op_type}"), **attrs))
        return outputs

    def identity(self, source: str, output: str) -> str:
        return self.op("Identity", [source], output=output)


class ScopedBuilder(GraphBuilder):
    """A builder for a Loop body: its names carry a prefix, so they never shadow the enclosing graph's."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self._prefix = prefix

    def fresh(self, hint: str) -> str:
        return f"{self._prefix}_{super().fresh(hint)}"
