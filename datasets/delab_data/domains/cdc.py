"""Change data capture: the change logs of the drivers and restaurants tables (tables and producers).

Form of a log row, chosen so that a SQL ``MERGE`` applies it directly: ``lsn`` (strictly increasing),
``op`` ('c' insert, 'u' update, 'd' delete), ``commit_ts``, the key once and unprefixed, then a typed
``before_<column>`` and ``after_<column>`` for every other column of the source table. ``before_*`` is
null for inserts, ``after_*`` is null for deletes. Replaying a log in lsn order into an empty table gives
exactly the current source table; the after-images, ordered by lsn per key, are its SCD type-2 history.
"""

from __future__ import annotations

import pyarrow as pa

from ..context import ChunkContext
from ..schema import TABLES, Column, Producer, Table, producer, table
from . import food, rides  # noqa: F401  (the source tables must be declared first)
from .cdc_gen import Source, make_log, move, nudge, other_value

D = "cdc"
OPS = ("c", "u", "d")


def _log_table(name: str, source: Table, key: str, what: str) -> Table:
    """Declare the change log of ``source``: header columns, the key, then before/after images."""
    header = [
        Column(
            "lsn",
            pa.int64(),
            "Log sequence number: strictly increasing, with gaps; replay in this order.",
            primary_key=True,
        ),
        Column("op", pa.string(), "Kind of change: 'c' insert, 'u' update, 'd' delete.", values=OPS),
        Column("commit_ts", pa.timestamp("ms"), "When the change was committed in the source database."),
        Column(key, pa.int64(), f"Key of the changed {what} (never null).", references=None),
    ]
    images = [
        Column(f"{side}_{c.name}", c.type, f"{c.name} {when}: {c.doc}", nullable=True, values=c.values,
               unit=c.unit)
        for side, when in (("before", "before the change (null for inserts)"),
                           ("after", "after the change (null for deletes)"))
        for c in source.columns if c.name != key
    ]  # fmt: skip
    return table(
        name, D,
        doc=(
            f"Change log of `{source.name}` over the period (one row per committed change). Replaying it in "
            f"lsn order into an empty table yields exactly `{source.name}`; deleted {what}s were created and "
            "removed within the period and appear nowhere else. Per key, the after-images in lsn order are "
            "the SCD type-2 history: valid from their commit_ts to the key's next commit_ts."
        ),
        grain=f"one row per change to one {what}",
        columns=header + images,
        formats=("parquet", "jsonl"),
    )  # fmt: skip


drivers_cdc = _log_table("drivers_cdc", TABLES["drivers"], "driver_id", "driver")
restaurants_cdc = _log_table("restaurants_cdc", TABLES["restaurants"], "restaurant_id", "restaurant")


def make_drivers_cdc(ctx: ChunkContext) -> dict[str, pa.Table]:
    """The drivers' change log: rating drifts, new vehicles, moves, and inactive drivers stopping.

    Status changes only as an inactive driver's last change, and current drivers move only within their
    city: trips are placed in a driver's current city while active, and the history must agree.
    """
    status = other_value("status")
    undos = (nudge("rating", 0.08, 1.0, 5.0, 2), other_value("vehicle_type"),
             move("driver_id", "city", "home_zone_id", ctx.table("zones")), status)  # fmt: skip
    src = Source(
        "drivers", "driver_id", "signup_date", "updated_at", identity=("first_name", "last_name"),
        undos=undos[:-1], last_change=("status", "inactive", status),  # only the stop changes status
    )  # fmt: skip
    return {"drivers_cdc": make_log(ctx, src, ctx.table("drivers"), drivers_cdc.schema)}


def make_restaurants_cdc(ctx: ChunkContext) -> dict[str, pa.Table]:
    """The restaurants' change log: rating drifts, new price bands and new names."""
    src = Source(
        "restaurants",
        "restaurant_id",
        "opened_date",
        "updated_at",
        identity=("name",),
        undos=(nudge("rating", 0.2, 1.0, 5.0, 1), nudge("price_level", 1, 1, 4, 0), other_value("name")),
    )
    return {"restaurants_cdc": make_log(ctx, src, ctx.table("restaurants"), restaurants_cdc.schema)}


producer(
    Producer(
        "drivers_cdc",
        ("drivers_cdc",),
        units=lambda s: 1,
        make=make_drivers_cdc,
        chunk_units=1,
        needs=("drivers", "zones"),
    )
)
producer(
    Producer(
        "restaurants_cdc",
        ("restaurants_cdc",),
        units=lambda s: 1,
        make=make_restaurants_cdc,
        chunk_units=1,
        needs=("restaurants",),
    )
)
