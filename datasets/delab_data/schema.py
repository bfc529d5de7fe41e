"""The one definition of every table: columns, types, keys and meaning.

Generators, the data dictionary, the manifest and the tests all read these objects, so a column is
described in exactly one place. A domain module declares its tables with :func:`table` and the
producers that fill them with :func:`producer`; both register themselves here on import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from .context import ChunkContext
    from .scales import Scale

#: Storage formats a table can be written in.
FORMATS = ("parquet", "csv", "jsonl")


@dataclass(frozen=True)
class Column:
    """One column: its Arrow type, what it means, and the constraints checks rely on."""

    name: str
    type: pa.DataType
    doc: str
    nullable: bool = False
    primary_key: bool = False
    references: str | None = None  # "table.column" this column is a foreign key to
    values: tuple[str, ...] | None = None  # the closed set of allowed values, if any
    unit: str | None = None

    def field(self) -> pa.Field:
        """The Arrow field for this column."""
        return pa.field(self.name, self.type, nullable=self.nullable)


@dataclass(frozen=True)
class DirtySpec:
    """Which columns of a table the dirty-data dial may damage, and how.

    Each attribute names columns; an empty tuple switches that kind of damage off for the table.
    """

    nullable: tuple[str, ...] = ()  # may be set to null
    non_negative: tuple[str, ...] = ()  # may be made negative (impossible values)
    interval: tuple[str, str] | None = None  # (start, end): end may be moved before start
    timestamps: tuple[str, ...] = ()  # may be malformed in text formats
    #: column → correct value → its misspellings
    spelling: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    key: str | None = None  # identifying column kept by near duplicates


@dataclass(frozen=True)
class Table:
    """A table of the shared dataset."""

    name: str
    domain: str
    doc: str
    grain: str
    columns: tuple[Column, ...]
    formats: tuple[str, ...] = ("parquet",)
    dirty: DirtySpec | None = None
    variant: str = "clean"  # "dirty": the table exists only in the dirty variant (e.g. a drifted v2 file)

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema every file of this table has."""
        return pa.schema([c.field() for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def primary_key(self) -> list[str]:
        return [c.name for c in self.columns if c.primary_key]

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")


@dataclass(frozen=True)
class Producer:
    """Fills one or more tables, chunk by chunk.

    ``units(scale)`` says how many units (trips, orders, ...) the producer makes in total; they are cut
    into chunks of ``chunk_units``, a fixed number, so the rows never depend on how many workers run.
    ``make(ctx)`` returns the rows of every table in ``tables`` for one chunk. ``needs`` lists tables of
    other producers that ``make`` reads through ``ctx.table(name)``; they are generated first.
    ``prepare(ctx)``, if given, builds read-only state that every chunk needs (lookup tables derived
    from the dimensions): the local engine runs it once per run and chunks get it as ``ctx.prepared()``.
    """

    name: str
    tables: tuple[str, ...]
    units: Callable[[Scale], int]
    make: Callable[[ChunkContext], dict[str, pa.Table]]
    chunk_units: int = 250_000
    needs: tuple[str, ...] = ()
    prepare: Callable[[ChunkContext], Any] | None = None

    def n_chunks(self, scale: Scale) -> int:
        """How many chunks the producer's units are cut into."""
        return max(1, -(-self.units(scale) // self.chunk_units))

    def chunk_range(self, scale: Scale, chunk: int) -> tuple[int, int]:
        """(first unit, number of units) of one chunk."""
        total = self.units(scale)
        start = chunk * self.chunk_units
        return start, max(0, min(self.chunk_units, total - start))


TABLES: dict[str, Table] = {}
PRODUCERS: dict[str, Producer] = {}


def table(
    name: str,
    domain: str,
    doc: str,
    grain: str,
    columns: list[Column],
    formats: tuple[str, ...] = ("parquet",),
    dirty: DirtySpec | None = None,
    variant: str = "clean",
) -> Table:
    """Declare and register a table."""
    if name in TABLES:
        raise ValueError(f"table {name!r} is declared twice")
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"table {name!r}: unknown formats {sorted(unknown)}")
    if variant not in ("clean", "dirty"):
        raise ValueError(f"table {name!r}: variant must be 'clean' or 'dirty'")
    spec = Table(name, domain, doc, grain, tuple(columns), tuple(formats), dirty, variant)
    TABLES[name] = spec
    return spec


def producer(spec: Producer) -> Producer:
    """Register a producer; every table it names must be declared already."""
    missing = [t for t in spec.tables if t not in TABLES]
    if missing:
        raise ValueError(f"producer {spec.name!r} fills undeclared tables {missing}")
    if spec.name in PRODUCERS:
        raise ValueError(f"producer {spec.name!r} is declared twice")
    PRODUCERS[spec.name] = spec
    return spec


def conform(spec: Table, data: pa.Table, dictionaries: bool = False) -> pa.Table:
    """Return ``data`` with exactly the declared columns, in order, cast to the declared types.

    With ``dictionaries``, a dictionary-encoded column whose values have the declared type stays encoded
    (the Parquet writer stores it as that type without decoding it first).
    """
    missing = [c for c in spec.column_names if c not in data.column_names]
    extra = [c for c in data.column_names if c not in spec.column_names]
    if missing or extra:
        raise ValueError(f"table {spec.name!r}: generator returned missing={missing} extra={extra}")
    data = data.select(spec.column_names)
    if not dictionaries:
        return data.cast(spec.schema)
    return data.cast(pa.schema([_encoded_as(f, data.schema.field(f.name).type) for f in spec.schema]))


def _encoded_as(declared: pa.Field, actual: pa.DataType) -> pa.Field:
    """``declared``, or a dictionary of its type when ``actual`` is one."""
    if pa.types.is_dictionary(actual) and actual.value_type == declared.type:
        return declared.with_type(actual)
    return declared
