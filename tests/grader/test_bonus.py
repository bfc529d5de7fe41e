"""Bonus questions are extra credit: they add to the score and never to the maximum."""

from __future__ import annotations

from delab_grader.grading import QuestionResult, SubmissionResult


def test_bonus_questions_are_extra_credit() -> None:
    result = SubmissionResult("ada", "week02", "k", questions=[
        QuestionResult("q1", 3, 3), QuestionResult("q2", 2, 1), QuestionResult("bonus_etl", 3, 2),
    ])
    assert (result.score, result.max_score, result.bonus) == (4, 5, 2)
    assert result.to_json()["bonus"] == 2
    assert SubmissionResult.from_json(result.to_json()).score == 4
