"""Reading and restoring submitted notebooks against the source (no kernels)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import FIXTURE, WEEK
from delab_grader.course import Course, GraderError
from delab_grader.notebook import (
    accepts_kernel_decided,
    find_notebook,
    kernel_decided,
    load_source,
    nbgrader_meta,
    read_notebook,
    reconcile,
)
from delab_grader.references import references_sync
from delab_grader.release import release

SOURCE = FIXTURE / "solutions" / WEEK / "assignment.ipynb"


def ids(nb) -> list:
    return [nbgrader_meta(c).get("grade_id") for c in nb.cells]


def test_damaged_cells_are_recovered(tmp_path):
    data = json.loads(SOURCE.read_text())
    at = {c["metadata"].get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(data["cells"])}
    del data["cells"][at["q1_code"]]["source"]
    data["cells"][at["q1"]]["metadata"]["nbgrader"] = "garbage"
    data["cells"][at["q2_code"]]["metadata"]["nbgrader"]["grade_id"] = ["not", "a", "name"]
    data["cells"].append({"cell_type": "code"})
    (tmp_path / "assignment.ipynb").write_text(json.dumps(data))
    nb, notes = read_notebook(tmp_path / "assignment.ipynb")
    assert "its cells were recovered" in notes[0]
    rebuilt, notes = reconcile(nb, load_source(SOURCE))
    assert "test cell 'q1' was deleted; it was restored" in notes
    assert ids(rebuilt).count("q1") == 1
    nbformat.validate(rebuilt)


def test_reconciled_notebook_follows_the_source_order_and_is_valid():
    source = load_source(SOURCE)
    submitted = nbformat.read(SOURCE, as_version=4)
    submitted.cells = submitted.cells[::-1]  # a student who reordered everything
    rebuilt, _ = reconcile(submitted, source)
    nbformat.validate(rebuilt)
    assert sorted(filter(None, ids(rebuilt))) == sorted(source.cells)
    assert len({c.id for c in rebuilt.cells}) == len(rebuilt.cells)


def test_find_notebook_messages(tmp_path):
    assert find_notebook(tmp_path / "nope")[0] is None
    assert "no notebook in the submission" in find_notebook(tmp_path)[1][0]
    (tmp_path / "a.ipynb").write_text("{}")
    (tmp_path / "b.ipynb").write_text("{}")
    path, notes = find_notebook(tmp_path)
    assert path.suffix == ".ipynb" and "the newest of ['a.ipynb', 'b.ipynb']" in notes[0]


def _without_opt_in(root: Path) -> Course:
    """A course whose fixture source has the assert-only q10 but no ``kernel_decided_tests`` opt-in."""
    shutil.copytree(FIXTURE / "solutions", root / "solutions")
    (root / "weeks" / WEEK).mkdir(parents=True)
    source = root / "solutions" / WEEK / "assignment.ipynb"
    nb = nbformat.read(source, as_version=4)
    del nb.metadata["delab"]["kernel_decided_tests"]
    nbformat.write(nb, source)
    return Course.at(root, data=root / "data")


def test_assert_only_tests_are_refused_without_the_opt_in(tmp_path):
    course = _without_opt_in(tmp_path)
    with pytest.raises(GraderError, match=r"q10 record no answer\(\).*kernel_decided_tests"):
        release(course, WEEK)
    with pytest.raises(GraderError, match="decided inside the student's kernel"):
        references_sync(course, WEEK)
    assert not course.release(WEEK).exists()
    assert not course.references(WEEK).exists()


def test_the_opt_in_lists_the_kernel_decided_tests():
    source = load_source(FIXTURE / "solutions" / WEEK / "assignment.ipynb")
    assert kernel_decided(source) == ["q10"]
    assert accepts_kernel_decided(source)
