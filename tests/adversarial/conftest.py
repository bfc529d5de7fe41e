"""The adversarial suite: every attack in :mod:`attacks` graded in one sandboxed batch.

Limits are small so that the bombs end quickly: 512 MB of memory, 128 processes, 20 s of CPU per
process, 2 MB of output, 6 s per cell.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "grader"))
sys.path.insert(0, str(Path(__file__).parent))

from attacks import ATTACKS, CANARY, build, secret_paths
from delab_grader import sandbox
from delab_grader.batch import BatchOptions, grade_week, stored_result
from delab_grader.course import Course
from delab_grader.execute import Timeouts
from delab_grader.grading import SubmissionResult
from delab_grader.limits import Limits
from submissions import load, place

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("grader_conftest", HERE.parent / "grader" / "conftest.py")
grader_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(grader_conftest)
WEEK, new_course = grader_conftest.WEEK, grader_conftest.new_course

LIMITS = Limits(memory_mb=512, cpu_seconds=20, processes=128, file_mb=64, output_mb=2)
TIMEOUTS = Timeouts(cell=6, notebook=120)
HONEST = ("honest", "victim")


@dataclass
class Graded:
    """The attacked course after one batch."""

    course: Course
    failed: dict[str, str]  # students the batch could not grade
    results: dict[str, SubmissionResult]
    paths: dict[str, Path]


def place_attacks(course: Course) -> dict[str, Path]:
    """Canaries in every secret place, an honest and a victim submission, then every attack."""
    paths = secret_paths(course, WEEK)
    solution = load(course, WEEK)
    for student in HONEST:
        place(course, student, WEEK, solution)
    for folder in (paths["STATE"], paths["SOLUTIONS"], paths["OTHER"]):
        (folder / "canary.txt").write_text(CANARY)
    for attack in ATTACKS:
        folder = place(course, attack.student, WEEK, build(attack, solution, paths))
        for name, target in attack.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target.replace("@REFS@", str(paths["REFS"])).replace("@SOURCE@", str(paths["SOURCE"])),
                       folder / name)  # fmt: skip
    return paths


def grade_attacks(root: Path) -> dict[str, str]:
    """Grade every attack in a new course under ``root``; the students that failed."""
    course = new_course(root)
    place_attacks(course)
    previous = sandbox.configure(mode="required", limits=LIMITS)
    try:
        options = BatchOptions(workers=2, timeouts=TIMEOUTS, progress=False)
        return asyncio.run(grade_week(course, WEEK, options)).failed
    finally:
        sandbox.configure(previous.mode, previous.limits)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Graded:
    """The batch, graded once per test run (pytest-xdist workers share it)."""
    with grader_conftest.once(tmp_path_factory, worker_id, "adversarial") as root:
        if not (root / "failed.json").exists():
            shutil.rmtree(root, ignore_errors=True)
            (root / "failed.json").write_text(json.dumps(grade_attacks(root)))
    course = Course.at(root, data=root / "data")
    students = [*HONEST, *(a.student for a in ATTACKS)]
    results = {s: r for s in students if (r := stored_result(course, s, WEEK)) is not None}
    return Graded(course, json.loads((root / "failed.json").read_text()), results, secret_paths(course, WEEK))
