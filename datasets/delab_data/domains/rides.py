"""Ride hailing: cities, zones, drivers, riders, trips and what trips leave behind (tables, producers).

The rows are made in :mod:`rides_dims` (dimensions), :mod:`rides_trips` (trips), :mod:`rides_fraud`
(payments) and :mod:`rides_streams` (GPS pings, app events, the v2 export); this module declares them.
"""

from __future__ import annotations

import pyarrow as pa

from ..context import ChunkContext
from ..schema import Column, DirtySpec, Producer, producer, table
from . import rides_dims as dims
from . import rides_fraud, rides_streams, rides_trips, rides_world
from .rides_dims import CITY_SPELLINGS

D = "rides"
C = Column
TS = pa.timestamp("ms")

PAYMENT_SPELLINGS = {
    "card": ("Card", "CARD", "credit_card"),
    "apple_pay": ("ApplePay", "apple pay"),
    "google_pay": ("GooglePay", "google pay"),
    "paypal": ("PayPal",),
    "cash": ("Cash", "CASH"),
}


def _city(doc: str) -> Column:
    return C("city", pa.string(), doc, references="cities.city", values=dims.CITIES)


cities = table(
    "cities", D,
    doc="The cities the ride and food services operate in (fixed reference data).",
    grain="one row per city",
    columns=[
        C("city_id", pa.int64(), "City key.", primary_key=True),
        C("city", pa.string(), "City name as displayed in the apps (unique).", values=dims.CITIES),
        C("state", pa.string(), "US state code."),
        C("country", pa.string(), "ISO 3166 country code."),
        C("timezone", pa.string(), "IANA time zone: every timestamp of the city is naive local time in it."),
        C("lat", pa.float64(), "Latitude of the city centre.", unit="degrees"),
        C("lon", pa.float64(), "Longitude of the city centre.", unit="degrees"),
        C("population", pa.int64(), "Residents (census estimate).", unit="people"),
    ],
)  # fmt: skip

zones = table(
    "zones", D,
    doc="Neighbourhoods and airports: where trips start and end and where restaurants are.",
    grain="one row per zone",
    columns=[
        C("zone_id", pa.int64(), "Zone key (unique across cities).", primary_key=True),
        C("city_id", pa.int64(), "City the zone belongs to.", references="cities.city_id"),
        _city("Name of the zone's city (denormalised from `cities`)."),
        C("zone_name", pa.string(), "Neighbourhood or airport name (unique within a city)."),
        C("lat", pa.float64(), "Latitude of the zone centre.", unit="degrees"),
        C("lon", pa.float64(), "Longitude of the zone centre.", unit="degrees"),
        C("is_airport", pa.bool_(), "True for airport zones (at least one per city)."),
    ],
)  # fmt: skip

drivers = table(
    "drivers", D,
    doc="Every driver on the platform at the end of the period, in their current state.",
    grain="one row per driver (final state; the CDC change log replays to it)",
    columns=[
        C("driver_id", pa.int64(), "Driver key.", primary_key=True),
        C("first_name", pa.string(), "Given name."),
        C("last_name", pa.string(), "Family name."),
        _city("City the driver works in."),
        C("home_zone_id", pa.int64(), "Zone the driver lives in (in `city`).", references="zones.zone_id"),
        C("signup_date", pa.date32(), "Day the driver joined; no trip of theirs starts before it."),
        C("vehicle_type", pa.string(), "Kind of car.", values=dims.VEHICLE_TYPES),
        C("rating", pa.float64(), "Average rating from riders (1-5).", unit="stars"),
        C("status", pa.string(), "Whether the driver still drives; inactive ones stopped at `updated_at`.",
          values=dims.DRIVER_STATUS),
        C("updated_at", TS, "Last change to this row (for inactive drivers: when they stopped)."),
    ],
)  # fmt: skip

riders = table(
    "riders", D,
    doc="Rider accounts of the ride-hailing app.",
    grain="one row per rider account",
    columns=[
        C("rider_id", pa.int64(), "Rider key.", primary_key=True),
        C("first_name", pa.string(), "Given name."),
        C("last_name", pa.string(), "Family name."),
        C("email", pa.string(), "Contact e-mail address (synthetic, unique)."),
        C("home_city", pa.string(), "City the rider lives in and mostly rides in.", references="cities.city",
          values=dims.CITIES),
        C("home_country", pa.string(), "ISO country code of the rider's home (mostly US).",
          values=dims.COUNTRIES),
        C("signup_date", pa.date32(), "Day the account was opened; no trip of theirs starts before it."),
        C("platform", pa.string(), "App the rider uses.", values=dims.PLATFORMS),
        C("preferred_payment", pa.string(), "Default payment method.", values=dims.PAYMENT_TYPES),
    ],
    formats=("parquet", "csv"),
    dirty=DirtySpec(nullable=("email", "home_country", "platform"), spelling={"home_city": CITY_SPELLINGS},
                    key="rider_id"),
)  # fmt: skip

trips = table(
    "trips", D,
    doc="Ride requests and the rides they became; the first seven columns are the course's canonical schema.",
    grain="one row per trip (requested ride), completed or cancelled",
    columns=[
        C("trip_id", pa.int64(), "Trip key; grows with start_time.", primary_key=True),
        C("driver_id", pa.int64(), "Driver who took the ride.", references="drivers.driver_id"),
        C("rider_id", pa.int64(), "Rider who requested it.", references="riders.rider_id"),
        C("start_time", TS, "Pickup time (naive local time of the city)."),
        C("end_time", TS, "Drop-off time, or cancellation time for cancelled trips."),
        C("distance_km", pa.float64(), "Distance driven (0 when cancelled).", unit="km"),
        _city("City of the trip (the driver's city)."),
        C("pickup_zone_id", pa.int64(), "Pickup zone, in `city`.", references="zones.zone_id"),
        C("dropoff_zone_id", pa.int64(), "Drop-off zone, in `city`.", references="zones.zone_id"),
        C("fare", pa.float64(), "Fare charged: base + per km + per minute, times surge, plus airport fee; "
          "a cancellation fee (or 0) when cancelled.", unit="USD"),
        C("tip", pa.float64(), "Tip added by the rider (0 for most trips).", unit="USD"),
        C("surge_multiplier", pa.float64(), "Demand multiplier applied to the fare (1.0 = none)."),
        C("status", pa.string(), "Outcome of the request.", values=rides_trips.STATUSES),
        C("payment_type", pa.string(), "How the rider paid.", values=dims.PAYMENT_TYPES),
        C("rating", pa.int8(), "Stars given by the rider (1-5); null if not rated or cancelled.",
          nullable=True, unit="stars"),
    ],
    formats=("parquet", "csv"),
    dirty=DirtySpec(
        nullable=("distance_km", "rating", "payment_type", "fare", "tip", "dropoff_zone_id"),
        non_negative=("distance_km", "fare"),
        interval=("start_time", "end_time"),
        timestamps=("start_time", "end_time"),
        spelling={"city": CITY_SPELLINGS},
        key="trip_id",
    ),
)  # fmt: skip

payments = table(
    "payments", D,
    doc="Card and wallet payments, one per completed trip, labelled by the fraud team.",
    grain="one row per payment (completed trip)",
    columns=[
        C("payment_id", pa.int64(), "Payment key; grows with time.", primary_key=True),
        C("trip_id", pa.int64(), "The completed trip paid for.", references="trips.trip_id"),
        C("rider_id", pa.int64(), "Account charged (the trip's rider).", references="riders.rider_id"),
        C("created_at", TS, "When the payment was made, just after drop-off (local time)."),
        C("amount", pa.float64(), "Fare plus tip.", unit="USD"),
        C("currency", pa.string(), "ISO currency code.", values=("USD",)),
        C("payment_type", pa.string(), "Payment method.", values=dims.PAYMENT_TYPES),
        C("card_country", pa.string(), "Country that issued the card or wallet.", values=dims.COUNTRIES),
        C("account_age_days", pa.int64(), "Days between the rider's signup and the payment.", unit="days"),
        C("device_id", pa.int64(), "Device the payment came from (fraud rings share devices)."),
        C("is_fraud", pa.bool_(), "Label: confirmed fraudulent (charged back) payment; about 1-2 %."),
    ],
    formats=("parquet", "csv"),
    dirty=DirtySpec(
        nullable=("payment_type", "card_country", "device_id"),
        non_negative=("amount",),
        timestamps=("created_at",),
        spelling={"payment_type": PAYMENT_SPELLINGS},
        key="payment_id",
    ),
)  # fmt: skip

gps_pings = table(
    "gps_pings", D,
    doc="Driver app GPS pings along a sample (~5 %) of completed trips, in the order they reached the "
        "pipeline: a few arrive minutes late, out of event-time order.",
    grain="one row per ping",
    columns=[
        C("ping_id", pa.int64(), "Ping key: trip_id × 1000 + position of the ping in its trip.",
          primary_key=True),
        C("trip_id", pa.int64(), "Trip being driven.", references="trips.trip_id"),
        C("driver_id", pa.int64(), "Driver of the trip.", references="drivers.driver_id"),
        C("event_time", TS, "When the phone recorded the position (local time)."),
        C("ingest_time", TS, "When the pipeline received it (≥ event_time; late ones by minutes)."),
        C("lat", pa.float64(), "Latitude.", unit="degrees"),
        C("lon", pa.float64(), "Longitude.", unit="degrees"),
        C("speed_kmh", pa.float64(), "Instantaneous speed (0 at pickup).", unit="km/h"),
    ],
    formats=("jsonl",),
    dirty=DirtySpec(nullable=("lat", "lon", "speed_kmh"), non_negative=("speed_kmh",),
                    interval=("event_time", "ingest_time"), timestamps=("event_time", "ingest_time"),
                    key="ping_id"),
)  # fmt: skip

app_events = table(
    "app_events", D,
    doc="Rider and driver app events for a sample of trips plus browse-only sessions, in arrival order "
        "(some late and out of event-time order).",
    grain="one row per app event",
    columns=[
        C("event_id", pa.int64(), "Event key, in arrival order within a chunk.", primary_key=True),
        C("event_time", TS, "When it happened on the phone (local time)."),
        C("ingest_time", TS, "When the pipeline received it (≥ event_time)."),
        C("user_type", pa.string(), "Whose app sent it.", values=rides_streams.USER_TYPES),
        C("user_id", pa.int64(), "rider_id or driver_id, depending on user_type."),
        C("event_type", pa.string(), "What the user did.", values=rides_streams.EVENT_TYPES),
        _city("City of the session."),
        C("session_id", pa.int64(), "App session: the events of one ride request, or of one browse."),
        C("platform", pa.string(), "App platform.", values=dims.PLATFORMS),
    ],
    formats=("jsonl",),
    dirty=DirtySpec(nullable=("platform", "city"), interval=("event_time", "ingest_time"),
                    timestamps=("event_time", "ingest_time"), spelling={"city": CITY_SPELLINGS},
                    key="event_id"),
)  # fmt: skip

trips_v2 = table(
    "trips_v2", D,
    doc="The trips export after the v2 migration (from nine weeks into the period): distance in miles, "
        "start as an ISO string with UTC offset, end as UTC epoch seconds, vehicle_type added, tip dropped, "
        "payment types upper-cased. Reconcile it with `trips`.",
    grain="one row per trip starting on or after the v2 cutover",
    columns=[
        C("trip_id", pa.int64(), "Trip key (same as trips.trip_id).", primary_key=True,
          references="trips.trip_id"),
        C("driver_id", pa.int64(), "Driver.", references="drivers.driver_id"),
        C("rider_id", pa.int64(), "Rider.", references="riders.rider_id"),
        C("started_at", pa.string(), "Pickup time, ISO 8601 local time with UTC offset."),
        C("ended_at", pa.int64(), "Drop-off time as Unix epoch seconds (UTC).", unit="s"),
        C("distance_miles", pa.float64(), "Distance driven.", unit="miles"),
        _city("City of the trip."),
        C("vehicle_type", pa.string(), "Driver's kind of car (new in v2).", values=dims.VEHICLE_TYPES),
        C("pickup_zone_id", pa.int64(), "Pickup zone.", references="zones.zone_id"),
        C("dropoff_zone_id", pa.int64(), "Drop-off zone.", references="zones.zone_id"),
        C("fare", pa.float64(), "Fare charged.", unit="USD"),
        C("surge_multiplier", pa.float64(), "Demand multiplier."),
        C("status", pa.string(), "Outcome.", values=rides_trips.STATUSES),
        C("payment_type", pa.string(), "Payment method, upper case.", values=rides_streams.PAYMENT_TYPES_V2),
        C("rating", pa.int8(), "Stars (1-5) or null.", nullable=True, unit="stars"),
    ],
    formats=("csv",),
    variant="dirty",
)  # fmt: skip


def make_trip_chunk(ctx: ChunkContext) -> dict[str, pa.Table]:
    """Trips of one chunk and every table derived from them."""
    w, t = rides_trips.simulate(ctx)
    builders = {  # each derived table draws from its own stream, so skipping one changes no other
        "trips": lambda: rides_trips.trips_table(w, t),
        "payments": lambda: rides_fraud.payments_table(ctx.rng("payments"), w, t, ctx.start),
        "gps_pings": lambda: rides_streams.gps_pings(ctx.rng("pings"), w, t),
        "app_events": lambda: rides_streams.app_events(ctx.rng("events"), w, t, ctx.start, ctx.time_slice()),
        "trips_v2": lambda: rides_streams.trips_v2(w, t, ctx.period_start),
    }
    return {name: build() for name, build in builders.items() if ctx.wants(name)}


producer(Producer("rides_geo", ("cities", "zones"), units=lambda s: 1, make=dims.make_geo, chunk_units=1))
producer(Producer("rides_drivers", ("drivers",), units=lambda s: dims.driver_count(s.trips),
                  make=dims.make_drivers, chunk_units=10**9, needs=("zones",)))  # fmt: skip
producer(Producer("rides_riders", ("riders",), units=lambda s: dims.rider_count(s.trips),
                  make=dims.make_riders, chunk_units=500_000))  # fmt: skip
producer(Producer("rides_trips", ("trips", "payments", "gps_pings", "app_events", "trips_v2"),
                  units=lambda s: s.trips, make=make_trip_chunk, chunk_units=250_000,
                  needs=("zones", "drivers"), prepare=rides_world.build_world))  # fmt: skip
