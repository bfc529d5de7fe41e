"""Where the grader finds sources, released notebooks and its runtime state."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from delab import paths

#: Every assignment is one notebook with this name (nbgrader's notebook id is its stem).
NOTEBOOK = "assignment.ipynb"
NOTEBOOK_ID = "assignment"


class GraderError(Exception):
    """A problem the user can fix; the message says how."""


@dataclass(frozen=True)
class Course:
    """The folders of one course: sources, released notebooks and runtime state (``course/``)."""

    root: Path
    solutions: Path
    weeks: Path
    state: Path
    db_url: str
    data: Path  # the dataset notebooks read (its manifest.json fingerprints the references)

    @classmethod
    def at(
        cls, root: Path, state: Path | None = None, db_url: str | None = None, data: Path | None = None
    ) -> Course:
        """The standard layout under ``root``; runtime state in ``state`` (default ``root/course``)."""
        root = Path(root).resolve()
        state = Path(state).resolve() if state else root / "course"
        db_url = db_url or f"sqlite:///{state / 'gradebook.db'}"
        return cls(root, root / "solutions", root / "weeks", state, db_url, Path(data or paths.data_dir()))

    @classmethod
    def default(cls) -> Course:
        """The checkout's course; ``DELAB_COURSE_DIR`` and ``DELAB_GRADEBOOK_URL`` override state and db."""
        state = os.environ.get("DELAB_COURSE_DIR")
        return cls.at(
            paths.repo_root(), Path(state) if state else None, os.environ.get("DELAB_GRADEBOOK_URL")
        )

    def source(self, week: str) -> Path:
        """The nbgrader source notebook of ``week``."""
        return self.solutions / week / NOTEBOOK

    def release(self, week: str) -> Path:
        """The released student notebook of ``week``."""
        return self.weeks / week / NOTEBOOK

    def submitted(self, student: str = "", week: str = "") -> Path:
        """nbgrader's ``submitted/<student>/<week>`` folder (or a parent of it)."""
        return self._step("submitted", student, week)

    def autograded(self, student: str = "", week: str = "") -> Path:
        """nbgrader's ``autograded/<student>/<week>`` folder."""
        return self._step("autograded", student, week)

    def feedback(self, student: str = "", week: str = "") -> Path:
        """nbgrader's ``feedback/<student>/<week>`` folder."""
        return self._step("feedback", student, week)

    def history(self, student: str, week: str) -> Path:
        """Earlier submissions, kept by ``delab submit``."""
        return self._step("history", student, week)

    def references(self, week: str) -> Path:
        """The cached reference answers of ``week``."""
        return self.state / "references" / week

    def _step(self, step: str, student: str, week: str) -> Path:
        path = self.state / step
        return path / student / week if student else path

    def week_names(self) -> list[str]:
        """Weeks that have a source notebook, sorted."""
        if not self.solutions.is_dir():
            return []
        return sorted(p.parent.name for p in self.solutions.glob(f"*/{NOTEBOOK}"))

    def require_week(self, week: str) -> str:
        """``week`` itself if it has a source notebook, else a GraderError listing the known weeks."""
        if not self.source(week).is_file():
            known = ", ".join(self.week_names()) or "none"
            raise GraderError(f"no source notebook {self.source(week)} (known weeks: {known})")
        return week
