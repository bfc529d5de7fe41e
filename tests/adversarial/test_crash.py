"""Killing the grader (SIGKILL) takes every sandboxed process with it; the next run resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import psutil
import pytest
from cli_helpers import delab, subprocess_delab
from conftest import WEEK, new_course
from delab_grader.gradebook import open_gradebook
from delab_grader.limits import _own_cgroup
from submissions import load, place, with_answers

pytestmark = pytest.mark.slow


def _sandboxed(pid: int) -> list[psutil.Process]:
    """Kernels (and their sandboxes) started by the grader ``pid``."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [p for p in children if "bwrap" in p.name() or "ipykernel_launcher" in " ".join(p.cmdline())]


def _wait(condition, tries: int = 2400) -> bool:
    for _ in range(tries):  # polling, bounded; no timing assertion
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_sigkill_of_the_grader_leaves_no_sandbox_and_the_rerun_resumes(tmp_path):
    course = new_course(tmp_path)
    solution = load(course, WEEK)
    place(course, "ann", WEEK, solution)
    place(course, "sleeper", WEEK, with_answers(solution, {"q1_code": "import time\ntime.sleep(600)"}))
    proc = subprocess_delab(course, "grade", WEEK, "--all", "--workers", "2", "--cell-timeout", "600",
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    seen: list[psutil.Process] = []

    def kernel_running() -> bool:  # launcher-exec'd bwrap, bwrap's PID-namespace init, the kernel
        seen[:] = _sandboxed(proc.pid) or seen
        return len(seen) >= 3 or proc.poll() is not None

    assert _wait(kernel_running) and proc.poll() is None
    os.kill(proc.pid, signal.SIGKILL)  # the grader only: its sandboxes must follow on their own
    proc.wait()
    assert _wait(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in seen))
    summary = delab(course, "grade", WEEK, "--all", "--cell-timeout", "5").stdout
    assert "ann: 17/17" in summary or "unchanged 1" in summary
    assert "sleeper: 13/17" in summary
    with open_gradebook(course.db_url) as gb:
        assert sorted(s.student.id for s in gb.find_assignment(WEEK).submissions) == ["ann", "sleeper"]
    for controller in ("memory", "pids"):  # the killed grader's cgroups were swept by the rerun
        parent = _own_cgroup(controller)
        assert parent is None or not list(parent.glob(f"delab-{proc.pid}-*"))
