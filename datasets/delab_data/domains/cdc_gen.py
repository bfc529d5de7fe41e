"""Change logs that replay into a current dimension table (the tables are declared in :mod:`cdc`).

The log is built backwards from the current rows: every row gets an insert, some get 1–3 updates whose
earlier images are made by undoing one plausible change at a time (a rating drift, a new vehicle, a
city move…), and a few extra entities are created and deleted within the period. Rows that existed
before the period are inserted by the initial load at the period's first instant; a row that never
changed keeps ``updated_at`` = its insert time, so ``updated_at`` always equals its last commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..context import ChunkContext
from .places import period_bounds

MS_HOUR = 3_600_000
MS_DAY = 24 * MS_HOUR
Images = dict[str, np.ndarray]
#: Undo one change: (rng, images of the rows, the whole current table as arrays) -> earlier values.
Undo = Callable[[np.random.Generator, Images, Images], Images]


@dataclass(frozen=True)
class Source:
    """How to make the change log of one table."""

    table: str
    key: str
    start: str  # date column: when the entity came to exist
    updated: str  # timestamp column: last change, equal to the commit_ts of the last log entry
    identity: tuple[str, ...]  # columns redrawn for the entities created and deleted in the period
    undos: tuple[Undo, ...]  # kinds of update, drawn uniformly
    #: (column, value, undo): rows whose current ``column`` is ``value`` got it by their last update,
    #: made with that undo (e.g. inactive drivers stopped at their last change), and by no other.
    last_change: tuple[str, object, Undo] | None = None


# ---------------------------------------------------------------- kinds of change
def nudge(col: str, step: float, lo: float, hi: float, decimals: int) -> Undo:
    """A numeric drift: the earlier value differs by about ``step``, inside [lo, hi]."""
    unit = 10.0**-decimals

    def undo(rng: np.random.Generator, img: Images, _: Images) -> Images:
        cur = img[col].astype(np.float64)
        delta = np.maximum(np.round(rng.uniform(0.3, 1.5, len(cur)) * step, decimals), unit)
        up = np.where(cur + delta <= hi, cur + delta, cur - delta)
        down = np.where(cur - delta >= lo, cur - delta, cur + delta)
        new = np.clip(np.round(np.where(rng.random(len(cur)) < 0.5, up, down), decimals), lo, hi)
        return {col: new.astype(img[col].dtype)}

    return undo


def other_value(col: str) -> Undo:
    """A category change: the earlier value is another of the values the column has in the table."""

    def undo(rng: np.random.Generator, img: Images, table: Images) -> Images:
        values = np.unique(table[col].astype(str))
        pos = np.searchsorted(values, img[col].astype(str))
        shift = rng.integers(1, max(2, len(values)), len(pos))
        return {col: values[(pos + shift) % len(values)].astype(object)}

    return undo


def move(key: str, city_col: str, zone_col: str, zones: pa.Table) -> Undo:
    """A move: the entity used to live in another (non-airport) zone of its city.

    Entities that are not in the current table (created and deleted within the period) may also have
    come from another city. Current ones never change city, because the rides domain places every trip
    of a driver in the driver's current city: a history with another city would contradict the trips.
    """
    keep = ~zones["is_airport"].to_numpy(zero_copy_only=False)
    zone_city = zones["city"].to_numpy(zero_copy_only=False)[keep].astype(str)
    zone_id = zones["zone_id"].to_numpy()[keep]
    order = np.lexsort((zone_id, zone_city))
    zone_city, zone_id = zone_city[order], zone_id[order]
    cities = np.unique(zone_city)
    position = np.zeros(zone_id.max() + 1, dtype=np.int64)
    position[zone_id] = np.arange(len(zone_id))

    def undo(rng: np.random.Generator, img: Images, table: Images) -> Images:
        n = len(img[key])
        city = img[city_col].astype(str)
        pos = np.searchsorted(cities, city)
        across = ~np.isin(img[key], table[key])
        city = np.where(across, cities[(pos + rng.integers(1, max(2, len(cities)), n)) % len(cities)], city)
        lo = np.searchsorted(zone_city, city, side="left")
        size = np.searchsorted(zone_city, city, side="right") - lo
        here = position[img[zone_col]] - lo  # the current zone's place in its city (when staying)
        step = np.where(across, rng.integers(0, size), here + rng.integers(1, np.maximum(size, 2)))
        return {city_col: city.astype(object), zone_col: zone_id[lo + step % size]}

    return undo


# ---------------------------------------------------------------- the log
def make_log(ctx: ChunkContext, src: Source, current: pa.Table, out_schema: pa.Schema) -> pa.Table:
    """The change log of ``current``: replaying it in lsn order gives back exactly ``current``."""
    rng = ctx.rng(f"cdc/{src.table}")
    table = _arrays(current)
    gone = _deleted_entities(rng, ctx, src, table)
    latest = {c: np.concatenate([table[c], gone[c]]) for c in table}
    n_cur = current.num_rows
    first, k = _insert_times(rng, ctx, src, latest, gone["_created"])
    times = _change_times(rng, first, latest[src.updated].astype(np.int64), k)
    ent, ver, images = _versions(rng, src, latest, k, times, table)
    return _events(rng, src, ent, ver, images, times, n_cur, gone, out_schema)


def _arrays(t: pa.Table) -> Images:
    out = {}
    for name in t.column_names:
        col = t[name]
        if pa.types.is_date(col.type):
            out[name] = col.to_numpy().astype("datetime64[D]")
        elif pa.types.is_timestamp(col.type):
            out[name] = col.to_numpy().astype("datetime64[ms]")
        else:
            out[name] = col.to_numpy(zero_copy_only=False)
    return out


def _deleted_entities(rng: np.random.Generator, ctx: ChunkContext, src: Source, table: Images) -> Images:
    """Entities created during the period and deleted before its end, with ids above every current one.

    Each copies a random current row (so its values are plausible) with its identity columns taken from
    a second row; its last state before deletion is returned, ``updated`` = its last change.
    """
    n_cur = len(table[src.key])
    m = max(5, round(0.03 * n_cur))
    donor, other = rng.integers(0, n_cur, m), rng.integers(0, n_cur, m)
    gone = {c: v[donor] for c, v in table.items()}
    for c in src.identity:
        gone[c] = table[c][other]
    gone[src.key] = table[src.key].max() + 1 + np.arange(m, dtype=np.int64)
    p0, p_end = period_bounds(ctx)
    span = (p_end - p0).astype(np.int64) - 21
    gone[src.start] = p0 + rng.integers(0, span, m).astype("timedelta64[D]")
    created = gone[src.start].astype("datetime64[ms]").astype(np.int64) + rng.integers(6, 22, m) * MS_HOUR
    gone["_created"] = created
    gone[src.updated] = (created + rng.integers(MS_HOUR, 6 * MS_DAY, m)).astype("datetime64[ms]")
    return gone


def _insert_times(
    rng: np.random.Generator, ctx: ChunkContext, src: Source, latest: Images, created_gone: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(insert commit time in ms, number of updates) of every entity, current then deleted ones."""
    n = len(latest[src.key])
    p0 = period_bounds(ctx)[0].astype("datetime64[ms]").astype(np.int64)
    start = latest[src.start].astype("datetime64[ms]").astype(np.int64)
    last = latest[src.updated].astype(np.int64)
    pre = start < p0
    first = np.where(pre, p0, np.minimum(start + rng.integers(6, 22, n) * MS_HOUR, last))
    first[n - len(created_gone) :] = created_gone
    gap = last - first
    k = rng.choice(4, n, p=(0.55, 0.28, 0.12, 0.05))
    k = np.where(pre & (gap > 0), np.maximum(k, 1), k)  # an old row changed since the initial load
    k = np.where(gap < 3 * MS_HOUR, np.minimum(k, 1), k)
    k = np.where(gap <= 0, 0, k)
    first = np.where(k == 0, last, first)  # never changed: inserted at its updated_at
    return first, k


def _change_times(rng: np.random.Generator, first: np.ndarray, last: np.ndarray, k: np.ndarray) -> np.ndarray:
    """(n, 4) commit times in ms of versions 0…3: version 0 = insert, version k = ``last``."""
    frac = np.sort(rng.random((len(first), 3)), axis=1)
    times = np.empty((len(first), 4), dtype=np.int64)
    times[:, 0] = first
    times[:, 1:] = first[:, None] + (frac * (last - first)[:, None]).astype(np.int64)
    times[np.arange(len(first)), k] = last
    return times


def _versions(
    rng: np.random.Generator, src: Source, latest: Images, k: np.ndarray, times: np.ndarray, table: Images
) -> tuple[np.ndarray, np.ndarray, Images]:
    """Every version of every entity, sorted by (entity, version): undo one change per step back."""
    ents = [np.arange(len(k))]
    vers = [k]
    parts = [dict(latest)]
    img = dict(latest)
    alive = np.arange(len(k))
    for step in range(1, 4):
        sel = k[alive] >= step
        alive, img = alive[sel], {c: v[sel] for c, v in img.items()}
        if not len(alive):
            break
        undos = (*src.undos, src.last_change[2]) if src.last_change else src.undos
        kind = rng.integers(0, len(src.undos), len(alive))
        if step == 1 and src.last_change is not None:
            kind[img[src.last_change[0]] == src.last_change[1]] = len(src.undos)
        for j, undo in enumerate(undos):
            rows = np.flatnonzero(kind == j)
            for col, values in undo(rng, {c: v[rows] for c, v in img.items()}, table).items():
                img[col][rows] = values
        version = k[alive] - step
        img[src.updated] = times[alive, version].astype("datetime64[ms]")
        ents.append(alive)
        vers.append(version)
        parts.append(img)
    ent, ver = np.concatenate(ents), np.concatenate(vers)
    images = {c: np.concatenate([p[c] for p in parts]) for c in latest}
    order = np.lexsort((ver, ent))
    return ent[order], ver[order], {c: v[order] for c, v in images.items()}


def _events(
    rng: np.random.Generator,
    src: Source,
    ent: np.ndarray,
    ver: np.ndarray,
    images: Images,
    times: np.ndarray,
    n_cur: int,
    gone: Images,
    schema: pa.Schema,
) -> pa.Table:
    """Inserts, updates and deletes with before/after images, in commit order, numbered by lsn."""
    idx = np.arange(len(ent))
    is_last = np.append(ent[1:] != ent[:-1], True)
    deleted = np.flatnonzero(is_last & (ent >= n_cur))
    delete_ts = images[src.updated][deleted].astype(np.int64) + rng.integers(
        MS_HOUR, 5 * MS_DAY, len(deleted)
    )
    before = np.concatenate([np.where(ver > 0, idx - 1, -1), deleted])
    after = np.concatenate([idx, np.full(len(deleted), -1)])
    commit = np.concatenate([times[ent, ver], delete_ts])
    key = np.concatenate([images[src.key][idx], images[src.key][deleted]])
    op = np.concatenate([np.where(ver > 0, 1, 0), np.full(len(deleted), 2)])
    order = np.lexsort((op, key, commit))
    before, after, commit, key, op = before[order], after[order], commit[order], key[order], op[order]
    cols: dict[str, pa.Array] = {
        "lsn": pa.array(1000 + np.cumsum(rng.integers(1, 40, len(op))), pa.int64()),
        "op": pa.array(np.array(["c", "u", "d"], dtype=object)[op], pa.string()),
        "commit_ts": pa.array(commit.astype("datetime64[ms]"), pa.timestamp("ms")),
        src.key: pa.array(key, pa.int64()),
    }
    for prefix, rows in (("before_", before), ("after_", after)):
        for c in images:
            if c == src.key or c.startswith("_"):
                continue
            typ = schema.field(prefix + c).type
            cols[prefix + c] = pa.array(images[c][np.maximum(rows, 0)], typ, mask=rows < 0)
    return pa.table(cols)
