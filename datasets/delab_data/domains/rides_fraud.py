"""Payment fraud: which trips are fraudulent, and the ``payments`` table that carries the label.

The label is learnable but noisy. Fraud is more likely at night, on long (expensive) trips, from
accounts opened in the last few weeks, with a card from another country than the rider's, and comes in
bursts: one account taking several short rides within an hour or so (a velocity feature computed with a
window function picks it up). Legitimate riders show each of these traits too, only less often.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from ..sampling import MS_PER_DAY, lognormal, round_cents, take_strings
from .rides_dims import COUNTRIES, PAYMENT_TYPES

if TYPE_CHECKING:
    from .rides_trips import TripChunk
    from .rides_world import World

SINGLE_RATE = 0.006  # share of trips that are lone fraudulent rides
BURST_RATE = 0.0022  # share of trips that start a fraudulent burst
LEGIT_BURST_RATE = 0.002  # share of trips that start a legitimate burst (friends' night out...)
NEW_ACCOUNT_DAYS = 21
NEW_ACCOUNT_SHARE = 0.45  # share of fraud using a freshly opened account
FOREIGN_CARD = (0.03, 0.4)  # chance of a card from another country: (legitimate, fraud)
MS_PER_MIN = 60_000
_NIGHT_HEAT = np.where((np.arange(24) >= 23) | (np.arange(24) < 5), 4.0, 1.0)  # fraud likes the night


@dataclass
class FraudPlan:
    is_fraud: np.ndarray  # bool per trip
    rider: np.ndarray  # rider rows after fraud rings took over some accounts
    max_duration_ms: np.ndarray  # > 0: burst rides are cut short so they do not overlap


def plan(
    rng: np.random.Generator,
    w: World,
    start: np.ndarray,
    distance: np.ndarray,
    hour: np.ndarray,
    cancelled: np.ndarray,
    rider: np.ndarray,
) -> FraudPlan:
    """Pick fraudulent trips (lone rides and bursts) and legitimate bursts; assign their riders."""
    n = len(start)
    heat = _NIGHT_HEAT[hour]
    risk = heat * distance
    # one uniform per trip decides between: lone fraud | fraud burst start | legit burst start | nothing
    u = rng.random(n)
    p_single = SINGLE_RATE * risk / max(risk.mean(), 1e-9)
    p_burst = BURST_RATE * heat / heat.mean()
    single = (u < p_single) & ~cancelled
    fraud_lead = np.flatnonzero((u >= p_single) & (u < p_single + p_burst))
    legit_lead = np.flatnonzero(u >= 1.0 - LEGIT_BURST_RATE)
    rider = rider.copy()
    max_dur = np.zeros(n, dtype=np.int64)
    leads = np.concatenate([np.flatnonzero(single), fraud_lead])
    fresh = _new_accounts(rng, w, start[leads])
    take = (fresh >= 0) & (rng.random(len(leads)) < NEW_ACCOUNT_SHARE)
    rider[leads[take]] = fresh[take]
    is_fraud = single.copy()
    for lead, fraud in ((fraud_lead, True), (legit_lead, False)):
        members, of, spacing = _bursts(rng, start, lead)
        members_ok = ~is_fraud[members]
        members, of = members[members_ok], of[members_ok]
        rider[members] = rider[lead[of]]
        max_dur[lead] = spacing
        max_dur[members] = spacing[of]
        if fraud:
            is_fraud[lead] = True
            is_fraud[members] = True
    return FraudPlan(is_fraud, rider, max_dur)


def _new_accounts(rng: np.random.Generator, w: World, t_ms: np.ndarray) -> np.ndarray:
    """A rider row whose account was opened in the ``NEW_ACCOUNT_DAYS`` before each time (-1 if none)."""
    sig = w.rider_signup_sorted
    hi = np.searchsorted(sig, t_ms, side="right")
    lo = np.searchsorted(sig, t_ms - NEW_ACCOUNT_DAYS * MS_PER_DAY)
    pick = lo + (rng.random(len(t_ms)) * (hi - lo)).astype(np.int64)
    return np.where(hi > lo, w.rider_by_signup[np.minimum(pick, len(sig) - 1)], -1)


def _bursts(
    rng: np.random.Generator, start: np.ndarray, lead: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Later rides of each burst: the trips starting nearest to lead + j·spacing (j = 1 .. k-1).

    Returns (member rows, index of their lead in ``lead``, spacing in ms per lead).
    """
    n_more = rng.integers(2, 6, len(lead))  # 3 to 6 rides in a burst
    spacing = (rng.uniform(9.0, 18.0, len(lead)) * MS_PER_MIN).astype(np.int64)
    of = np.repeat(np.arange(len(lead)), n_more)
    step = np.arange(len(of)) - np.repeat(np.cumsum(n_more) - n_more, n_more) + 1
    target = start[lead[of]] + step * spacing[of]
    idx = np.minimum(np.searchsorted(start, target), len(start) - 1)
    near = (np.abs(start[idx] - target) < 2 * MS_PER_MIN) & ~np.isin(idx, lead)
    idx, of = idx[near], of[near]
    idx, first = np.unique(idx, return_index=True)
    return idx, of[first], (spacing * 0.5).astype(np.int64)


def payments_table(rng: np.random.Generator, w: World, t: TripChunk, first_unit: int) -> pa.Table:
    """One payment per completed trip, created just after it ends; ids ``first_unit + j + 1``."""
    rows = np.flatnonzero(~t.cancelled)
    m = len(rows)
    rider = t.rider[rows]
    fraud = t.fraud.is_fraud[rows]
    created = t.end_ms[rows] + (lognormal(rng, 15_000.0, 0.8, m)).astype(np.int64)
    home = w.rider_country[rider]
    foreign = rng.random(m) < np.where(fraud, FOREIGN_CARD[1], FOREIGN_CARD[0])
    country = np.where(foreign, (home + rng.integers(1, len(COUNTRIES), m)) % len(COUNTRIES), home)
    rider_id = w.riders.id_of(rider)
    device = rider_id * 2 + (rng.random(m) < 0.08)
    ring = fraud & (rng.random(m) < 0.4)
    device = np.where(ring, 10**12 + rng.integers(0, 150, m), device)
    return pa.table(
        {
            "payment_id": pa.array(first_unit + np.arange(1, m + 1), pa.int64()),
            "trip_id": pa.array(t.ids[rows], pa.int64()),
            "rider_id": pa.array(rider_id, pa.int64()),
            "created_at": pa.array(created.view("datetime64[ms]"), pa.timestamp("ms")),
            "amount": pa.array(round_cents(t.fare[rows] + t.tip[rows]), pa.float64()),
            "currency": take_strings(("USD",), np.zeros(m, dtype=np.int64)),
            "payment_type": take_strings(PAYMENT_TYPES, t.payment[rows]),
            "card_country": take_strings(COUNTRIES, country),
            "account_age_days": pa.array((created - w.riders.first_ms[rider]) // MS_PER_DAY, pa.int64()),
            "device_id": pa.array(device, pa.int64()),
            "is_fraud": pa.array(fraud, pa.bool_()),
        }
    )
