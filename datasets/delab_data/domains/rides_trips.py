"""Simulate one chunk of trips as numpy arrays (the other trip-derived tables are built from them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..arrays import from_numpy
from ..context import ChunkContext
from ..sampling import (
    MS_PER_HOUR,
    LognormalTable,
    LookupChoice,
    categories,
    lognormal,
    profile_times,
    round_cents,
    stable_order,
)
from . import rides_fraud
from .rides_dims import CITIES, CITY_SHARE, PAYMENT_SHARE, PAYMENT_TYPES
from .rides_world import World, world

_WEEKDAY = (0.25, 0.15, 0.10, 0.08, 0.12, 0.35, 0.80, 1.70, 2.00, 1.50, 0.90, 0.85,
            0.95, 0.90, 0.85, 0.95, 1.30, 1.90, 2.10, 1.60, 1.10, 0.90, 0.70, 0.45)  # fmt: skip
_WEEKEND = (1.40, 1.20, 0.95, 0.55, 0.20, 0.20, 0.30, 0.50, 0.70, 0.90, 1.10, 1.20,
            1.30, 1.25, 1.20, 1.20, 1.20, 1.30, 1.40, 1.40, 1.40, 1.50, 1.70, 1.60)  # fmt: skip
#: Trip start weights per (day of week, hour): weekday rush hours, Friday/Saturday nights.
TRIP_PROFILE = np.vstack([_WEEKDAY] * 4 + [(*_WEEKDAY[:20], 1.5, 1.6, 1.7, 1.6), _WEEKEND, _WEEKEND])
TRIP_PROFILE[6, 20:] = (0.9, 0.7, 0.5, 0.35)  # Sunday evening is quiet
TRIP_PROFILE[0, :4] = (1.0, 0.8, 0.6, 0.3)  # ... but Sunday night (Monday 0-3h) follows Saturday's
#: Chance of surge pricing per (day of week, hour): grows with demand.
SURGE_CHANCE = 0.03 + 0.35 * (TRIP_PROFILE / TRIP_PROFILE.max()) ** 2
_SPEED = np.array([34, 36, 37, 37, 35, 30, 24, 17, 15, 19, 23, 23,
                   22, 22, 22, 21, 18, 15, 16, 20, 24, 27, 29, 31], dtype=np.float64)  # fmt: skip
#: (base fare, per km, per minute, minimum fare) per city, in the order of ``CITIES``.
PRICING = np.array([
    (3.0, 1.75, 0.50, 10.0), (2.0, 1.20, 0.35, 7.0), (2.8, 1.55, 0.45, 9.0), (2.5, 1.40, 0.40, 8.0),
    (2.5, 1.40, 0.40, 8.0), (1.9, 1.05, 0.30, 6.5), (1.9, 1.10, 0.30, 6.5),
])  # fmt: skip
AIRPORT_FEE = 5.0
CANCEL_RATE = 0.065
STATUSES = ("completed", "cancelled")
_RATING = LookupChoice(np.array([0.03, 0.03, 0.06, 0.18, 0.70]))  # 1..5 stars
_CITY = LookupChoice(CITY_SHARE)
_LOCAL_KM = LognormalTable(1.3, 0.7)  # the part of a trip's distance beyond the zones' distance
_PAYMENT = LookupChoice(np.array(PAYMENT_SHARE))


@dataclass
class TripChunk:
    """One chunk of trips, column by column (row i is trip ``ids[i]``)."""

    ids: np.ndarray
    start_ms: np.ndarray
    end_ms: np.ndarray
    city: np.ndarray  # city code
    driver: np.ndarray  # driver row in the world
    rider: np.ndarray  # rider row in the world
    pickup: np.ndarray  # zone row
    dropoff: np.ndarray  # zone row
    distance: np.ndarray
    fare: np.ndarray
    tip: np.ndarray
    surge: np.ndarray
    cancelled: np.ndarray
    payment: np.ndarray  # payment type code
    rating: np.ndarray  # 1..5, 0 = not rated
    fraud: rides_fraud.FraudPlan

    def __len__(self) -> int:
        return len(self.ids)


def simulate(ctx: ChunkContext) -> tuple[World, TripChunk]:
    """The trips of ``ctx``'s chunk: ids in start-time order within the chunk's time slice."""
    w = world(ctx)
    rng = ctx.rng("trips")
    n = ctx.count
    lo, hi = ctx.time_slice()
    start = profile_times(rng, lo, hi, n, TRIP_PROFILE).astype(np.int64)
    city = _CITY.draw(rng, n)
    driver = _drivers(rng, w, city, start)
    rider = _riders(rng, w, city, start)
    pickup, dropoff = w.zones.sampler.draw(rng, n, city), w.zones.sampler.draw(rng, n, city)
    dropoff = np.where(_coins(rng, n) < 0.35, pickup, dropoff)  # 35 % stay in their zone
    pair = pickup * len(w.zones.ids) + dropoff  # index into zone-pair matrices
    distance = _distance(rng, w, pair)
    how = (start // MS_PER_HOUR + 72) % 168  # hour of the week, Monday 0h = 0 (1970-01-01 was a Thursday)
    hour = how % 24
    speed = _SPEED[hour] * (0.75 + 0.5 * rng.random(n))
    duration = (distance / speed * MS_PER_HOUR).astype(np.int64) + rng.integers(30_000, 150_000, n)
    cancelled = _coins(rng, n) < CANCEL_RATE
    plan = rides_fraud.plan(rng, w, start, distance, hour, cancelled, rider)
    cancelled &= ~plan.is_fraud
    rider = plan.rider
    duration = np.where(plan.max_duration_ms > 0, np.minimum(duration, plan.max_duration_ms), duration)
    duration = np.where(cancelled, rng.integers(60_000, 360_000, n), duration)
    end = start + duration
    driver = _unclash(rng, w, city, driver, start, end)
    distance = np.where(cancelled, 0.0, np.round(distance, 2))
    surge = _sparse(_coins(rng, n) < SURGE_CHANCE.ravel()[how], 1.0, lambda k: _surge_levels(rng, k))
    fare = _fares(rng, w, city, pair, distance, duration, surge, cancelled)
    tipping = ~cancelled & (_coins(rng, n) < 0.42)
    tip = _sparse(tipping, 0.0, lambda k: rng.uniform(0.10, 0.22, k))
    tip = round_cents(tip * fare)
    payment = w.rider_payment[rider]
    other = _coins(rng, n) < 0.15  # not the rider's usual method this time
    payment[other] = _PAYMENT.draw(rng, int(other.sum()))
    payment[plan.is_fraud] = 0  # fraud pays by card
    rated = ~cancelled & (_coins(rng, n) < 0.78)
    rating = _sparse(rated, 0, lambda k: _RATING.draw(rng, k) + 1)
    ids = ctx.start + np.arange(1, n + 1, dtype=np.int64)
    return w, TripChunk(
        ids, start, end, city, driver, rider, pickup, dropoff, distance, fare, tip, surge,
        cancelled, payment, rating, plan,
    )  # fmt: skip


def _drivers(rng: np.random.Generator, w: World, city: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Zipf-skewed drivers of the trip's city, only drivers who were on the platform at the time."""
    d = w.drivers.anyone.draw(rng, city)
    bad = np.flatnonzero((start < w.drivers.first_ms[d]) | (start > w.drivers.last_ms[d]))
    d[bad] = w.drivers.veteran.draw(rng, city[bad])
    return d


def _unclash(rng, w: World, city, driver, start, end) -> np.ndarray:
    """Hand a trip that starts before its driver's previous trip ended to another driver (one pass).

    Drivers are drawn independently per trip, so busy drivers would otherwise sometimes drive two trips
    at once; one pass removes almost all of those (a few per ten thousand trips remain).
    """
    order = stable_order(driver)  # by driver, then by start (trips come in start order)
    d, s, e = driver[order], start[order], end[order]
    clash = order[1:][(d[1:] == d[:-1]) & (s[1:] < e[:-1])]
    driver = driver.copy()
    driver[clash] = w.drivers.veteran.draw(rng, city[clash])
    return driver


def _riders(rng: np.random.Generator, w: World, city: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Mostly riders living in the trip's city (some visitors), who had signed up by then."""
    n = len(city)
    home = city.copy()
    visitor = rng.random(n) < 0.08
    home[visitor] = _CITY.draw(rng, int(visitor.sum()))
    r = w.riders.anyone.draw(rng, home)
    bad = np.flatnonzero(start < w.riders.first_ms[r])
    r[bad] = w.riders.veteran.draw(rng, home[bad])
    return r


def _coins(rng: np.random.Generator, n: int) -> np.ndarray:
    """Uniforms for yes/no decisions (float32: half the cost, plenty of resolution)."""
    return rng.random(n, dtype=np.float32)


def _distance(rng: np.random.Generator, w: World, pair: np.ndarray) -> np.ndarray:
    """Road distance (km): the zones' straight-line distance times a detour factor, plus a local part."""
    n = len(pair)
    straight = w.zones.km.ravel()[pair]
    return straight * (1.05 + 0.3 * rng.random(n)) + _LOCAL_KM.draw(rng, n) + 0.3


def _surge_levels(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.minimum(np.round(1.0 + lognormal(rng, 0.3, 0.6, n), 1), 3.5)


def _fares(rng, w: World, city, pair, distance, duration_ms, surge, cancelled) -> np.ndarray:
    """base + per km + per minute, times surge, airport fee, minimum fare; a fee or 0 when cancelled."""
    base, per_km, per_min, least = (PRICING[:, i][city] for i in range(4))
    fare = (base + per_km * distance + per_min * (duration_ms / 60_000.0)) * surge
    fare = np.maximum(fare, least) + AIRPORT_FEE * w.zones.airport_pair.ravel()[pair]
    fee = np.where(_coins(rng, len(city)) < 0.5, 5.0, 0.0)
    return round_cents(np.where(cancelled, fee, fare))


def _sparse(mask: np.ndarray, default: float, draw: Callable[[int], np.ndarray]) -> np.ndarray:
    """``default`` everywhere, and ``draw(k)`` values at the ``k`` rows where ``mask`` is set."""
    out = np.full(
        len(mask),
        default,
        dtype=np.result_type(default, np.float64) if isinstance(default, float) else np.int64,
    )
    out[mask] = draw(int(mask.sum()))
    return out


def trips_table(w: World, t: TripChunk) -> pa.Table:
    """The ``trips`` rows of a chunk (canonical seven columns first)."""
    return pa.table(
        {
            "trip_id": from_numpy(t.ids, pa.int64()),
            "driver_id": from_numpy(w.drivers.id_of(t.driver), pa.int64()),
            "rider_id": from_numpy(w.riders.id_of(t.rider), pa.int64()),
            "start_time": from_numpy(t.start_ms, pa.timestamp("ms")),
            "end_time": from_numpy(t.end_ms, pa.timestamp("ms")),
            "distance_km": from_numpy(t.distance, pa.float64()),
            "city": categories(CITIES, t.city),
            "pickup_zone_id": from_numpy(w.zones.ids[t.pickup], pa.int64()),
            "dropoff_zone_id": from_numpy(w.zones.ids[t.dropoff], pa.int64()),
            "fare": from_numpy(t.fare, pa.float64()),
            "tip": from_numpy(t.tip, pa.float64()),
            "surge_multiplier": from_numpy(t.surge, pa.float64()),
            "status": categories(STATUSES, t.cancelled.view(np.int8)),
            "payment_type": categories(PAYMENT_TYPES, t.payment),
            "rating": from_numpy(t.rating, pa.int8(), null=t.rating == 0),
        }
    )
