"""Running notebooks: the ONE place where student (or solution) code is executed.

Code runs only inside a kernel process started by :func:`start_kernel`, in its own scratch folder, with
answers exported to ``<scratch>/outbox`` and taken from there right after their test cell
(:mod:`delab_grader.outbox`). The kernel runs in the sandbox of :mod:`delab_grader.sandbox`.
:class:`KernelPool` keeps kernels started ahead of time so a batch does not wait for kernel start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode

from delab_grader import sandbox
from delab_grader.capped import CappedClient, KernelUnresponsive, OutputLimitExceeded
from delab_grader.course import Course
from delab_grader.outbox import collect, empty, recorded_qids
from delab_grader.student import EXPORTS_ENV

WARMUP = "import pandas, pyarrow.parquet, delab_grader.student"
MAX_TEXT = 4000  # characters of printed output kept per cell
HIDDEN_ENV = ("DELAB_COURSE_DIR", "DELAB_GRADEBOOK_URL")


@dataclass(frozen=True)
class Timeouts:
    """Seconds allowed: per cell (then the kernel is interrupted), per notebook, and for kernel start."""

    cell: float = 120.0
    notebook: float = 900.0
    startup: float = 60.0


DEFAULT_TIMEOUTS = Timeouts()


@dataclass
class ExecutionResult:
    """An executed notebook, where its answers are, and how execution ended."""

    nb: NotebookNode
    exports: Path
    status: str = "ok"  # ok | timeout | dead | failed
    reason: str = ""
    stopped_at: int | None = None  # index of the cell during which execution stopped
    errors: dict[int, str] = field(default_factory=dict)  # cell index -> "NameError: ..."
    seconds: float = 0.0


@dataclass
class Kernel:
    """A started kernel with its scratch folder: cwd ``work``; the kernel writes answers to ``outbox``,
    the grader keeps those recorded by test cells in ``exports`` (out of the kernel's reach)."""

    km: AsyncKernelManager
    scratch: Path

    @property
    def work(self) -> Path:
        return self.scratch / "work"

    @property
    def exports(self) -> Path:
        return self.scratch / "exports"

    @property
    def outbox(self) -> Path:
        return self.scratch / "outbox"


def kernel_env(course: Course) -> dict[str, str]:
    """Environment additions for kernels grading ``course``: its dataset."""
    return {"DELAB_DATA": str(course.data)}


async def start_kernel(scratch: Path, env: dict[str, str] | None = None, warmup: str = WARMUP) -> Kernel:
    """Start a python3 kernel working in ``scratch/work`` that exports to ``scratch/outbox``.

    The kernel does not inherit the grader's own settings (course state, gradebook URL); it runs in
    the sandbox (:mod:`delab_grader.sandbox`) unless that is switched off.
    """
    scratch = Path(scratch)
    for folder in ("work", "exports", "outbox"):
        (scratch / folder).mkdir(parents=True, exist_ok=True)
    kernel = Kernel(sandbox.kernel_manager(scratch / "work", scratch / "outbox", env), scratch)
    base = {k: v for k, v in os.environ.items() if k not in HIDDEN_ENV}
    full_env = {**base, **(env or {}), EXPORTS_ENV: str(kernel.outbox), "MPLBACKEND": "Agg"}
    await kernel.km.start_kernel(cwd=str(kernel.work), env=full_env)
    if warmup:
        kc = kernel.km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            await kc.execute_interactive(warmup, silent=True, store_history=False, timeout=60)
        finally:
            kc.stop_channels()
    return kernel


async def stop_kernel(kernel: Kernel) -> None:
    """Shut the kernel down (forcefully) and release its resources."""
    with contextlib.suppress(Exception):
        await kernel.km.shutdown_kernel(now=True)
    with contextlib.suppress(Exception):
        await kernel.km.cleanup_resources()


def _trim(cell: NotebookNode) -> str | None:
    """Keep a cell's outputs small; return its error as "Name: value" if it raised."""
    error = None
    kept = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            error = f"{out.get('ename')}: {out.get('evalue')}"
            kept.append(out)
        elif out.get("output_type") == "stream":
            out["text"] = out.get("text", "")[:MAX_TEXT]
            kept.append(out)
    cell["outputs"] = kept
    return error


async def _run_cells(client: NotebookClient, result: ExecutionResult, deadline: float, outbox: Path) -> None:
    empty(outbox)
    for index, cell in enumerate(result.nb.cells):
        if cell.cell_type != "code":
            continue
        result.stopped_at = index
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        began = time.monotonic()
        await asyncio.wait_for(client.async_execute_cell(cell, index, store_history=True), remaining)
        collect(outbox, result.exports, recorded_qids(cell))  # answers count only from their test cell
        error = _trim(cell)
        if time.monotonic() - began >= client.timeout:
            error = f"TimeoutError: the cell ran longer than {client.timeout:g} s and was interrupted"
        if error is not None:
            result.errors[index] = error
    result.stopped_at = None


async def execute_notebook(
    nb: NotebookNode, scratch: Path, timeouts: Timeouts, kernel: Kernel | None = None
) -> ExecutionResult:
    """Execute ``nb`` in a fresh kernel (``kernel`` if pre-started in ``scratch``); never raises for
    student errors: timeouts and kernel death end execution and are reported in the result."""
    started = time.monotonic()
    kernel = kernel or await start_kernel(scratch)
    result = ExecutionResult(nb, kernel.exports)
    client = CappedClient(
        nb, km=kernel.km, timeout=timeouts.cell, interrupt_on_timeout=True, allow_errors=True,
        startup_timeout=timeouts.startup, kernel_name="python3",
        max_output_bytes=int(sandbox.current_limits().output_mb * 2**20),
    )  # fmt: skip
    try:
        async with client.async_setup_kernel(cleanup_kc=True):
            await _run_cells(client, result, started + timeouts.notebook, kernel.outbox)
            result.seconds = time.monotonic() - started
    except TimeoutError:
        result.status, result.reason = "timeout", f"the notebook ran past its {timeouts.notebook:g} s limit"
    except DeadKernelError:
        result.status, result.reason = "dead", sandbox.death_reason(kernel.km)
    except (OutputLimitExceeded, KernelUnresponsive) as exc:
        result.status, result.reason = "failed", str(exc)
    except Exception as exc:  # anything else ends this notebook only
        result.status, result.reason = "failed", f"execution failed: {type(exc).__name__}: {exc}"
    finally:
        await stop_kernel(kernel)
    result.seconds = result.seconds or time.monotonic() - started
    return result


class KernelPool:
    """Kernels started ahead of use, each in its own scratch folder under ``base``."""

    def __init__(
        self,
        base: Path,
        size: int,
        env: dict[str, str] | None = None,
        warmup: str = WARMUP,
        total: int | None = None,
    ) -> None:
        self.base, self.size, self.env, self.warmup = Path(base), max(1, size), env or {}, warmup
        self.total = total  # never start more kernels than this (None: no limit)
        self._ready: asyncio.Queue[asyncio.Future[Kernel]] = asyncio.Queue()
        self._count = 0

    def _spawn(self, force: bool = False) -> None:
        if not force and self.total is not None and self._count >= self.total:
            return
        self._count += 1
        scratch = self.base / f"k{self._count:05d}"
        self._ready.put_nowait(asyncio.ensure_future(start_kernel(scratch, self.env, self.warmup)))

    def fill(self) -> None:
        """Start ``size`` kernels in the background."""
        for _ in range(self.size - self._ready.qsize()):
            self._spawn()

    async def acquire(self) -> Kernel:
        """A started kernel; a replacement starts in the background."""
        if self._ready.empty():
            self._spawn(force=True)
        future = self._ready.get_nowait()
        self._spawn()
        return await future

    async def close(self) -> None:
        """Stop kernels that were started but not used."""
        while not self._ready.empty():
            task = self._ready.get_nowait()
            with contextlib.suppress(Exception):
                await stop_kernel(await task)


def stage_files(src: Path, work: Path, skip: set[str]) -> None:
    """Copy the files next to a notebook (data, helpers) into the kernel's working folder.

    Notebooks, hidden files, symlinks and names in ``skip`` are left out.
    """
    for item in src.iterdir():
        if item.name in skip or item.suffix == ".ipynb" or item.name.startswith(".") or item.is_symlink():
            continue
        if item.is_dir():
            shutil.copytree(item, work / item.name, dirs_exist_ok=True, symlinks=True)
        else:
            shutil.copy2(item, work / item.name)


def clean_scratch(kernel_or_path: Kernel | Path) -> None:
    """Remove a scratch folder."""
    path = kernel_or_path.scratch if isinstance(kernel_or_path, Kernel) else kernel_or_path
    shutil.rmtree(path, ignore_errors=True)
