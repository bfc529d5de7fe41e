"""The dirty variant of a table: nulls, duplicates, near duplicates, impossible values, other spellings
and (in text formats) malformed timestamps, each on an exact share of the rows.

Damaged rows are disjoint (a row carries at most one kind of damage, duplicates copy undamaged rows), so
every count can be checked exactly: ``round(rate × clean rows)`` per kind, capped by the rows eligible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .dial import DirtyRates
from .schema import DirtySpec, Table

KINDS = ("nulls", "impossible", "spelling", "malformed_timestamps", "near_duplicates", "duplicates")
#: Unparseable or differently formatted timestamps (the text variant); see :func:`_malformed`.
GARBAGE = ("2025-13-45 25:61:00", "2025-02-30 12:00:00", "0000-00-00 00:00:00", "N/A", "unknown", "")
_MAX_GAP = 30  # copies land up to this many rows after their original


@dataclass(frozen=True)
class DirtyChunk:
    """One chunk's dirty rows: ``typed`` for Parquet, ``text`` (timestamps as strings) for CSV/JSONL."""

    typed: pa.Table
    text: pa.Table
    counts: dict[str, int] = field(default_factory=dict)  # rows damaged per kind (KINDS)


def dirty_schema(spec: Table) -> pa.Schema:
    """The typed dirty table's schema: the declared one, with damageable columns nullable."""
    damaged = set(spec.dirty.nullable) if spec.dirty else set()
    return pa.schema([c.field().with_nullable(c.nullable or c.name in damaged) for c in spec.columns])


def text_schema(spec: Table) -> pa.Schema:
    """The text dirty table's schema: like :func:`dirty_schema`, damageable timestamps as strings."""
    stamps = set(spec.dirty.timestamps) if spec.dirty else set()
    schema = dirty_schema(spec)
    return pa.schema([f.with_type(pa.string()) if f.name in stamps else f for f in schema])


def make_dirty(spec: Table, clean: pa.Table, rates: DirtyRates, rng: np.random.Generator) -> DirtyChunk:
    """Damage a (conformed) chunk of ``spec`` according to ``rates``; deterministic given ``rng``."""
    d = spec.dirty or DirtySpec()
    data = {name: clean[name].combine_chunks() for name in clean.column_names}
    n = clean.num_rows
    plan = _Plan(rng, n)
    counts = dict.fromkeys(KINDS, 0)
    counts["nulls"] = _nulls(plan, data, d, rates.nulls)
    counts["impossible"] = _impossible(plan, data, d, rates.impossible)
    counts["spelling"] = _spelling(plan, data, d, rates.spelling)
    malformed_rows, malformed_col = _malformed_rows(plan, data, d, rates.malformed_timestamps)
    counts["malformed_timestamps"] = len(malformed_rows)
    near = plan.take(rates.near_duplicates if d.key and _near_changes(spec, d) else 0.0)
    dups = plan.take(rates.duplicates)
    counts["near_duplicates"], counts["duplicates"] = len(near), len(dups)
    base = pa.table(data).cast(dirty_schema(spec))
    copies = pa.concat_tables([_near_copies(rng, spec, d, base.take(near)), base.take(dups)])
    order = _interleave(rng, n, np.concatenate([near, dups]))
    typed = pa.concat_tables([base, copies]).take(order)
    which = np.full(n + len(near) + len(dups), -1, dtype=np.int64)
    which[malformed_rows] = malformed_col
    text = _text(rng, spec, d, typed, which[order])
    return DirtyChunk(typed, text, counts)


class _Plan:
    """Hands out disjoint random rows, each kind of damage taking its share from those still free."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.rng, self.n = rng, n
        self.order = rng.permutation(n)
        self.free = np.ones(n, dtype=bool)

    def take(self, rate: float, eligible: np.ndarray | None = None) -> np.ndarray:
        """Up to ``round(rate × n)`` free (and eligible) rows, sorted; they are no longer free."""
        k = round(rate * self.n)
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        ok = self.free if eligible is None else self.free & eligible
        rows = np.sort(self.order[ok[self.order]][:k])
        self.free[rows] = False
        return rows

    def columns(self, options: int) -> np.ndarray:
        """A random option (e.g. which column to damage) for every row."""
        return self.rng.integers(0, max(options, 1), self.n)


def _nulls(plan: _Plan, data: dict[str, pa.Array], d: DirtySpec, rate: float) -> int:
    cols = list(d.nullable)
    if not cols or rate == 0:
        return 0
    pick = plan.columns(len(cols))
    eligible = np.zeros(plan.n, dtype=bool)
    for i, c in enumerate(cols):
        eligible |= (pick == i) & _valid(data[c])
    rows = plan.take(rate, eligible)
    for i, c in enumerate(cols):
        mask = _mask(plan.n, rows[pick[rows] == i])
        data[c] = pc.if_else(mask, pa.scalar(None, data[c].type), data[c])
    return len(rows)


def _impossible(plan: _Plan, data: dict[str, pa.Array], d: DirtySpec, rate: float) -> int:
    """Negative amounts/distances, or an end moved before its start."""
    options: list[tuple[str, ...]] = [(c,) for c in d.non_negative]
    if d.interval:
        options.append(d.interval)
    if not options or rate == 0:
        return 0
    pick = plan.columns(len(options))
    eligible = np.zeros(plan.n, dtype=bool)
    for i, cols in enumerate(options):
        ok = np.ones(plan.n, dtype=bool)
        for c in cols:
            ok &= _valid(data[c])
        eligible |= (pick == i) & ok
    rows = plan.take(rate, eligible)
    for i, cols in enumerate(options):
        sel = rows[pick[rows] == i]
        if len(cols) == 1:
            data[cols[0]] = _negated(data[cols[0]], sel)
        else:
            data[cols[1]] = _before(data[cols[0]], data[cols[1]], sel)
    return len(rows)


def _negated(arr: pa.Array, rows: np.ndarray) -> pa.Array:
    values = arr.fill_null(0).to_numpy(zero_copy_only=False).copy()
    step = 1 if pa.types.is_integer(arr.type) else 0.01
    values[rows] = -np.abs(values[rows]) - step
    return pa.array(values, arr.type, mask=~_valid(arr))


def _before(start: pa.Array, end: pa.Array, rows: np.ndarray) -> pa.Array:
    """``end`` moved as far before ``start`` as it was after it (plus a minute)."""
    raw = pa.int32() if pa.types.is_date32(end.type) else pa.int64()  # dates: days; timestamps: units
    s = start.cast(raw).fill_null(0).to_numpy()
    e = end.cast(raw).fill_null(0).to_numpy().copy()
    gap = 1 if pa.types.is_date32(end.type) else 60 * _units_per_second(end.type)  # a day / a minute
    e[rows] = s[rows] - (e[rows] - s[rows]) - gap
    return pa.array(e, raw, mask=~_valid(end)).cast(end.type)


def _units_per_second(t: pa.DataType) -> int:
    return {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[t.unit]


def _spelling(plan: _Plan, data: dict[str, pa.Array], d: DirtySpec, rate: float) -> int:
    cols = list(d.spelling)
    if not cols or rate == 0:
        return 0
    pick = plan.columns(len(cols))
    eligible = np.zeros(plan.n, dtype=bool)
    for i, c in enumerate(cols):
        has = pc.is_in(data[c], value_set=pa.array(list(d.spelling[c]))).to_numpy(zero_copy_only=False)
        eligible |= (pick == i) & has
    rows = plan.take(rate, eligible)
    for i, c in enumerate(cols):
        sel = rows[pick[rows] == i]
        data[c] = _respelled(plan.rng, data[c], sel, d.spelling[c])
    return len(rows)


def _respelled(rng: np.random.Generator, arr: pa.Array, rows: np.ndarray, variants) -> pa.Array:
    if len(rows) == 0:
        return arr
    keys = list(variants)
    flat = np.array([v for k in keys for v in variants[k]], dtype=object)
    sizes = np.array([len(variants[k]) for k in keys])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    code = pc.index_in(arr.take(pa.array(rows)), value_set=pa.array(keys)).to_numpy()
    chosen = flat[offsets[code] + (rng.random(len(rows)) * sizes[code]).astype(np.int64)]
    return pc.replace_with_mask(arr, _mask(len(arr), rows), pa.array(chosen, arr.type))


def _malformed_rows(plan: _Plan, data, d: DirtySpec, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose timestamp will be malformed in the text variant, and which timestamp column."""
    cols = list(d.timestamps)
    if not cols or rate == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pick = plan.columns(len(cols))
    eligible = np.zeros(plan.n, dtype=bool)
    for i, c in enumerate(cols):
        eligible |= (pick == i) & _valid(data[c])
    rows = plan.take(rate, eligible)
    return rows, pick[rows]


def _near_changes(spec: Table, d: DirtySpec) -> list[str]:
    """Columns a near duplicate changes slightly: amounts, timestamps, else a text column's case."""
    money = [c for c in d.non_negative if pa.types.is_floating(spec.column(c).type)]
    stamps = [c.name for c in spec.columns if pa.types.is_timestamp(c.type)]
    text = [c.name for c in spec.columns if pa.types.is_string(c.type) and c.name != d.key]
    return money + stamps or text[:1]


def _near_copies(rng: np.random.Generator, spec: Table, d: DirtySpec, rows: pa.Table) -> pa.Table:
    """Copies that keep the key but differ a little: amounts ±2 %, timestamps shifted together."""
    if rows.num_rows == 0:
        return rows
    k = rows.num_rows
    shift = rng.integers(1, 300, k) * rng.choice([-1, 1], k)
    factor = 1.0 + rng.uniform(-0.02, 0.02, k)
    for name in _near_changes(spec, d):
        col = rows[name].combine_chunks()
        if pa.types.is_floating(col.type):
            new = pc.round(pc.multiply(col, pa.array(factor)), 2)
        elif pa.types.is_timestamp(col.type):
            delta = pa.array(shift * _units_per_second(col.type), pa.int64())
            new = pc.add(col.cast(pa.int64()), delta).cast(col.type)
        else:
            new = pc.utf8_upper(col)
        rows = rows.set_column(rows.schema.get_field_index(name), rows.schema.field(name), new)
    return rows


def _interleave(rng: np.random.Generator, n: int, sources: np.ndarray) -> np.ndarray:
    """Row order putting each copy (rows n, n+1, ...) a few rows after its original."""
    key = np.concatenate([np.arange(n, dtype=np.float64), sources + rng.uniform(0.5, _MAX_GAP, len(sources))])
    return np.argsort(key, kind="stable")


def _text(
    rng: np.random.Generator, spec: Table, d: DirtySpec, typed: pa.Table, which: np.ndarray
) -> pa.Table:
    """``typed`` with the damageable timestamps as strings, row ``i``'s column ``which[i]`` malformed.

    Well-formed values look like the clean text files' timestamps ("2025-01-06 08:15:00", to the second).
    """
    out = typed
    for i, name in enumerate(d.timestamps):
        col = typed[name].combine_chunks().cast(pa.timestamp("s"), safe=False)  # text shows seconds
        text = col.cast(pa.string())
        rows = np.flatnonzero(which == i)
        if len(rows):
            bad = _malformed(rng, col.take(pa.array(rows)))
            text = pc.replace_with_mask(text, _mask(len(text), rows), bad)
        out = out.set_column(out.schema.get_field_index(name), pa.field(name, pa.string()), text)
    return out.cast(text_schema(spec))


def _malformed(rng: np.random.Generator, stamps: pa.Array) -> pa.Array:
    """Other formats (US style, ISO with T/Z, epoch seconds) or garbage, for each timestamp given."""
    k = len(stamps)
    forms = [
        pc.strftime(stamps, "%m/%d/%Y %I:%M %p"),
        pc.strftime(stamps, "%Y-%m-%dT%H:%M:%SZ"),
        pc.divide(stamps.cast(pa.int64()), _units_per_second(stamps.type)).cast(pa.string()),
        pa.array(np.array(GARBAGE, dtype=object)[rng.integers(0, len(GARBAGE), k)], pa.string()),
    ]
    kind = rng.integers(0, len(forms), k)
    out = np.empty(k, dtype=object)
    for i, form in enumerate(forms):
        sel = np.flatnonzero(kind == i)
        out[sel] = np.array(form.to_pylist(), dtype=object)[sel]
    return pa.array(out, pa.string())


def _valid(arr: pa.Array) -> np.ndarray:
    """True where ``arr`` is not null."""
    return pc.is_valid(arr).to_numpy(zero_copy_only=False)


def _mask(n: int, rows: np.ndarray) -> pa.Array:
    m = np.zeros(n, dtype=bool)
    m[rows] = True
    return pa.array(m)
