"""Hand-built IR roots for writer tests: one body node over a numpy-style block input (`ir.Schema.block`)."""

from __future__ import annotations

from export import ir


def array_model(node: ir.Node, head: ir.Head | None = None, n_features: int | None = None,
                names: tuple[str, ...] | None = None) -> ir.Model:
    """`node` reading one block of `n_features` doubles (default: the width the node states), or one double column
    per name in `names`; `head` defaults to Transformed (a transform export)."""
    head = head if head is not None else ir.Transformed()
    if names is not None:
        return ir.Model.single(node, head, ir.Schema.doubles(names))
    width = n_features if n_features is not None else ir.input_width(node)
    assert width is not None, "give n_features for a node that does not state its width"
    return ir.Model.single(node, head, ir.Schema.block(width))
