"""What a notebook imports: ``answer()`` records an answer as plain data, ``check()`` reports.

    from delab_grader.student import answer, check
    answer("q2_top_drivers", result, keys=["driver_id"], rtol=1e-6)
    check()          # or check("q2_top_drivers")

``answer`` writes the export to the folder named by ``DELAB_GRADER_EXPORTS`` (set by the grader), or
to a private temporary folder when a student runs the notebook in JupyterLab, then runs the visible
checks at once. Hidden checks (comparison with the reference answer) run only at grading.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from delab_grader.artifacts import describe_path, duckdb_table, sql_table
from delab_grader.checks import CheckResult, run_checks
from delab_grader.exports import ExportError, read_export, write_export
from delab_grader.spec import make_spec

__all__ = ["answer", "check", "describe_path", "duckdb_table", "sql_table"]

EXPORTS_ENV = "DELAB_GRADER_EXPORTS"
_recorded: dict[str, dict[str, Any]] = {}
_scratch: list[Path] = []
_ARTICLE = {"table": "a table", "value": "a value", "artifact": "an artifact"}


def exports_dir() -> Path:
    """Where answers go: ``$DELAB_GRADER_EXPORTS``, else one temporary folder per kernel."""
    env = os.environ.get(EXPORTS_ENV)
    if env:
        return Path(env)
    if not _scratch:
        _scratch.append(Path(tempfile.mkdtemp(prefix="delab-answers-")))
    return _scratch[0]


def _visible_checks(qid: str, spec: Any) -> list[CheckResult]:
    export = read_export(exports_dir(), qid)
    if export is None:
        raise ExportError(f"the answer to {qid!r} was not written")
    wanted = [f"has_columns:{','.join(spec.columns)}"] if spec.columns and export.table is not None else []
    return run_checks(export, [*wanted, *spec.checks])


def _hidden_count(spec: Any) -> int:
    return max(1, len(spec.parts))


def _describe(meta: dict[str, Any]) -> str:
    if meta.get("rows") is not None:
        return f"{_ARTICLE[meta['kind']]} of {meta['rows']} rows x {len(meta['columns'])} columns"
    return _ARTICLE[meta["kind"]]


def answer(qid: str, value: Any, **options: Any) -> None:
    """Record ``value`` as the answer to ``qid`` and run its visible checks (AssertionError if one fails).

    Options say how it is compared with the reference: ordered, rtol, atol, names, column_order, keys,
    columns, checks, parts (see :class:`delab_grader.spec.Spec`).
    """
    spec = make_spec(**options)
    try:
        meta = write_export(exports_dir(), qid, value, spec)
        results = _visible_checks(qid, spec)
    except ExportError as exc:
        _recorded[qid] = {"error": str(exc), "hidden": _hidden_count(spec)}
        raise ExportError(f"{qid}: {exc}") from None
    failed = [r for r in results if not r.ok]
    _recorded[qid] = {"meta": meta, "failed": failed, "passed": len(results) - len(failed)}
    _recorded[qid]["hidden"] = _hidden_count(spec)
    print(_line(qid))
    if failed:
        raise AssertionError("; ".join(f"{r.name}: {r.message}" for r in failed))


def _line(qid: str) -> str:
    rec = _recorded[qid]
    if "error" in rec:
        return f"[FAIL] {qid}: {rec['error']}"
    hidden = f"{rec['hidden']} hidden check(s) at grading"
    if rec["failed"]:
        problems = "; ".join(f"{r.name}: {r.message}" for r in rec["failed"])
        return f"[FAIL] {qid}: {problems} ({hidden})"
    visible = f"{rec['passed']} visible check(s) passed" if rec["passed"] else "no visible checks"
    return f"[ok]   {qid}: recorded {_describe(rec['meta'])}; {visible}; {hidden}"


def check(qid: str | None = None) -> bool:
    """Print pass/fail of the visible checks of every recorded answer (or of ``qid``); True if all pass."""
    qids = [qid] if qid else sorted(_recorded)
    if not qids:
        print("No answers recorded yet: run the cells that call answer(...).")
        return False
    ok = True
    for q in qids:
        if q not in _recorded:
            print(f"[----] {q}: not answered yet; run its test cell")
            ok = False
            continue
        print(_line(q))
        ok = ok and "error" not in _recorded[q] and not _recorded[q]["failed"]
    hidden = sum(_recorded[q]["hidden"] for q in qids if q in _recorded)
    print(f"{hidden} hidden check(s) will compare your answers with the reference answers at grading.")
    return ok
