"""From a request (scale, seed, dial, tables) to an ordered list of chunk tasks."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import domains  # noqa: F401  (registers every table and producer)
from .dial import DirtyRates
from .scales import Scale
from .schema import PRODUCERS, TABLES, Producer


@dataclass(frozen=True)
class Request:
    """What to generate. Two requests with equal ``params()`` produce byte-identical files."""

    scale: Scale
    seed: int = 42
    dirty: DirtyRates = field(default_factory=DirtyRates)
    tables: tuple[str, ...] | None = None  # None: every table
    formats: tuple[str, ...] | None = None  # None: each table's declared formats

    def params(self) -> dict[str, object]:
        """The parameters recorded in the manifest and compared to decide whether to regenerate."""
        from . import GENERATOR_VERSION

        return {
            "generator_version": GENERATOR_VERSION,
            "seed": self.seed,
            "scale": self.scale.as_dict(),
            "dirty": self.dirty.as_dict(),
            "requested_tables": sorted(self.tables) if self.tables else "all",
            "formats": sorted(self.formats) if self.formats else "declared",
        }

    def writes(self, table: str) -> bool:
        """Whether ``table`` is written (producers may make more tables than were asked for)."""
        return self.tables is None or table in self.tables

    def formats_of(self, declared: tuple[str, ...]) -> tuple[str, ...]:
        """The formats a table is written in under this request."""
        return declared if self.formats is None else tuple(f for f in declared if f in self.formats)


@dataclass(frozen=True)
class Task:
    """One chunk of one producer."""

    producer: str
    chunk: int
    n_chunks: int
    start: int
    count: int


class PlanError(ValueError):
    """A request that names unknown tables or has circular producer needs."""


def producers_for(tables: tuple[str, ...] | None) -> list[Producer]:
    """The producers needed for ``tables`` (all when None), in an order that satisfies ``needs``."""
    wanted = set(TABLES) if not tables else set(tables)
    unknown = wanted - set(TABLES)
    if unknown:
        raise PlanError(f"unknown tables {sorted(unknown)}; known tables: {', '.join(sorted(TABLES))}")
    owner = {t: p for p in PRODUCERS.values() for t in p.tables}
    chosen: list[Producer] = []
    for name in sorted(wanted):
        _visit(owner[name], owner, chosen, ())
    return chosen


def _visit(prod: Producer, owner: dict[str, Producer], chosen: list[Producer], path: tuple[str, ...]) -> None:
    if prod in chosen:
        return
    if prod.name in path:
        raise PlanError(f"producers need each other in a circle: {' -> '.join((*path, prod.name))}")
    for need in prod.needs:
        _visit(owner[need], owner, chosen, (*path, prod.name))
    chosen.append(prod)


def waves(producers: list[Producer]) -> list[list[Producer]]:
    """Group producers into waves: each wave needs only tables made by earlier waves."""
    done: set[str] = set()
    remaining = list(producers)
    out: list[list[Producer]] = []
    while remaining:
        ready = [p for p in remaining if set(p.needs) <= done]
        out.append(ready)
        done |= {t for p in ready for t in p.tables}
        remaining = [p for p in remaining if p not in ready]
    return out


def tasks(wave: list[Producer], scale: Scale) -> list[Task]:
    """Every chunk of every producer in a wave, largest producers first to balance workers."""
    out = []
    for prod in sorted(wave, key=lambda p: -p.units(scale)):
        n = prod.n_chunks(scale)
        for chunk in range(n):
            start, count = prod.chunk_range(scale, chunk)
            out.append(Task(prod.name, chunk, n, start, count))
    return out
