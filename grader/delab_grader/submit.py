"""``delab submit``: put a notebook in nbgrader's ``submitted/<student>/<week>/`` with a timestamp.

An earlier submission is moved to ``history/<student>/<week>/<its timestamp>/``, never overwritten.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
import shutil
from pathlib import Path

from delab_grader.course import NOTEBOOK, Course, GraderError

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
STAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"  # nbgrader's timestamp.txt format


def default_student() -> str:
    """``DELAB_STUDENT`` or the login name."""
    return os.environ.get("DELAB_STUDENT") or getpass.getuser()


def check_student(student: str) -> str:
    """``student`` if it is a usable id (it becomes a folder name), else GraderError."""
    if not STUDENT_ID.match(student):
        raise GraderError(f"student id {student!r}: use letters, digits, '_', '.', '@' or '-' (max 64)")
    return student


def _archive(course: Course, student: str, week: str) -> Path | None:
    """Move the current submission into history; returns where it went."""
    current = course.submitted(student, week)
    if not current.exists():
        return None
    stamp_file = current / "timestamp.txt"
    stamp = stamp_file.read_text().strip() if stamp_file.is_file() else "unknown-time"
    name = re.sub(r"[^0-9A-Za-z]+", "-", stamp).strip("-") or "unknown-time"
    history = course.history(student, week)
    history.mkdir(parents=True, exist_ok=True)
    target, n = history / name, 1
    while target.exists():
        n += 1
        target = history / f"{name}-{n}"
    current.rename(target)
    return target


def submit(course: Course, week: str, notebook: Path | None = None, student: str | None = None) -> Path:
    """Submit ``notebook`` (default: the released one in ``weeks/<week>``) for ``student``."""
    course.require_week(week)
    student = check_student(student or default_student())
    notebook = Path(notebook) if notebook else course.release(week)
    if not notebook.is_file():
        raise GraderError(f"no notebook at {notebook}; give the path of your assignment notebook")
    _archive(course, student, week)
    dest = course.submitted(student, week)
    dest.mkdir(parents=True)
    shutil.copy2(notebook, dest / NOTEBOOK)
    (dest / "timestamp.txt").write_text(dt.datetime.now(dt.UTC).strftime(STAMP_FORMAT))
    return dest
