"""Fixtures for the grader's tests: a course in a temporary folder with the fixture assignment.

Expensive results (the fixture's reference answers, the big batch) are built once per test run and
shared between pytest-xdist workers through a file lock.
"""

from __future__ import annotations

import fcntl
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dataset import make_dataset
from delab_grader.course import Course
from delab_grader.references import references_sync
from delab_grader.release import release

FIXTURE = Path(__file__).parents[1] / "fixtures" / "grader"
WEEK = "fixture-week"


def new_course(root: Path, seed: int = 1, refs: Path | None = None) -> Course:
    """A course under ``root`` with the fixture week released, its own dataset, and (when given)
    a copy of already computed references (valid for seed 1)."""
    shutil.copytree(FIXTURE / "solutions", root / "solutions")
    (root / "weeks" / WEEK).mkdir(parents=True)
    (root / "weeks" / WEEK / "lecture.ipynb").write_text("{}")  # a release must never delete it
    course = Course.at(root, data=make_dataset(root / "data", seed))
    release(course, WEEK)
    if refs is not None:
        shutil.copytree(refs, course.references(WEEK))
    return course


@contextmanager
def once(tmp_path_factory: pytest.TempPathFactory, worker_id: str, name: str) -> Iterator[Path]:
    """A folder shared by all xdist workers of this run, held under an exclusive lock."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield shared / name


@pytest.fixture(scope="session")
def fixture_refs(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """Reference answers of the fixture week on the seed-1 dataset, computed once per run."""
    with once(tmp_path_factory, worker_id, "fixture-refs") as root:
        if not (root / "ready").exists():
            shutil.rmtree(root, ignore_errors=True)
            course = new_course(root)
            references_sync(course, WEEK)
            (root / "ready").touch()
        return Course.at(root, data=root / "data").references(WEEK)


@pytest.fixture
def course(tmp_path: Path, fixture_refs: Path) -> Course:
    return new_course(tmp_path, refs=fixture_refs)
