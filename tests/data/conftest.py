"""Shared helpers for the generator tests: build chunk contexts and run producers fully in memory."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterable
from pathlib import Path

import pyarrow as pa
import pytest
from delab_data.context import ChunkContext
from delab_data.scales import PRESETS, Scale
from delab_data.schema import PRODUCERS, TABLES, Producer, conform

SEED = 42
DOMAIN_MODULES = ("rides", "food", "streaming", "cdc")


def load_domains() -> list[str]:
    """Import every domain module that exists (registering its tables); return the names imported.

    While some engineers' domain modules are still missing, ``delab_data.domains`` itself cannot be
    imported, so the modules that do exist are imported one by one under a stand-in package.
    """
    missing = {f"delab_data.domains.{name}" for name in DOMAIN_MODULES}
    try:
        importlib.import_module("delab_data.domains")
        return list(DOMAIN_MODULES)
    except ModuleNotFoundError as exc:
        if exc.name not in missing:
            raise
    import delab_data

    if "delab_data.domains" not in sys.modules:
        stub = types.ModuleType("delab_data.domains")
        stub.__path__ = [str(Path(delab_data.__file__).parent / "domains")]
        sys.modules["delab_data.domains"] = stub
    loaded = []
    for name in DOMAIN_MODULES:
        try:
            importlib.import_module(f"delab_data.domains.{name}")
            loaded.append(name)
        except ModuleNotFoundError as exc:
            if exc.name not in missing:
                raise
    return loaded


LOADED_DOMAINS = load_domains()


def make_ctx(
    producer: str | Producer,
    scale: Scale | str = "tiny",
    *,
    chunk: int = 0,
    seed: int = SEED,
    tables: dict[str, pa.Table] | None = None,
) -> ChunkContext:
    """The context the engine would give ``producer`` for chunk ``chunk``, reading ``tables`` in memory."""
    spec = PRODUCERS[producer] if isinstance(producer, str) else producer
    scale = PRESETS[scale] if isinstance(scale, str) else scale
    start, count = spec.chunk_range(scale, chunk)
    return ChunkContext(
        seed=seed,
        scale=scale,
        producer=spec.name,
        chunk=chunk,
        n_chunks=spec.n_chunks(scale),
        start=start,
        count=count,
        loader=dict_loader(tables or {}),
    )


def dict_loader(tables: dict[str, pa.Table]) -> Callable[[str], pa.Table]:
    """A ``ctx.table`` loader over an in-memory dict of tables."""

    def load(name: str) -> pa.Table:
        if name not in tables:
            raise KeyError(f"table {name!r} has not been generated (missing from the producer's needs?)")
        return tables[name]

    return load


def producer_order(names: Iterable[str] | None = None) -> list[Producer]:
    """Producers (all registered, or ``names`` and what they need) in dependency order."""
    maker = {t: p for p in PRODUCERS.values() for t in p.tables}
    wanted = list(names) if names is not None else list(PRODUCERS)
    order: list[Producer] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for need in PRODUCERS[name].needs:
            visit(maker[need].name)
        order.append(PRODUCERS[name])

    for name in wanted:
        visit(name)
    return order


def run_producers(
    scale: Scale | str = "tiny", seed: int = SEED, names: Iterable[str] | None = None
) -> dict[str, pa.Table]:
    """Run producers chunk by chunk in memory, conform each chunk, concatenate: {table: rows}."""
    tables: dict[str, pa.Table] = {}
    for spec in producer_order(names):
        parts: dict[str, list[pa.Table]] = {t: [] for t in spec.tables}
        scale_obj = PRESETS[scale] if isinstance(scale, str) else scale
        for chunk in range(spec.n_chunks(scale_obj)):
            out = spec.make(make_ctx(spec, scale_obj, chunk=chunk, seed=seed, tables=tables))
            for name in spec.tables:
                parts[name].append(conform(TABLES[name], out[name]))
        for name, chunks in parts.items():
            tables[name] = pa.concat_tables(chunks)
    return tables


@pytest.fixture(scope="session")
def tiny_tables() -> dict[str, pa.Table]:
    """Every registered table at the tiny scale (seed 42), generated once per test session."""
    return run_producers("tiny")
