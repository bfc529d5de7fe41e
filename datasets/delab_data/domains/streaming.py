"""Streaming service: subscribers watch titles; the player sends events (tables and producers).

The rows are made in :mod:`streaming_gen`; this module only declares what the tables look like.
"""

from __future__ import annotations

import pyarrow as pa

from ..schema import Column, Producer, producer, table
from . import streaming_events
from . import streaming_gen as gen

D = "streaming"

titles = table(
    "titles", D,
    doc=(
        "The catalogue of movies and series. Popularity is very skewed, genres go in and out of fashion "
        "from month to month, and titles added during the period draw a crowd in their first weeks."
    ),
    grain="one row per movie or series",
    columns=[
        Column("title_id", pa.int64(), "Title key.", primary_key=True),
        Column("title", pa.string(), "Display title (not unique: remakes share names)."),
        Column("type", pa.string(), "Movie or series.", values=gen.TITLE_TYPES),
        Column("genres", pa.string(), "One to three genres separated by '|', the primary genre first."),
        Column("primary_genre", pa.string(), "The title's main genre (the first of `genres`).",
               values=gen.GENRES),
        Column("release_year", pa.int32(), "Year of first release."),
        Column("duration_min", pa.int32(), "Running time: the whole movie, or one episode of a series.",
               unit="minutes"),
        Column("seasons", pa.int32(), "Number of seasons; null for movies.", nullable=True),
        Column("maturity_rating", pa.string(), "Audience rating.", values=gen.MATURITY_RATINGS),
        Column("original_language", pa.string(), "ISO 639-1 code of the original language.",
               values=gen.LANGUAGES),
        Column("added_date", pa.date32(), "Day the title became available; nobody watches it before."),
    ],
)  # fmt: skip

subscribers = table(
    "subscribers", D,
    doc="Accounts of the streaming service with their plan and home country.",
    grain="one row per subscriber account",
    columns=[
        Column("subscriber_id", pa.int64(), "Subscriber key.", primary_key=True),
        Column("country", pa.string(), "Home country (ISO 3166-1 alpha-2).", values=gen.COUNTRIES),
        Column("plan", pa.string(), "Subscription plan.", values=gen.PLANS),
        Column("signup_date", pa.date32(), "Day the account was opened; it has no events before."),
        Column("birth_year", pa.int32(), "Year of birth as declared; null when not given.", nullable=True),
        Column("profiles", pa.int32(), "Number of viewer profiles on the account (1–5)."),
    ],
)  # fmt: skip

viewing_events = table(
    "viewing_events", D,
    doc=(
        "Player events as the ingestion pipeline received them, in arrival order: each viewing session is "
        "a 'play', pause/play pairs, then 'stop' or 'complete'. Most events arrive within seconds; a few "
        "percent arrive minutes to hours late (offline phones), so arrival order is not event order. "
        "Evening peaks; a few titles take most of the viewing."
    ),
    grain="one row per player event",
    formats=("parquet", "jsonl"),
    columns=[
        Column("event_id", pa.int64(), "Event key; grows with event_time (not with arrival).",
               primary_key=True),
        Column("subscriber_id", pa.int64(), "Who watched.", references="subscribers.subscriber_id"),
        Column("title_id", pa.int64(), "What was watched.", references="titles.title_id"),
        Column("event_time", pa.timestamp("ms"), "When the player emitted the event (viewer's local time)."),
        Column("ingest_time", pa.timestamp("ms"), "When the pipeline received it; never before event_time."),
        Column("event_type", pa.string(), "What happened in the player.", values=gen.EVENT_TYPES),
        Column("position_sec", pa.int32(), "Playback position in the movie or episode.", unit="seconds"),
        Column("watch_seconds", pa.int32(),
               "Seconds watched since the session's previous event (0 for 'play').", unit="seconds"),
        Column("device", pa.string(), "Device the player runs on.", values=gen.DEVICES),
        Column("country", pa.string(), "Country the event came from (usually the subscriber's own).",
               values=gen.COUNTRIES),
    ],
)  # fmt: skip

producer(
    Producer(
        "streaming_dimensions",
        ("titles", "subscribers"),
        units=lambda s: 1,
        make=gen.make_dimensions,
        chunk_units=1,
    )
)
producer(Producer(
    "viewing_events", ("viewing_events",), units=lambda s: s.viewing_events,
    make=streaming_events.make_viewing_events, chunk_units=250_000, needs=("titles", "subscribers"),
))  # fmt: skip
