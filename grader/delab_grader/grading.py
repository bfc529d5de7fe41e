"""Grading one submission: read it, restore its graded cells, execute it, score its exports.

Steps, each small and chained like nbgrader preprocessors: :func:`find_notebook` /
:func:`read_notebook` -> :func:`reconcile` -> :func:`execute_notebook` -> :func:`score`. Scoring runs
here, in the grading process, with the comparison spec taken from the references only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from delab_grader._version import __version__
from delab_grader.compare import grade_answer
from delab_grader.execute import ExecutionResult, Kernel, Timeouts, execute_notebook, stage_files
from delab_grader.exports import ExportError, read_export
from delab_grader.notebook import GradedCell, Source, find_notebook, nbgrader_meta, read_notebook, reconcile
from delab_grader.references import References

BONUS_PREFIX = "bonus_"


@dataclass
class QuestionResult:
    """Score and messages of one graded (test) cell."""

    grade_id: str
    points: float
    score: float
    messages: list[str] = field(default_factory=list)
    #: graded nbgrader-style (an assert-only test the author opted in to): flagged for manual review
    kernel_decided: bool = False

    @property
    def bonus(self) -> bool:
        """Extra credit: a test cell whose grade_id starts with ``bonus_`` adds to the score, not the max."""
        return self.grade_id.startswith(BONUS_PREFIX)


@dataclass
class SubmissionResult:
    """Everything recorded about one graded submission."""

    student: str
    week: str
    key: str
    timestamp: str | None = None
    questions: list[QuestionResult] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    execution: str = "not run"
    seconds: float = 0.0

    @property
    def score(self) -> float:
        """Points of the regular questions (bonus points are counted apart, in :attr:`bonus`)."""
        return round(sum(q.score for q in self.questions if not q.bonus), 4)

    @property
    def bonus(self) -> float:
        """Extra-credit points earned."""
        return round(sum(q.score for q in self.questions if q.bonus), 4)

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.questions if not q.bonus)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "score": self.score, "bonus": self.bonus, "max_score": self.max_score}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SubmissionResult:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["questions"] = [QuestionResult(**q) for q in data.get("questions", [])]
        return cls(**fields)


def submission_key(folder: Path, source: Source, refs: References) -> str:
    """Changes whenever the submission, the source, the references or the grader change."""
    digest = hashlib.sha256(f"{__version__}|{source.sha256}|{refs.key}".encode())
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def read_timestamp(folder: Path) -> tuple[str | None, list[str]]:
    """The submission time from ``timestamp.txt`` (ISO, UTC), or None with a message if unusable."""
    path = folder / "timestamp.txt"
    if not path.is_file():
        return None, ["no timestamp.txt in the submission; it is treated as on time"]
    text = path.read_text(errors="replace").strip()
    try:
        from nbgrader.utils import parse_utc

        stamp = parse_utc(text)
        if not isinstance(stamp, dt.datetime):
            raise ValueError(text)
    except Exception:
        return None, [f"timestamp.txt is malformed ({text[:40]!r}); it is treated as on time"]
    return stamp.isoformat(), []


def _cell_positions(nb: Any) -> dict[str, int]:
    return {gid: i for i, c in enumerate(nb.cells) if (gid := nbgrader_meta(c).get("grade_id"))}


def _why_missing(test: GradedCell, run: ExecutionResult, positions: dict[str, int]) -> str:
    """Why a question has no recorded answer: the error that prevented it, timeout or kernel death."""
    at = positions.get(test.grade_id, -1)
    if run.stopped_at is not None and run.stopped_at <= at:
        return f"not graded: {run.reason}"
    earlier = [i for i in run.errors if i <= at]
    if earlier:
        return f"no answer was recorded: your code raised {run.errors[max(earlier)]}"
    return "no answer was recorded (did the cell run?)"


def _errors_before(at: int, run: ExecutionResult, tests_at: list[int]) -> list[str]:
    """Errors raised by the cells leading up to the test cell at ``at`` (since the previous test)."""
    previous = max((p for p in tests_at if p < at), default=-1)
    return [f"note: your code raised {run.errors[i]}" for i in sorted(run.errors) if previous < i < at]


def _score_qid(
    qid: str, test: GradedCell, refs: References, run: ExecutionResult, pos: dict
) -> tuple[float, list]:
    try:
        actual = read_export(run.exports, qid)
    except ExportError as exc:
        return 0.0, [f"{qid}: your answer could not be read: {exc}"]
    if actual is None:
        return 0.0, [f"{qid}: {_why_missing(test, run, pos)}"]
    try:
        outcome = grade_answer(refs.export(qid), actual, refs.spec(qid))
    except Exception as exc:  # a comparison crash fails this question only
        return 0.0, [f"{qid}: your answer could not be compared ({type(exc).__name__}: {exc})"]
    tests_at = [p for gid, p in pos.items() if gid in refs.test_ids]
    hints = _errors_before(pos.get(test.grade_id, -1), run, tests_at) if outcome.fraction < 1 else []
    return outcome.fraction, [f"{qid}: {m}" for m in outcome.messages + hints]


def _score_plain(test: GradedCell, run: ExecutionResult, positions: dict[str, int]) -> tuple[float, list]:
    """An nbgrader-style test cell (asserts, no answer()): full points if it ran without error."""
    at = positions.get(test.grade_id, -1)
    if run.stopped_at is not None and run.stopped_at <= at:
        return 0.0, [f"not graded: {run.reason}"]
    if at in run.errors:
        return 0.0, [f"the test failed: {run.errors[at]}"]
    return 1.0, ["passed in your kernel; an instructor reviews this question"]


def score(source: Source, refs: References, run: ExecutionResult) -> list[QuestionResult]:
    """Points per test cell: the mean fraction of its answers times its points."""
    positions = _cell_positions(run.nb)
    results = []
    for test in source.tests:
        if test.qids:
            outcomes = [_score_qid(q, test, refs, run, positions) for q in test.qids]
        else:
            outcomes = [_score_plain(test, run, positions)]
        fraction = sum(f for f, _ in outcomes) / len(outcomes)
        messages = [m for _, ms in outcomes for m in ms]
        earned = round(test.points * fraction, 4)
        results.append(QuestionResult(test.grade_id, test.points, earned, messages, not test.qids))
    return results


def zero_scores(source: Source, reason: str) -> list[QuestionResult]:
    """Every question at 0 with ``reason`` (nothing could be executed)."""
    return [QuestionResult(t.grade_id, t.points, 0.0, [reason]) for t in source.tests]


async def grade_submission(
    folder: Path,
    result: SubmissionResult,
    source: Source,
    refs: References,
    kernel: Kernel,
    timeouts: Timeouts,
) -> tuple[SubmissionResult, ExecutionResult | None]:
    """Grade the submission in ``folder`` with a started ``kernel``; problems become messages."""
    result.timestamp, notes = read_timestamp(folder)
    result.issues += notes
    path, notes = find_notebook(folder)
    result.issues += notes
    nb, notes = read_notebook(path) if path else (None, [])
    result.issues += notes
    if nb is None:
        result.questions = zero_scores(source, "not graded: " + "; ".join(result.issues[-1:]))
        return result, None
    nb, notes = reconcile(nb, source)
    result.issues += notes
    stage_files(folder, kernel.work, {"timestamp.txt"})
    run = await execute_notebook(nb, kernel.scratch, timeouts, kernel)
    result.execution = run.status if run.status != "ok" else "ok"
    if run.status != "ok":
        result.issues.append(run.reason)
    result.seconds = round(run.seconds, 3)
    result.questions = score(source, refs, run)
    return result, run
