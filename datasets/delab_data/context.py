"""What a producer sees while it makes one chunk."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from .scales import Scale


def chunk_seed(seed: int, stream: str, chunk: int) -> np.random.SeedSequence:
    """The seed of one chunk of one stream: depends on nothing but (seed, stream name, chunk number)."""
    return np.random.SeedSequence(seed, spawn_key=(zlib.crc32(stream.encode()), chunk))


@dataclass
class ChunkContext:
    """One chunk's slice of work: its unit range, its own random stream, and read access to dimensions.

    ``start``/``count`` are the chunk's units (trip numbers, order numbers, ...): a producer derives
    ids from them (``start + i + 1``) so ids are unique across chunks and independent of workers.
    """

    seed: int
    scale: Scale
    producer: str
    chunk: int
    n_chunks: int
    start: int
    count: int
    loader: Callable[[str], pa.Table] = field(repr=False, default=lambda name: _no_loader(name))
    wanted: frozenset[str] | None = None  # tables the engine will write (None: all the producer makes)
    #: The producer's prepared state, when the engine built it once for the run (see Producer.prepare).
    prepared: Callable[[], Any] | None = field(repr=False, default=None)

    def wants(self, table: str) -> bool:
        """Whether ``table`` is needed from this chunk; producers may skip making the others."""
        return self.wanted is None or table in self.wanted

    def rng(self, purpose: str = "main") -> np.random.Generator:
        """A random generator private to this chunk and ``purpose`` (e.g. "dirty" draws its own)."""
        return np.random.default_rng(chunk_seed(self.seed, f"{self.producer}/{purpose}", self.chunk))

    def table(self, name: str) -> pa.Table:
        """A whole table made by an earlier producer (dimensions such as drivers or zones)."""
        return self.loader(name)

    @property
    def period_start(self) -> datetime:
        return datetime.combine(self.scale.period_start, datetime.min.time())

    def time_slice(self) -> tuple[np.datetime64, np.datetime64]:
        """The part of the dataset's period that belongs to this chunk, so ids grow with time."""
        start = np.datetime64(self.period_start, "s")
        span = np.timedelta64(self.scale.period_days * 86_400, "s")
        lo = start + span * self.chunk // self.n_chunks
        hi = start + span * (self.chunk + 1) // self.n_chunks
        return lo, hi


def _no_loader(name: str) -> pa.Table:
    raise RuntimeError(f"no tables are available to this context (asked for {name!r})")
