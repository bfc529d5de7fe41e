"""Batches survive kill -9, regrade only what changed, and follow dataset changes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time

import psutil
import pytest
from cli_helpers import delab, subprocess_delab
from conftest import WEEK
from dataset import make_dataset
from delab_grader.batch import RESULT, BatchOptions, grade_week, stored_result
from delab_grader.gradebook import open_gradebook
from delab_grader.references import references_sync
from delab_grader.submit import submit
from submissions import load, place

pytestmark = pytest.mark.slow
STUDENTS = [f"s{i}" for i in range(6)]


def _results(course) -> list:
    return list(course.autograded().glob(f"*/{WEEK}/{RESULT}"))


def _kill_tree(proc: subprocess.Popen) -> None:
    children = psutil.Process(proc.pid).children(recursive=True)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    for child in children:
        if child.is_running():
            child.kill()


def test_kill_9_then_rerun_records_every_grade_exactly_once(course):
    references_sync(course, WEEK)
    for s in STUDENTS:
        place(course, s, WEEK, load(course, WEEK))
    proc = subprocess_delab(course, "grade", WEEK, "--all", "--workers", "2", start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(3000):  # wait (polling, no timing assertion) for the first recorded result
        if _results(course) or proc.poll() is not None:
            break
        time.sleep(0.05)
    _kill_tree(proc)
    done_before = len(_results(course))
    assert done_before >= 1
    summary = delab(course, "grade", WEEK, "--all", "--workers", "2").stdout
    assert f"unchanged {done_before}" in summary
    with open_gradebook(course.db_url) as gb:
        subs = gb.find_assignment(WEEK).submissions
        assert sorted(s.student.id for s in subs) == STUDENTS
        assert all(len(s.notebooks[0].grades) == 10 and s.score == 17 for s in subs)
    assert len(_results(course)) == len(STUDENTS)


def test_only_new_or_changed_submissions_are_regraded(course):
    submit(course, WEEK, course.source(WEEK), "ann")
    submit(course, WEEK, course.source(WEEK), "bob")
    first = asyncio.run(grade_week(course, WEEK, BatchOptions(workers=2, progress=False)))
    assert sorted(r.student for r in first.graded) == ["ann", "bob"]
    submit(course, WEEK, course.release(WEEK), "bob")  # bob resubmits a blank notebook
    second = asyncio.run(grade_week(course, WEEK, BatchOptions(workers=2, progress=False)))
    assert [r.student for r in second.graded] == ["bob"] and second.skipped == ["ann"]
    assert stored_result(course, "bob", WEEK).score == 0
    assert len(list(course.history("bob", WEEK).iterdir())) == 1
    log = (course.state / "grading-log.jsonl").read_text().splitlines()
    assert [json.loads(line)["score"] for line in log if '"bob"' in line] == [17, 0]


def test_references_follow_the_dataset(course):
    submit(course, WEEK, course.source(WEEK), "ann")
    asyncio.run(grade_week(course, WEEK, BatchOptions(workers=1, progress=False)))
    before = references_sync(course, WEEK)
    total_before = before.export("q3_total").value
    make_dataset(course.data, seed=7)  # a new dataset seed: no manual step needed
    summary = asyncio.run(grade_week(course, WEEK, BatchOptions(workers=1, progress=False)))
    after = references_sync(course, WEEK)
    assert after.fingerprint["dataset"] != before.fingerprint["dataset"]
    assert after.export("q3_total").value != total_before
    assert [r.score for r in summary.graded] == [17]


def test_a_failure_to_record_fails_one_submission_and_is_retried(course, monkeypatch):
    from delab_grader import batch

    submit(course, WEEK, course.source(WEEK), "ann")
    submit(course, WEEK, course.source(WEEK), "bob")
    real_record = batch.record

    def flaky(gb, result):
        if result.student == "bob":
            raise RuntimeError("database is locked")
        real_record(gb, result)

    monkeypatch.setattr(batch, "record", flaky)
    first = asyncio.run(grade_week(course, WEEK, BatchOptions(workers=2, progress=False)))
    assert [r.student for r in first.graded] == ["ann"]
    assert "could not record the grades (RuntimeError: database is locked)" in first.failed["bob"]
    monkeypatch.setattr(batch, "record", real_record)
    second = asyncio.run(grade_week(course, WEEK, BatchOptions(workers=2, progress=False)))
    assert [r.student for r in second.graded] == ["bob"] and second.skipped == ["ann"]
