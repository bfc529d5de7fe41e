"""Benchmark (not a test): ``python -m delab_grader.bench [--n 40] [--workers W] [--sample 8]``.

Grades N copies of a small assignment and prints, from the same run: notebooks/minute for
``delab grade`` (one process, pre-started kernels), for ``nbgrader autograde`` one submission at a
time, and for raw nbclient execution; and the per-notebook overhead beyond execution.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from delab_grader.course import NOTEBOOK, Course
from delab_grader.execute import DEFAULT_TIMEOUTS, execute_notebook, start_kernel
from delab_grader.references import references_sync
from delab_grader.release import release

WEEK = "bench"
SETUP = (
    "import pandas as pd\nfrom delab_grader.student import answer\n"
    "df = pd.DataFrame({'k': [1, 2, 2], 'v': [1.0, 2.0, 3.0]})"
)
QUESTIONS = [
    ("q1", "out1 = df.groupby('k', as_index=False)['v'].sum()", "answer('q1', out1, keys=['k'])"),
    ("q2", "out2 = sorted(df['k'].unique().tolist())", "answer('q2', out2)"),
    ("q3", "out3 = float(df['v'].mean())", "answer('q3', out3)"),
]


def _meta(gid: str, **flags: object) -> dict:
    base = {"grade": False, "solution": False, "locked": False, "schema_version": 3, "task": False}
    return {"nbgrader": {**base, "grade_id": gid, **flags}}


def bench_notebook() -> nbformat.NotebookNode:
    """A small nbgrader source notebook: three questions on a tiny DataFrame."""
    cells = [nbformat.v4.new_code_cell(SETUP, metadata=_meta("setup", locked=True))]
    for gid, solution, test in QUESTIONS:
        text = f"### BEGIN SOLUTION\n{solution}\n### END SOLUTION"
        cells.append(nbformat.v4.new_code_cell(text, metadata=_meta(f"{gid}_code", solution=True)))
        cells.append(nbformat.v4.new_code_cell(test, metadata=_meta(gid, grade=True, locked=True, points=1)))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _env(course: Course) -> dict[str, str]:
    bindir = str(Path(sys.executable).parent)
    path = bindir + os.pathsep + os.environ.get("PATH", "")
    course_vars = {"DELAB_HOME": course.root, "DELAB_DATA": course.data, "DELAB_COURSE_DIR": course.state}
    return {**os.environ, **{k: str(v) for k, v in course_vars.items()}, "PATH": path}


def _setup(root: Path, n: int) -> tuple[Course, list[str]]:
    (root / "data").mkdir(parents=True)
    (root / "data" / "manifest.json").write_text('{"bench": 1}')
    course = Course.at(root, data=root / "data")
    course.source(WEEK).parent.mkdir(parents=True)
    nbformat.write(bench_notebook(), course.source(WEEK))
    release(course, WEEK)
    references_sync(course, WEEK)
    students = [f"s{i:03d}" for i in range(n)]
    for s in students:
        folder = course.submitted(s, WEEK)
        folder.mkdir(parents=True)
        shutil.copy(course.source(WEEK), folder / NOTEBOOK)
        (folder / "timestamp.txt").write_text("2024-01-01 10:00:00.000000 UTC")
    return course, students


def time_delab(course: Course, workers: int) -> float:
    """Wall seconds of ``delab grade --all`` in its own process (process start included)."""
    cmd = [sys.executable, "-m", "delab_grader.cli", "grade", WEEK, "--all", "--workers", str(workers)]
    start = time.perf_counter()
    subprocess.run(cmd, env=_env(course), check=True, capture_output=True)
    return time.perf_counter() - start


def time_nbgrader(course: Course, students: list[str]) -> float:
    """Mean wall seconds of ``nbgrader autograde`` for one submission, run one at a time."""
    root = course.root / "nbgrader"
    (root / "source" / WEEK).mkdir(parents=True)
    shutil.copy(course.source(WEEK), root / "source" / WEEK / NOTEBOOK)
    (root / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\n")
    for s in students:
        shutil.copytree(course.submitted(s, WEEK), root / "submitted" / s / WEEK)
    nbg = [sys.executable, "-m", "nbgrader"]
    subprocess.run([*nbg, "generate_assignment", WEEK, "--force"], cwd=root, env=_env(course), check=True,
                   capture_output=True)  # fmt: skip
    start = time.perf_counter()
    for s in students:
        subprocess.run([*nbg, "autograde", WEEK, "--student", s], cwd=root, env=_env(course), check=True,
                       capture_output=True)  # fmt: skip
    return (time.perf_counter() - start) / len(students)


def time_raw(course: Course, samples: int) -> tuple[float, float]:
    """Mean seconds per notebook for plain nbclient: with kernel start, and cells only."""
    nb = nbformat.read(course.source(WEEK), as_version=4)
    start = time.perf_counter()
    for _ in range(samples):
        NotebookClient(nbformat.from_dict(nb), kernel_name="python3").execute()
    with_start = (time.perf_counter() - start) / samples

    async def cells_only() -> float:
        total = 0.0
        for _ in range(samples):
            scratch = Path(tempfile.mkdtemp(prefix="bench-"))
            kernel = await start_kernel(scratch, warmup="")
            result = await execute_notebook(nbformat.from_dict(nb), scratch, DEFAULT_TIMEOUTS, kernel)
            total += result.seconds
            shutil.rmtree(scratch, ignore_errors=True)
        return total / samples

    return with_start, asyncio.run(cells_only())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m delab_grader.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="submissions graded by delab (default 40)")
    parser.add_argument("--workers", type=int, default=max(1, os.cpu_count() or 1))
    parser.add_argument(
        "--sample", type=int, default=8, help="submissions timed for nbgrader and raw nbclient"
    )
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="delab-bench-"))
    try:
        course, students = _setup(root, args.n)
        delab_s = time_delab(course, args.workers)
        nbgrader_s = time_nbgrader(course, students[: args.sample])
        raw_s, cells_s = time_raw(course, args.sample)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    per_nb = delab_s / args.n
    rate = lambda seconds: 60 / seconds  # noqa: E731
    print(f"delab grade        : {args.n} notebooks in {delab_s:.1f} s, {args.workers} workers -> "
          f"{rate(per_nb):.1f} nb/min")  # fmt: skip
    print(f"nbgrader autograde : {nbgrader_s:.2f} s/nb, one at a time ({args.sample} timed) -> "
          f"{rate(nbgrader_s):.1f} nb/min")  # fmt: skip
    print(f"raw nbclient       : {raw_s:.2f} s/nb with kernel start, {cells_s:.2f} s/nb cells only -> "
          f"{rate(raw_s):.1f} nb/min")  # fmt: skip
    print(f"speed-up vs nbgrader sequential: {nbgrader_s / per_nb:.1f}x (target >= 3x)")
    overhead = per_nb * args.workers - raw_s
    print(f"overhead beyond raw execution: {overhead:+.2f} worker-s per notebook (target <= 0.3 s; "
          "negative: pre-started kernels hide more than the grader adds)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
