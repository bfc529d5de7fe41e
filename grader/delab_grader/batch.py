"""Batch grading: one process, a pool of pre-started kernels, results recorded one at a time.

Resumable: each submission's grading key (its files, the source, the references, the grader version)
is stored with its result; a re-run grades only submissions that are new or changed. A submission
whose grading fails unexpectedly gets no marker and is retried next time; nothing recorded is lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from tqdm import tqdm

from delab_grader import sandbox
from delab_grader.course import NOTEBOOK, Course
from delab_grader.execute import (
    DEFAULT_TIMEOUTS,
    ExecutionResult,
    KernelPool,
    Timeouts,
    clean_scratch,
    kernel_env,
)
from delab_grader.gradebook import ensure_assignment, open_gradebook, record
from delab_grader.grading import SubmissionResult, grade_submission, submission_key
from delab_grader.notebook import Source, load_source
from delab_grader.references import References, ensure_references
from delab_grader.release import write_atomic

RESULT = "delab_result.json"
LOG = "grading-log.jsonl"


@dataclass
class BatchOptions:
    """How a batch runs."""

    workers: int = max(1, os.cpu_count() or 1)
    timeouts: Timeouts = DEFAULT_TIMEOUTS
    students: list[str] | None = None  # None: everyone with a submission
    progress: bool = True


@dataclass
class BatchSummary:
    """What a batch did."""

    week: str
    graded: list[SubmissionResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """Human-readable summary, one line per student plus their issues."""
        counts = f"graded {len(self.graded)}, unchanged {len(self.skipped)}, failed {len(self.failed)}"
        out = [f"{self.week}: {counts}"]
        for r in sorted(self.graded, key=lambda r: r.student):
            extra = f" + {r.bonus:g} bonus" if r.bonus else ""
            out.append(f"  {r.student}: {r.score:g}/{r.max_score:g}{extra}")
            out += [f"    ! {issue}" for issue in r.issues]
        out += [f"  {s}: NOT GRADED ({why}); it will be retried next run" for s, why in self.failed.items()]
        return out


def discover(course: Course, week: str, students: list[str] | None) -> tuple[dict[str, Path], dict[str, str]]:
    """Submission folders of ``week`` by student, and students asked for who have none."""
    root = course.submitted()
    found = {p.parent.name: p for p in root.glob(f"*/{week}") if p.is_dir()} if root.is_dir() else {}
    if students is None:
        return dict(sorted(found.items())), {}
    missing = {s: "no submission folder" for s in students if s not in found}
    return {s: found[s] for s in students if s in found}, missing


def stored_result(course: Course, student: str, week: str) -> SubmissionResult | None:
    """The recorded result of a submission, if any."""
    path = course.autograded(student, week) / RESULT
    try:
        return SubmissionResult.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def save(course: Course, gb: Gradebook, result: SubmissionResult, run: ExecutionResult | None) -> None:
    """Write the executed notebook, record grades, then the result marker (in that order)."""
    folder = course.autograded(result.student, result.week)
    folder.mkdir(parents=True, exist_ok=True)
    if run is not None:
        write_atomic(folder / NOTEBOOK, nbformat.writes(run.nb))
    record(gb, result)
    payload = result.to_json()
    write_atomic(folder / RESULT, json.dumps(payload, indent=1))
    with open(course.state / LOG, "a") as log:
        stamp = dt.datetime.now(dt.UTC).isoformat()
        log.write(json.dumps({"recorded": stamp, **payload}) + "\n")


def _save_or_explain(
    course: Course, gb: Gradebook, result: SubmissionResult, run: ExecutionResult | None
) -> str:
    """Save a result; a failure to record (e.g. a database error) is returned, never raised."""
    try:
        save(course, gb, result, run)
    except Exception as exc:
        gb.db.rollback()
        return f"could not record the grades ({type(exc).__name__}: {exc})"
    return ""


Context = tuple[Source, References, KernelPool, Timeouts]
Outcome = tuple[str, SubmissionResult | None, ExecutionResult | None, str]


async def _grade_one(student: str, folder: Path, key: str, ctx: Context, gate: asyncio.Semaphore) -> Outcome:
    source, refs, pool, timeouts = ctx
    async with gate:
        kernel = None
        try:
            kernel = await pool.acquire()
            result = SubmissionResult(student, refs.week, key)
            return student, *await grade_submission(folder, result, source, refs, kernel, timeouts), ""
        except Exception as exc:  # an unexpected failure affects this submission only
            return student, None, None, f"{type(exc).__name__}: {exc}"
        finally:
            if kernel is not None:
                clean_scratch(kernel)


def _todo(course: Course, week: str, found: dict[str, Path], source: Source, refs: References) -> dict:
    todo = {}
    for student, folder in found.items():
        key = submission_key(folder, source, refs)
        done = stored_result(course, student, week)
        if done is None or done.key != key:
            todo[student] = (folder, key)
    return todo


async def grade_week(course: Course, week: str, options: BatchOptions | None = None) -> BatchSummary:
    """Grade every new or changed submission of ``week``."""
    options = options or BatchOptions()
    course.require_week(week)
    source = load_source(course.source(week))
    sandbox.use_notebook_limits(source.nb.metadata)  # e.g. more memory for a Spark week
    refs = await ensure_references(course, week, options.timeouts)
    ensure_assignment(course, week)
    found, missing = discover(course, week, options.students)
    summary = BatchSummary(week, failed=missing)
    todo = _todo(course, week, found, source, refs)
    summary.skipped = sorted(set(found) - set(todo))
    if not todo:
        return summary
    scratch = Path(tempfile.mkdtemp(prefix=f"grade-{week}-"))
    pool = KernelPool(scratch, min(options.workers, len(todo)), kernel_env(course), total=len(todo))
    gate = asyncio.Semaphore(max(1, options.workers))
    ctx = (source, refs, pool, options.timeouts)
    try:
        pool.fill()
        jobs = [_grade_one(s, folder, key, ctx, gate) for s, (folder, key) in todo.items()]
        with (
            open_gradebook(course.db_url) as gb,
            tqdm(total=len(jobs), disable=not options.progress, unit="nb") as bar,
        ):
            for job in asyncio.as_completed(jobs):
                student, result, run, error = await job
                bar.update()
                error = error or _save_or_explain(course, gb, result, run)
                if error:
                    summary.failed[student] = error
                else:
                    summary.graded.append(result)
    finally:
        await pool.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return summary
