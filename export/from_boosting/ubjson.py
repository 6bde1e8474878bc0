"""A strict Universal Binary JSON reader for XGBoost's `.ubj` model files (save_model with any suffix but .json).

Why our own: the model must be checked before xgboost's C++ loader sees it, and no Python UBJSON package is a
dependency of the field. XGBoost writes (src/common/json.cc `UBJWriter`) objects `{`, arrays `[` (typed and counted
`[$T#L<n>` for numeric vectors), big-endian integers `i U I l L`, floats `d D`, strings `S`, `T`/`F`, `Z`; object
keys are length-prefixed strings without the `S` marker. Anything else, or bytes past the end, is an error.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_INT = {b"i": ">i1", b"U": ">u1", b"I": ">i2", b"l": ">i4", b"L": ">i8"}
_FLOAT = {b"d": ">f4", b"D": ">f8"}
_NUMERIC = {**_INT, **_FLOAT}
MAX_DEPTH = 64


class UBJSONError(ValueError):
    """The bytes are not well-formed UBJSON (truncated, unknown marker, trailing data)."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.at + n > len(self.data):
            raise UBJSONError(f"truncated at byte {self.at} (needs {n} more bytes, file has {len(self.data)})")
        chunk = self.data[self.at:self.at + n]
        self.at += n
        return chunk

    def marker(self) -> bytes:
        return self.take(1)

    def number(self, marker: bytes) -> Any:
        dtype = _NUMERIC.get(marker)
        if dtype is None:
            raise UBJSONError(f"expected a number at byte {self.at - 1}, found marker {marker!r}")
        size = np.dtype(dtype).itemsize
        return np.frombuffer(self.take(size), dtype=dtype)[0].item()

    def length(self) -> int:
        n = self.number(self.marker())
        if not isinstance(n, int) or n < 0:
            raise UBJSONError(f"invalid length {n!r} at byte {self.at}")
        return n

    def string(self) -> str:
        try:
            return self.take(self.length()).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UBJSONError(f"a string is not UTF-8 ({exc.reason})") from None

    def value(self, marker: bytes, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise UBJSONError(f"nesting deeper than {MAX_DEPTH}")
        if marker in _NUMERIC:
            return self.number(marker)
        if marker == b"S":
            return self.string()
        if marker == b"T":
            return True
        if marker == b"F":
            return False
        if marker == b"Z":
            return None
        if marker == b"[":
            return self.array(depth)
        if marker == b"{":
            return self.object(depth)
        raise UBJSONError(f"unknown marker {marker!r} at byte {self.at - 1}")

    def array(self, depth: int) -> Any:
        marker = self.marker()
        if marker == b"$":  # typed: [$<type>#<count><payload>
            element = self.marker()
            if self.marker() != b"#":
                raise UBJSONError(f"typed array without a count at byte {self.at - 1}")
            count = self.length()
            dtype = _NUMERIC.get(element)
            if dtype is None:
                raise UBJSONError(f"typed array of {element!r} is not supported (numeric types only)")
            size = np.dtype(dtype).itemsize
            return np.frombuffer(self.take(count * size), dtype=dtype).astype(np.dtype(dtype).newbyteorder("="))
        items: list[Any] = []
        if marker == b"#":
            count = self.length()
            return [self.value(self.marker(), depth + 1) for _ in range(count)]
        while marker != b"]":
            items.append(self.value(marker, depth + 1))
            marker = self.marker()
        return items

    def object(self, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while True:
            marker = self.marker()
            if marker == b"}":
                return out
            self.at -= 1
            key = self.string()
            out[key] = self.value(self.marker(), depth + 1)


def loads(data: bytes) -> Any:
    """Decode one UBJSON value that spans all of `data`."""
    reader = _Reader(data)
    value = reader.value(reader.marker(), 0)
    if reader.at != len(data):
        raise UBJSONError(f"{len(data) - reader.at} bytes after the end of the model")
    return value
