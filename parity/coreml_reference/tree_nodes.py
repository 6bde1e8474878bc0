"""TreeEnsembleParameters.nodes read as numpy columns, straight from the protobuf wire format.

A forest holds 10^5-10^6 TreeNode messages; reading them one Python object at a time dominates compiling a spec. The
repeated field is split into per-node byte strings by upb, then the fields of all nodes are decoded side by side
(protobuf.dev/programming-guides/encoding). Bytes the reader does not decode (a group, an unknown wire type) fall
back to the message objects. Used by the evaluator, and by export's validator and tree encoder (export may import
parity, never the reverse). Field numbers come from the generated descriptors, never typed in here.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from parity.coreml_reference.spec_loading import quiet_coremltools

with quiet_coremltools():
    from coremltools.proto import TreeEnsemble_pb2

_NODE_DESCRIPTOR = TreeEnsemble_pb2.TreeEnsembleParameters.TreeNode.DESCRIPTOR
_INFO_DESCRIPTOR = TreeEnsemble_pb2.TreeEnsembleParameters.TreeNode.EvaluationInfo.DESCRIPTOR
_PARAMS_DESCRIPTOR = TreeEnsemble_pb2.TreeEnsembleParameters.DESCRIPTOR

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5
MAX_VARINT_BYTES = 10  # a uint64 needs at most ceil(64 / 7) bytes


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
    """Bytes the vectorised reader does not decode (`read_nodes` then reads the message objects instead)."""


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
# Reader. upb splits TreeEnsembleParameters into its node messages (parsed as a look-alike message whose field 1 is
# `repeated bytes`); the fields of all nodes are then decoded side by side, one field per node per step.


def exclusive_cumsum(lengths: np.ndarray) -> np.ndarray:
    out = np.zeros(lengths.size, dtype=np.int64)
    np.cumsum(lengths[:-1], out=out[1:])
    return out


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
_PADDING = bytes(MAX_VARINT_BYTES + 8)  # reads that run past a message's end see zeros, then fail the end check


def _read_varint(buffer: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The varint at every position and the position after it."""
    value = np.zeros(positions.size, dtype=np.uint64)
    after = positions.copy()
    pending = np.arange(positions.size)
    for k in range(MAX_VARINT_BYTES):
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
        varint = np.flatnonzero(wire == VARINT)
        value[varint], after[varint] = _read_varint(buffer, after[varint])
        fixed64 = np.flatnonzero(wire == FIXED64)
        value[fixed64] = _read_fixed64(buffer, after[fixed64])
        after[fixed64] += 8
        after[wire == FIXED32] += 4
        delimited = np.flatnonzero(wire == LENGTH_DELIMITED)
        length, payload = _read_varint(buffer, after[delimited])
        after[delimited] = payload + length.astype(np.int64)
        if np.any(~np.isin(wire, (VARINT, FIXED64, LENGTH_DELIMITED, FIXED32))):
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
            if np.any(wire[number == repeated_message] != LENGTH_DELIMITED):
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
    starts = exclusive_cumsum(lengths)
    nodes = _decode_messages(buffer, starts, starts + lengths, {
        TREE_ID: VARINT, NODE_ID: VARINT, BEHAVIOR: VARINT, FEATURE: VARINT, THRESHOLD: FIXED64,
        TRUE_CHILD: VARINT, FALSE_CHILD: VARINT, MISSING_TRUE: VARINT}, EVALUATION_INFO)
    infos = _decode_messages(buffer, nodes.span_start, nodes.span_start + nodes.span_length,
                             {INFO_INDEX: VARINT, INFO_VALUE: FIXED64}, None)
    fields = nodes.scalars
    return TreeNodeColumns(
        tree_id=fields[TREE_ID], node_id=fields[NODE_ID], behavior=fields[BEHAVIOR].astype(np.int64),
        feature=fields[FEATURE], threshold=fields[THRESHOLD].view(np.float64), true_child=fields[TRUE_CHILD],
        false_child=fields[FALSE_CHILD], missing_true=fields[MISSING_TRUE] != 0, info_node=nodes.span_owner,
        info_index=infos.scalars[INFO_INDEX], info_value=infos.scalars[INFO_VALUE].view(np.float64))


def read_node_objects(nodes: Any) -> TreeNodeColumns:
    """TreeEnsembleParameters.nodes as columns, read one message object at a time: the slow reader, used when
    `decode_nodes` meets bytes it does not decode (and by the tests, as a second opinion)."""
    n = len(nodes)
    rows = list(map(attrgetter("treeId", "nodeId", "nodeBehavior", "branchFeatureIndex", "trueChildNodeId",
                               "falseChildNodeId", "missingValueTracksTrueChild"), nodes))
    ids = np.array(rows, dtype=np.uint64).reshape(n, 7)
    infos = [(position, info.evaluationIndex, info.evaluationValue)
             for position, node in enumerate(nodes) for info in node.evaluationInfo]
    return TreeNodeColumns(
        tree_id=ids[:, 0], node_id=ids[:, 1], behavior=ids[:, 2].astype(np.int64), feature=ids[:, 3],
        threshold=np.fromiter(map(attrgetter("branchFeatureValue"), nodes), dtype=np.float64, count=n),
        true_child=ids[:, 4], false_child=ids[:, 5], missing_true=ids[:, 6] != 0,
        info_node=np.array([info[0] for info in infos], dtype=np.int64),
        info_index=np.array([info[1] for info in infos], dtype=np.uint64),
        info_value=np.array([info[2] for info in infos], dtype=np.float64))


def read_nodes(params: Any) -> TreeNodeColumns:
    """The nodes of a TreeEnsembleParameters message as columns: decoded from the wire, or read object by object."""
    try:
        return decode_nodes(params)
    except WireFormatError:
        return read_node_objects(params.nodes)
