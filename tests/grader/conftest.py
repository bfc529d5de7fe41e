"""Fixtures for the grader's tests: a course in a temporary folder with the fixture assignment."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dataset import make_dataset
from delab_grader.course import Course
from delab_grader.release import release

FIXTURE = Path(__file__).parents[1] / "fixtures" / "grader"
WEEK = "fixture-week"


def new_course(root: Path, seed: int = 1) -> Course:
    """A course under ``root`` with the fixture week released and its own dataset."""
    shutil.copytree(FIXTURE / "solutions", root / "solutions")
    (root / "weeks" / WEEK).mkdir(parents=True)
    (root / "weeks" / WEEK / "lecture.ipynb").write_text("{}")  # a release must never delete it
    course = Course.at(root, data=make_dataset(root / "data", seed))
    release(course, WEEK)
    return course


@pytest.fixture
def course(tmp_path: Path) -> Course:
    return new_course(tmp_path)
