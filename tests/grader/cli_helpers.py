"""Running the grader's command line (in-process) and nbgrader (a subprocess) against a test course."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from delab_grader import cli
from delab_grader.course import Course

REPO = Path(__file__).resolve().parents[2]


def course_env(course: Course) -> dict[str, str]:
    """Environment that points the command line at ``course``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELAB_")}
    bindir = str(Path(sys.executable).parent)
    return env | {
        "DELAB_HOME": str(course.root),
        "DELAB_DATA": str(course.data),
        "DELAB_COURSE_DIR": str(course.state),
        "PATH": bindir + os.pathsep + env.get("PATH", ""),
    }


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def delab(course: Course, *args: str, check: bool = True) -> Run:
    """``delab <args>`` as the CLI runs it, in this process, with the course's environment."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        for key in [k for k in os.environ if k.startswith("DELAB_")]:
            mp.delenv(key)
        for key, value in course_env(course).items():
            mp.setenv(key, value)
        code = cli.main(list(args))
    run = Run(code, out.getvalue(), err.getvalue())
    if check and code != 0:
        raise AssertionError(f"{args} exited {code}:\n{run.stdout}\n{run.stderr}")
    return run


def subprocess_delab(course: Course, *args: str, **popen) -> subprocess.Popen:
    """``python -m delab_grader.cli <args>`` as a separate process (for kill tests)."""
    cmd = [sys.executable, "-m", "delab_grader.cli", *args]
    return subprocess.Popen(cmd, env=course_env(course), cwd=course.root, **popen)
