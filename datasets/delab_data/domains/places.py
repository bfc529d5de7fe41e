"""What the food, streaming and CDC domains share: the period, the rides domain's cities and zones."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..context import ChunkContext, chunk_seed
from ..sampling import GroupedAlias, take_strings


def shared_rng(ctx: ChunkContext, purpose: str) -> np.random.Generator:
    """A generator equal in every chunk (for fixed traits such as popularity), unlike ``ctx.rng``."""
    return np.random.default_rng(chunk_seed(ctx.seed, f"shared/{purpose}", 0))


def period_bounds(ctx: ChunkContext) -> tuple[np.datetime64, np.datetime64]:
    """First day of the period and the day after its last (datetime64[D])."""
    p0 = np.datetime64(ctx.scale.period_start, "D")
    return p0, p0 + np.timedelta64(ctx.scale.period_days, "D")


def to_days(values: np.ndarray, ctx: ChunkContext) -> np.ndarray:
    """Whole days since the period's first day (negative before it) of dates or timestamps."""
    p0 = np.datetime64(ctx.scale.period_start, "D")
    return (np.asarray(values).astype("datetime64[D]") - p0).astype(np.int64)


def days_between(rng: np.random.Generator, n: int, first: np.datetime64, last: np.datetime64) -> np.ndarray:
    """n uniformly drawn days (datetime64[D]) in [first, last]."""
    first = np.datetime64(first, "D")
    span = int((np.datetime64(last, "D") - first).astype(np.int64)) + 1
    return first + rng.integers(0, span, n).astype("timedelta64[D]")


def start_days(
    ctx: ChunkContext, rng: np.random.Generator, groups: np.ndarray, years_before: float, in_period: float
) -> np.ndarray:
    """Sign-up (or opening) days: a share ``in_period`` during the period, the rest in the years before.

    The first entity of every group always starts before the period, so each city has one from day one.
    """
    p0, p_end = period_bounds(ctx)
    n = len(groups)
    before = days_between(
        rng, n, p0 - np.timedelta64(int(365 * years_before), "D"), p0 - np.timedelta64(1, "D")
    )
    during = days_between(rng, n, p0, p_end - np.timedelta64(7, "D"))
    late = rng.random(n) < in_period
    _, first_of_group = np.unique(groups, return_index=True)
    late[first_of_group] = False
    return np.where(late, during, before)


class CityMap:
    """The cities (integer codes, weighted by population) and the zones inside each."""

    def __init__(self, cities: pa.Table, zones: pa.Table) -> None:
        self.city_names = pa.array(cities["city"].to_pylist(), pa.string())
        pop = cities["population"].to_numpy().astype(np.float64) ** 0.8
        self.city_p = pop / pop.sum()
        self.zone_id = zones["zone_id"].to_numpy()
        self.zone_lat = zones["lat"].to_numpy()
        self.zone_lon = zones["lon"].to_numpy()
        self.zone_city = self.code_of(zones["city"])
        airport = zones["is_airport"].to_numpy(zero_copy_only=False)
        n = len(self.city_names)
        self._all = GroupedAlias(self.zone_city, np.ones(len(self.zone_id)), n)
        self._homes = GroupedAlias(self.zone_city, np.where(airport, 0.0, 1.0), n)

    def code_of(self, names: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Integer codes of city names."""
        return pc.index_in(names, self.city_names).to_numpy(zero_copy_only=False).astype(np.int64)

    def draw_cities(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n city codes weighted by population; the first ones cover every city once."""
        city = rng.choice(len(self.city_names), n, p=self.city_p)
        k = min(n, len(self.city_names))
        city[:k] = np.arange(k)
        return city

    def names(self, codes: np.ndarray) -> pa.Array:
        """City names of codes."""
        return take_strings(self.city_names, codes)

    def draw_zone_rows(self, rng: np.random.Generator, city: np.ndarray, airports: bool) -> np.ndarray:
        """A zone (row index) inside each given city; airport zones only when ``airports``."""
        return (self._all if airports else self._homes).draw(rng, city)
