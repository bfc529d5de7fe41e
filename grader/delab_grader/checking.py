"""``delab check``: run a student's notebook headless and report its visible checks.

The same engine as ``check()`` in the notebook: answers are exported, read back and their visible
checks run. References are never read, so nothing about the expected answers is revealed.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from delab import paths
from delab_grader import sandbox
from delab_grader.checks import run_checks
from delab_grader.execute import DEFAULT_TIMEOUTS, Timeouts, execute_notebook, stage_files, start_kernel
from delab_grader.exports import ExportError, read_export
from delab_grader.notebook import ANSWER_CALL, read_notebook
from delab_grader.spec import SpecError, make_spec


def _question_line(exports: Path, qid: str) -> tuple[bool, str, int]:
    """(passed, line, hidden checks) for one question."""
    try:
        export = read_export(exports, qid)
        if export is None:
            return False, f"[----] {qid}: no answer recorded (see the errors above)", 1
        spec = make_spec(**export.spec)
    except (ExportError, SpecError) as exc:
        return False, f"[FAIL] {qid}: {exc}", 1
    wanted = [f"has_columns:{','.join(spec.columns)}"] if spec.columns and export.table is not None else []
    failed = [r for r in run_checks(export, [*wanted, *spec.checks]) if not r.ok]
    hidden = max(1, len(spec.parts))
    if failed:
        return False, f"[FAIL] {qid}: " + "; ".join(f"{r.name}: {r.message}" for r in failed), hidden
    return True, f"[ok]   {qid}: answer recorded, visible checks passed", hidden


async def _run(path: Path, timeouts: Timeouts) -> tuple[bool, list[str]]:
    nb, notes = read_notebook(path)
    if nb is None:
        return False, notes
    scratch = Path(tempfile.mkdtemp(prefix="delab-check-"))
    try:
        with sandbox.student_side() as sandbox_notes:  # the sandbox if possible; says so if not
            kernel = await start_kernel(scratch, {"DELAB_DATA": str(paths.data_dir())})
        stage_files(path.parent, kernel.work, set())
        run = await execute_notebook(nb, scratch, timeouts, kernel)
        lines = notes + sandbox_notes + [f"cell {i} raised {err}" for i, err in sorted(run.errors.items())]
        lines += [run.reason] if run.status != "ok" else []
        qids = [q for c in nb.cells if c.cell_type == "code" for q in ANSWER_CALL.findall(c.source)]
        results = [_question_line(run.exports, q) for q in dict.fromkeys(qids)]
        lines += [line for _, line, _ in results]
        lines.append(f"{sum(h for *_, h in results)} hidden check(s) will compare your answers at grading.")
        return all(ok for ok, *_ in results) and run.status == "ok", lines
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def check_notebook(path: Path, timeouts: Timeouts = DEFAULT_TIMEOUTS) -> tuple[bool, list[str]]:
    """Execute ``path`` and return (all visible checks passed, report lines)."""
    return asyncio.run(_run(Path(path), timeouts))
