"""Viewing sessions turned into player events with realistic arrival delays (declared in :mod:`streaming`).

A session is 'play', then ``m - 1`` pause/play pairs, then 'stop' (or 'complete' when the viewer reached
the end): ``2 m`` events. Segment lengths are drawn as fractions of the title's running time, so the
number of events is known before the titles are chosen and a chunk makes exactly its share of events.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..context import ChunkContext
from ..sampling import AliasTable, StartedChoice, lognormal, profile_times, take_strings, zipf_weights
from .places import shared_rng, to_days
from .streaming_gen import COUNTRIES, DEVICES, EVENT_TYPES, GENRE_SEASON, GENRES

_MAX_SEGMENTS = 4
_SEGMENTS_P = (0.45, 0.3, 0.15, 0.1)
#: Sessions by hour: a strong evening peak on weekdays, a broad afternoon-and-evening on weekends.
_WEEKDAY_HOURS = (10, 6, 3, 2, 1, 1, 2, 4, 5, 5, 6, 7, 9, 8, 8, 9, 11, 15, 24, 34, 42, 44, 33, 18)
_WEEKEND_HOURS = (16, 10, 5, 3, 2, 1, 2, 4, 7, 10, 14, 17, 20, 22, 23, 23, 24, 27, 32, 38, 42, 42, 35, 24)
SESSION_PROFILE = np.vstack([_WEEKDAY_HOURS] * 4 + [_WEEKDAY_HOURS[:20] + _WEEKEND_HOURS[20:]]
                            + [_WEEKEND_HOURS] * 2).astype(np.float64)  # fmt: skip
_DEVICE_P = (0.45, 0.3, 0.15, 0.1)


def make_viewing_events(ctx: ChunkContext) -> dict[str, pa.Table]:
    """Exactly ``ctx.count`` events of the sessions started in this chunk's time slice."""
    rng = ctx.rng("viewing_events")
    end_frac, start_frac, m, complete = _session_shapes(rng, ctx.count)
    n_sess = len(m)
    lo, hi = ctx.time_slice()
    if ctx.chunk == ctx.n_chunks - 1:
        hi = hi - np.timedelta64(4, "h")  # sessions end inside the period
    start = profile_times(rng, lo, hi, n_sess, SESSION_PROFILE)
    day = to_days(start, ctx)
    subs, titles = ctx.table("subscribers"), ctx.table("titles")
    who = _subscriber_choice(ctx, subs).draw(rng, np.zeros(n_sess, dtype=np.int64), day)
    what = _titles_by_day(ctx, rng, titles, day)
    device = AliasTable(_DEVICE_P).draw(rng, n_sess)
    country = subs["country"].to_numpy(zero_copy_only=False)[who]
    abroad = rng.random(n_sess) < 0.02
    country = np.where(
        abroad, np.array(COUNTRIES, dtype=object)[rng.integers(0, len(COUNTRIES), n_sess)], country
    )
    length_s = titles["duration_min"].to_numpy()[what].astype(np.int64) * 60
    ev = _events(rng, end_frac, start_frac, m, complete, start, length_s)
    n = ctx.count
    by_time = np.argsort(ev["event_time"][:n], kind="stable")  # the chunk's events, ids in time order
    ev = {k: v[:n][by_time] for k, v in ev.items()}
    sess = ev["session"]
    event_time = ev["event_time"]
    ingest_time = event_time + _delays(rng, device[sess])
    table = pa.table({
        "event_id": np.arange(ctx.start + 1, ctx.start + n + 1, dtype=np.int64),
        "subscriber_id": subs["subscriber_id"].to_numpy()[who[sess]],
        "title_id": titles["title_id"].to_numpy()[what[sess]],
        "event_time": event_time,
        "ingest_time": ingest_time,
        "event_type": take_strings(EVENT_TYPES, ev["event_type"]),
        "position_sec": ev["position_sec"].astype(np.int32),
        "watch_seconds": ev["watch_seconds"].astype(np.int32),
        "device": take_strings(DEVICES, device[sess]),
        "country": pa.array(country[sess], pa.string()),
    })  # fmt: skip
    arrival = np.argsort(ingest_time, kind="stable")  # rows in the order the pipeline received them
    return {"viewing_events": table.take(pa.array(arrival))}


def _session_shapes(rng: np.random.Generator, count: int) -> tuple[np.ndarray, ...]:
    """Enough sessions for ``count`` events: segment end positions and start position as fractions of
    the running time, number of segments, and whether the viewer reached the end."""
    cand = count // 2 + 1  # every session has at least 2 events
    m = rng.choice(_MAX_SEGMENTS, cand, p=_SEGMENTS_P) + 1
    start = np.where(rng.random(cand) < 0.65, 0.0, rng.uniform(0, 0.85, cand))
    seg = np.clip(lognormal(rng, 0.35, 0.8, (cand, _MAX_SEGMENTS)), 0.004, None)
    pos = start[:, None] + np.cumsum(seg, axis=1)
    reached = pos >= 1.0
    first_end = np.where(reached.any(axis=1), reached.argmax(axis=1) + 1, _MAX_SEGMENTS)
    complete = first_end <= m
    m = np.minimum(m, first_end)
    n_sess = int(np.searchsorted(np.cumsum(2 * m), count)) + 1
    return pos[:n_sess], start[:n_sess], m[:n_sess], complete[:n_sess]


def _events(
    rng: np.random.Generator,
    end_frac: np.ndarray,
    start_frac: np.ndarray,
    m: np.ndarray,
    complete: np.ndarray,
    start: np.ndarray,
    length_s: np.ndarray,
) -> dict[str, np.ndarray]:
    """Flatten sessions into events in session order: type, time, position and seconds watched."""
    n_sess = len(m)
    first = (start_frac * length_s).astype(np.int64)
    ends = np.minimum(end_frac * length_s[:, None], length_s[:, None]).astype(np.int64)
    final = np.arange(n_sess), m - 1
    ends[final] = np.where(complete, length_s, ends[final])  # a completed title ends exactly at its end
    watched = np.diff(np.concatenate([first[:, None], ends], axis=1), axis=1)  # seconds per segment
    gap_s = np.minimum(lognormal(rng, 45.0, 1.0, (n_sess, _MAX_SEGMENTS)), 1800).astype(np.int64) + 2
    # Event j of a session: even j = a 'play' starting segment j//2; odd j = the end of segment j//2.
    j = np.arange(2 * _MAX_SEGMENTS)
    seg = j // 2
    is_end = j % 2 == 1
    step_s = np.where(is_end, watched[:, seg], np.where(seg > 0, gap_s[:, seg - 1], 0))
    offset_ms = np.cumsum(step_s * 1000 + rng.integers(0, 1000, step_s.shape), axis=1)
    offset_ms -= offset_ms[:, :1]
    last = j[None, :] == 2 * m[:, None] - 1
    kind = np.where(is_end, np.where(last, np.where(complete[:, None], 3, 2), 1), 0)
    pos = np.where(is_end, ends[:, seg], np.where(seg > 0, ends[:, np.maximum(seg - 1, 0)], first[:, None]))
    keep = j[None, :] < 2 * m[:, None]
    sess = np.repeat(np.arange(n_sess), 2 * m)
    return {
        "session": sess,
        "event_time": start[sess] + offset_ms[keep].astype("timedelta64[ms]"),
        "event_type": kind[keep],
        "position_sec": pos[keep],
        "watch_seconds": np.where(is_end, watched[:, seg], 0)[keep],
    }


def _delays(rng: np.random.Generator, device: np.ndarray) -> np.ndarray:
    """Arrival delay: mostly a second or two, ~6% minutes, ~2% hours (phones and tablets offline)."""
    n = len(device)
    u = rng.random(n)
    seconds = lognormal(rng, 1_500.0, 0.8, n)
    minutes = np.minimum(lognormal(rng, 4 * 60_000.0, 1.0, n), 59 * 60_000)
    hours = rng.uniform(1, 12, n) * 3_600_000
    portable = (device == DEVICES.index("mobile")) | (device == DEVICES.index("tablet"))
    ms = np.where(u < 0.92, seconds, np.where((u > 0.975) & portable, hours * 1.0, minutes))
    return ms.astype(np.int64).astype("timedelta64[ms]")


def _subscriber_choice(ctx: ChunkContext, subs: pa.Table) -> StartedChoice:
    """Heavy and light viewers, each watching only after signing up."""
    rng = shared_rng(ctx, "streaming/activity")
    return StartedChoice(np.zeros(subs.num_rows), to_days(subs["signup_date"].to_numpy(), ctx),
                         lognormal(rng, 1.0, 1.1, subs.num_rows))  # fmt: skip


def _titles_by_day(
    ctx: ChunkContext, rng: np.random.Generator, titles: pa.Table, day: np.ndarray
) -> np.ndarray:
    """A title per session: Zipf popularity × the genre's month × a launch boost, never before added."""
    base = zipf_weights(shared_rng(ctx, "streaming/popularity"), titles.num_rows, 0.8)
    genre = _genre_codes(titles)
    added = to_days(titles["added_date"].to_numpy(), ctx)
    p0 = np.datetime64(ctx.scale.period_start, "D")
    out = np.empty(len(day), dtype=np.int64)
    for d in np.unique(day):
        rows = np.flatnonzero(day == d)
        month = int((p0 + np.timedelta64(int(d), "D")).astype("datetime64[M]").astype(np.int64) % 12)
        age = d - added
        w = base * GENRE_SEASON[month, genre] * (age >= 0) * (1.0 + 6.0 * np.exp(-np.maximum(age, 0) / 12.0))
        cum = np.cumsum(w)
        out[rows] = np.minimum(
            np.searchsorted(cum, rng.random(len(rows)) * cum[-1], side="right"), len(w) - 1
        )
    return out


def _genre_codes(titles: pa.Table) -> np.ndarray:
    lookup = pa.array(GENRES, pa.string())
    return pc.index_in(titles["primary_genre"], lookup).to_numpy().astype(np.int64)
