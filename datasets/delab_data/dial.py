"""The dirty-data dial: how much damage the dirty variant of a dataset carries."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace


@dataclass(frozen=True)
class DirtyRates:
    """Share of rows (0–1) affected by each kind of damage in the dirty variant."""

    nulls: float = 0.02  # a nullable-by-damage column set to null
    duplicates: float = 0.01  # exact copies of a row
    near_duplicates: float = 0.005  # same key, slightly different values
    impossible: float = 0.005  # negative amounts or distances, end before start
    malformed_timestamps: float = 0.005  # unparseable timestamps in CSV / JSON Lines
    spelling: float = 0.05  # category spelled another way ("NYC", "new york")

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    @property
    def is_clean(self) -> bool:
        """True when the dial is at zero: the dirty variant would equal the clean one."""
        return all(v == 0 for v in asdict(self).values())


class DialError(ValueError):
    """A --dirty argument that cannot be read."""


def parse_dial(text: str | None) -> DirtyRates:
    """``default`` | ``none`` | a factor such as ``2`` (twice the defaults) | ``nulls=0.1,spelling=0``."""
    if text is None or text.strip().lower() in ("", "default"):
        return DirtyRates()
    text = text.strip().lower()
    if text in ("none", "off", "clean"):
        return DirtyRates(**{f.name: 0.0 for f in fields(DirtyRates)})
    try:
        factor = float(text)
    except ValueError:
        return _parse_pairs(text)
    base = DirtyRates()
    return _checked(DirtyRates(**{k: v * factor for k, v in base.as_dict().items()}))


def _parse_pairs(text: str) -> DirtyRates:
    names = {f.name for f in fields(DirtyRates)}
    rates = DirtyRates()
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or key not in names:
            raise DialError(
                f"cannot read dirty-data setting {part!r}: use 'default', 'none', a factor such as 2, "
                f"or name=rate pairs with names from {', '.join(sorted(names))}"
            )
        try:
            rates = replace(rates, **{key: float(value)})
        except ValueError:
            raise DialError(f"dirty-data rate {part!r} is not a number") from None
    return _checked(rates)


def _checked(rates: DirtyRates) -> DirtyRates:
    bad = {k: v for k, v in rates.as_dict().items() if not 0 <= v <= 0.5}
    if bad:
        raise DialError(f"dirty-data rates must lie between 0 and 0.5, got {bad}")
    return rates
