"""The dirty-data transformation: exact damage counts, both variants, determinism, clean at zero."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from delab_data.dial import DirtyRates
from delab_data.dirty import KINDS, dirty_schema, make_dirty, text_schema
from delab_data.schema import TABLES

RATES = DirtyRates(nulls=0.03, duplicates=0.02, near_duplicates=0.01, impossible=0.01,
                   malformed_timestamps=0.02, spelling=0.05)  # fmt: skip
ZERO = DirtyRates(**{f.name: 0.0 for f in fields(DirtyRates)})
DIRTY_TABLES = ["trips", "payments", "gps_pings", "app_events", "riders"]


@pytest.fixture(scope="module")
def trips(tiny_tables) -> pa.Table:
    return tiny_tables["trips"]


def _dirty(tiny_tables, name: str, rates: DirtyRates = RATES, seed: int = 1):
    return make_dirty(TABLES[name], tiny_tables[name], rates, np.random.default_rng(seed))


def test_counts_are_exact_shares_of_the_rows(tiny_tables) -> None:
    for name in DIRTY_TABLES:
        n, spec = tiny_tables[name].num_rows, TABLES[name].dirty
        counts = _dirty(tiny_tables, name).counts
        assert set(counts) == set(KINDS)
        applicable = {
            "nulls": bool(spec.nullable), "impossible": bool(spec.non_negative or spec.interval),
            "spelling": bool(spec.spelling), "malformed_timestamps": bool(spec.timestamps),
            "near_duplicates": spec.key is not None, "duplicates": True,
        }  # fmt: skip
        for kind, on in applicable.items():
            expected = round(getattr(RATES, kind) * n) if on else 0
            assert counts[kind] == expected, (name, kind)


def test_typed_variant_carries_exactly_the_counted_damage(tiny_tables, trips) -> None:
    dirty = _dirty(tiny_tables, "trips")
    typed, counts, spec = dirty.typed, dirty.counts, TABLES["trips"].dirty
    assert typed.schema == dirty_schema(TABLES["trips"])
    assert typed.num_rows == trips.num_rows + counts["duplicates"] + counts["near_duplicates"]
    ids = typed["trip_id"].to_pandas()
    originals = typed.filter(pa.array(~ids.duplicated().to_numpy()))  # copies come after their original
    assert originals["trip_id"].equals(trips["trip_id"])
    new_nulls = sum(originals[c].null_count - trips[c].null_count for c in spec.nullable)
    assert new_nulls == counts["nulls"]
    negative = sum(pc.sum(pc.less(typed[c], 0)).as_py() for c in spec.non_negative)
    backwards = pc.sum(pc.less(typed["end_time"], typed["start_time"])).as_py()
    assert negative + backwards == counts["impossible"]
    respelled = pc.sum(pc.invert(pc.is_in(typed["city"], value_set=trips["city"].unique()))).as_py()
    assert respelled == counts["spelling"]
    assert ids.duplicated().sum() == counts["duplicates"] + counts["near_duplicates"]
    assert typed.to_pandas().duplicated().sum() == counts["duplicates"]
    assert set(ids) == set(trips["trip_id"].to_pylist())


def test_text_variant_has_the_malformed_timestamps(tiny_tables) -> None:
    dirty = _dirty(tiny_tables, "trips")
    text = dirty.text
    assert text.schema == text_schema(TABLES["trips"])
    assert text.drop_columns(["start_time", "end_time"]).equals(
        dirty.typed.drop_columns(["start_time", "end_time"])
    )
    parsed = {c: _parse(text[c]) for c in ("start_time", "end_time")}
    bad = sum(p.isna().sum() for p in parsed.values())
    assert bad == dirty.counts["malformed_timestamps"]
    good = parsed["start_time"].notna().to_numpy()
    seconds = dirty.typed["start_time"].to_numpy().astype("datetime64[s]")
    assert (parsed["start_time"][good].to_numpy() == seconds[good]).all()


def _parse(strings: pa.ChunkedArray) -> pd.Series:
    """Timestamps in the clean text format (to the second); anything else (malformed) becomes NaT."""
    return pd.to_datetime(strings.to_pandas(), format="%Y-%m-%d %H:%M:%S", errors="coerce")


def test_near_duplicates_keep_the_key_and_change_a_little(tiny_tables, trips) -> None:
    typed = _dirty(tiny_tables, "trips").typed.to_pandas()
    dup_ids = typed.trip_id[typed.trip_id.duplicated()]
    pairs = typed[typed.trip_id.isin(dup_ids)].drop_duplicates()
    near = pairs[pairs.trip_id.duplicated(keep=False)].sort_values("trip_id")
    assert len(near) > 0
    shift = near.groupby("trip_id").start_time.agg(lambda s: abs((s.max() - s.min()).total_seconds()))
    assert (shift > 0).all() and (shift < 300).all()


def test_zero_rates_leave_the_table_clean(tiny_tables) -> None:
    for name in DIRTY_TABLES:
        dirty = _dirty(tiny_tables, name, ZERO)
        assert sum(dirty.counts.values()) == 0
        assert dirty.typed.equals(tiny_tables[name].cast(dirty_schema(TABLES[name])))
        for c in TABLES[name].dirty.timestamps:
            assert _parse(dirty.text[c]).notna().all()


def test_same_table_and_seed_give_the_same_damage(tiny_tables) -> None:
    a, b = _dirty(tiny_tables, "payments", seed=5), _dirty(tiny_tables, "payments", seed=5)
    assert a.typed.equals(b.typed) and a.text.equals(b.text) and a.counts == b.counts
    assert not a.typed.equals(_dirty(tiny_tables, "payments", seed=6).typed)


def test_large_rates_never_damage_a_row_twice(tiny_tables) -> None:
    heavy = DirtyRates(nulls=0.5, duplicates=0.5, near_duplicates=0.5, impossible=0.5,
                       malformed_timestamps=0.5, spelling=0.5)  # fmt: skip
    n = tiny_tables["trips"].num_rows
    counts = _dirty(tiny_tables, "trips", heavy).counts
    assert sum(counts.values()) <= n
    assert counts["nulls"] == n // 2
