"""The command line end to end: release, submit, check, grade, feedback, report, and nbgrader itself."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys

import nbformat
import pytest
from cli_helpers import REPO, course_env, delab
from conftest import WEEK, new_course
from delab_grader.course import Course
from delab_grader.release import out_of_sync

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory, fixture_refs):
    course = new_course(tmp_path_factory.mktemp("cli"), refs=fixture_refs)
    shutil.copy(REPO / "nbgrader_config.py", course.root / "nbgrader_config.py")
    delab(course, "submit", WEEK, "--student", "ann", "--notebook", str(course.source(WEEK)))
    delab(course, "submit", WEEK, "--student", "bob")
    grade = delab(course, "grade", WEEK, "--all", "--workers", "2")
    return course, grade


def test_grade_prints_a_summary(graded_course):
    out = graded_course[1].stdout
    assert "graded 2, unchanged 0, failed 0" in out
    assert "ann: 17/17" in out and "bob: 0/17" in out


def test_feedback_shows_hidden_messages_but_no_test_code(graded_course):
    course = graded_course[0]
    delab(course, "feedback", WEEK)
    page = (course.feedback("bob", WEEK) / "assignment.html").read_text()
    assert "NameError" in page and "0 / 4" in page
    assert "HIDDEN TESTS" not in page and "assert n_drivers == len(drivers)" not in page
    assert (course.feedback("ann", WEEK) / "timestamp.txt").is_file()


def test_report_writes_csv_and_self_contained_html(graded_course):
    course = graded_course[0]
    delab(course, "report")
    rows = list(csv.DictReader((course.state / "reports" / "grades.csv").read_text().splitlines()))
    assert sorted((r["student_id"], float(r["score"])) for r in rows) == [("ann", 17.0), ("bob", 0.0)]
    page = (course.state / "reports" / "report.html").read_text()
    assert "Pass rate per question (hardest first)" in page
    assert "Late submissions (2)" in page  # submitted now, due 2024-01-01
    assert "<script src=" not in page  # plotly.js is inlined


def _nbgrader(course: Course, *args: str) -> str:
    cmd = [sys.executable, "-m", "nbgrader", *args]
    proc = subprocess.run(
        cmd, cwd=course.root, env=course_env(course), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr


def test_nbgrader_commands_work_on_the_course(graded_course):
    course = graded_course[0]
    assert "fixture-week (due: 2024-01-01 12:00:00)" in _nbgrader(course, "db", "assignment", "list")
    assert "Success! Your notebook passes all the tests." in _nbgrader(
        course, "validate", str(course.source(WEEK))
    )
    _nbgrader(course, "export", "--to", str(course.state / "nbgrader.csv"))
    assert "ann" in (course.state / "nbgrader.csv").read_text()


def test_submit_keeps_history(graded_course):
    course = graded_course[0]
    delab(course, "submit", WEEK, "--student", "ann", "--notebook", str(course.release(WEEK)))
    assert len(list(course.history("ann", WEEK).iterdir())) == 1
    assert (course.submitted("ann", WEEK) / "timestamp.txt").is_file()


def test_check_reports_visible_checks_without_references(graded_course):
    course = graded_course[0]
    blank = delab(course, "check", str(course.release(WEEK)), check=False)
    assert blank.returncode == 1 and "[----] q1_by_driver: no answer recorded" in blank.stdout
    assert "hidden check(s) will compare your answers" in blank.stdout
    solved = delab(course, "check", str(course.source(WEEK)))
    assert "[ok]   q8_drivers_table" in solved.stdout


def test_bad_week_is_a_clear_error(graded_course):
    proc = delab(graded_course[0], "grade", "week99", "--all", check=False)
    assert proc.returncode == 2 and "no source notebook" in proc.stderr and "fixture-week" in proc.stderr


def test_release_keeps_other_files_and_is_reproducible(course):
    first = course.release(WEEK).read_bytes()
    delab(course, "release", WEEK)
    assert course.release(WEEK).read_bytes() == first
    assert (course.weeks / WEEK / "lecture.ipynb").is_file()
    assert not out_of_sync(course, WEEK)
    nb = nbformat.read(course.source(WEEK), as_version=4)
    nb.cells[0].source += "\nedited"
    nbformat.write(nb, course.source(WEEK))
    assert out_of_sync(course, WEEK)


def test_released_notebook_hides_solutions_and_hidden_tests(course):
    text = course.release(WEEK).read_text()
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "raise NotImplementedError()" in text


@pytest.mark.parametrize(
    "week", Course.at(REPO).week_names() or [pytest.param("none", marks=pytest.mark.skip)]
)
def test_committed_student_notebooks_are_in_sync(week):
    assert not out_of_sync(Course.at(REPO), week), (
        f"weeks/{week}/assignment.ipynb is out of date: run `delab release {week}`"
    )
