"""The rides dimensions as numpy arrays and samplers, prepared once per process for the trip chunks."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrays import strings, to_numpy
from ..context import ChunkContext
from ..sampling import GroupedPool, LookupChoice, stable_order
from ..scales import Scale
from ..schema import PRODUCERS
from .rides_dims import (
    CITIES,
    DRIVER_STATUS,
    VEHICLE_TYPES,
    RiderCodes,
    period_bounds,
    rider_codes,
    zone_weights,
)

DRIVER_SPREAD = 0.8  # log-space spread of drivers' activity: the top 1 % do ~6 % of the trips
RIDER_SPREAD = 0.8  # ... and of riders' activity


@dataclass(frozen=True)
class Zones:
    """Zones by row: ids, city codes, centres, airports, the pickup sampler and zone-to-zone distances."""

    ids: np.ndarray
    city: np.ndarray  # 0-based city code
    lat: np.ndarray
    lon: np.ndarray
    airport: np.ndarray
    sampler: LookupChoice  # pickup / dropoff zone within a city (draw with the city codes as groups)
    km: np.ndarray  # straight-line km between zone centres, [from zone row, to zone row]
    airport_pair: np.ndarray  # 1.0 when either zone of [from, to] is an airport


@dataclass(frozen=True)
class People:
    """Drivers or riders: ids, city codes, when they may first / last travel, and who is popular."""

    ids: np.ndarray
    city: np.ndarray
    first_ms: np.ndarray  # signup (ms since epoch): no trip before
    last_ms: np.ndarray  # inactive since (ms): no trip after (int64 max when active)
    anyone: GroupedPool  # any person of a city, drawn in proportion to their activity
    veteran: GroupedPool  # people who may travel during the whole period

    ids_are_rows: bool  # ids are 1..n in row order (the usual case): no lookup needed

    def id_of(self, rows: np.ndarray) -> np.ndarray:
        """The ids of the people at ``rows``."""
        return rows.astype(np.int64) + 1 if self.ids_are_rows else self.ids[rows]


@dataclass(frozen=True)
class World:
    """Everything a trip chunk needs from the dimensions, as arrays indexed by row."""

    zones: Zones
    drivers: People
    riders: People
    vehicle: np.ndarray  # driver row -> vehicle code
    rider_country: np.ndarray  # rider row -> country code (0 = home)
    rider_payment: np.ndarray  # rider row -> preferred payment code
    rider_platform: np.ndarray  # rider row -> platform code
    rider_signup_sorted: np.ndarray  # riders' signup ms, ascending
    rider_by_signup: np.ndarray  # rider rows in that order


_CACHE: dict[tuple, World] = {}


def world(ctx: ChunkContext) -> World:
    """The prepared dimensions for this context's dataset: the engine's copy built once for the run
    (``ctx.prepared``), else built once per process.

    A pure function of (seed, scale): the dimension tables are themselves determined by them. Riders
    are re-drawn from their random codes (:func:`rider_codes`) rather than read: their table is the
    biggest dimension and the strings are not needed here.
    """
    if ctx.prepared is not None:
        return ctx.prepared()
    zones, drivers = ctx.table("zones"), ctx.table("drivers")
    key = (ctx.seed, ctx.scale, zones.num_rows, drivers.num_rows)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = build_world(ctx)
    return _CACHE[key]


def build_world(ctx: ChunkContext) -> World:
    """Build the world from the ``zones`` and ``drivers`` tables (the trips producer's ``prepare``)."""
    return _build(ctx.seed, ctx.table("zones"), ctx.table("drivers"), ctx)


def _build(seed: int, zones: pa.Table, drivers: pa.Table, ctx: ChunkContext) -> World:
    rng = np.random.default_rng([seed, 0x51DE5])  # activity levels: fixed for the dataset
    z_city = _codes(zones["city"], CITIES)
    lat, lon, airport = to_numpy(zones["lat"]), to_numpy(zones["lon"]), to_numpy(zones["is_airport"])
    z = Zones(
        ids=to_numpy(zones["zone_id"]),
        city=z_city,
        lat=lat,
        lon=lon,
        airport=airport,
        sampler=LookupChoice(zone_weights(zones), z_city, resolution=1024),
        km=_km_matrix(lat, lon),
        airport_pair=_either(airport),
    )
    lo = period_bounds(ctx)[0].astype(np.int64)
    inactive = _codes(drivers["status"], DRIVER_STATUS) == DRIVER_STATUS.index("inactive")
    d_last = np.where(inactive, _ms(drivers["updated_at"]), np.iinfo(np.int64).max)
    d_ids = to_numpy(drivers["driver_id"])
    d = _people(
        d_ids, _codes(drivers["city"], CITIES), _ms(drivers["signup_date"]), d_last, lo, rng, DRIVER_SPREAD
    )
    rc = _all_rider_codes(seed, ctx.scale)
    r_first = rc.signup.astype("datetime64[ms]").astype(np.int64)
    no_end = np.broadcast_to(np.iinfo(np.int64).max, (len(r_first),))  # riders never leave
    r = _people(np.arange(1, len(r_first) + 1), rc.city, r_first, no_end, lo, rng, RIDER_SPREAD)
    days = rc.signup.astype(np.int64)
    order = stable_order(days - days.min(initial=0)).astype(np.int32)  # by signup, i.e. by first_ms
    return World(
        zones=z,
        drivers=d,
        riders=r,
        vehicle=_codes(drivers["vehicle_type"], VEHICLE_TYPES),
        rider_country=rc.country.astype(np.int8),
        rider_payment=rc.payment.astype(np.int8),
        rider_platform=rc.platform.astype(np.int8),
        rider_signup_sorted=r.first_ms[order],
        rider_by_signup=order,
    )


def _all_rider_codes(seed: int, scale: Scale) -> RiderCodes:
    """Every rider's codes, re-drawn chunk by chunk exactly as the riders producer draws them."""
    spec = PRODUCERS["rides_riders"]
    parts = []
    for k in range(spec.n_chunks(scale)):
        start, count = spec.chunk_range(scale, k)
        codes = rider_codes(ChunkContext(seed, scale, spec.name, k, spec.n_chunks(scale), start, count))
        parts.append({f.name: _compact(getattr(codes, f.name)) for f in fields(RiderCodes)})
    return RiderCodes(**{name: np.concatenate([p[name] for p in parts]) for name in parts[0]})


def _compact(codes: np.ndarray) -> np.ndarray:
    """Small integer codes as int8 (dates and other types unchanged): a million riders stay small."""
    return codes.astype(np.int8) if codes.dtype.kind == "i" and codes.max(initial=0) < 128 else codes


def _people(ids, code, first_ms, last_ms, period_lo, rng, spread: float) -> People:
    """Samplers over people: lognormal activity levels, so a few people take many trips."""
    activity = np.exp(rng.standard_normal(len(code)) * spread)
    veteran = (first_ms <= period_lo) & (last_ms == np.iinfo(np.int64).max)
    vet_rows = np.flatnonzero(veteran)
    return People(
        ids=ids,
        city=code,
        first_ms=first_ms,
        last_ms=last_ms,
        anyone=GroupedPool(code, activity, len(CITIES)),
        veteran=GroupedPool(code[vet_rows], activity[vet_rows], len(CITIES), items=vet_rows),
        ids_are_rows=bool(np.array_equal(ids, np.arange(1, len(ids) + 1))),
    )


def _either(flag: np.ndarray) -> np.ndarray:
    """[i, j] = 1.0 when ``flag[i]`` or ``flag[j]``."""
    return (flag[:, None] | flag[None, :]).astype(np.float64)


def _km_matrix(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Approximate straight-line distances (km) between all pairs of points (equirectangular)."""
    dlat = (lat[:, None] - lat[None, :]) * 111.0
    dlon = (lon[:, None] - lon[None, :]) * 111.0 * np.cos(np.radians((lat[:, None] + lat[None, :]) / 2))
    return np.sqrt(dlat * dlat + dlon * dlon)


def _codes(values: pa.ChunkedArray | pa.Array, vocabulary: tuple[str, ...]) -> np.ndarray:
    """0-based positions of ``values`` in ``vocabulary`` (all values must be in it)."""
    idx = pc.index_in(values, value_set=strings(vocabulary))
    if idx.null_count:
        raise ValueError(f"values outside {vocabulary}")
    return to_numpy(idx).astype(np.int8)  # small vocabularies; cast before doing arithmetic


def _ms(values: pa.ChunkedArray) -> np.ndarray:
    """Dates or timestamps as int64 milliseconds since the epoch."""
    return to_numpy(values).astype("datetime64[ms]").astype(np.int64)
