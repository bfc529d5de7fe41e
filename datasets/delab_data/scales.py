"""Dataset sizes: the named presets and explicit row counts."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import date

#: First day covered by every dataset (a Monday) and how many days it spans.
PERIOD_START = date(2025, 1, 6)
PERIOD_DAYS = 91


@dataclass(frozen=True)
class Scale:
    """How much data to make. The three driving counts; each domain derives the rest from them."""

    name: str
    trips: int
    orders: int
    viewing_events: int
    period_start: date = PERIOD_START
    period_days: int = PERIOD_DAYS

    def as_dict(self) -> dict[str, object]:
        """Plain-data form for the manifest."""
        out = asdict(self)
        out["period_start"] = self.period_start.isoformat()
        return out


PRESETS: dict[str, Scale] = {
    "tiny": Scale("tiny", trips=10_000, orders=5_000, viewing_events=20_000),
    "small": Scale("small", trips=1_000_000, orders=300_000, viewing_events=500_000),
    "large": Scale("large", trips=10_000_000, orders=3_000_000, viewing_events=5_000_000),
}

_COUNT = re.compile(r"^\d[\d_]*$")
_PAIR = re.compile(r"^(trips|orders|viewing_events)=(\d[\d_]*)$")


class ScaleError(ValueError):
    """A scale argument that names no preset and no valid row count."""


def parse_scale(text: str) -> Scale:
    """``tiny`` | ``small`` | ``large`` | ``250000`` (trips, others in proportion) | ``trips=…,orders=…``."""
    text = text.strip().lower()
    if text in PRESETS:
        return PRESETS[text]
    if _COUNT.match(text):
        trips = int(text)
        small = PRESETS["small"]
        return _checked(
            Scale(
                f"trips{trips}",
                trips=trips,
                orders=max(1, trips * small.orders // small.trips),
                viewing_events=max(1, trips * small.viewing_events // small.trips),
            )
        )
    counts: dict[str, int] = {}
    for part in filter(None, text.split(",")):
        match = _PAIR.match(part.strip())
        if not match:
            raise ScaleError(_usage(text))
        counts[match.group(1)] = int(match.group(2))
    if not counts:
        raise ScaleError(_usage(text))
    base = parse_scale(str(counts.get("trips", PRESETS["small"].trips)))
    name = "-".join(f"{k}{v}" for k, v in sorted(counts.items()))
    return _checked(replace(base, name=name, **counts))


def _checked(scale: Scale) -> Scale:
    if min(scale.trips, scale.orders, scale.viewing_events) < 100:
        raise ScaleError(f"scale {scale.name!r}: every count must be at least 100")
    return scale


def _usage(text: str) -> str:
    return (
        f"unknown scale {text!r}: use one of {', '.join(PRESETS)}, a trip count such as 250000, "
        "or explicit counts such as trips=200000,orders=50000,viewing_events=80000"
    )
