"""Fast, vectorised sampling helpers shared by every domain.

Everything here draws from a numpy ``Generator`` passed in by the caller (never global state) and works
on whole arrays: no per-row Python. Discrete choices use alias tables or quantised lookup tables (one
random number and one gather per draw, also within a group such as "a zone of this city"), skewed
popularity uses Zipf weights or lognormal activity levels, and timestamps come from a piecewise-linear
inverse CDF over hourly bins fed with sorted uniforms, so sorted times need no sort.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrays import dictionary, from_numpy, strings

MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Karen",
    "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sandra", "Mark", "Ashley", "Luis", "Emily",
    "Steven", "Donna", "Andrew", "Michelle", "Kevin", "Carol", "Brian", "Amanda", "Jose", "Melissa",
    "Wei", "Priya", "Ahmed", "Fatima", "Hiroshi", "Yuki", "Olga", "Ivan", "Sofia", "Mateo",
    "Aisha", "Omar", "Chen", "Mei", "Raj", "Ananya", "Kwame", "Amara", "Lucas", "Camila",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Kim", "Patel", "Wang", "Singh", "Chen", "Khan", "Cohen", "Okafor", "Ivanova", "Rossi",
    "Silva", "Tanaka", "Novak", "Muller", "Dubois", "Haddad", "Mensah", "Kowalski", "Larsen", "Murphy",
)  # fmt: skip


# ---------------------------------------------------------------------------------------------- choices
class AliasTable:
    """Walker/Vose alias table: O(1) draws from a fixed discrete distribution.

    Building is O(n) Python (do it once per dimension, not per row); drawing is two uniform arrays and a
    comparison.
    """

    def __init__(self, weights: Sequence[float] | np.ndarray) -> None:
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 1 or len(w) == 0 or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("alias table needs a non-empty 1-d array of non-negative weights")
        self.prob, self.alias = _alias_arrays(w)

    def __len__(self) -> int:
        return len(self.prob)

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` indices (int64) distributed like the weights."""
        x = rng.random(size) * len(self.prob)  # integer part: the slot; fraction: the coin
        idx = x.astype(np.int64)
        return np.where(x - idx < self.prob[idx], idx, self.alias[idx])


def _alias_arrays(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(w)
    scaled = w * (n / w.sum())
    prob = np.ones(n)
    alias = np.arange(n, dtype=np.int64)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s], alias[s] = scaled[s], g
        scaled[g] -= 1.0 - scaled[s]
        (small if scaled[g] < 1.0 else large).append(g)
    return prob, alias


class GroupedAlias:
    """Draw an item *within a given group* (e.g. a zone within the trip's city) with per-item weights."""

    def __init__(
        self,
        groups: np.ndarray,
        weights: np.ndarray,
        n_groups: int | None = None,
        items: np.ndarray | None = None,
    ) -> None:
        """``groups[i]`` / ``weights[i]`` belong to item ``items[i]`` (default ``i``); draws return items."""
        groups = np.asarray(groups, dtype=np.int64)
        weights = np.asarray(weights, dtype=np.float64)
        n_groups = int(groups.max()) + 1 if n_groups is None else n_groups
        self.order = np.argsort(groups, kind="stable")  # items grouped, original order within a group
        self.sizes = np.bincount(groups, minlength=n_groups)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]])
        prob = np.ones(len(groups))
        alias = np.zeros(len(groups), dtype=np.int64)
        for g in np.flatnonzero(self.sizes):
            lo, hi = self.offsets[g], self.offsets[g] + self.sizes[g]
            p, a = _alias_arrays(weights[self.order[lo:hi]])
            prob[lo:hi], alias[lo:hi] = p, a + lo
        self.prob, self.alias = prob, alias
        if items is not None:
            self.order = np.asarray(items)[self.order]

    def draw(self, rng: np.random.Generator, groups: np.ndarray) -> np.ndarray:
        """One item index (into the original item arrays) per entry of ``groups``."""
        x = rng.random(len(groups)) * self.sizes[groups]  # integer part: the slot; fraction: the coin
        slot = x.astype(np.int64)
        pos = self.offsets[groups] + slot
        if self.sizes.min() == 0 and np.any(self.sizes[groups] == 0):
            raise ValueError("asked for an item of a group that has none")
        return self.order[np.where(x - slot < self.prob[pos], pos, self.alias[pos])]


class LookupChoice:
    """Draws from small discrete distributions, optionally one per group, with a single gather.

    Each group's weights are quantised into ``resolution`` slots (error below 1/resolution per item),
    so a draw is one random integer and one table lookup: the fastest way to pick a city, a zone within
    a city or a rating for hundreds of thousands of rows.
    """

    def __init__(self, weights: np.ndarray, groups: np.ndarray | None = None, resolution: int = 4096):
        weights = np.asarray(weights, dtype=np.float64)
        groups = np.zeros(len(weights), np.int64) if groups is None else np.asarray(groups, np.int64)
        self.resolution = resolution
        tables = []
        for g in range(int(groups.max()) + 1):
            items = np.flatnonzero(groups == g)
            tables.append(_quantised(items, weights[items], resolution))
        self.table = np.concatenate(tables)

    def draw(self, rng: np.random.Generator, size: int, groups: np.ndarray | None = None) -> np.ndarray:
        """``size`` item indices; with ``groups`` (one group per draw), items of that group."""
        slot = rng.integers(0, self.resolution, size)
        return self.table[slot if groups is None else groups * self.resolution + slot]


class GroupedPool:
    """Weighted choice of an item within its group, for large pools (drivers or riders of a city).

    Each group gets ``slots`` table entries per item, shared out in proportion to the weights (largest
    remainders), so a draw is one uniform and one lookup; the table is int32 and built without Python
    loops over items. Weights far below the mean get one slot or none.
    """

    def __init__(
        self,
        groups: np.ndarray,
        weights: np.ndarray,
        n_groups: int,
        slots: int = 4,
        items: np.ndarray | None = None,
    ) -> None:
        groups = np.asarray(groups, dtype=np.int64)
        items = np.arange(len(groups)) if items is None else np.asarray(items)
        weights = np.asarray(weights, dtype=np.float64)
        self.res = np.bincount(groups, minlength=n_groups) * slots
        self.offsets = np.cumsum(self.res) - self.res
        parts = []
        for g in range(n_groups):
            members = np.flatnonzero(groups == g)
            if len(members):
                parts.append(_quantised(items[members].astype(np.int32), weights[members], int(self.res[g])))
        self.table = np.concatenate(parts) if parts else np.zeros(0, np.int32)

    def draw(self, rng: np.random.Generator, groups: np.ndarray) -> np.ndarray:
        """One item per entry of ``groups`` (each requested group must have items)."""
        res = self.res[groups]
        if self.res.min() == 0 and np.any(res == 0):
            raise ValueError("asked for an item of a group that has none")
        return self.table[self.offsets[groups] + (rng.random(len(groups)) * res).astype(np.int64)]


def _quantised(items: np.ndarray, weights: np.ndarray, resolution: int) -> np.ndarray:
    if len(items) == 0 or weights.sum() <= 0:
        return np.full(resolution, -1, dtype=np.int64)  # a group without items: never asked for
    scaled = weights / weights.sum() * resolution
    counts = np.floor(scaled).astype(np.int64)
    short = resolution - counts.sum()  # largest remainders get the leftover slots
    counts[_first_largest(scaled - counts, int(short))] += 1
    return np.repeat(items, counts)


def _first_largest(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest values, ties going to the earlier position: what
    ``np.argsort(-values, kind="stable")[:k]`` selects, in O(n) instead of a sort."""
    if not 0 < k < len(values):
        return np.argsort(-values, kind="stable")[:k]
    cut = np.partition(values, len(values) - k)[len(values) - k]  # the k-th largest value
    above = np.flatnonzero(values > cut)
    tied = np.flatnonzero(values == cut)[: k - len(above)]
    return np.concatenate([above, tied])


def stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for non-negative integer keys below 2**32, as 16-bit radix
    passes (several times faster in numpy than a stable sort of int64)."""
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    high = (keys[order] >> 16).astype(np.uint16)
    return order if not high.any() else order[np.argsort(high, kind="stable")]


def zipf_ranks(u: np.ndarray, sizes: np.ndarray | int, s: float = 1.1) -> np.ndarray:
    """0-based ranks in ``[0, size)`` with P(rank r) ∝ (r+1)^-s, from uniforms ``u`` (analytic inverse).

    Uses the continuous approximation of the Zipf CDF, so it costs a couple of powers per draw and needs
    no table: ideal for "a few drivers do many trips" over hundreds of thousands of items.
    """
    sizes = np.asarray(sizes, dtype=np.float64)
    if s == 1.0:
        x = np.exp(u * np.log(sizes + 1.0))
    else:
        a = 1.0 - s
        x = ((np.power(sizes + 1.0, a) - 1.0) * u + 1.0) ** (1.0 / a)
    return np.minimum(x.astype(np.int64) - 1, sizes.astype(np.int64) - 1).clip(0)


def zipf_weights(rng: np.random.Generator, n: int, s: float = 1.0) -> np.ndarray:
    """Popularity weights of ``n`` items (sum 1): Zipf over ranks, ranks shuffled over the items."""
    w = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** s
    w = w[rng.permutation(n)]
    return w / w.sum()


class StartedChoice:
    """Weighted choice of an item within a group *among the items already started* on a given day.

    For customers who order only after they signed up, restaurants that take orders only once open,
    and so on. Items are sorted by (group, start day) once, so each draw is two binary searches on the
    key plus one on the running weight sum. A draw for a group with no started item falls back to any
    item of the group (make sure every group has an item that starts early).
    """

    _GROUP = 1 << 32  # key = group * _GROUP + start day + _DAY0: groups and days never mix
    _DAY0 = 1 << 20

    def __init__(self, groups: np.ndarray, start_days: np.ndarray, weights: np.ndarray) -> None:
        key = np.asarray(groups, dtype=np.int64) * self._GROUP + np.asarray(start_days, np.int64) + self._DAY0
        self.order = np.argsort(key, kind="stable")
        self.keys = key[self.order]
        self.cum = np.concatenate([[0.0], np.cumsum(np.asarray(weights, np.float64)[self.order])])

    def draw(self, rng: np.random.Generator, groups: np.ndarray, days: np.ndarray) -> np.ndarray:
        """One item index (into the original arrays) per (group, day) pair."""
        g = np.asarray(groups, dtype=np.int64) * self._GROUP
        lo = np.searchsorted(self.keys, g, side="left")
        hi = np.searchsorted(self.keys, g + np.asarray(days, np.int64) + self._DAY0, side="right")
        empty = hi <= lo
        hi[empty] = np.searchsorted(self.keys, g[empty] + self._GROUP, side="left")
        if np.any(hi <= lo):
            raise ValueError("asked for an item of a group that has none")
        u = self.cum[lo] + rng.random(len(lo)) * (self.cum[hi] - self.cum[lo])
        pos = np.clip(np.searchsorted(self.cum, u, side="right") - 1, lo, hi - 1)
        return self.order[pos]


def exact_sample(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """Sorted indices of exactly ``round(rate * n)`` of ``n`` rows, without replacement."""
    k = min(n, round(rate * n))
    return np.sort(rng.choice(n, size=k, replace=False)) if k else np.zeros(0, dtype=np.int64)


# --------------------------------------------------------------------------------------------- amounts
def lognormal(rng: np.random.Generator, median: float | np.ndarray, sigma: float, size: int) -> np.ndarray:
    """Lognormal values with the given median (not mean) and log-space spread."""
    return np.exp(rng.standard_normal(size) * sigma) * median


class LognormalTable:
    """Fast lognormal draws: ``resolution`` precomputed quantiles, picked at random and jittered.

    About twice as fast as ``exp(normal)``; the distribution is exact up to the quantile spacing, except
    the far tail beyond the last quantile, which is cut.
    """

    def __init__(self, median: float, sigma: float, resolution: int = 4096) -> None:
        from statistics import NormalDist

        p = (np.arange(resolution + 1) + 0.5) / (resolution + 1)
        z = np.array([NormalDist().inv_cdf(float(q)) for q in p])
        self.edges = median * np.exp(sigma * z)
        self.resolution = resolution

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        x = rng.random(size) * self.resolution
        i = x.astype(np.int64)
        lo = self.edges[i]
        return lo + (x - i) * (self.edges[i + 1] - lo)


def round_cents(x: np.ndarray) -> np.ndarray:
    """Money rounded to cents."""
    return np.round(x, 2)


# ------------------------------------------------------------------------------------------------ time
def profile_times(
    rng: np.random.Generator, lo: np.datetime64, hi: np.datetime64, n: int, profile: np.ndarray
) -> np.ndarray:
    """``n`` sorted timestamps (datetime64[ms]) in ``[lo, hi)`` following a (7, 24) week profile.

    Inverse CDF over the hourly bins covering the interval (partial first/last bins weighted by their
    overlap), fed with sorted uniforms built from exponential spacings: sorted output, no sort.
    """
    lo_ms = np.datetime64(lo, "ms").astype(np.int64)
    hi_ms = np.datetime64(hi, "ms").astype(np.int64)
    if n == 0 or hi_ms <= lo_ms:
        return np.full(n, lo_ms, dtype=np.int64).astype("datetime64[ms]")
    first = lo_ms - lo_ms % MS_PER_HOUR
    edges = np.arange(first, hi_ms + MS_PER_HOUR, MS_PER_HOUR, dtype=np.int64)
    bin_lo = np.maximum(edges[:-1], lo_ms)
    bin_hi = np.minimum(edges[1:], hi_ms)
    hours = edges[:-1] // MS_PER_HOUR
    dow = ((hours // 24) + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    w = profile[dow, hours % 24] * (bin_hi - bin_lo)
    cdf = np.concatenate([[0.0], np.cumsum(w)])
    cdf /= cdf[-1]
    at = np.concatenate([bin_lo, [hi_ms - 1]]).astype(np.float64)  # bins are contiguous: lo .. hi-1
    ms = np.interp(sorted_uniforms(rng, n), cdf, at).astype(np.int64)  # sorted input: interp is linear
    return np.maximum.accumulate(ms).astype("datetime64[ms]")


def sorted_uniforms(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` sorted uniforms on (0, 1), in O(n) (normalised cumulative exponential spacings)."""
    e = np.cumsum(rng.standard_exponential(n + 1))
    return e[:-1] / e[-1]


def uniform_times(rng: np.random.Generator, lo: np.datetime64, hi: np.datetime64, n: int) -> np.ndarray:
    """``n`` unsorted timestamps (datetime64[ms]) uniform in ``[lo, hi)``."""
    lo_ms = np.datetime64(lo, "ms").astype(np.int64)
    span = max(1, int(np.datetime64(hi, "ms").astype(np.int64) - lo_ms))
    return (lo_ms + rng.integers(0, span, n)).astype("datetime64[ms]")


# ----------------------------------------------------------------------------------------- categories
def take_strings(values: Sequence[str] | pa.Array, codes: np.ndarray) -> pa.Array:
    """Category strings for integer codes (fast ``pyarrow.compute.take``)."""
    arr = values if isinstance(values, pa.Array) else _vocabulary(tuple(values))
    return pc.take(arr, from_numpy(codes, pa.int64()))


def categories(values: Sequence[str], codes: np.ndarray) -> pa.DictionaryArray:
    """Category strings for integer codes, dictionary-encoded (cheapest to make and to write)."""
    return dictionary(_vocabulary(tuple(values)), codes)


@lru_cache(maxsize=256)
def _vocabulary(values: tuple[str, ...]) -> pa.Array:
    return strings(values)


def person_names(rng: np.random.Generator, size: int) -> tuple[pa.Array, pa.Array]:
    """(first names, last names) drawn from the built-in lists, last names mildly Zipf-skewed."""
    first, last = person_name_codes(rng, size)
    return take_strings(FIRST_NAMES, first), take_strings(LAST_NAMES, last)


def person_name_codes(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The draws behind :func:`person_names`: positions in ``FIRST_NAMES`` and ``LAST_NAMES``."""
    return rng.integers(0, len(FIRST_NAMES), size), zipf_ranks(rng.random(size), len(LAST_NAMES), 0.6)
