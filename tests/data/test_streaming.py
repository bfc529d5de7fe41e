"""The streaming domain: catalogue, subscribers and player events with late arrivals."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from conftest import assert_conforms, assert_references, make_ctx
from delab_data.domains.streaming_gen import GENRES
from delab_data.schema import PRODUCERS, TABLES

STREAMING_TABLES = ("titles", "subscribers", "viewing_events")


@pytest.fixture(scope="module")
def db(tiny_tables: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name in STREAMING_TABLES:
        con.register(name, tiny_tables[name])
    return con


def one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.sql(sql).fetchone()[0]


def events_where(con: duckdb.DuckDBPyConnection, condition: str, join: str = "") -> int:
    """How many viewing events (joined with ``join``) satisfy ``condition``."""
    return int(one(con, f"SELECT count(*) FROM viewing_events {join} WHERE {condition}"))


@pytest.mark.parametrize("name", STREAMING_TABLES)
def test_tables_conform_and_reference(tiny_tables: dict[str, pa.Table], name: str) -> None:
    assert_conforms(TABLES[name], tiny_tables[name])
    assert_references(TABLES[name], tiny_tables)


def test_sizes_follow_the_scale(tiny_tables: dict[str, pa.Table]) -> None:
    assert tiny_tables["viewing_events"].num_rows == 20_000
    assert tiny_tables["titles"].num_rows >= 300


def test_genres(db: duckdb.DuckDBPyConnection) -> None:
    assert one(db, "SELECT count(*) FROM titles WHERE split_part(genres, '|', 1) <> primary_genre") == 0
    assert one(db, "SELECT count(*) FROM titles WHERE genres LIKE '%||%' OR genres LIKE '%|'") == 0
    assert one(db, "SELECT count(*) FROM titles WHERE len(string_split(genres, '|')) "
                   "<> len(list_distinct(string_split(genres, '|')))") == 0  # fmt: skip
    assert one(db, "SELECT count(*) FROM titles WHERE genres LIKE '%|%'") > 100
    genres = set(one(db, "SELECT flatten(list(string_split(genres, '|'))) FROM titles"))
    assert genres <= set(GENRES)
    assert one(db, "SELECT count(*) FROM titles WHERE (type = 'movie') <> (seasons IS NULL)") == 0


def test_sessions_are_well_formed(db: duckdb.DuckDBPyConnection) -> None:
    titles = "JOIN titles USING (title_id)"
    assert events_where(db, "ingest_time < event_time") == 0
    assert events_where(db, "event_type = 'play' AND watch_seconds <> 0") == 0
    assert events_where(db, "event_type <> 'play' AND watch_seconds <= 0") == 0
    assert events_where(db, "position_sec > duration_min * 60 OR position_sec < 0", titles) == 0
    assert events_where(db, "event_type = 'complete' AND position_sec <> duration_min * 60", titles) == 0
    assert events_where(db, "event_type = 'complete'") > 0
    # Per subscriber and title, the events alternate play / pause-stop-complete in event order.
    bad = one(db, """
        SELECT count(*) FROM (
            SELECT event_type,
                   lag(event_type) OVER (PARTITION BY subscriber_id, title_id ORDER BY event_id) prev
            FROM viewing_events)
        WHERE prev IS NOT NULL AND (event_type = 'play') = (prev = 'play')""")  # fmt: skip
    assert bad < 0.01 * events_where(db, "true")  # only where two sessions of a pair overlap


def test_nobody_watches_before_signup_or_release(db: duckdb.DuckDBPyConnection) -> None:
    assert events_where(db, "event_time < signup_date", "JOIN subscribers USING (subscriber_id)") == 0
    assert events_where(db, "event_time < added_date", "JOIN titles USING (title_id)") == 0


def test_late_and_out_of_order_arrivals(tiny_tables: dict[str, pa.Table]) -> None:
    ev = tiny_tables["viewing_events"]
    event_ms = ev["event_time"].to_numpy().astype(np.int64)
    delay_s = (ev["ingest_time"].to_numpy().astype(np.int64) - event_ms) / 1000
    assert np.median(delay_s) < 10
    assert 0.03 < (delay_s > 60).mean() < 0.15
    assert 0.002 < (delay_s > 3600).mean() < 0.05
    assert (np.diff(ev["ingest_time"].to_numpy().astype(np.int64)) >= 0).all()  # rows in arrival order
    out_of_order = event_ms < np.maximum.accumulate(event_ms)
    assert 0.01 < out_of_order.mean() < 0.5
    ids = np.sort(ev["event_id"].to_numpy())
    assert (ids == np.arange(1, len(ids) + 1)).all()
    by_id = np.argsort(ev["event_id"].to_numpy())
    assert (np.diff(event_ms[by_id]) >= 0).all()  # ids grow with event time


def test_evening_peak_and_skewed_titles(db: duckdb.DuckDBPyConnection) -> None:
    by_hour = dict(db.sql("SELECT hour(event_time), count(*) FROM viewing_events GROUP BY 1").fetchall())
    assert by_hour[21] > 3 * by_hour[9] and by_hour[21] > 5 * by_hour.get(4, 0)
    top = one(db, """SELECT sum(c) FROM (SELECT count(*) c FROM viewing_events GROUP BY title_id
                     ORDER BY c DESC LIMIT (SELECT count(*) // 10 FROM titles))""")  # fmt: skip
    assert top > 0.4 * one(db, "SELECT count(*) FROM viewing_events")


def test_top_genres_change_from_month_to_month(db: duckdb.DuckDBPyConnection) -> None:
    tops = db.sql("""
        WITH g AS (SELECT month(event_time) m, primary_genre g, sum(watch_seconds) s
                   FROM viewing_events JOIN titles USING (title_id) GROUP BY ALL)
        SELECT m, list(g ORDER BY s DESC)[1:5] FROM g GROUP BY m ORDER BY m""").fetchall()
    assert len(tops) == 4
    assert len({tuple(t) for _, t in tops}) >= 3


def test_same_context_same_rows(tiny_tables: dict[str, pa.Table]) -> None:
    for name in ("streaming_dimensions", "viewing_events"):
        ctx = make_ctx(name, tables=tiny_tables)
        first, second = PRODUCERS[name].make(ctx), PRODUCERS[name].make(ctx)
        assert all(first[t].equals(second[t]) for t in first)


def test_chunks_make_exactly_their_events(tiny_tables: dict[str, pa.Table]) -> None:
    from delab_data.scales import parse_scale

    scale = parse_scale("trips=10000,orders=5000,viewing_events=300000")
    prod = PRODUCERS["viewing_events"]
    dims = {t: tiny_tables[t] for t in ("titles", "subscribers")}
    last = prod.make(make_ctx(prod, scale, chunk=1, tables=dims))["viewing_events"]
    assert last.num_rows == 50_000
    assert sorted(last["event_id"].to_pylist()) == list(range(250_001, 300_001))
    assert last["event_time"].to_numpy().max() < np.datetime64("2025-04-07")
