"""Row generation for the streaming catalogue and subscribers (declared in :mod:`streaming`)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..context import ChunkContext
from ..sampling import AliasTable, take_strings
from ..scales import Scale
from .places import days_between, period_bounds, start_days

TITLE_TYPES = ("movie", "series")
GENRES = ("drama", "comedy", "action", "thriller", "documentary", "romance", "sci-fi", "horror",
          "animation", "crime", "family", "fantasy", "reality", "anime")  # fmt: skip
_GENRE_SHARE = (0.16, 0.14, 0.1, 0.09, 0.07, 0.06, 0.06, 0.06, 0.05, 0.06, 0.04, 0.04, 0.04, 0.03)
#: Viewing multiplier of each genre by calendar month (rows: January…December): genres go in and out of
#: fashion, so "top genres by month" differs from month to month (the period spans January to April).
GENRE_SEASON = np.ones((12, len(GENRES)))
for _month, _boosts in {
    0: {"documentary": 1.8, "drama": 1.2, "thriller": 1.3},  # January: resolutions and long nights
    1: {"romance": 3.0, "comedy": 1.4, "drama": 0.8},  # February: Valentine's
    2: {"sci-fi": 2.6, "action": 1.4, "anime": 1.6},  # March: a blockbuster sci-fi season
    3: {"horror": 2.4, "crime": 1.6, "family": 1.5},  # April: spring break
}.items():
    for _genre, _factor in _boosts.items():
        GENRE_SEASON[_month, GENRES.index(_genre)] = _factor
MATURITY_RATINGS = ("G", "PG", "PG-13", "R", "TV-MA")
LANGUAGES = ("en", "es", "ko", "ja", "fr", "de", "hi", "pt")
_LANGUAGE_SHARE = (0.62, 0.1, 0.08, 0.07, 0.05, 0.03, 0.03, 0.02)
COUNTRIES = ("US", "GB", "CA", "DE", "FR", "ES", "BR", "MX", "IN", "JP", "KR", "AU")
_COUNTRY_SHARE = (0.34, 0.09, 0.06, 0.08, 0.07, 0.05, 0.09, 0.06, 0.06, 0.04, 0.03, 0.03)
PLANS = ("basic", "standard", "premium")
DEVICES = ("tv", "mobile", "web", "tablet")
EVENT_TYPES = ("play", "pause", "stop", "complete")
_TITLE_ADJ = ("Silent", "Last", "Broken", "Golden", "Hidden", "Midnight", "Crimson", "Lost", "Wild",
              "Quiet", "Electric", "Frozen", "Secret", "Endless", "Burning", "Distant")  # fmt: skip
_TITLE_NOUN = ("Harbor", "Kingdom", "Signal", "Garden", "River", "Empire", "Detective", "Orbit",
               "Summer", "Witness", "Horizon", "Letters", "Game", "Island", "Code", "Season", "Storm",
               "Dynasty")  # fmt: skip
_TITLE_PLACE = ("Tokyo", "the North", "Mars", "Paris", "the Valley", "Seoul", "the Deep", "Lisbon")


def n_titles(s: Scale) -> int:
    return max(300, s.viewing_events // 250)


def n_subscribers(s: Scale) -> int:
    return max(800, s.viewing_events // 25)


def make_dimensions(ctx: ChunkContext) -> dict[str, pa.Table]:
    """The title catalogue and the subscriber accounts."""
    return {"titles": _titles(ctx), "subscribers": _subscribers(ctx)}


def _titles(ctx: ChunkContext) -> pa.Table:
    rng = ctx.rng("titles")
    n = n_titles(ctx.scale)
    series = rng.random(n) < 0.35
    genre = AliasTable(_GENRE_SHARE).draw(rng, (n, 3))
    n_genres = rng.choice(3, n, p=(0.4, 0.4, 0.2)) + 1
    names = np.array(GENRES, dtype=object)[genre]
    dup = (genre[:, 1] == genre[:, 0]) | (n_genres < 2)
    names[:, 1] = np.where(dup, "", names[:, 1])
    names[:, 2] = np.where((genre[:, 2] == genre[:, 0]) | (genre[:, 2] == genre[:, 1]) | (n_genres < 3),
                           "", names[:, 2])  # fmt: skip
    genres = pc.utf8_rtrim(pc.binary_join_element_wise(*(pa.array(names[:, j]) for j in range(3)), "|"), "|")
    genres = pc.replace_substring(genres, "||", "|")
    p0, p_end = period_bounds(ctx)
    added = np.where(
        rng.random(n) < 0.06,
        days_between(rng, n, p0, p_end - np.timedelta64(14, "D")),
        days_between(rng, n, p0 - np.timedelta64(5 * 365, "D"), p0 - np.timedelta64(1, "D")),
    )
    release = np.minimum(added.astype("datetime64[Y]").astype(np.int64) + 1970,
                         2025 - np.minimum(rng.exponential(6, n), 60).astype(np.int64))  # fmt: skip
    return pa.table({
        "title_id": np.arange(1, n + 1, dtype=np.int64),
        "title": _title_names(rng, n),
        "type": take_strings(TITLE_TYPES, series.astype(np.int64)),
        "genres": genres,
        "primary_genre": take_strings(GENRES, genre[:, 0]),
        "release_year": release.astype(np.int32),
        "duration_min": np.where(series, rng.normal(42, 10, n).clip(20, 65),
                                 rng.normal(108, 18, n).clip(75, 180)).astype(np.int32),
        "seasons": pa.array(rng.geometric(0.45, n).astype(np.int32), mask=~series),
        "maturity_rating": take_strings(MATURITY_RATINGS, rng.choice(5, n, p=(0.08, 0.2, 0.32, 0.22, 0.18))),
        "original_language": take_strings(LANGUAGES, AliasTable(_LANGUAGE_SHARE).draw(rng, n)),
        "added_date": added,
    })  # fmt: skip


def _title_names(rng: np.random.Generator, n: int) -> pa.Array:
    """'The Silent Harbor', 'Midnight Garden', 'Letters from Tokyo'… (may repeat)."""
    adj = take_strings(_TITLE_ADJ, rng.integers(0, len(_TITLE_ADJ), n))
    noun = take_strings(_TITLE_NOUN, rng.integers(0, len(_TITLE_NOUN), n))
    place = take_strings(_TITLE_PLACE, rng.integers(0, len(_TITLE_PLACE), n))
    form = rng.integers(0, 3, n)
    the = pc.binary_join_element_wise("The", adj, noun, " ")
    plain = pc.binary_join_element_wise(adj, noun, " ")
    of = pc.binary_join_element_wise(noun, "of", place, " ")
    return pc.if_else(pa.array(form == 0), the, pc.if_else(pa.array(form == 1), plain, of))


def _subscribers(ctx: ChunkContext) -> pa.Table:
    rng = ctx.rng("subscribers")
    n = n_subscribers(ctx.scale)
    country = AliasTable(_COUNTRY_SHARE).draw(rng, n)
    birth = (2025 - rng.normal(36, 12, n).clip(18, 85)).astype(np.int32)
    return pa.table({
        "subscriber_id": np.arange(1, n + 1, dtype=np.int64),
        "country": take_strings(COUNTRIES, country),
        "plan": take_strings(PLANS, rng.choice(3, n, p=(0.35, 0.45, 0.2))),
        "signup_date": start_days(ctx, rng, np.zeros(n, dtype=np.int64), 4, 0.15),
        "birth_year": pa.array(birth, mask=rng.random(n) < 0.08),
        "profiles": (rng.choice(5, n, p=(0.35, 0.25, 0.2, 0.12, 0.08)) + 1).astype(np.int32),
    })  # fmt: skip
