"""Recording grades in nbgrader's gradebook (SQLite by default, any SQLAlchemy URL works).

Only the batch's main task writes, one submission per transaction, so writes are serialized. Manual
scores given in formgrader are separate columns and are never touched.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.utils import parse_utc
from sqlalchemy.exc import SAWarning

from delab_grader.course import NOTEBOOK_ID, Course
from delab_grader.grading import SubmissionResult


def open_gradebook(db_url: str) -> Gradebook:
    """nbgrader's Gradebook; a new database needs the ``alembic`` command next to this Python."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    return Gradebook(db_url)


def ensure_assignment(course: Course, week: str) -> None:
    """Make sure the gradebook knows ``week``'s notebook and cells (as a release would record them)."""
    course.state.mkdir(parents=True, exist_ok=True)
    with open_gradebook(course.db_url) as gb:
        try:
            gb.find_notebook(NOTEBOOK_ID, week)
            return
        except MissingEntry:
            pass
    from delab_grader.release import student_notebook

    student_notebook(course.source(week), week, course.db_url)


def record(gb: Gradebook, result: SubmissionResult) -> None:
    """Store one submission's automatic scores (creating student and submission as needed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's add_submission under SQLAlchemy 2
        _record(gb, result)


def _record(gb: Gradebook, result: SubmissionResult) -> None:
    gb.update_or_create_student(result.student)
    stamp = parse_utc(result.timestamp) if result.timestamp else None
    try:
        submission = gb.find_submission(result.week, result.student)
        submission.timestamp = stamp
    except MissingEntry:
        submission = gb.add_submission(result.week, result.student, timestamp=stamp)
    for question in result.questions:
        grade = gb.find_grade(question.grade_id, NOTEBOOK_ID, result.week, result.student)
        if question.bonus:  # nbgrader's own extra-credit field: it adds to the score, not to the max
            grade.auto_score, grade.extra_credit = 0.0, question.score
        else:
            grade.auto_score = question.score
        grade.needs_manual_grade = question.kernel_decided  # the author opted in to an assert-only test
    gb.db.commit()


def recorded_students(course: Course, week: str) -> set[str]:
    """Students with a submission of ``week`` in the gradebook."""
    with open_gradebook(course.db_url) as gb:
        try:
            return {s.student.id for s in gb.find_assignment(week).submissions}
        except MissingEntry:
            return set()
