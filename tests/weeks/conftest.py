"""Helpers for the weeks' tests: grade a week's solution, its blank release and wrong submissions.

Everything goes through the real grader (references from the solution notebook, then one batch over
all submissions) on the repository's tiny dataset (``make test`` generates it first)::

    results = grade_variants(WEEK, {"q1_wrong_filter": {"q1_code": "...wrong code..."}}, tmp)
    assert results["solution"].score == results["solution"].max_score
    assert scores(results["q1_wrong_filter"])["q1"] < points(WEEK)["q1"]
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import nbformat
import pytest
from delab_grader.batch import BatchOptions, grade_week
from delab_grader.course import Course
from delab_grader.execute import Timeouts
from delab_grader.grading import SubmissionResult
from delab_grader.notebook import load_source, nbgrader_meta
from delab_grader.release import out_of_sync
from nbformat import NotebookNode

from delab import paths

REPO = Path(__file__).resolve().parents[2]
TIMEOUTS = Timeouts(cell=120, notebook=300)


def tiny_data() -> Path:
    """The repository's tiny dataset (``delab data --scale tiny``); the test is skipped without it."""
    data = paths.data_root() / "tiny"
    if not (data / "manifest.json").is_file():
        pytest.skip("no tiny dataset: run `delab data --scale tiny` (make test does)")
    return data


def week_course(state: Path) -> Course:
    """The checkout's solutions and released notebooks, graded on the tiny data with state in ``state``."""
    return Course.at(REPO, state=state, db_url=f"sqlite:///{state / 'gradebook.db'}", data=tiny_data())


def solution(week: str) -> NotebookNode:
    return nbformat.read(REPO / "solutions" / week / "assignment.ipynb", as_version=4)


def released(week: str) -> NotebookNode:
    return nbformat.read(REPO / "weeks" / week / "assignment.ipynb", as_version=4)


def solution_code(week: str, gid: str) -> str:
    """The source of the solution's cell ``gid``."""
    return next(c.source for c in solution(week).cells if nbgrader_meta(c).get("grade_id") == gid)


def edited(week: str, gid: str, *pairs: tuple[str, str], text: str | None = None) -> str:
    """The solution's cell ``gid`` (or ``text``) with each (old, new) replacement (old must be there)."""
    text = solution_code(week, gid) if text is None else text
    for old, new in pairs:
        assert old in text, f"{gid}: {old!r} not in the solution"
        text = text.replace(old, new)
    return text


def points(week: str) -> dict[str, float]:
    """Points of each auto-graded (test) cell of the week's source, by grade_id."""
    return {t.grade_id: t.points for t in load_source(REPO / "solutions" / week / "assignment.ipynb").tests}


def with_code(nb: NotebookNode, answers: dict[str, str]) -> NotebookNode:
    """A copy of ``nb`` whose cells with these grade_ids hold this code instead (a student's answer)."""
    nb = copy.deepcopy(nb)
    for gid, code in answers.items():
        cells = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") == gid]
        assert len(cells) == 1, f"no single cell with grade_id {gid!r}"
        cells[0].source = code
    return nb


def scores(result: SubmissionResult) -> dict[str, float]:
    """Score of each test cell of a graded submission, by grade_id."""
    return {q.grade_id: q.score for q in result.questions}


def messages(result: SubmissionResult, gid: str) -> str:
    return "\n".join(m for q in result.questions if q.grade_id == gid for m in q.messages)


@contextlib.contextmanager
def sandbox_mode(mode: str | None) -> Iterator[None]:
    """Run the grader's kernels with this sandbox mode ("off": unsandboxed); None keeps the default."""
    try:
        from delab_grader import sandbox
    except ImportError:  # a grader without a sandbox
        yield
        return
    previous = sandbox.configure(mode) if mode else None
    try:
        yield
    finally:
        if previous is not None:
            sandbox.configure(previous.mode, previous.limits)


@contextlib.contextmanager
def private_state() -> Iterator[Path]:
    """A fresh ``DELAB_STATE`` for this process and the kernels it starts (their own local servers,
    not the checkout's, which a lecture or a learner may be using); its servers are stopped after."""
    from delab.services.admin import stop_all

    state = Path(tempfile.mkdtemp(prefix="delab-tests-", dir="/var/tmp"))
    state.chmod(0o755)  # the unprivileged PostgreSQL user must reach it when tests run as root
    previous = os.environ.get("DELAB_STATE")
    os.environ["DELAB_STATE"] = str(state)
    try:
        yield state
    finally:
        stop_all(state)
        if previous is None:
            os.environ.pop("DELAB_STATE", None)
        else:
            os.environ["DELAB_STATE"] = previous
        shutil.rmtree(state, ignore_errors=True)


def grade_variants(
    week: str, mutants: dict[str, dict[str, str]], state: Path, workers: int = 2, sandbox: str | None = None
) -> dict[str, SubmissionResult]:
    """Grade the solution ("solution"), the committed release ("blank") and each mutant (the solution
    with some cells replaced) in one batch; results by name. ``workers=1`` for weeks whose notebooks
    share a server's tables; ``sandbox="off"`` for notebooks that cannot run in the grader's sandbox."""
    course = week_course(state)
    stale = f"weeks/{week}/assignment.ipynb is stale: run `delab release {week}`"
    assert not out_of_sync(course, week), stale
    sol = solution(week)
    subs = {"solution": sol, "blank": released(week)} | {n: with_code(sol, a) for n, a in mutants.items()}
    for name, nb in subs.items():
        folder = course.submitted(name, week)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "assignment.ipynb").write_text(nbformat.writes(nb))
        (folder / "timestamp.txt").write_text("2026-01-01 10:00:00.000000 UTC")
    options = BatchOptions(workers=workers, timeouts=TIMEOUTS, progress=False)
    with sandbox_mode(sandbox):
        summary = asyncio.run(grade_week(course, week, options))
    assert not summary.failed, summary.lines()
    return {r.student: r for r in summary.graded}


def assert_full_marks(result: SubmissionResult, week: str) -> None:
    """The solution earns every point of every auto-graded question."""
    assert scores(result) == points(week), [q.messages for q in result.questions]


def assert_blank_scores_zero(result: SubmissionResult, first_question: str) -> None:
    """The released notebook, run as is, is graded (no crash) and earns nothing."""
    assert result.execution == "ok"
    assert result.score == 0
    assert "no answer was recorded" in messages(result, first_question)


def assert_loses_points(result: SubmissionResult, week: str, gid: str) -> None:
    """A wrong answer to ``gid`` earns less than its points, with a message saying why."""
    got = scores(result)[gid]
    assert 0 <= got < points(week)[gid], messages(result, gid)


def _gids(caught: str | list[str]) -> list[str]:
    return [caught] if isinstance(caught, str) else list(caught)


class WeekSuite:
    """The tests every week has. A week's test module subclasses it (``class TestWeek05(WeekSuite)``)
    and sets the class attributes; ``grade`` may be overridden to grade more batches."""

    WEEK: str = ""
    #: a question the blank release must report as unanswered
    FIRST_QUESTION: str = ""
    #: mutant name -> {grade_id of an answer cell: the wrong code that replaces it}
    MUTANTS: ClassVar[dict[str, dict[str, str]]] = {}
    #: mutant name -> the question(s) it must lose points on
    CAUGHT_BY: ClassVar[dict[str, str | list[str]]] = {}
    WORKERS = 2
    #: None: graded in the grader's sandbox, as a class is graded
    SANDBOX: str | None = None
    #: a mutant must keep full points on every question it does not attack ...
    ONLY_ITS_QUESTIONS = False
    #: ... nor affect downstream (mutant -> questions computed from the attacked answers)
    AFFECTS: ClassVar[dict[str, set[str]]] = {}
    #: a regular expression the attacked question's messages must match
    MESSAGE = ""

    @classmethod
    def caught(cls) -> list[tuple[str, str]]:
        """(mutant, grade_id) pairs: each mutant with each question it must lose points on."""
        return [(m, g) for m, caught in cls.CAUGHT_BY.items() for g in _gids(caught)]

    @classmethod
    def grade(cls, state: Path) -> dict[str, SubmissionResult]:
        return grade_variants(cls.WEEK, cls.MUTANTS, state, workers=cls.WORKERS, sandbox=cls.SANDBOX)

    @pytest.fixture(scope="class")
    @classmethod
    def graded(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, SubmissionResult]]:
        # the references run in a state folder of their own (never the checkout's .delab)
        with private_state():
            yield cls.grade(tmp_path_factory.mktemp(cls.WEEK))

    def test_solution_scores_full_marks(self, graded: dict[str, SubmissionResult]) -> None:
        assert_full_marks(graded["solution"], self.WEEK)

    def test_blank_release_scores_zero_without_crashing(self, graded: dict[str, SubmissionResult]) -> None:
        assert_blank_scores_zero(graded["blank"], self.FIRST_QUESTION)

    def test_every_question_is_covered_by_a_mutant(self) -> None:
        assert {g for _, g in self.caught()} == set(points(self.WEEK))

    def test_wrong_answer_loses_points(self, graded: dict[str, SubmissionResult], mutant_gid: tuple) -> None:
        mutant, gid = mutant_gid
        assert_loses_points(graded[mutant], self.WEEK, gid)
        if self.MESSAGE:
            assert re.search(self.MESSAGE, messages(graded[mutant], gid)), messages(graded[mutant], gid)
        if self.ONLY_ITS_QUESTIONS:
            attacked = set(_gids(self.CAUGHT_BY[mutant])) | self.AFFECTS.get(mutant, set())
            others = {g: s for g, s in scores(graded[mutant]).items() if g not in attacked}
            assert others == {g: p for g, p in points(self.WEEK).items() if g not in attacked}, \
                "a mistake costs only its question"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize a WeekSuite's wrong-answer test with its (mutant, question) pairs."""
    if "mutant_gid" in metafunc.fixturenames and metafunc.cls is not None:
        pairs = metafunc.cls.caught()
        metafunc.parametrize("mutant_gid", pairs, ids=[f"{m}-{g}" for m, g in pairs])
