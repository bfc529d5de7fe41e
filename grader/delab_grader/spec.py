"""How a question is compared: the options an author passes to ``answer()`` in the solution notebook."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

QID_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
NAME_MODES = ("exact", "case", "position")


class SpecError(ValueError):
    """An ``answer()`` option an author got wrong; the message names it."""


@dataclass(frozen=True)
class Spec:
    """Comparison options of one question.

    ordered: row/element order matters (default: False for tables, True for lists).
    rtol, atol: float tolerance. names: column names must match "exact"ly, up to "case" and
    surrounding spaces, or only by "position". column_order: column order matters. keys: columns
    identifying a row (rows are matched on them). columns: compare only these columns.
    checks: custom checks (see :mod:`delab_grader.checks`). parts: partial credit, name -> list of
    columns (tables) or keys (dicts), or name -> {"columns": [...], "weight": w}.
    """

    ordered: bool | None = None
    rtol: float = 1e-6
    atol: float = 1e-9
    names: str = "case"
    column_order: bool = False
    keys: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form, as stored with a reference."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Spec:
        """Inverse of :meth:`to_json` (also validates)."""
        return make_spec(**data)

    def ordered_for(self, kind: str) -> bool:
        """Whether order matters for an answer of ``kind`` ("table" or "list")."""
        return self.ordered if self.ordered is not None else kind == "list"


def _names(value: Any, option: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not all(isinstance(v, str) for v in value):
        raise SpecError(f"answer(..., {option}=...) takes a column name or a list of names, got {value!r}")
    return tuple(value)


def _parts(value: Any) -> dict[str, dict[str, Any]]:
    if not value:
        return {}
    if not isinstance(value, dict):
        raise SpecError("answer(..., parts=...) takes a dict: part name -> list of columns/keys")
    parts = {}
    for name, part in value.items():
        part = part if isinstance(part, dict) else {"columns": part}
        weight = part.get("weight", 1)
        if not isinstance(weight, int | float) or weight <= 0:
            raise SpecError(f"part {name!r}: weight must be a positive number, got {weight!r}")
        parts[str(name)] = {
            "columns": list(_names(part.get("columns"), f"parts[{name!r}]")),
            "weight": weight,
        }
    return parts


def make_spec(**options: Any) -> Spec:
    """A validated Spec from ``answer()`` keyword options; unknown options raise SpecError."""
    known = set(Spec.__dataclass_fields__)
    unknown = sorted(set(options) - known)
    if unknown:
        raise SpecError(f"unknown answer() option(s) {unknown}; known: {sorted(known)}")
    names = options.get("names", "case")
    if names not in NAME_MODES:
        raise SpecError(f"answer(..., names=...) must be one of {NAME_MODES}, got {names!r}")
    for tol in ("rtol", "atol"):
        if not isinstance(options.get(tol, 0.0), int | float) or options.get(tol, 0.0) < 0:
            raise SpecError(f"answer(..., {tol}=...) must be a non-negative number")
    ordered = options.get("ordered")
    if ordered is not None and not isinstance(ordered, bool):
        raise SpecError("answer(..., ordered=...) must be True, False or None")
    return Spec(
        ordered=ordered,
        rtol=float(options.get("rtol", 1e-6)),
        atol=float(options.get("atol", 1e-9)),
        names=names,
        column_order=bool(options.get("column_order", False)),
        keys=_names(options.get("keys"), "keys"),
        columns=_names(options.get("columns"), "columns"),
        checks=_names(options.get("checks"), "checks"),
        parts=_parts(options.get("parts")),
    )


def check_qid(qid: Any) -> str:
    """``qid`` if it is a valid question id, else SpecError."""
    if not isinstance(qid, str) or not QID_PATTERN.match(qid):
        raise SpecError(f"question id {qid!r} must be a short name of letters, digits, '_', '.', '-'")
    return qid
