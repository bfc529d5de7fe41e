"""One batch over every kind of submission: right, blank, partly right, broken, hostile."""

from __future__ import annotations

import asyncio
import copy
import json
import shutil

import nbformat
import pytest
from conftest import WEEK, new_course, once
from delab_grader.batch import BatchOptions, grade_week, stored_result
from delab_grader.course import Course
from delab_grader.execute import Timeouts
from delab_grader.gradebook import open_gradebook
from submissions import PARTIAL, PARTIAL_POINTS, cell, load, nbformat3, place, with_answers, without

pytestmark = pytest.mark.slow
FULL = 17.0


def _build(course):
    sol, rel = load(course, WEEK), load(course, WEEK, released=True)
    place(course, "solution", WEEK, sol)
    place(course, "blank", WEEK, rel)
    place(course, "partial", WEEK, with_answers(sol, PARTIAL))
    place(course, "bad-json", WEEK, "{this is not json")
    place(course, "nbformat3", WEEK, nbformat3(sol))
    place(course, "renamed", WEEK, sol, name="assignment-final (1).ipynb")
    place(course, "deleted", WEEK, without(sol, "q3", "q4_code"))
    dup = copy.deepcopy(sol)
    dup.cells.insert(5, copy.deepcopy(cell(sol, "q1")))
    dup.cells.insert(8, copy.deepcopy(cell(sol, "q2_code")))
    place(course, "duplicated", WEEK, dup)
    edited = copy.deepcopy(sol)
    cell(edited, "q5_code").metadata.nbgrader["grade_id"] = "q5_mine"
    place(course, "edited-id", WEEK, edited)
    types = copy.deepcopy(sol)
    i = types.cells.index(cell(types, "q3_code"))
    types.cells[i] = nbformat.v4.new_markdown_cell(types.cells[i].source, metadata=types.cells[i].metadata)
    j = types.cells.index(cell(types, "q2"))
    types.cells[j] = nbformat.v4.new_markdown_cell("I changed this test", metadata=types.cells[j].metadata)
    place(course, "cell-types", WEEK, types)
    place(course, "bad-timestamp", WEEK, sol, timestamp="yesterday-ish??")
    place(course, "empty", WEEK, None, timestamp=None)
    place(course, "exits", WEEK, with_answers(sol, {"q5_code": "import os\nos._exit(0)"}))
    place(course, "sleeps", WEEK, with_answers(sol, {"q9_code": "import time\ntime.sleep(600)"}))
    cheat = "class Always(float):\n    def __eq__(self, other):\n        return True\ntotal = Always(0)"
    place(course, "cheat", WEEK, with_answers(sol, {"q3_code": cheat}))


@pytest.fixture(scope="module")
def graded(tmp_path_factory, worker_id, fixture_refs):
    """(course, summary lines, results by student) of one batch, run once per test run."""
    with once(tmp_path_factory, worker_id, "batch") as root:
        if not (root / "summary.json").exists():
            shutil.rmtree(root, ignore_errors=True)
            course = new_course(root, refs=fixture_refs)
            _build(course)
            options = BatchOptions(workers=2, timeouts=Timeouts(cell=6, notebook=120), progress=False)
            summary = asyncio.run(grade_week(course, WEEK, options))
            assert not summary.failed, summary.failed
            (root / "summary.json").write_text(json.dumps(summary.lines()))
        course = Course.at(root, data=root / "data")
        students = [p.name for p in course.submitted().iterdir()]
        results = {s: stored_result(course, s, WEEK) for s in students}
        return course, json.loads((root / "summary.json").read_text()), results


def points(result):
    return {q.grade_id: q.score for q in result.questions}


def messages(result, gid):
    return "\n".join(next(q for q in result.questions if q.grade_id == gid).messages)


def test_batch_grades_everyone_and_never_aborts(graded):
    _, summary, results = graded
    assert "graded 15, unchanged 0, failed 0" in summary[0]
    assert all(r is not None for r in results.values()) and len(results) == 15


def test_solution_scores_full_marks(graded):
    assert graded[2]["solution"].score == FULL


def test_blank_release_scores_zero_with_reasons(graded):
    blank = graded[2]["blank"]
    assert blank.score == 0
    assert "NameError" in messages(blank, "q1")
    assert "was not found: did your code create it?" in messages(blank, "q7")
    assert blank.issues == []  # the released notebook is a valid submission


def test_partial_submission_gets_exact_points_and_messages(graded):
    partial = graded[2]["partial"]
    assert points(partial) == PARTIAL_POINTS
    assert "parts - orders: ok, revenue: wrong" in messages(partial, "q1")
    assert "revenue (yours)" in messages(partial, "q1") and "rtol=1e-09" in messages(partial, "q1")
    assert "right rows, but in the wrong order" in messages(partial, "q2")
    assert "sorted differently from the reference, but order does not matter" not in messages(partial, "q4")
    assert "max: wrong" in messages(partial, "q5")
    assert "no PRIMARY KEY" in messages(partial, "q8")
    assert "NotImplementedError" in messages(partial, "q9")


@pytest.mark.parametrize(
    ("student", "score", "issue"),
    [
        ("bad-json", 0, "not a valid notebook (invalid JSON"),
        ("nbformat3", FULL, "old nbformat 3"),
        ("renamed", FULL, "renamed to assignment-final (1).ipynb"),
        ("deleted", FULL - 1, "answer cell 'q4_code' was deleted"),
        ("duplicated", FULL, "grade_id 'q1' appears more than once"),
        ("edited-id", FULL, "unknown grade_id 'q5_mine'"),
        ("cell-types", FULL, "answer cell 'q3_code' was changed to markdown"),
        ("bad-timestamp", FULL, "timestamp.txt is malformed"),
        ("empty", 0, "no notebook in the submission"),
        ("exits", 8, "the kernel died"),
    ],
)
def test_bad_input_is_graded_with_a_clear_message(graded, student, score, issue):
    result = graded[2][student]
    assert result.score == score
    assert any(issue in i for i in result.issues), result.issues
    assert any(issue in line for line in graded[1])


def test_deleted_test_cell_is_restored(graded):
    result = graded[2]["deleted"]
    assert points(result)["q3"] == 1
    assert any("test cell 'q3' was deleted; it was restored" in i for i in result.issues)


def test_changed_test_cell_is_restored_from_source(graded):
    result = graded[2]["cell-types"]
    assert points(result)["q2"] == 2
    assert any("cell 'q2' was changed; it was restored" in i for i in result.issues)


def test_kernel_death_fails_only_later_questions(graded):
    result = graded[2]["exits"]
    assert points(result) == {"q1": 4, "q2": 2, "q3": 1, "q4": 1} | {
        q: 0 for q in ("q5", "q6", "q7", "q8", "q9", "q10")
    }
    assert "not graded: the kernel died" in messages(result, "q6")


def test_cell_timeout_fails_only_that_question(graded):
    result = graded[2]["sleeps"]
    assert points(result)["q9"] == 0 and result.score == FULL - 1
    assert "ran longer than 6 s and was interrupted" in messages(result, "q9")


def test_object_claiming_equality_does_not_fool_the_grader(graded):
    result = graded[2]["cheat"]
    assert points(result)["q3"] == 0 and result.score == FULL - 1


def test_results_are_in_the_gradebook_once(graded):
    course, _, results = graded
    with open_gradebook(course.db_url) as gb:
        subs = gb.find_assignment(WEEK).submissions
        assert sorted(s.student.id for s in subs) == sorted(results)
        for s in subs:
            assert s.score == results[s.student.id].score
    assert stored_result(course, "partial", WEEK).score == sum(PARTIAL_POINTS.values())


def test_rerun_grades_nothing_new(graded):
    course = graded[0]
    summary = asyncio.run(grade_week(course, WEEK, BatchOptions(workers=2, progress=False)))
    assert summary.graded == [] and len(summary.skipped) == 15
