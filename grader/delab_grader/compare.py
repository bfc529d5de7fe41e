"""The comparison engine: an exported answer against the reference answer, in the grading process.

Produces a score fraction and messages that teach: row counts, column differences, the first
mismatching rows side by side, the tolerance used, and notes such as "sorted differently but order
does not matter here".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

from delab_grader.checks import run_checks
from delab_grader.exports import Export
from delab_grader.spec import Spec

SHOW_ROWS = 5


@dataclass
class Outcome:
    """Result of grading one question: a fraction of its points, messages and per-part results."""

    fraction: float
    messages: list[str] = field(default_factory=list)
    parts: dict[str, bool] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.fraction >= 1.0


@dataclass
class Diff:
    """Differences found: structural problems fail every part; column mismatches fail their parts."""

    problems: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # value differences, explained
    notes: list[str] = field(default_factory=list)
    bad_columns: set[str] = field(default_factory=set)

    @property
    def messages(self) -> list[str]:
        return self.problems + self.details + self.notes

    def ok(self, columns: list[str] | None = None) -> bool:
        if self.problems:
            return False
        return not (self.bad_columns & set(columns)) if columns else not self.bad_columns


def _tolerance(spec: Spec) -> str:
    return f"tolerance used: rtol={spec.rtol:g}, atol={spec.atol:g}"


# ---------------------------------------------------------------- tables


def _match_columns(expected: list[str], actual: list[str], spec: Spec, diff: Diff) -> dict[str, str]:
    """Map expected column -> the student's column, recording missing/extra/order problems."""
    wanted = list(dict.fromkeys([*spec.keys, *spec.columns])) if spec.columns else expected
    if spec.names == "position":
        if len(actual) != len(expected):
            diff.problems.append(f"expected {len(expected)} columns, your table has {len(actual)}: {actual}")
        return {e: actual[i] for i, e in enumerate(expected) if i < len(actual) and e in wanted}
    norm = (lambda c: c) if spec.names == "exact" else (lambda c: str(c).strip().lower())
    by_norm = {norm(a): a for a in actual}
    mapping = {e: by_norm[norm(e)] for e in wanted if norm(e) in by_norm}
    missing = [e for e in wanted if e not in mapping]
    if missing:
        diff.problems.append(f"missing column(s) {missing}; your table has {actual}")
    extra = [a for a in actual if a not in mapping.values()]
    if extra and not spec.columns:
        diff.problems.append(f"unexpected extra column(s) {extra}; expected exactly {expected}")
    if spec.column_order and [a for a in actual if a in mapping.values()] != list(mapping.values()):
        diff.problems.append(f"columns are in the wrong order: expected {wanted}")
    return mapping


def _normalize(series: Any, numeric: bool) -> Any:
    import pandas as pd

    if numeric:
        return pd.to_numeric(series, errors="coerce").astype("float64")
    if pd.api.types.is_datetime64_any_dtype(series):
        stamps = pd.to_datetime(series, utc=True, errors="coerce")
        return stamps.dt.tz_localize(None).astype(str).astype(object)
    return series.map(lambda v: v if v is None or isinstance(v, str) else _plain_str(v)).astype(object)


def _plain_str(value: Any) -> str | None:
    try:
        if value != value:  # NaN / NaT
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _missing(value: Any) -> bool:
    """None, NaN, NaT or pandas.NA (a missing value of any column type)."""
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # array-like values are never "missing"
        return False


def _same(x: Any, y: Any) -> bool:
    """Equal non-numeric cells: equal values, or both missing (NaN != NaN must not fail a null)."""
    if _missing(x) or _missing(y):
        return _missing(x) and _missing(y)
    return bool(x == y)


def _is_numeric(a: Any, b: Any) -> bool:
    import pandas as pd

    num = pd.api.types.is_numeric_dtype
    return bool(num(a) and num(b))


def _prepare(exp: Any, act: Any, mapping: dict[str, str]) -> tuple[Any, Any, list[str]]:
    """Both frames restricted to the mapped columns, named as expected, values normalised."""
    import pandas as pd

    cols = list(mapping)
    act = act[[mapping[c] for c in cols]].set_axis(cols, axis=1)
    exp = exp[cols]
    numeric = [c for c in cols if _is_numeric(exp[c], act[c])]
    if any(pd.api.types.is_datetime64_any_dtype(exp[c]) for c in cols):
        act = act.copy()
        for c in cols:
            if pd.api.types.is_datetime64_any_dtype(exp[c]):
                act[c] = pd.to_datetime(act[c], errors="coerce")
    norm = {c: (lambda f, c=c: _normalize(f[c], c in numeric)) for c in cols}
    return (
        exp.assign(**{c: fn(exp) for c, fn in norm.items()}),
        act.assign(**{c: fn(act) for c, fn in norm.items()}),
        numeric,
    )


def _mismatch_mask(exp: Any, act: Any, numeric: list[str], spec: Spec) -> Any:
    import numpy as np
    import pandas as pd

    mask = {}
    for c in exp.columns:
        a, b = exp[c].to_numpy(), act[c].to_numpy()
        if c in numeric:
            mask[c] = ~np.isclose(b, a, rtol=spec.rtol, atol=spec.atol, equal_nan=True)
        else:
            mask[c] = np.array([not _same(x, y) for x, y in zip(a, b, strict=True)], dtype=bool)
    return pd.DataFrame(mask, index=exp.index)


def _side_by_side(exp: Any, act: Any, mask: Any, keys: list[str]) -> str:
    import pandas as pd

    rows = mask.any(axis=1)
    cols = [c for c in mask.columns if mask[c].any()]
    shown = {}
    for c in keys:
        shown[c] = exp.loc[rows, c]
    for c in cols:
        shown[f"{c} (yours)"] = act.loc[rows, c]
        shown[f"{c} (expected)"] = exp.loc[rows, c]
    table = pd.DataFrame(shown).head(SHOW_ROWS).apply(_integral)
    return f"{int(rows.sum())} row(s) differ; the first {len(table)}:\n{table.to_string(index=False)}"


def _integral(col: Any) -> Any:
    """Whole-number floats shown as integers (normalisation made every number a float)."""
    values = col.dropna()
    if col.dtype.kind == "f" and len(values) and (values % 1 == 0).all():
        return col.astype("Int64")
    return col


def _sort_key(series: Any) -> Any:
    return series if series.dtype.kind == "f" else series.map(lambda v: "" if v is None else v)


def _sorted(frame: Any, numeric: list[str]) -> Any:
    """Rows sorted by the text columns, then the numeric ones (so near-equal floats rarely reorder)."""
    cols = [c for c in frame.columns if c not in numeric] + [c for c in frame.columns if c in numeric]
    return frame.sort_values(by=cols, kind="mergesort", key=_sort_key)


def _key_strings(frame: Any, keys: list[str], numeric: list[str]) -> Any:
    parts = []
    for k in keys:
        col = frame[k]
        parts.append(col.map(lambda v: _num_key(v)) if k in numeric else col.map(str))
    return parts[0].str.cat(parts[1:], sep="|") if len(parts) > 1 else parts[0]


def _num_key(value: float) -> str:
    return (
        "None" if value != value else (str(int(value)) if float(value).is_integer() else repr(float(value)))
    )


def _align_on_keys(exp: Any, act: Any, keys: list[str], numeric: list[str], diff: Diff) -> tuple[Any, Any]:
    ek, ak = _key_strings(exp, keys, numeric), _key_strings(act, keys, numeric)
    if ak.duplicated().any():
        dups = sorted(set(ak[ak.duplicated()]))[:SHOW_ROWS]
        diff.problems.append(f"key {keys} should identify one row, but these keys repeat: {dups}")
    expected_keys, actual_keys = set(ek), set(ak)
    missing = sorted(expected_keys - actual_keys)
    extra = sorted(actual_keys - expected_keys)
    if missing:
        diff.problems.append(f"{len(missing)} expected row(s) missing, e.g. {keys} = {missing[:SHOW_ROWS]}")
    if extra:
        diff.problems.append(f"{len(extra)} row(s) should not be there, e.g. {keys} = {extra[:SHOW_ROWS]}")
    common = [k for k in ek if k in actual_keys]  # one set, not one per row: keyed tables are large
    exp_i = exp.set_axis(ek).loc[common].reset_index(drop=True)
    act_i = act.set_axis(ak)[~ak.duplicated().to_numpy()].loc[common].reset_index(drop=True)
    return exp_i, act_i


def _align_rows(exp: Any, act: Any, numeric: list[str], spec: Spec, diff: Diff) -> tuple[Any, Any]:
    """Pair the student's rows with the reference rows: by key, by position, or after sorting."""
    if spec.keys and all(k in exp.columns for k in spec.keys):  # a missing key column is reported already
        return _align_on_keys(exp, act, list(spec.keys), numeric, diff)
    n = min(len(exp), len(act))
    if spec.ordered_for("table"):
        return exp.head(n).reset_index(drop=True), act.head(n).reset_index(drop=True)
    exp_s, act_s = _sorted(exp, numeric), _sorted(act, numeric)
    if len(exp) == len(act) and not exp_s.index.equals(act_s.index):
        diff.notes.append(
            "Your rows are sorted differently from the reference, but order does not matter here"
        )
    return exp_s.head(n).reset_index(drop=True), act_s.head(n).reset_index(drop=True)


def _order_hint(exp: Any, act: Any, numeric: list[str], spec: Spec, diff: Diff) -> None:
    if spec.keys or not spec.ordered_for("table") or len(exp) != len(act):
        return
    exp_s = _sorted(exp, numeric).reset_index(drop=True)
    act_s = _sorted(act, numeric).reset_index(drop=True)
    if not _mismatch_mask(exp_s, act_s, numeric, spec).any(axis=None):
        diff.problems.append("You have the right rows, but in the wrong order: order matters here.")


def compare_tables(expected: Any, actual: Any, spec: Spec) -> Diff:
    """Differences between two pandas DataFrames under ``spec``."""
    diff = Diff()
    mapping = _match_columns(list(expected.columns), list(actual.columns), spec, diff)
    if not mapping:
        return diff
    exp, act, numeric = _prepare(expected, actual, mapping)
    if len(exp) != len(act):
        diff.problems.append(f"expected {len(exp)} rows, your table has {len(act)}")
    exp_a, act_a = _align_rows(exp, act, numeric, spec, diff)
    mask = _mismatch_mask(exp_a, act_a, numeric, spec)
    if mask.any(axis=None):
        diff.bad_columns = {c for c in mask.columns if mask[c].any()}
        _order_hint(exp, act, numeric, spec, diff)
        detail = _side_by_side(exp_a, act_a, mask, [k for k in spec.keys if k in mapping])
        tol = f"\n({_tolerance(spec)})" if diff.bad_columns & set(numeric) else ""
        diff.details.append(f"values differ in column(s) {sorted(diff.bad_columns)}. {detail}{tol}")
    diff.bad_columns |= set(spec.columns or expected.columns) - set(mapping)
    return diff


# ---------------------------------------------------------------- values


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int | float):
        return "a number"
    names = {str: "a string", list: "a list", dict: "a dict", type(None): "nothing (None)"}
    return names.get(type(v), "a value")


def _canonical(v: Any) -> tuple[int, Any]:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return (0, v)
    return (1, json.dumps(v, sort_keys=True))


def compare_values(exp: Any, act: Any, spec: Spec, where: str = "answer") -> list[str]:
    """Problems found comparing two JSON values (numbers within tolerance); empty when equal."""
    if _kind(exp) != _kind(act):
        return [f"{where}: expected {_kind(exp)}, got {_kind(act)} ({act!r:.80})"]
    if isinstance(exp, float | int) and not isinstance(exp, bool):
        if math.isclose(act, exp, rel_tol=spec.rtol, abs_tol=spec.atol):
            return []
        return [f"{where}: expected {exp!r}, got {act!r} ({_tolerance(spec)})"]
    if isinstance(exp, dict):
        problems = [f"{where}: missing key(s) {sorted(set(exp) - set(act))}"] if set(exp) - set(act) else []
        if set(act) - set(exp):
            problems.append(f"{where}: unexpected key(s) {sorted(set(act) - set(exp))}")
        for k in exp.keys() & act.keys():
            problems += compare_values(exp[k], act[k], spec, f"{where}[{k!r}]")
        return problems
    if isinstance(exp, list):
        return _compare_lists(exp, act, spec, where)
    return [] if exp == act else [f"{where}: expected {exp!r:.200}, got {act!r:.200}"]


def _compare_lists(exp: list, act: list, spec: Spec, where: str) -> list[str]:
    if len(exp) != len(act):
        return [f"{where}: expected {len(exp)} items, got {len(act)}"]
    ordered = spec.ordered_for("list")
    e, a = (exp, act) if ordered else (sorted(exp, key=_canonical), sorted(act, key=_canonical))
    problems = [
        p
        for i, (x, y) in enumerate(zip(e, a, strict=True))
        for p in compare_values(x, y, spec, f"{where}[{i}]")
    ]
    if ordered and problems and not _compare_lists(exp, act, replace(spec, ordered=False), where):
        return [f"{where}: the right items, but in the wrong order: order matters here"]
    return problems[:SHOW_ROWS]


# ---------------------------------------------------------------- one question


def _diff(expected: Export, actual: Export, spec: Spec) -> tuple[Diff, dict[str, list[str]]]:
    """Whole-answer differences plus, for values with parts, the problems of each dict key."""
    diff = Diff()
    if expected.kind == "artifact" and actual.kind != "artifact":
        what = f"{expected.artifact.get('type')} ({expected.artifact.get('name')})"
        diff.problems.append(f"expected a produced {what}: record it with a Path or duckdb_table/sql_table")
        return diff, {}
    if expected.kind == "artifact" and not actual.artifact.get("exists", False):
        diff.problems.append(f"{actual.artifact.get('name')!r} was not found: did your code create it?")
        return diff, {}
    if expected.table is not None:
        if actual.table is None:
            diff.problems.append(f"expected a table, got {_kind(actual.value)}")
            return diff, {}
        return compare_tables(expected.table, actual.table, spec), {}
    per_key: dict[str, list[str]] = {}
    if isinstance(expected.value, dict) and isinstance(actual.value, dict) and spec.parts:
        per_key = {
            k: compare_values(expected.value[k], actual.value.get(k), spec, f"answer[{k!r}]")
            for k in expected.value
        }
    diff.problems = compare_values(expected.value, actual.value, spec)
    return diff, per_key


def grade_answer(expected: Export, actual: Export, spec: Spec) -> Outcome:
    """Score ``actual`` against ``expected``: parts give partial credit, checks are parts too."""
    diff, per_key = _diff(expected, actual, spec)
    checks = run_checks(actual, spec.checks)
    messages = diff.messages + [f"check {c.name}: {c.message}" for c in checks if not c.ok]
    if not spec.parts:
        ok = diff.ok() and all(c.ok for c in checks)
        return Outcome(1.0 if ok else 0.0, messages or ["correct"])
    parts: dict[str, bool] = {}
    weights: dict[str, float] = {}
    for name, part in spec.parts.items():
        cols = part["columns"]
        parts[name] = (not any(per_key.get(k) for k in cols)) if per_key else diff.ok(cols)
        weights[name] = part["weight"]
    for c in checks:
        parts[f"check {c.name}"], weights[f"check {c.name}"] = c.ok, 1
    fraction = sum(weights[n] for n, ok in parts.items() if ok) / sum(weights.values())
    summary = ", ".join(f"{n}: {'ok' if ok else 'wrong'}" for n, ok in parts.items())
    messages = [f"parts - {summary}", *messages] if fraction < 1 else ["correct", *diff.notes]
    return Outcome(fraction, messages, parts)
