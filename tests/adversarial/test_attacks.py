"""Each attack gets exactly its points, the rest of the batch is graded normally, nothing leaks."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from attacks import ATTACKS, CANARY, FULL, Attack
from conftest import HONEST, WEEK
from delab_grader.batch import RESULT
from delab_grader.course import NOTEBOOK
from delab_grader.gradebook import open_gradebook
from delab_grader.limits import _own_cgroup

pytestmark = pytest.mark.slow


def _points(result) -> dict[str, float]:
    return {q.grade_id: q.score for q in result.questions}


def _said(result, graded=None) -> str:
    """Everything the student is told: issues, messages and (with ``graded``) the graded notebook."""
    text = "\n".join(result.issues + [m for q in result.questions for m in q.messages])
    if graded is not None:
        text += (graded.course.autograded(result.student, WEEK) / NOTEBOOK).read_text()
    return text


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.student for a in ATTACKS])
def test_attack_gets_exactly_its_points(graded, attack: Attack):
    result = graded.results[attack.student]
    assert _points(result) == attack.points, _said(result)
    assert result.max_score == sum(FULL.values())
    assert re.search(attack.message, _said(result, graded), re.S)


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.student for a in ATTACKS])
def test_nothing_leaks_into_feedback(graded, attack: Attack):
    folder = graded.course.autograded(attack.student, WEEK)
    for name in (NOTEBOOK, RESULT):
        assert CANARY not in (folder / name).read_text()


def test_the_rest_of_the_batch_is_graded_normally(graded):
    assert not graded.failed
    assert sorted(graded.results) == sorted([*HONEST, *(a.student for a in ATTACKS)])
    for student in HONEST:
        assert _points(graded.results[student]) == FULL


def test_gradebook_holds_what_the_grader_recorded(graded):
    with open_gradebook(graded.course.db_url) as gb:
        for sub in gb.find_assignment(WEEK).submissions:
            assert sub.score == graded.results[sub.student.id].score


def test_kernel_decided_questions_are_flagged_for_review(graded):
    with open_gradebook(graded.course.db_url) as gb:
        for student in (*HONEST, "plain-test-transformer"):
            flagged = {g.name for g in gb.find_submission_notebook("assignment", WEEK, student).grades
                       if g.needs_manual_grade}
            assert flagged == {"q10"}, student


def test_secrets_code_and_dataset_are_untouched(graded):
    import delab_grader
    import pandas as pd

    assert (graded.paths["STATE"] / "canary.txt").read_text() == CANARY
    assert "pwned" not in graded.course.source(WEEK).read_text()
    assert "pwned" not in Path(delab_grader.__file__).read_text()
    assert len(pd.read_parquet(graded.course.data / "drivers.parquet")) == 6  # write-outside-scratch failed


def test_every_process_and_cgroup_is_gone(graded):
    for controller in ("memory", "pids"):
        parent = _own_cgroup(controller)
        if parent is not None and parent.is_dir():
            assert not list(parent.glob(f"delab-{os.getpid()}-*"))


def test_readme_table_is_generated_from_this_suite():
    from table import README, updated

    text = README.read_text()
    assert updated(text) == text, "run: python tests/adversarial/table.py"
