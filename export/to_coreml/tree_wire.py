"""Protobuf wire format of TreeEnsembleParameters.nodes, vectorised encoder: the tree writer emits all nodes of a
forest at once (a forest has ~10^5-10^6 TreeNode messages; building them one Python object at a time dominated the
export). The reader lives beside the evaluator (parity.coreml_reference.tree_nodes) and is shared with the validator.

Encoding follows the protobuf wire format (protobuf.dev/programming-guides/encoding): fields in field-number order,
proto3 implicit-presence scalars omitted when zero (doubles when their bits are zero, so -0.0 is written), varints
little-endian base-128, doubles fixed64 little-endian, sub-messages as tag + varint length + payload. That is exactly
what upb's `SerializeToString(deterministic=True)` emits for a message built field by field; tests prove the bytes
identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parity.coreml_reference.tree_nodes import (
    BEHAVIOR,
    EVALUATION_INFO,
    FALSE_CHILD,
    FEATURE,
    FIXED64,
    INFO_INDEX,
    INFO_VALUE,
    LENGTH_DELIMITED,
    MAX_VARINT_BYTES,
    MISSING_TRUE,
    NODE_ID,
    NODES,
    THRESHOLD,
    TREE_ID,
    TRUE_CHILD,
    VARINT,
    TreeNodeColumns,
    exclusive_cumsum,
)

# ---------------------------------------------------------------------------------------------------------------
# Encoder. A "part" is one field of some messages: `rows` says which message each entry belongs to (non-decreasing;
# repeated fields repeat a row), `lengths` its byte count, `flat` all entries' bytes back to back.


@dataclass(frozen=True)
class _Part:
    rows: np.ndarray
    lengths: np.ndarray
    flat: np.ndarray


def _tag(number: int, wire_type: int) -> np.ndarray:
    """A field key (number << 3 | wire type) as varint bytes."""
    key, encoded = number << 3 | wire_type, []
    while key >= 0x80:
        encoded.append(key & 0x7F | 0x80)
        key >>= 7
    encoded.append(key)
    return np.array(encoded, dtype=np.uint8)


def _varint_lengths(values: np.ndarray) -> np.ndarray:
    lengths = np.ones(values.size, dtype=np.int64)
    for k in range(1, MAX_VARINT_BYTES):
        lengths += values >= np.uint64(1 << (7 * k))
    return lengths


def _scalar_part(tag: np.ndarray, rows: np.ndarray, body: np.ndarray, body_lengths: np.ndarray) -> _Part:
    """Entries tag + body[i, :body_lengths[i]] (body: one row of bytes per entry)."""
    width = tag.size + body.shape[1]
    table = np.empty((rows.size, width), dtype=np.uint8)
    table[:, :tag.size] = tag
    table[:, tag.size:] = body
    lengths = tag.size + body_lengths
    return _Part(rows, lengths, table[np.arange(width) < lengths[:, None]])


def _varint_body(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = values.astype(np.uint64)
    lengths = _varint_lengths(values)
    width = int(lengths.max()) if values.size else 1
    shifts = np.uint64(7) * np.arange(width, dtype=np.uint64)
    groups = (values[:, None] >> shifts) & np.uint64(0x7F)
    more = np.arange(width) < (lengths - 1)[:, None]  # continuation bit on all but the last byte
    return (groups | (more * np.uint64(0x80))).astype(np.uint8), lengths


def _varint_part(number: int, rows: np.ndarray, values: np.ndarray) -> _Part:
    body, lengths = _varint_body(values)
    return _scalar_part(_tag(number, VARINT), rows, body, lengths)


def _double_part(number: int, rows: np.ndarray, values: np.ndarray) -> _Part:
    body = np.ascontiguousarray(values, dtype="<f8").view(np.uint8).reshape(-1, 8)
    return _scalar_part(_tag(number, FIXED64), rows, body, np.full(rows.size, 8, dtype=np.int64))




def _join(n_messages: int, parts: list[_Part]) -> tuple[np.ndarray, np.ndarray]:
    """The payloads of `n_messages` messages back to back, each message's parts in list order; and their lengths."""
    part_bytes = [np.bincount(part.rows, weights=part.lengths, minlength=n_messages).astype(np.int64)
                  for part in parts]
    lengths = np.zeros(n_messages, dtype=np.int64)
    for added in part_bytes:
        lengths += added
    out = np.empty(int(lengths.sum()), dtype=np.uint8)
    cursor = exclusive_cumsum(lengths)  # where each message's next part starts
    for part, added in zip(parts, part_bytes, strict=True):
        if not part.rows.size:
            continue
        source_start = exclusive_cumsum(part.lengths)
        destination = cursor[part.rows] + source_start
        # Entries of one row (a repeated field) follow each other: subtract the bytes before the row's first entry.
        new_row = np.empty(part.rows.size, dtype=bool)
        new_row[0], new_row[1:] = True, part.rows[1:] != part.rows[:-1]
        destination -= np.maximum.accumulate(np.where(new_row, source_start, 0))
        shift = np.repeat(destination - source_start, part.lengths)
        out[np.arange(part.flat.size) + shift] = part.flat
        cursor += added
    return out, lengths


def _message_part(number: int, rows: np.ndarray, payload: np.ndarray, payload_lengths: np.ndarray) -> _Part:
    """Sub-message entries (rows non-decreasing): tag + varint length + payload, the payloads back to back."""
    entries = np.arange(rows.size)
    body, body_lengths = _varint_body(payload_lengths)
    header = _scalar_part(_tag(number, LENGTH_DELIMITED), entries, body, body_lengths)
    flat, lengths = _join(rows.size, [header, _Part(entries, payload_lengths, payload)])
    return _Part(rows, lengths, flat)


def _varint_field(number: int, values: np.ndarray) -> _Part:
    """One singular integer/enum/bool field per message; zeros are the proto3 default and are not written."""
    present = np.flatnonzero(values != 0)
    return _varint_part(number, present, values[present])


def _double_field(number: int, values: np.ndarray) -> _Part:
    """One singular double per message; only +0.0 is the default (upb compares bits, so -0.0 is written)."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    present = np.flatnonzero(values.view(np.uint64) != 0)
    return _double_part(number, present, values[present])


def encode_nodes(columns: TreeNodeColumns) -> bytes:
    """The bytes of TreeEnsembleParameters' repeated `nodes` field (field 1): MergeFromString appends them."""
    info_payload, info_lengths = _join(columns.info_node.size, [
        _varint_field(INFO_INDEX, columns.info_index),
        _double_field(INFO_VALUE, columns.info_value),
    ])
    node_payload, node_lengths = _join(columns.n_nodes, [
        _varint_field(TREE_ID, columns.tree_id),
        _varint_field(NODE_ID, columns.node_id),
        _varint_field(BEHAVIOR, columns.behavior),
        _varint_field(FEATURE, columns.feature),
        _double_field(THRESHOLD, columns.threshold),
        _varint_field(TRUE_CHILD, columns.true_child),
        _varint_field(FALSE_CHILD, columns.false_child),
        _varint_field(MISSING_TRUE, columns.missing_true.astype(np.uint64)),
        _message_part(EVALUATION_INFO, columns.info_node, info_payload, info_lengths),
    ])
    nodes = _message_part(NODES, np.zeros(columns.n_nodes, dtype=np.int64), node_payload, node_lengths)
    return nodes.flat.tobytes()
