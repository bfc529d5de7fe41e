"""Tables derived from a chunk of trips: GPS pings, app events, and the schema-drifted v2 export."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..sampling import exact_sample, take_strings, uniform_times
from .rides_dims import CITIES, DST_OFFSET_HOURS, PLATFORMS, VEHICLE_TYPES
from .rides_trips import STATUSES, TripChunk
from .rides_world import World

PING_SHARE = 0.015  # share of completed trips whose GPS trace is kept
SESSION_SHARE = 0.05  # share of trips whose app session is logged
BROWSE_SHARE = 0.02  # sessions without a ride, per trip
LATE_SHARE = 0.03  # share of events that reach the pipeline minutes late
EVENT_TYPES = ("app_open", "search", "request_ride", "accept_ride", "cancel", "complete_ride", "rate")
USER_TYPES = ("rider", "driver")
V2_CUTOVER_DAYS = 63  # the v2 export starts nine weeks into the period
KM_PER_MILE = 1.609344
S = 1_000  # ms per second


def _ingest(rng: np.random.Generator, event_ms: np.ndarray) -> np.ndarray:
    """Arrival time: a second or two after the event; ``LATE_SHARE`` arrive 1-20 minutes late."""
    n = len(event_ms)
    ingest = event_ms + 200 + (rng.standard_exponential(n) * 1_500).astype(np.int64)
    late = np.flatnonzero(rng.random(n) < LATE_SHARE)
    ingest[late] += rng.integers(60 * S, 1_200 * S, len(late))
    return ingest


def _ts(ms: np.ndarray) -> pa.Array:
    return pa.array(ms.view("datetime64[ms]"), pa.timestamp("ms"))


def gps_pings(rng: np.random.Generator, w: World, t: TripChunk) -> pa.Table:
    """Pings every 15-30 s along a sample of completed trips, in arrival (ingest) order."""
    done = np.flatnonzero(~t.cancelled)
    rows = done[exact_sample(rng, len(done), PING_SHARE)]
    start, dur = t.start_ms[rows], np.maximum(t.end_ms[rows] - t.start_ms[rows], 1)
    every = rng.integers(15 * S, 30 * S + 1, len(rows))
    k = np.minimum(dur // every + 1, 999)
    first = np.cumsum(k) - k
    seq = np.arange(k.sum()) - np.repeat(first, k)
    since = seq * np.repeat(every, k)  # ms since pickup
    event = np.repeat(start, k) + since
    frac = since / np.repeat(dur, k)
    lat, lon = (
        _track(rng, a, b, k, frac)
        for a, b in zip(_points(rng, w, t.pickup[rows]), _points(rng, w, t.dropoff[rows]), strict=True)
    )
    speed = np.repeat(t.distance[rows] / dur * 3_600_000, k) * (0.55 + 0.9 * rng.random(len(seq)))
    speed[first] = 0.0
    ingest = _ingest(rng, event)
    order = np.argsort(ingest, kind="stable")
    trip_id = np.repeat(t.ids[rows], k)[order]
    return pa.table(
        {
            "ping_id": pa.array(trip_id * 1000 + seq[order], pa.int64()),
            "trip_id": pa.array(trip_id, pa.int64()),
            "driver_id": pa.array(np.repeat(w.drivers.id_of(t.driver[rows]), k)[order], pa.int64()),
            "event_time": _ts(event[order]),
            "ingest_time": _ts(ingest[order]),
            "lat": pa.array(np.round(lat[order], 6)),
            "lon": pa.array(np.round(lon[order], 6)),
            "speed_kmh": pa.array(np.round(speed[order], 1)),
        }
    )


def _points(rng: np.random.Generator, w: World, zone: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) of a street address near each zone's centre."""
    jitter = rng.normal(0, 0.004, (2, len(zone)))
    return w.zones.lat[zone] + jitter[0], w.zones.lon[zone] + jitter[1]


def _track(rng, a: np.ndarray, b: np.ndarray, k: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Positions ``frac`` of the way from ``a`` to ``b`` (each repeated ``k`` times), with GPS noise."""
    return np.repeat(a, k) + frac * np.repeat(b - a, k) + (rng.random(len(frac)) - 0.5) * 0.0004


def app_events(
    rng: np.random.Generator, w: World, t: TripChunk, first_unit: int, span: tuple[np.datetime64, ...]
) -> pa.Table:
    """Rider and driver app events of a sample of trips plus browse-only sessions, in arrival order."""
    n = len(t)
    rows = exact_sample(rng, n, SESSION_SHARE)
    m = len(rows)
    request = t.start_ms[rows] - rng.integers(60 * S, 420 * S, m)
    search = request - rng.integers(10 * S, 120 * S, m)
    opened = search - rng.integers(5 * S, 60 * S, m)
    accept = request + rng.integers(5 * S, 40 * S, m)
    end = t.end_ms[rows]
    rate_at = end + rng.integers(30 * S, 600 * S, m)
    cancelled, rated, every = t.cancelled[rows], t.rating[rows] > 0, np.ones(m, bool)
    rider, driver = t.rider[rows], t.driver[rows]
    events = _Events()
    session = first_unit + np.arange(1, m + 1)
    as_rider = (w.riders.id_of(rider), t.city[rows], session, w.rider_platform[rider])
    driver_id = w.drivers.id_of(driver)
    as_driver = (driver_id, t.city[rows], session, driver_id % 2)  # drivers' app: ios or android
    for time, etype, who, mask in (
        (opened, "app_open", as_rider, every), (search, "search", as_rider, every),
        (request, "request_ride", as_rider, every), (accept, "accept_ride", as_driver, every),
        (end, "cancel", as_rider, cancelled), (end, "complete_ride", as_driver, ~cancelled),
        (rate_at, "rate", as_rider, rated),
    ):  # fmt: skip
        events.add(mask, time, etype, who is as_driver, *who)
    _browse(rng, w, events, first_unit + m, round(BROWSE_SHARE * n), span)
    return events.table(rng, first_unit)


def _browse(rng, w: World, events: _Events, first_session: int, k: int, span) -> None:
    """Sessions where a rider opened the app (and maybe searched) without requesting a ride."""
    rider = rng.integers(0, len(w.riders.ids), k)
    opened = uniform_times(rng, span[0], span[1], k).astype(np.int64)
    searched = rng.random(k) < 0.7
    who = (
        w.riders.id_of(rider),
        w.riders.city[rider],
        first_session + np.arange(1, k + 1),
        w.rider_platform[rider],
    )
    events.add(np.ones(k, bool), opened, "app_open", False, *who)
    events.add(searched, opened + rng.integers(5 * S, 90 * S, k), "search", False, *who)


class _Events:
    """Collects app events kind by kind, then lays them out in arrival order."""

    FIELDS = ("time", "etype", "utype", "user", "city", "session", "platform")

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {f: [] for f in self.FIELDS}

    def add(self, mask, time, event_type: str, by_driver: bool, user, city, session, platform) -> None:
        """The events of one kind: one per row where ``mask`` is set."""
        k = int(mask.sum())
        values = (time, EVENT_TYPES.index(event_type), int(by_driver), user, city, session, platform)
        for name, value in zip(self.FIELDS, values, strict=True):
            self.parts[name].append(np.full(k, value) if np.isscalar(value) else value[mask])

    def table(self, rng: np.random.Generator, first_unit: int) -> pa.Table:
        c = {k: np.concatenate(v) for k, v in self.parts.items()}
        ingest = _ingest(rng, c["time"])
        order = np.argsort(ingest, kind="stable")
        return pa.table(
            {
                "event_id": pa.array(first_unit + np.arange(1, len(order) + 1), pa.int64()),
                "event_time": _ts(c["time"][order]),
                "ingest_time": _ts(ingest[order]),
                "user_type": take_strings(USER_TYPES, c["utype"][order]),
                "user_id": pa.array(c["user"][order], pa.int64()),
                "event_type": take_strings(EVENT_TYPES, c["etype"][order]),
                "city": take_strings(CITIES, c["city"][order]),
                "session_id": pa.array(c["session"][order], pa.int64()),
                "platform": take_strings(PLATFORMS, c["platform"][order]),
            }
        )


def trips_v2(w: World, t: TripChunk, period_start: np.datetime64) -> pa.Table:
    """The v2 export of trips from the cutover on: renamed, converted, added and dropped columns."""
    cutover = (np.datetime64(period_start, "ms") + np.timedelta64(V2_CUTOVER_DAYS, "D")).astype(np.int64)
    rows = np.flatnonzero(t.start_ms >= cutover)
    city = t.city[rows]
    offset = DST_OFFSET_HOURS[city]
    local = pa.array(t.start_ms[rows] // S, pa.int64()).cast(pa.timestamp("s"))
    iso = pc.binary_replace_slice(local.cast(pa.string()), 10, 11, "T")  # "2025-03-10T08:15:00"
    suffix = take_strings([f"{h:+03d}:00" for h in range(-12, 13)], offset + 12)
    rating = t.rating[rows]
    return pa.table(
        {
            "trip_id": pa.array(t.ids[rows], pa.int64()),
            "driver_id": pa.array(w.drivers.id_of(t.driver[rows]), pa.int64()),
            "rider_id": pa.array(w.riders.id_of(t.rider[rows]), pa.int64()),
            "started_at": pc.binary_join_element_wise(iso, suffix, ""),
            "ended_at": pa.array(t.end_ms[rows] // S - offset * 3600, pa.int64()),
            "distance_miles": pa.array(np.round(t.distance[rows] / KM_PER_MILE, 3)),
            "city": take_strings(CITIES, city),
            "vehicle_type": take_strings(VEHICLE_TYPES, w.vehicle[t.driver[rows]]),
            "pickup_zone_id": pa.array(w.zones.ids[t.pickup[rows]], pa.int64()),
            "dropoff_zone_id": pa.array(w.zones.ids[t.dropoff[rows]], pa.int64()),
            "fare": pa.array(t.fare[rows]),
            "surge_multiplier": pa.array(t.surge[rows]),
            "status": take_strings(STATUSES, t.cancelled[rows].astype(np.int64)),
            "payment_type": take_strings(PAYMENT_TYPES_V2, t.payment[rows]),
            "rating": pa.array(rating.astype(np.int8), pa.int8(), mask=rating == 0),
        }
    )


#: v2 spells payment types in upper case.
PAYMENT_TYPES_V2 = ("CARD", "APPLE_PAY", "GOOGLE_PAY", "PAYPAL", "CASH")
