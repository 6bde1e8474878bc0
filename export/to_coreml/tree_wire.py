"""Protobuf wire format of TreeEnsembleParameters.nodes, vectorised: the tree writer's encoder and the validator's
reader (a forest has ~10^5-10^6 TreeNode messages; building or reading them one Python object at a time dominates the
export).

Encoding follows the protobuf wire format (protobuf.dev/programming-guides/encoding): fields in field-number order,
proto3 implicit-presence scalars omitted when zero (doubles when their bits are zero, so -0.0 is written), varints
little-endian base-128, doubles fixed64 little-endian, sub-messages as tag + varint length + payload. That is exactly
what upb's `SerializeToString(deterministic=True)` emits for a message built field by field; tests prove the bytes
identical. Field numbers come from the generated descriptors, never typed in here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from export.to_coreml.protos import TreeEnsemble_pb2

_NODE_DESCRIPTOR = TreeEnsemble_pb2.TreeEnsembleParameters.TreeNode.DESCRIPTOR
_INFO_DESCRIPTOR = TreeEnsemble_pb2.TreeEnsembleParameters.TreeNode.EvaluationInfo.DESCRIPTOR
_PARAMS_DESCRIPTOR = TreeEnsemble_pb2.TreeEnsembleParameters.DESCRIPTOR

_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5
_MAX_VARINT_BYTES = 10  # a uint64 needs at most ceil(64 / 7) bytes


def _number(descriptor: object, name: str) -> int:
    return int(descriptor.fields_by_name[name].number)  # type: ignore[attr-defined]


# TreeNode fields (TreeEnsemble.proto), in the order the encoder writes them (ascending field number).
TREE_ID = _number(_NODE_DESCRIPTOR, "treeId")
NODE_ID = _number(_NODE_DESCRIPTOR, "nodeId")
BEHAVIOR = _number(_NODE_DESCRIPTOR, "nodeBehavior")
FEATURE = _number(_NODE_DESCRIPTOR, "branchFeatureIndex")
THRESHOLD = _number(_NODE_DESCRIPTOR, "branchFeatureValue")
TRUE_CHILD = _number(_NODE_DESCRIPTOR, "trueChildNodeId")
FALSE_CHILD = _number(_NODE_DESCRIPTOR, "falseChildNodeId")
MISSING_TRUE = _number(_NODE_DESCRIPTOR, "missingValueTracksTrueChild")
EVALUATION_INFO = _number(_NODE_DESCRIPTOR, "evaluationInfo")
INFO_INDEX = _number(_INFO_DESCRIPTOR, "evaluationIndex")
INFO_VALUE = _number(_INFO_DESCRIPTOR, "evaluationValue")
NODES = _number(_PARAMS_DESCRIPTOR, "nodes")
_WRITE_ORDER = (TREE_ID, NODE_ID, BEHAVIOR, FEATURE, THRESHOLD, TRUE_CHILD, FALSE_CHILD, MISSING_TRUE, EVALUATION_INFO)
if list(_WRITE_ORDER) != sorted(_WRITE_ORDER) or INFO_INDEX > INFO_VALUE:
    raise ImportError("TreeEnsemble.proto field numbers changed: the encoder writes fields in ascending order")


class WireFormatError(ValueError):
    """Bytes the vectorised reader does not decode (the validator then reads the message objects instead)."""


@dataclass(frozen=True)
class TreeNodeColumns:
    """TreeEnsembleParameters.nodes as parallel arrays, one entry per TreeNode message in order: exactly the field
    values the messages hold (0 / False where a field is unset). evaluationInfo entries are flattened: entry j belongs
    to node `info_node[j]` (non-decreasing, so each node's entries stay in order)."""

    tree_id: np.ndarray  # uint64
    node_id: np.ndarray  # uint64
    behavior: np.ndarray  # int64, TreeNodeBehavior
    feature: np.ndarray  # uint64, branchFeatureIndex
    threshold: np.ndarray  # float64, branchFeatureValue
    true_child: np.ndarray  # uint64
    false_child: np.ndarray  # uint64
    missing_true: np.ndarray  # bool, missingValueTracksTrueChild
    info_node: np.ndarray  # int64
    info_index: np.ndarray  # uint64, evaluationIndex
    info_value: np.ndarray  # float64, evaluationValue

    @property
    def n_nodes(self) -> int:
        return int(self.tree_id.size)


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
    for k in range(1, _MAX_VARINT_BYTES):
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
    return _scalar_part(_tag(number, _VARINT), rows, body, lengths)


def _double_part(number: int, rows: np.ndarray, values: np.ndarray) -> _Part:
    body = np.ascontiguousarray(values, dtype="<f8").view(np.uint8).reshape(-1, 8)
    return _scalar_part(_tag(number, _FIXED64), rows, body, np.full(rows.size, 8, dtype=np.int64))


def _exclusive_cumsum(lengths: np.ndarray) -> np.ndarray:
    out = np.zeros(lengths.size, dtype=np.int64)
    np.cumsum(lengths[:-1], out=out[1:])
    return out


def _join(n_messages: int, parts: list[_Part]) -> tuple[np.ndarray, np.ndarray]:
    """The payloads of `n_messages` messages back to back, each message's parts in list order; and their lengths."""
    part_bytes = [np.bincount(part.rows, weights=part.lengths, minlength=n_messages).astype(np.int64)
                  for part in parts]
    lengths = np.zeros(n_messages, dtype=np.int64)
    for added in part_bytes:
        lengths += added
    out = np.empty(int(lengths.sum()), dtype=np.uint8)
    cursor = _exclusive_cumsum(lengths)  # where each message's next part starts
    for part, added in zip(parts, part_bytes, strict=True):
        if not part.rows.size:
            continue
        source_start = _exclusive_cumsum(part.lengths)
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
    header = _scalar_part(_tag(number, _LENGTH_DELIMITED), entries, body, body_lengths)
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


# ---------------------------------------------------------------------------------------------------------------
# Reader. upb splits TreeEnsembleParameters into its node messages (parsed as a look-alike message whose field 1 is
# `repeated bytes`); the fields of all nodes are then decoded side by side, one field per node per step.


def _nodes_view_class() -> type:
    """A message with the wire shape of TreeEnsembleParameters' `nodes` field, but holding each node's raw bytes."""
    file = descriptor_pb2.FileDescriptorProto(name="mlexport_tree_nodes_view.proto", package="mlexport.wire",
                                              syntax="proto3")
    message = file.message_type.add(name="TreeNodesView")
    message.field.add(name="nodes", number=NODES, type=descriptor_pb2.FieldDescriptorProto.TYPE_BYTES,
                      label=descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED)
    pool = descriptor_pool.DescriptorPool()  # private: nothing else can register a clashing name in it
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("mlexport.wire.TreeNodesView"))


_NodesView = _nodes_view_class()
_PADDING = bytes(_MAX_VARINT_BYTES + 8)  # reads that run past a message's end see zeros, then fail the end check


def _read_varint(buffer: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The varint at every position and the position after it."""
    value = np.zeros(positions.size, dtype=np.uint64)
    after = positions.copy()
    pending = np.arange(positions.size)
    for k in range(_MAX_VARINT_BYTES):
        byte = buffer[positions[pending] + k].astype(np.uint64)
        value[pending] |= (byte & np.uint64(0x7F)) << np.uint64(7 * k)
        more = byte >= np.uint64(0x80)
        after[pending[~more]] += k + 1
        pending = pending[more]
        if not pending.size:
            return value, after
    raise WireFormatError("a varint is longer than 10 bytes")


def _read_fixed64(buffer: np.ndarray, positions: np.ndarray) -> np.ndarray:
    raw = buffer[positions[:, None] + np.arange(8)]
    return np.ascontiguousarray(raw).view("<u8").reshape(-1).astype(np.uint64)


@dataclass(frozen=True)
class _Decoded:
    scalars: dict[int, np.ndarray]  # field number -> value per message (uint64 bits; 0 where absent)
    span_owner: np.ndarray  # occurrences of the repeated sub-message field, grouped by message, in order
    span_start: np.ndarray
    span_length: np.ndarray


def _decode_messages(buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray, scalars: dict[int, int],
                     repeated_message: int | None) -> _Decoded:
    """Decode messages buffer[starts[i]:ends[i]] side by side. `scalars` maps field number -> expected wire type
    (a later occurrence wins, as in every protobuf parser); unknown fields are skipped by wire type."""
    n = starts.size
    values = {number: np.zeros(n, dtype=np.uint64) for number in scalars}
    owners, span_starts, span_lengths = [], [], []
    position = starts.astype(np.int64)
    active = np.flatnonzero(position < ends)
    while active.size:
        key, after = _read_varint(buffer, position[active])
        number, wire = (key >> np.uint64(3)).astype(np.int64), (key & np.uint64(7)).astype(np.int64)
        value = np.zeros(active.size, dtype=np.uint64)
        varint = np.flatnonzero(wire == _VARINT)
        value[varint], after[varint] = _read_varint(buffer, after[varint])
        fixed64 = np.flatnonzero(wire == _FIXED64)
        value[fixed64] = _read_fixed64(buffer, after[fixed64])
        after[fixed64] += 8
        after[wire == _FIXED32] += 4
        delimited = np.flatnonzero(wire == _LENGTH_DELIMITED)
        length, payload = _read_varint(buffer, after[delimited])
        after[delimited] = payload + length.astype(np.int64)
        if np.any(~np.isin(wire, (_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32))):
            raise WireFormatError("a group or an unknown wire type")
        if np.any(after > ends[active]) or np.any(length >= np.uint64(1 << 62)):
            raise WireFormatError("a field runs past the end of its message")
        for field_number, wire_type in scalars.items():
            mine = number == field_number
            if np.any(wire[mine] != wire_type):
                raise WireFormatError(f"field {field_number} has another wire type than its declaration")
            values[field_number][active[mine]] = value[mine]  # one occurrence per message in this step
        if repeated_message is not None:
            mine = (number[delimited] == repeated_message)
            owners.append(active[delimited[mine]])
            span_starts.append(payload[mine])
            span_lengths.append(length[mine].astype(np.int64))
            if np.any(wire[number == repeated_message] != _LENGTH_DELIMITED):
                raise WireFormatError(f"field {repeated_message} is not length-delimited")
        position[active] = after
        active = active[after < ends[active]]
    if owners:
        owner = np.concatenate(owners)
        order = np.argsort(owner, kind="stable")  # steps run in field order, so each message's entries stay in order
        return _Decoded(values, owner[order], np.concatenate(span_starts)[order], np.concatenate(span_lengths)[order])
    empty = np.zeros(0, dtype=np.int64)
    return _Decoded(values, empty, empty, empty)


def decode_nodes(params: object) -> TreeNodeColumns:
    """The nodes of a TreeEnsembleParameters message as columns, decoded from its serialisation."""
    view = _NodesView.FromString(params.SerializeToString())  # type: ignore[attr-defined]
    payloads = view.nodes
    n = len(payloads)
    lengths = np.fromiter(map(len, payloads), dtype=np.int64, count=n)
    buffer = np.frombuffer(b"".join(payloads) + _PADDING, dtype=np.uint8)
    starts = _exclusive_cumsum(lengths)
    nodes = _decode_messages(buffer, starts, starts + lengths, {
        TREE_ID: _VARINT, NODE_ID: _VARINT, BEHAVIOR: _VARINT, FEATURE: _VARINT, THRESHOLD: _FIXED64,
        TRUE_CHILD: _VARINT, FALSE_CHILD: _VARINT, MISSING_TRUE: _VARINT}, EVALUATION_INFO)
    infos = _decode_messages(buffer, nodes.span_start, nodes.span_start + nodes.span_length,
                             {INFO_INDEX: _VARINT, INFO_VALUE: _FIXED64}, None)
    fields = nodes.scalars
    return TreeNodeColumns(
        tree_id=fields[TREE_ID], node_id=fields[NODE_ID], behavior=fields[BEHAVIOR].astype(np.int64),
        feature=fields[FEATURE], threshold=fields[THRESHOLD].view(np.float64), true_child=fields[TRUE_CHILD],
        false_child=fields[FALSE_CHILD], missing_true=fields[MISSING_TRUE] != 0, info_node=nodes.span_owner,
        info_index=infos.scalars[INFO_INDEX], info_value=infos.scalars[INFO_VALUE].view(np.float64))
