"""The rides domain: schemas, keys, realism and determinism (tiny scale, producers run in memory)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conftest import make_ctx, run_producers
from delab_data.domains import rides, rides_world
from delab_data.sampling import GroupedAlias, GroupedPool, LookupChoice, exact_sample, profile_times
from delab_data.schema import PRODUCERS, TABLES, conform

RIDES_TABLES = (
    "cities",
    "zones",
    "drivers",
    "riders",
    "trips",
    "payments",
    "gps_pings",
    "app_events",
    "trips_v2",
)


def test_trips_start_with_the_canonical_columns() -> None:
    first = TABLES["trips"].column_names[:7]
    assert first == ["trip_id", "driver_id", "rider_id", "start_time", "end_time", "distance_km", "city"]


def test_every_rides_table_is_generated(tiny_tables: dict[str, pa.Table]) -> None:
    for name in RIDES_TABLES:
        assert tiny_tables[name].num_rows > 0, name


def test_rows_conform_to_their_declared_schema(tiny_tables: dict[str, pa.Table]) -> None:
    for name, data in tiny_tables.items():
        spec = TABLES[name]
        assert data.schema.equals(spec.schema), name
        assert conform(spec, data).equals(data)
        for col in spec.columns:
            if not col.nullable:
                assert data[col.name].null_count == 0, f"{name}.{col.name} has nulls"
            if col.values is not None:
                inside = pc.is_in(data[col.name], value_set=pa.array(col.values))
                assert pc.all(pc.or_kleene(inside, pc.is_null(data[col.name]))).as_py(), f"{name}.{col.name}"


def test_primary_keys_are_unique(tiny_tables: dict[str, pa.Table]) -> None:
    for name, data in tiny_tables.items():
        for key in TABLES[name].primary_key:
            assert pc.count_distinct(data[key]).as_py() == data.num_rows, f"{name}.{key}"


def test_every_declared_foreign_key_holds(tiny_tables: dict[str, pa.Table]) -> None:
    checked = 0
    for name, data in tiny_tables.items():
        for col in TABLES[name].columns:
            if col.references is None:
                continue
            target, column = col.references.split(".")
            if target not in tiny_tables:
                continue  # a domain that is not generated yet
            values = pc.drop_null(data[col.name])
            inside = pc.is_in(values, value_set=pc.unique(tiny_tables[target][column]))
            missing = len(values) - pc.sum(inside).as_py()
            assert missing == 0, f"{name}.{col.name}: {missing} values not in {col.references}"
            checked += 1
    assert checked >= 15


def test_trips_stay_inside_their_city_and_their_people_exist_then(tiny_tables) -> None:
    trips = tiny_tables["trips"].to_pandas()
    zones = tiny_tables["zones"].to_pandas().set_index("zone_id")
    drivers = tiny_tables["drivers"].to_pandas().set_index("driver_id")
    riders = tiny_tables["riders"].to_pandas().set_index("rider_id")
    for col in ("pickup_zone_id", "dropoff_zone_id"):
        assert (zones.loc[trips[col], "city"].to_numpy() == trips["city"].to_numpy()).all()
    assert (drivers.loc[trips.driver_id, "city"].to_numpy() == trips["city"].to_numpy()).all()
    start_day = trips.start_time.to_numpy().astype("datetime64[D]")
    assert (drivers.loc[trips.driver_id, "signup_date"].to_numpy().astype("datetime64[D]") <= start_day).all()
    assert (riders.loc[trips.rider_id, "signup_date"].to_numpy().astype("datetime64[D]") <= start_day).all()
    gone = drivers.loc[trips.driver_id]
    stopped = (gone.status == "inactive").to_numpy() & (
        trips.start_time.to_numpy() > gone.updated_at.to_numpy()
    )
    assert not stopped.any()
    assert (trips.end_time >= trips.start_time).all()


def test_trip_details_are_plausible(tiny_tables) -> None:
    t = tiny_tables["trips"].to_pandas()
    done = t[t.status == "completed"]
    assert 0.04 < (t.status == "cancelled").mean() < 0.09
    assert t.loc[t.status == "cancelled", "rating"].isna().all()
    assert 3 < done.distance_km.median() < 12
    assert (done.fare > 0).all() and (t.tip >= 0).all()
    assert 0.4 < (done.tip == 0).mean() < 0.8
    assert (t.surge_multiplier >= 1).all() and (t.surge_multiplier > 1).mean() > 0.05
    assert (t.trip_id.diff().dropna() > 0).all() and t.start_time.is_monotonic_increasing


def test_rush_hours_and_weekend_nights_are_busier(tiny_tables) -> None:
    t = tiny_tables["trips"].to_pandas()
    hour, dow = t.start_time.dt.hour, t.start_time.dt.day_of_week
    weekday = t[dow < 5]
    per_hour = weekday.groupby(weekday.start_time.dt.hour).size()
    rush = per_hour.loc[[7, 8, 17, 18]].mean()
    off_peak = per_hour.loc[[10, 11, 13, 14, 15]].mean()
    assert rush > 1.5 * off_peak
    night = hour < 3
    assert night[dow >= 5].mean() > 2 * night[dow < 5].mean()


def test_skews_few_busy_drivers_airports_new_york(tiny_tables) -> None:
    t = tiny_tables["trips"].to_pandas()
    per_driver = t.driver_id.value_counts()
    top = per_driver.head(max(1, len(per_driver) // 100)).sum() / len(t)
    assert top > 0.015, "top 1 % of drivers should do well above 1 % of trips"
    assert per_driver.head(len(per_driver) // 10).sum() / len(t) > 0.2
    zones = tiny_tables["zones"].to_pandas().set_index("zone_id")
    at_airport = zones.loc[t.pickup_zone_id, "is_airport"].mean()
    assert at_airport > 1.5 * zones.is_airport.mean()
    assert t.city.value_counts().index[0] == "New York"
    assert tiny_tables["cities"].to_pandas().set_index("city").population.idxmax() == "New York"


def test_payments_match_completed_trips(tiny_tables) -> None:
    t = tiny_tables["trips"].to_pandas().set_index("trip_id")
    p = tiny_tables["payments"].to_pandas()
    done = t[t.status == "completed"]
    assert len(p) == len(done) and set(p.trip_id) == set(done.index)
    assert (p.rider_id.to_numpy() == t.loc[p.trip_id, "rider_id"].to_numpy()).all()
    assert (p.created_at.to_numpy() >= t.loc[p.trip_id, "end_time"].to_numpy()).all()
    assert np.allclose(p.amount, (t.loc[p.trip_id, "fare"] + t.loc[p.trip_id, "tip"]).to_numpy(), atol=0.011)
    assert 0.005 < p.is_fraud.mean() < 0.03
    assert (p.account_age_days >= 0).all()


@pytest.mark.parametrize("name", ["gps_pings", "app_events"])
def test_streams_arrive_late_and_out_of_order(tiny_tables, name: str) -> None:
    s = tiny_tables[name].to_pandas()
    assert (s.ingest_time >= s.event_time).all()
    lag = (s.ingest_time - s.event_time).dt.total_seconds()
    assert 0.01 < (lag > 60).mean() < 0.06
    assert s.ingest_time.is_monotonic_increasing  # arrival order...
    assert not s.event_time.is_monotonic_increasing  # ... is not event order


def test_pings_follow_their_trip(tiny_tables) -> None:
    pings = tiny_tables["gps_pings"].to_pandas()
    trips = tiny_tables["trips"].to_pandas().set_index("trip_id").loc[pings.trip_id]
    assert (pings.event_time.to_numpy() >= trips.start_time.to_numpy()).all()
    assert (pings.event_time.to_numpy() <= trips.end_time.to_numpy()).all()
    assert (pings.driver_id.to_numpy() == trips.driver_id.to_numpy()).all()
    assert 0.01 < pings.trip_id.nunique() / len(tiny_tables["trips"]) < 0.06


def test_v2_export_is_the_drifted_tail_of_trips(tiny_tables) -> None:
    v2 = tiny_tables["trips_v2"].to_pandas()
    t = tiny_tables["trips"].to_pandas().set_index("trip_id")
    cutover = np.datetime64("2025-01-06") + np.timedelta64(rides.rides_streams.V2_CUTOVER_DAYS, "D")
    assert set(v2.trip_id) == set(t.index[t.start_time >= cutover])
    old = t.loc[v2.trip_id]
    assert np.allclose(v2.distance_miles * 1.609344, old.distance_km, atol=0.01)
    started = v2.started_at.map(lambda s: np.datetime64(s[:19])).to_numpy()
    assert (started == old.start_time.dt.floor("s").to_numpy()).all()
    utc = np.datetime64("1970-01-01") + v2.ended_at.to_numpy().astype("timedelta64[s]")
    offsets = v2.started_at.str[-6:-3].astype(int).to_numpy().astype("timedelta64[h]")
    assert (utc + offsets == old.end_time.dt.floor("s").to_numpy()).all()
    assert "tip" not in v2 and "vehicle_type" in v2


def test_make_is_deterministic() -> None:
    dims = run_producers("tiny", names=["rides_geo", "rides_drivers", "rides_riders"])
    first = rides.make_trip_chunk(make_ctx("rides_trips", tables=dims))
    rides_world._CACHE.clear()
    second = rides.make_trip_chunk(make_ctx("rides_trips", tables=dims))
    for name in first:
        assert first[name].equals(second[name]), name


def test_chunks_do_not_depend_on_each_other() -> None:
    dims = run_producers("tiny", names=["rides_geo", "rides_drivers", "rides_riders"])
    spec = dataclasses.replace(PRODUCERS["rides_trips"], chunk_units=2_500)  # tiny: 4 chunks

    def chunk(k: int) -> dict[str, pa.Table]:
        return spec.make(make_ctx(spec, tables=dims, chunk=k))

    alone = chunk(2)
    rides_world._CACHE.clear()
    run = [chunk(k) for k in (3, 1, 0, 2)]
    for name in alone:
        assert alone[name].equals(run[3][name]), name
    ordered = [run[2], run[1], run[3], run[0]]
    ids = np.concatenate([c["trips"]["trip_id"].to_numpy() for c in ordered])
    assert (ids == np.arange(1, 10_001)).all()
    starts = [c["trips"]["start_time"].to_numpy() for c in ordered]
    assert all(a.max() <= b.min() for a, b in itertools.pairwise(starts))


def test_sampling_helpers_the_trips_rely_on() -> None:
    rng = np.random.default_rng(0)
    groups = np.array([0, 1, 0, 1, 1])
    weights = np.array([1.0, 1.0, 3.0, 1.0, 2.0])
    asked = np.repeat([0, 1], 40_000)
    for choice in (GroupedPool(groups, weights, 2), GroupedAlias(groups, weights, 2)):
        got = choice.draw(rng, asked)
        assert (groups[got] == asked).all()
        share = np.bincount(got[asked == 1], minlength=5)[[1, 3, 4]] / 40_000
        assert np.allclose(share, [0.25, 0.25, 0.5], atol=0.02)
    got = LookupChoice(weights, groups).draw(rng, len(asked), asked)
    assert (groups[got] == asked).all()
    lo, hi = np.datetime64("2025-01-06T05:30"), np.datetime64("2025-01-09T00:00")
    times = profile_times(rng, lo, hi, 50_000, np.ones((7, 24)))
    assert (np.diff(times.astype(np.int64)) >= 0).all() and times[0] >= lo and times[-1] < hi
    assert len(exact_sample(rng, 1_000, 0.123)) == 123


def test_trips_redraw_exactly_the_riders_of_the_riders_table(tiny_tables) -> None:
    w = rides_world.world(make_ctx("rides_trips", tables=tiny_tables))
    riders = tiny_tables["riders"]
    rows = np.arange(riders.num_rows)
    assert (w.riders.id_of(rows) == riders["rider_id"].to_numpy()).all()
    for codes, column, vocabulary in (
        (w.riders.city, "home_city", rides.dims.CITIES),
        (w.rider_country, "home_country", rides.dims.COUNTRIES),
        (w.rider_payment, "preferred_payment", rides.dims.PAYMENT_TYPES),
        (w.rider_platform, "platform", rides.dims.PLATFORMS),
    ):
        assert (np.array(vocabulary)[codes] == riders[column].to_numpy(zero_copy_only=False)).all(), column
    signup = riders["signup_date"].to_numpy().astype("datetime64[ms]").astype(np.int64)
    assert (w.riders.first_ms == signup).all()


def test_drivers_rarely_drive_two_trips_at_once(tiny_tables) -> None:
    t = tiny_tables["trips"].to_pandas().sort_values(["driver_id", "start_time"])
    same = t.driver_id.to_numpy()[1:] == t.driver_id.to_numpy()[:-1]
    overlap = same & (t.start_time.to_numpy()[1:] < t.end_time.to_numpy()[:-1])
    assert overlap.mean() < 0.015
