"""The gradebook also works on PostgreSQL (any SQLAlchemy URL)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import WEEK
from delab_grader.course import Course
from delab_grader.gradebook import ensure_assignment, open_gradebook, record
from delab_grader.grading import QuestionResult, SubmissionResult

pytestmark = pytest.mark.slow


@pytest.fixture
def pg_url(monkeypatch):
    from delab.services.postgres import postgres

    state = Path(tempfile.mkdtemp(prefix="grader-pg-"))
    os.chmod(state, 0o711)  # the server's own account must reach its folder
    monkeypatch.setenv("DELAB_STATE", str(state))
    try:
        server = postgres("grader-gradebook")
    except Exception as exc:  # no PostgreSQL on this machine
        shutil.rmtree(state, ignore_errors=True)
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    yield server.url
    server.stop()
    shutil.rmtree(state, ignore_errors=True)


def test_grades_recorded_in_a_postgresql_gradebook(course, pg_url):
    pg_course = Course(course.root, course.solutions, course.weeks, course.state, pg_url, course.data)
    ensure_assignment(pg_course, WEEK)
    result = SubmissionResult("ann", WEEK, "key", "2024-01-01T10:00:00")
    result.questions = [QuestionResult("q1", 4, 3.0), QuestionResult("q2", 2, 2.0)]
    with open_gradebook(pg_url) as gb:
        record(gb, result)
        record(gb, result)  # recording again updates, never duplicates
    with open_gradebook(pg_url) as gb:
        (sub,) = gb.find_assignment(WEEK).submissions
        assert sub.student.id == "ann" and sub.score == 5.0
