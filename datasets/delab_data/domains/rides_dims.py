"""Rides dimensions: the fixed cities and zones, and the drivers and riders (made from the seed)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrays import from_numpy, strings, to_numpy
from ..context import ChunkContext
from ..sampling import (
    FIRST_NAMES,
    LAST_NAMES,
    MS_PER_DAY,
    AliasTable,
    lognormal,
    person_name_codes,
    person_names,
    take_strings,
)

# (city, state, timezone, UTC offset in daylight time, lat, lon, population, share of trips)
CITY_ROWS = (
    ("New York", "NY", "America/New_York", -4, 40.7128, -74.0060, 8_336_817, 0.36),
    ("Chicago", "IL", "America/Chicago", -5, 41.8781, -87.6298, 2_665_039, 0.15),
    ("San Francisco", "CA", "America/Los_Angeles", -7, 37.7749, -122.4194, 808_437, 0.13),
    ("Boston", "MA", "America/New_York", -4, 42.3601, -71.0589, 650_706, 0.10),
    ("Seattle", "WA", "America/Los_Angeles", -7, 47.6062, -122.3321, 749_256, 0.09),
    ("Miami", "FL", "America/New_York", -4, 25.7617, -80.1918, 449_514, 0.09),
    ("Austin", "TX", "America/Chicago", -5, 30.2672, -97.7431, 974_447, 0.08),
)
CITIES = tuple(r[0] for r in CITY_ROWS)
CITY_SHARE = np.array([r[7] for r in CITY_ROWS])
DST_OFFSET_HOURS = np.array([r[3] for r in CITY_ROWS])

# Neighbourhoods per city; entries "✈Name@lat,lon" are airports at their real position.
ZONE_NAMES = {
    "New York": (
        "Midtown", "Financial District", "Upper East Side", "Upper West Side", "Harlem", "Chelsea",
        "Greenwich Village", "Lower East Side", "Williamsburg", "Park Slope", "Astoria", "Long Island City",
        "Bushwick", "Flushing", "Jamaica", "Bronx Central", "Staten Island North", "Downtown Brooklyn",
        "✈JFK Airport@40.6413,-73.7781", "✈LaGuardia Airport@40.7769,-73.8740",
    ),
    "Chicago": (
        "The Loop", "River North", "Lincoln Park", "Wicker Park", "Logan Square", "Hyde Park",
        "Lakeview", "West Loop", "Pilsen", "Bronzeville", "Uptown", "Rogers Park", "Gold Coast",
        "South Loop", "✈O'Hare Airport@41.9742,-87.9073", "✈Midway Airport@41.7868,-87.7522",
    ),
    "San Francisco": (
        "Financial District", "SoMa", "Mission", "Castro", "Haight-Ashbury", "Richmond", "Sunset",
        "Nob Hill", "North Beach", "Marina", "Dogpatch", "✈SFO Airport@37.6213,-122.3790",
    ),
    "Boston": (
        "Back Bay", "Beacon Hill", "South End", "North End", "Fenway", "Seaport", "Cambridge",
        "Somerville", "Jamaica Plain", "Dorchester", "Allston", "✈Logan Airport@42.3656,-71.0096",
    ),
    "Seattle": (
        "Downtown", "Capitol Hill", "Ballard", "Fremont", "Queen Anne", "University District",
        "South Lake Union", "West Seattle", "Beacon Hill", "✈Sea-Tac Airport@47.4502,-122.3088",
    ),
    "Miami": (
        "Downtown", "Brickell", "Wynwood", "Little Havana", "Coconut Grove", "Miami Beach",
        "Coral Gables", "Little Haiti", "Edgewater", "✈MIA Airport@25.7959,-80.2870",
    ),
    "Austin": (
        "Downtown", "East Austin", "South Congress", "Hyde Park", "Zilker", "Mueller", "Domain",
        "Clarksville", "✈AUS Airport@30.1975,-97.6664",
    ),
}  # fmt: skip
#: Other ways people write the cities (the dirty variants' spelling damage; other domains reuse it).
CITY_SPELLINGS = {
    "New York": ("NYC", "new york", "New York City", "NY"),
    "Chicago": ("chicago", "CHI", "Chicago, IL"),
    "San Francisco": ("SF", "san francisco", "San Fran", "S.F."),
    "Boston": ("boston", "BOS", "Boston, MA"),
    "Seattle": ("seattle", "SEA", "Seattle, WA"),
    "Miami": ("miami", "MIA", "Miami, FL"),
    "Austin": ("austin", "ATX", "Austin, TX"),
}
AIRPORT_SHARE = 0.2  # share of a city's pickups at its airport(s), well above their share of zones

VEHICLE_TYPES = ("sedan", "suv", "hybrid", "electric", "van")
VEHICLE_SHARE = (0.50, 0.20, 0.18, 0.08, 0.04)
DRIVER_STATUS = ("active", "inactive")
PLATFORMS = ("ios", "android", "web")
PLATFORM_SHARE = (0.52, 0.40, 0.08)
PAYMENT_TYPES = ("card", "apple_pay", "google_pay", "paypal", "cash")
PAYMENT_SHARE = (0.62, 0.16, 0.10, 0.06, 0.06)
HOME_COUNTRY = "US"
FOREIGN_COUNTRIES = ("CA", "MX", "GB", "DE", "FR", "BR", "IN", "CN", "JP", "NG")
COUNTRIES = (HOME_COUNTRY, *FOREIGN_COUNTRIES)
EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "aol.com")


def driver_count(trips: int) -> int:
    """Drivers in the whole dataset: about one per 80 trips, at least 200."""
    return max(200, trips // 80)


def rider_count(trips: int) -> int:
    """Riders in the whole dataset: about one per 15 trips (a few a month each), at least 1,000."""
    return max(1_000, trips // 15)


def make_geo(ctx: ChunkContext) -> dict[str, pa.Table]:
    """The fixed ``cities`` and ``zones`` tables (identical for every seed and scale)."""
    cities = pa.table(
        {
            "city_id": from_numpy(np.arange(1, len(CITY_ROWS) + 1), pa.int64()),
            "city": strings(CITIES),
            "state": strings([r[1] for r in CITY_ROWS]),
            "country": strings([HOME_COUNTRY] * len(CITY_ROWS)),
            "timezone": strings([r[2] for r in CITY_ROWS]),
            "lat": from_numpy(np.array([r[4] for r in CITY_ROWS]), pa.float64()),
            "lon": from_numpy(np.array([r[5] for r in CITY_ROWS]), pa.float64()),
            "population": from_numpy(np.array([r[6] for r in CITY_ROWS]), pa.int64()),
        }
    )
    return {"cities": cities, "zones": _zones()}


def _zones() -> pa.Table:
    rng = np.random.default_rng(20250106)  # fixed: zones are the same for every seed
    rows: list[tuple[int, str, str, float, float, bool]] = []
    for city_id, (city, _, _, _, lat, lon, _, _) in enumerate(CITY_ROWS, start=1):
        for raw in ZONE_NAMES[city]:
            if raw.startswith("✈"):
                name, _, pos = raw[1:].partition("@")
                zlat, zlon = (float(v) for v in pos.split(","))
                rows.append((city_id, city, name, zlat, zlon, True))
            else:
                dlat, dlon = rng.normal(0, 0.03, 2)
                rows.append((city_id, city, raw, round(lat + dlat, 5), round(lon + dlon, 5), False))
    cols = list(zip(*rows, strict=True))
    return pa.table(
        {
            "zone_id": from_numpy(np.arange(1, len(rows) + 1), pa.int64()),
            "city_id": from_numpy(np.array(cols[0]), pa.int64()),
            "city": strings(cols[1]),
            "zone_name": strings(cols[2]),
            "lat": from_numpy(np.array(cols[3], dtype=np.float64), pa.float64()),
            "lon": from_numpy(np.array(cols[4], dtype=np.float64), pa.float64()),
            "is_airport": from_numpy(np.array(cols[5]), pa.bool_()),
        }
    )


def zone_weights(zones: pa.Table) -> np.ndarray:
    """Pickup weight of each zone: central zones busier, airports take ``AIRPORT_SHARE`` of their city."""
    city = to_numpy(zones["city_id"])
    airport = to_numpy(zones["is_airport"])
    w = np.zeros(len(city))
    for c in np.flatnonzero(np.bincount(city)):  # the city ids present (np.unique would import numpy.ma)
        rows = np.flatnonzero(city == c)
        ap, other = rows[airport[rows]], rows[~airport[rows]]
        w[other] = (1.0 - AIRPORT_SHARE) * _normalised(1.0 / np.sqrt(np.arange(1, len(other) + 1)))
        w[ap] = AIRPORT_SHARE / max(1, len(ap))
    return w


def _normalised(w: np.ndarray) -> np.ndarray:
    return w / w.sum()


def period_bounds(ctx: ChunkContext) -> tuple[np.datetime64, np.datetime64]:
    """(first, last) instant of the dataset period as datetime64[ms]."""
    start = np.datetime64(ctx.period_start, "ms")
    return start, start + np.timedelta64(ctx.scale.period_days * MS_PER_DAY, "ms")


def _signup_days(rng: np.random.Generator, n: int, ctx: ChunkContext, in_period: float) -> np.ndarray:
    """Signup dates (datetime64[D]): mostly years before the period, a share ``in_period`` during it."""
    start = np.datetime64(ctx.scale.period_start, "D")
    before = np.minimum(lognormal(rng, 420.0, 0.8, n), 3_000).astype(np.int64) + 1
    during = rng.integers(0, ctx.scale.period_days, n)
    return start + np.where(rng.random(n) < in_period, during, -before)


def make_drivers(ctx: ChunkContext) -> dict[str, pa.Table]:
    """Every driver that exists at the end of the period (their current state)."""
    rng = ctx.rng("drivers")
    n = ctx.count
    zones = ctx.table("zones")
    city = _cover_all(AliasTable(CITY_SHARE).draw(rng, n), len(CITIES))
    signup = _signup_days(rng, n, ctx, in_period=0.15)
    inactive = rng.random(n) < 0.12
    first, last = person_names(rng, n)
    lo, hi = period_bounds(ctx)
    since = np.maximum(signup.astype("datetime64[ms]"), lo)
    updated = since + (rng.random(n) * (hi - since).astype(np.int64)).astype("timedelta64[ms]")
    rating = np.round(np.clip(5.0 - lognormal(rng, 0.18, 0.7, n), 3.2, 5.0), 2)
    table = pa.table(
        {
            "driver_id": from_numpy(ctx.start + np.arange(1, n + 1), pa.int64()),
            "first_name": first,
            "last_name": last,
            "city": take_strings(CITIES, city),
            "home_zone_id": from_numpy(_home_zones(rng, zones, city), pa.int64()),
            "signup_date": from_numpy(signup, pa.date32()),
            "vehicle_type": take_strings(VEHICLE_TYPES, AliasTable(VEHICLE_SHARE).draw(rng, n)),
            "rating": from_numpy(rating, pa.float64()),
            "status": take_strings(DRIVER_STATUS, inactive.astype(np.int64)),
            "updated_at": from_numpy(updated, pa.timestamp("ms")),
        }
    )
    return {"drivers": table}


def _cover_all(codes: np.ndarray, k: int) -> np.ndarray:
    """Make sure each of the ``k`` codes occurs (the first rows take one each)."""
    codes = codes.copy()
    codes[: min(k, len(codes))] = np.arange(min(k, len(codes)))
    return codes


def _home_zones(rng: np.random.Generator, zones: pa.Table, city_code: np.ndarray) -> np.ndarray:
    """A non-airport zone of each row's city (city codes are 0-based positions in ``CITIES``)."""
    zone_city = to_numpy(zones["city_id"]) - 1
    ok = ~to_numpy(zones["is_airport"])
    ids = to_numpy(zones["zone_id"])[ok]
    zc = zone_city[ok]
    offsets = np.searchsorted(zc, np.arange(len(CITIES)))
    sizes = np.bincount(zc, minlength=len(CITIES))
    pick = offsets[city_code] + (rng.random(len(city_code)) * sizes[city_code]).astype(np.int64)
    return ids[pick]


@dataclass(frozen=True)
class RiderCodes:
    """The random draws behind one chunk of riders, as codes: cheap to redo without the strings."""

    city: np.ndarray  # position in CITIES
    country: np.ndarray  # position in COUNTRIES
    first: np.ndarray  # position in FIRST_NAMES
    last: np.ndarray  # position in LAST_NAMES
    email_domain: np.ndarray  # position in EMAIL_DOMAINS
    signup: np.ndarray  # datetime64[D]
    platform: np.ndarray  # position in PLATFORMS
    payment: np.ndarray  # position in PAYMENT_TYPES


def rider_codes(ctx: ChunkContext) -> RiderCodes:
    """Draw one chunk of riders (the trips re-draw them this way instead of reading the table)."""
    rng = ctx.rng("riders")
    n = ctx.count
    city = _cover_all(AliasTable(CITY_SHARE).draw(rng, n), len(CITIES))
    foreign = rng.random(n) < 0.06
    country = np.where(foreign, rng.integers(1, len(COUNTRIES), n), 0)
    first, last = person_name_codes(rng, n)
    domain = rng.integers(0, len(EMAIL_DOMAINS), n)
    signup = _signup_days(rng, n, ctx, in_period=0.2)
    platform = AliasTable(PLATFORM_SHARE).draw(rng, n)
    payment = AliasTable(PAYMENT_SHARE).draw(rng, n)
    return RiderCodes(city, country, first, last, domain, signup, platform, payment)


def make_riders(ctx: ChunkContext) -> dict[str, pa.Table]:
    """Rider accounts (one chunk of them); ids from the chunk's unit range."""
    c = rider_codes(ctx)
    ids = ctx.start + np.arange(1, ctx.count + 1)
    first, last = take_strings(FIRST_NAMES, c.first), take_strings(LAST_NAMES, c.last)
    email = pc.binary_join_element_wise(
        pc.utf8_lower(first), ".", pc.utf8_lower(last), pa.array(ids).cast(pa.string()), "@",
        take_strings(EMAIL_DOMAINS, c.email_domain), "",
    )  # fmt: skip
    table = pa.table(
        {
            "rider_id": pa.array(ids, pa.int64()),
            "first_name": first,
            "last_name": last,
            "email": email,
            "home_city": take_strings(CITIES, c.city),
            "home_country": take_strings(COUNTRIES, c.country),
            "signup_date": pa.array(c.signup, pa.date32()),
            "platform": take_strings(PLATFORMS, c.platform),
            "preferred_payment": take_strings(PAYMENT_TYPES, c.payment),
        }
    )
    return {"riders": table}
