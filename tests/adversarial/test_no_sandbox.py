"""Without namespaces: grading refuses unless --unsafe; the student-side check runs and says so."""

from __future__ import annotations

import pytest
from cli_helpers import delab
from conftest import WEEK, new_course
from delab_grader import sandbox
from delab_grader.checking import check_notebook
from delab_grader.execute import Timeouts
from submissions import load, place

pytestmark = pytest.mark.slow


@pytest.fixture
def no_namespaces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "probe", lambda: "user namespaces are disabled (simulated)")
    monkeypatch.setattr(sandbox, "_settings", sandbox.Settings())  # --unsafe must not outlive the test


def test_grading_refuses_without_the_sandbox_unless_unsafe(tmp_path, no_namespaces):
    course = new_course(tmp_path)
    place(course, "ann", WEEK, load(course, WEEK))
    refused = delab(course, "grade", WEEK, "--all", check=False)
    assert refused.returncode == 2
    assert "refusing to run student code without the sandbox" in refused.stderr
    assert "user namespaces are disabled" in refused.stderr and "--unsafe" in refused.stderr
    assert not course.autograded().exists()
    graded = delab(course, "grade", WEEK, "--all", "--unsafe")
    assert "ann: 17/17" in graded.stdout and "WITHOUT the sandbox" in graded.stderr


def test_student_check_runs_unsandboxed_and_says_so(tmp_path, no_namespaces, monkeypatch):
    course = new_course(tmp_path)
    monkeypatch.setenv("DELAB_DATA", str(course.data))
    ok, lines = check_notebook(course.source(WEEK), Timeouts(cell=60))
    assert ok
    assert any("WITHOUT the grader's sandbox (user namespaces are disabled" in line for line in lines)
