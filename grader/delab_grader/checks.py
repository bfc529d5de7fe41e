"""Custom checks on one answer ("table has a primary key", ...): visible, so ``check()`` runs them too.

A check is named in ``answer(..., checks=[...])`` as ``"name"`` or ``"name:arg"``; ``"py:module.func"``
calls an author's function ``func(export) -> str | None`` (None means it passed).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from delab_grader.exports import Export

CheckFn = Callable[[Export, str], "str | None"]


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: a name, pass/fail and a message for the student."""

    name: str
    ok: bool
    message: str = ""


def _columns(export: Export, arg: str) -> tuple[list[str], str | None]:
    if export.table is None:
        return [], "the answer is not a table"
    wanted = [c.strip() for c in arg.split(",") if c.strip()] if arg else list(export.table.columns)
    lookup = {str(c).strip().lower(): c for c in export.table.columns}
    missing = [c for c in wanted if c.lower() not in lookup]
    if missing:
        return [], f"missing column(s) {missing}; the table has {list(export.table.columns)}"
    return [lookup[c.lower()] for c in wanted], None


def has_columns(export: Export, arg: str) -> str | None:
    """The table has these columns (names compared case-insensitively)."""
    return _columns(export, arg)[1]


def non_empty(export: Export, arg: str) -> str | None:
    """The table has at least one row."""
    if export.table is None:
        return "the answer is not a table"
    return None if len(export.table) else "the table is empty"


def unique(export: Export, arg: str) -> str | None:
    """No two rows share the values of these columns."""
    cols, problem = _columns(export, arg)
    if problem:
        return problem
    dup = int(export.table.duplicated(subset=cols).sum())
    return f"{dup} row(s) repeat a value of {cols} that should be unique" if dup else None


def not_null(export: Export, arg: str) -> str | None:
    """These columns have no missing values."""
    cols, problem = _columns(export, arg)
    if problem:
        return problem
    nulls = {c: int(n) for c, n in export.table[cols].isna().sum().items() if n}
    return f"missing values in {nulls}" if nulls else None


def primary_key(export: Export, arg: str) -> str | None:
    """The database table declares a primary key (on exactly these columns when given)."""
    if export.kind != "artifact" or "primary_key" not in export.artifact:
        return "the answer is not a database table (record it with duckdb_table(...) or sql_table(...))"
    declared = [c.lower() for c in export.artifact.get("primary_key") or []]
    if not declared:
        return f"table {export.artifact.get('name')!r} has no PRIMARY KEY constraint"
    wanted = [c.strip().lower() for c in arg.split(",") if c.strip()]
    if wanted and sorted(wanted) != sorted(declared):
        return f"the primary key is on {declared}, expected {wanted}"
    return None


CHECKS: dict[str, CheckFn] = {
    "has_columns": has_columns,
    "non_empty": non_empty,
    "unique": unique,
    "not_null": not_null,
    "primary_key": primary_key,
}


def resolve(check: str) -> tuple[CheckFn, str]:
    """The function and argument named by a check string, or ValueError."""
    name, _, arg = check.partition(":")
    if name == "py":
        module, _, func = arg.rpartition(".")
        return getattr(importlib.import_module(module), func), ""
    if name not in CHECKS:
        raise ValueError(f"unknown check {name!r}; known: {sorted(CHECKS)} or 'py:module.function'")
    return CHECKS[name], arg


def run_check(export: Export, check: str) -> CheckResult:
    """Run one check; an exception in a check is reported as its failure, never raised."""
    try:
        fn, arg = resolve(check)
        problem = fn(export, arg)
    except Exception as exc:
        problem = f"the check could not run ({type(exc).__name__}: {exc})"
    return CheckResult(check, problem is None, problem or "")


def run_checks(export: Export, checks: tuple[str, ...] | list[str]) -> list[CheckResult]:
    """Every check of a question, in order."""
    return [run_check(export, c) for c in checks]
