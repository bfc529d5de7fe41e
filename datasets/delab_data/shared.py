"""State built once per run and read by every chunk: saved to a file, memory-mapped by the workers.

A producer's ``prepare`` step (for trips: the lookup tables derived from zones, drivers and riders)
runs once in the parent; the object is pickled with its numpy arrays out of band, each array at an
aligned offset of one file. Loading maps the file and rebuilds the object around read-only views of
it, so a worker pays neither the build nor a copy, and the pages are shared through the page cache.
"""

from __future__ import annotations

import mmap
import os
import pickle
import struct
from functools import lru_cache
from pathlib import Path
from typing import Any

SHARED_DIR = ".shared"  # inside the dataset's work folder; removed before the folder is committed
_ALIGN = 64
_TRAILER = struct.Struct("<Q")  # length of the index pickled at the end of the file


def path_for(root: Path, producer: str) -> Path:
    """Where the prepared state of ``producer`` lives while ``root`` is being generated."""
    return root / SHARED_DIR / f"{producer}.pickle"


def save(obj: Any, path: Path) -> None:
    """Write ``obj`` to ``path`` (atomically): array data first, then the pickle and its index."""
    buffers: list[pickle.PickleBuffer] = []
    payload = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    spans = []
    with tmp.open("wb") as out:
        for buf in buffers:
            raw = buf.raw()
            out.write(b"\0" * (-out.tell() % _ALIGN))
            spans.append((out.tell(), raw.nbytes))
            out.write(raw)
        index = pickle.dumps((payload, spans), protocol=5)
        out.write(index)
        out.write(_TRAILER.pack(len(index)))
    tmp.replace(path)


@lru_cache(maxsize=2)
def load(path: str) -> Any:
    """The object saved at ``path``; its arrays are read-only views of the mapped file (cached)."""
    with open(path, "rb") as src:
        mapped = mmap.mmap(src.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(mapped)
    (size,) = _TRAILER.unpack(view[-_TRAILER.size :])
    payload, spans = pickle.loads(view[-_TRAILER.size - size : -_TRAILER.size])
    return pickle.loads(payload, buffers=[view[start : start + n] for start, n in spans])
