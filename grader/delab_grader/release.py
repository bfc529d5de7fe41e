"""Release: the student notebook generated from the source with nbgrader's own preprocessors.

Only ``weeks/<week>/assignment.ipynb`` is written; lecture notebooks and other files in the week's
folder are never touched. The same chain records the assignment's cells in the gradebook (SaveCells).
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    LockCells,
    SaveCells,
)
from nbgrader.utils import parse_utc

from delab_grader.course import NOTEBOOK_ID, Course, GraderError
from delab_grader.gradebook import open_gradebook
from delab_grader.notebook import load_source, require_tamper_proof

#: nbgrader's GenerateAssignment chain, minus header/footer and test instantiation.
CHAIN = (
    LockCells, ClearSolutions, ClearOutput, CheckCellMetadata, ComputeChecksums, SaveCells,
    ClearHiddenTests, ClearMarkScheme, ComputeChecksums, CheckCellMetadata,
)  # fmt: skip


def student_notebook(source: Path, week: str, db_url: str | None) -> NotebookNode:
    """The released notebook of ``source``; its cells are saved in the gradebook on the way
    (``db_url`` None: no gradebook, e.g. to compare with the committed notebook)."""
    parsed = load_source(source)
    require_tamper_proof(parsed, source)
    nb = parsed.nb
    if db_url:
        with open_gradebook(db_url) as gb:
            gb.update_or_create_assignment(week, duedate=due_date(nb))
    resources = {"nbgrader": {"assignment": week, "notebook": NOTEBOOK_ID, "db_url": db_url}}
    try:
        for step in CHAIN:
            if db_url or step is not SaveCells:
                nb, resources = step().preprocess(nb, resources)
    except RuntimeError as exc:  # SaveCells refuses to drop cells that already have grades
        raise GraderError(f"cannot release {week}: {exc}. Grades already recorded are kept.") from exc
    return nb


def due_date(nb: NotebookNode) -> datetime | None:
    """The due date set in the source's metadata: ``{"delab": {"due": "2025-02-01 23:59 UTC"}}``."""
    text = nb.metadata.get("delab", {}).get("due")
    if not text:
        return None
    try:
        return parse_utc(text)
    except (ValueError, OverflowError) as exc:
        raise GraderError(
            f"metadata delab.due {text!r} is not a date such as '2025-02-01 23:59 UTC'"
        ) from exc


def render(nb: NotebookNode) -> str:
    """The exact text written for a released notebook (stable, so releases can be compared)."""
    return nbformat.writes(nb) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # a released notebook is readable like any file the user writes
    os.replace(tmp, path)


def release(course: Course, week: str) -> Path:
    """Write ``weeks/<week>/assignment.ipynb`` from the source; returns its path."""
    course.require_week(week)
    course.state.mkdir(parents=True, exist_ok=True)
    target = course.release(week)
    write_atomic(target, render(student_notebook(course.source(week), week, course.db_url)))
    return target


def out_of_sync(course: Course, week: str) -> bool:
    """True if the committed student notebook differs from a fresh release of its source."""
    if not course.release(week).is_file():
        return True
    fresh = json.loads(render(student_notebook(course.source(week), week, None)))
    return json.loads(course.release(week).read_text()) != fresh
