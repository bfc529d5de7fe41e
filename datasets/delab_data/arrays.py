"""numpy <-> Arrow without pandas: build and read columns straight from their buffers.

pyarrow imports pandas the first time ``pa.array``, ``Array.to_numpy``, ``pa.scalar`` or
``pq.read_table`` runs (to check for pandas objects). Without bytecode caches that import costs 1-2 s of
CPU in every process, several times what a chunk of trips costs, so the generator's rides path (and
``take_strings``) goes through these helpers instead. The arrays are the same values either way, so the
files written from them are byte-identical.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def from_numpy(values: np.ndarray | Sequence, type: pa.DataType, null: np.ndarray | None = None) -> pa.Array:
    """An Arrow array of a fixed-width ``type`` (numbers, bool, dates, timestamps) over ``values``.

    ``values`` is converted to the matching numpy dtype first (zero-copy when it already has it);
    ``null`` marks rows that are null, like ``pa.array(values, type, mask=null)``.
    """
    values = np.asarray(values)
    n = len(values)
    if values.dtype.kind == "M":  # datetime64: in the type's unit, then its integer storage
        values = values.astype(f"datetime64[{'D' if pa.types.is_date32(type) else type.unit}]").view(np.int64)
    if pa.types.is_boolean(type):
        data = pa.py_buffer(_bits(np.asarray(values, dtype=bool)))
    else:
        data = pa.py_buffer(np.ascontiguousarray(values, dtype=_storage_dtype(type)))
    if null is None or not null.any():
        return pa.Array.from_buffers(type, n, [None, data], null_count=0)
    validity = pa.py_buffer(_bits(~np.asarray(null, dtype=bool)))
    return pa.Array.from_buffers(type, n, [validity, data], null_count=int(np.count_nonzero(null)))


def strings(values: Sequence[str]) -> pa.Array:
    """A ``pa.string()`` array of Python strings (no nulls): offsets and UTF-8 bytes."""
    encoded = [v.encode() for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(encoded), buffers, null_count=0)


def dictionary(values: pa.Array, codes: np.ndarray) -> pa.DictionaryArray:
    """Row ``i`` is ``values[codes[i]]``, dictionary-encoded: no value is copied (codes are trusted)."""
    return pa.DictionaryArray.from_arrays(from_numpy(codes, pa.int64()), values, safe=False)


def decoded(table: pa.Table) -> pa.Table:
    """``table`` with its dictionary-encoded columns decoded to their value type."""
    schema = table.schema
    if not any(pa.types.is_dictionary(f.type) for f in schema):
        return table
    return table.cast(pa.schema([f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f
                                 for f in schema]))  # fmt: skip


def to_numpy(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A fixed-width column without nulls as numpy (bool as bool, dates/timestamps as datetime64).

    Zero-copy (read-only) for one chunk of numbers; what ``values.to_numpy()`` returns, minus pandas.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if values.null_count:
        raise ValueError("to_numpy() takes columns without nulls")
    n, offset, data = len(values), values.offset, values.buffers()[1]
    if pa.types.is_boolean(values.type):
        bits = np.frombuffer(data, dtype=np.uint8)
        return np.unpackbits(bits, bitorder="little", count=offset + n)[offset:].astype(bool)
    out = np.frombuffer(data, dtype=_storage_dtype(values.type), count=offset + n)[offset:]
    if pa.types.is_timestamp(values.type):
        return out.view(f"datetime64[{values.type.unit}]")
    return out.astype("datetime64[D]") if pa.types.is_date32(values.type) else out


def read_parquet(path: Path) -> pa.Table:
    """One Parquet file as a table (``pq.read_table`` would import pandas)."""
    return pq.ParquetFile(path).read()


def _bits(flags: np.ndarray) -> np.ndarray:
    return np.packbits(flags, bitorder="little")


def _storage_dtype(type: pa.DataType) -> np.dtype:
    """The numpy dtype of a fixed-width Arrow type's data buffer."""
    if pa.types.is_integer(type) or pa.types.is_floating(type):
        kind = "f" if pa.types.is_floating(type) else "u" if pa.types.is_unsigned_integer(type) else "i"
        return np.dtype(f"{kind}{type.bit_width // 8}")
    if pa.types.is_temporal(type) and type.bit_width in (32, 64):
        return np.dtype(f"i{type.bit_width // 8}")
    raise TypeError(f"not a fixed-width number or time type: {type}")
