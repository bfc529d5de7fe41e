"""The local engine: runs every chunk task in a process pool and commits the folder atomically.

Chunks are written straight into a hidden temporary folder next to the target; text parts are joined,
every file is hashed, ``manifest.json`` is written last and the folder is renamed into place. A run that
is killed leaves at most a hidden ``.<name>.partial-<pid>`` folder, which the next run removes.

Speed: the pool's workers all start at once, before anything else: forked from this process on Linux
(they inherit its imports), spawned elsewhere (they import in parallel). Meanwhile this process makes
the waves that have a single chunk (the rides dimensions) and each producer's prepared state
(``Producer.prepare``, saved once for every worker to map, see :mod:`shared`). None of this changes a
byte of the output.
"""

from __future__ import annotations

import ctypes
import errno
import multiprocessing
import os
import shutil
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import pyarrow as pa

from . import manifest as mf
from . import shared, writers
from .arrays import decoded
from .context import ChunkContext
from .plan import Request, Task, producers_for, tasks, waves
from .schema import PRODUCERS, TABLES, conform

#: Rough bytes on disk per driving unit (all formats, clean + dirty), for the free-space check.
BYTES_PER_UNIT = {"trips": 700, "orders": 700, "viewing_events": 250}


class DataError(RuntimeError):
    """A generation problem the user can fix (folder, disk, existing data); the message says how."""


@dataclass
class ChunkReport:
    """What one chunk task wrote."""

    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256 (Parquet parts)
    dirty_rows: dict[str, int] = field(default_factory=dict)
    damage: dict[str, dict[str, int]] = field(default_factory=dict)


# ---------------------------------------------------------------- one chunk (runs in a worker)
def run_task(root: str, request: Request, task: Task) -> ChunkReport:
    """Make one chunk of one producer and write every table (and dirty variant) it fills."""
    prod = PRODUCERS[task.producer]
    needed_later = _needed_by_others(prod.name)
    wanted = frozenset(t for t in prod.tables if request.writes(t) or t in needed_later)
    ctx = _context(root, request, task, wanted)
    made = prod.make(ctx)
    report = ChunkReport()
    for name in sorted(wanted, key=prod.tables.index):
        spec = TABLES[name]
        data = conform(spec, made[name], dictionaries=True)
        report.rows[name] = data.num_rows
        formats = request.formats_of(spec.formats) if request.writes(name) else ("parquet",)
        _write_formats(Path(root), spec.domain, name, formats, task.chunk, data, data, spec.variant, report)
        if spec.dirty is not None and not request.dirty.is_clean:
            _write_dirty(Path(root), spec, data, request, ctx, task.chunk, report)
    return report


def _context(root: str, request: Request, task: Task, wanted: frozenset[str] | None = None) -> ChunkContext:
    """The context of one chunk; with the producer's prepared state when the run has built it."""
    state = shared.path_for(Path(root), task.producer)
    prepared = partial(shared.load, str(state)) if state.exists() else None
    return ChunkContext(
        request.seed, request.scale, task.producer, task.chunk, task.n_chunks, task.start, task.count,
        loader=_loader(root), wanted=wanted, prepared=prepared,
    )


def _needed_by_others(producer: str) -> set[str]:
    """Tables of ``producer`` that other producers read (always written as Parquet)."""
    return {need for p in PRODUCERS.values() if p.name != producer for need in p.needs}


def _write_dirty(root: Path, spec, data: pa.Table, request: Request, ctx, chunk: int, report) -> None:
    from .dirty import make_dirty

    if not request.writes(spec.name):
        return
    dirty = make_dirty(spec, decoded(data), request.dirty, ctx.rng(f"dirty/{spec.name}"))
    report.dirty_rows[spec.name] = dirty.typed.num_rows
    report.damage[spec.name] = dict(dirty.counts)
    formats = request.formats_of(spec.formats)
    _write_formats(root, spec.domain, spec.name, formats, chunk, dirty.typed, dirty.text, "dirty", report)


def _write_formats(root, domain, name, formats, chunk, typed, text, variant, report) -> None:
    for fmt in formats:
        path = writers.part_path(root, domain, name, fmt, chunk, variant)
        digest = writers.write_part(typed if fmt == "parquet" else text, path, fmt, chunk)
        if digest is not None:  # Parquet parts; text parts are hashed once joined
            report.files[str(path.relative_to(root))] = digest


@lru_cache(maxsize=4)
def _loader(root: str) -> Callable[[str], pa.Table]:
    @lru_cache(maxsize=32)
    def load(name: str) -> pa.Table:
        spec = TABLES[name]
        return writers.read_table(writers.table_path(Path(root), spec.domain, name, "parquet", spec.variant))

    return load


def _run_one(args: tuple[str, Request, Task]) -> ChunkReport:
    return run_task(*args)


# ---------------------------------------------------------------- the whole dataset (parent process)
def generate(
    out: Path | str,
    request: Request,
    workers: int = 2,
    force: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Generate the dataset ``request`` describes into ``out``; return its manifest.

    A no-op when ``out`` already holds exactly this request. Refuses to replace a different dataset
    unless ``force`` is given.
    """
    out = Path(out).resolve()
    params = request.params()
    existing = mf.read(out)
    if mf.same_request(existing, params):
        log(f"{out} is up to date (seed {request.seed}, scale {request.scale.name}): nothing to do")
        return existing  # type: ignore[return-value]
    _check_replace(out, existing, params, force)
    producers = producers_for(request.tables)
    _check_disk(out.parent, request)
    tmp = _fresh_tmp(out)
    try:
        reports = _run_waves(tmp, request, producers, workers, progress)
        manifest = _finish(tmp, request, producers, reports)
        _commit(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if exc.errno == errno.ENOSPC:
            raise DataError(f"the disk filled up while writing {out}; free some space or pick a "
                            f"smaller --scale (nothing was changed in {out})") from exc
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log(f"wrote {out} ({sum(t['rows'] for t in manifest['tables'].values()):,} rows in "
        f"{len(manifest['tables'])} tables)")
    return manifest


def _run_waves(tmp: Path, request: Request, producers, workers: int, progress: bool) -> list[ChunkReport]:
    """Run every wave's chunks; a wave of one chunk runs in this process (while the pool starts up)."""
    from tqdm.auto import tqdm  # imported here, not by every worker

    plan = [(wave, tasks(wave, request.scale)) for wave in waves(producers)]
    reports: list[ChunkReport] = []
    with _executor(workers) as pool, tqdm(  # the pool first: no tqdm thread exists when it forks
        total=sum(len(t) for _, t in plan), desc="generating chunks", unit="chunk", disable=not progress
    ) as bar:
        for wave, wave_tasks in plan:
            _prepare(tmp, request, wave)
            run = _inline if len(wave_tasks) == 1 else pool
            for report in run((str(tmp), request, task) for task in wave_tasks):
                reports.append(report)
                bar.update()
    shared.load.cache_clear()  # unmap this run's state and drop the tables read here for it
    _loader.cache_clear()
    shutil.rmtree(tmp / shared.SHARED_DIR, ignore_errors=True)
    return reports


def _prepare(tmp: Path, request: Request, wave) -> None:
    """Build the prepared state of the wave's producers once, for all their chunks (see ``shared``)."""
    for prod in wave:
        if prod.prepare is not None:
            first = Task(prod.name, 0, prod.n_chunks(request.scale), *prod.chunk_range(request.scale, 0))
            shared.save(prod.prepare(_context(str(tmp), request, first)), shared.path_for(tmp, prod.name))


Jobs = Iterable[tuple[str, Request, Task]]


def _inline(jobs: Jobs) -> Iterator[ChunkReport]:
    return map(_run_one, jobs)


def _ready() -> None:
    """A no-op task: submitting one per worker starts every worker at once."""


def _keep_heap() -> None:
    """Pool initializer: let glibc keep freed memory for the next chunk instead of unmapping it.

    By default each big numpy array gets its own mapping and the heap is trimmed when it is freed, so
    every chunk faults in ~30 MB of fresh pages again (about a tenth of a chunk's CPU here). Chunks are
    alike, so the peak memory stays what it was. No-op where libc has no ``mallopt``.
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # from malloc.h
    mallopt(m_mmap_threshold, 32 << 20)  # the largest glibc accepts: arrays below it come from the heap
    mallopt(m_trim_threshold, 1 << 30)


def _start_method() -> str:
    """``fork`` on Linux when this process runs no other thread, else ``spawn``.

    A forked worker starts with this process's imports instead of repeating them (0.2-0.3 s of CPU per
    worker, while the dimensions are being made). Forking is unsafe on macOS, and in a process with
    other threads (a Jupyter kernel) a lock held by one of them at fork time would stay held forever.
    """
    return "fork" if sys.platform == "linux" and threading.active_count() == 1 else "spawn"


class _executor:
    """Map chunk tasks inline (one worker) or over a pool of processes, all started up front."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Callable[[Jobs], Iterator[ChunkReport]]:
        if self.workers == 1:
            return _inline
        context = multiprocessing.get_context(_start_method())
        pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_keep_heap)
        for _ in range(self.workers):  # the pool would start a worker per task only when tasks arrive
            pool.submit(_ready)
        self.pool = pool
        return lambda jobs: pool.map(_run_one, jobs)

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def _finish(tmp: Path, request: Request, producers, reports: list[ChunkReport]) -> dict[str, Any]:
    """Join text parts, hash every file and write the manifest (the last file written)."""
    files: dict[str, str] = {}
    for report in reports:
        files.update(report.files)
    files.update(_join_text_parts(tmp))
    tables: dict[str, Any] = {}
    for name in sorted(t for p in producers for t in p.tables if any(t in r.rows for r in reports)):
        spec = TABLES[name]
        entry: dict[str, Any] = {
            "domain": spec.domain,
            "variant": spec.variant,
            "rows": sum(r.rows.get(name, 0) for r in reports),
            "files": _files_of(files, spec, spec.variant),
        }
        if any(name in r.dirty_rows for r in reports):
            entry["dirty"] = {
                "rows": sum(r.dirty_rows.get(name, 0) for r in reports),
                "files": _files_of(files, spec, "dirty"),
                "damage": _sum_damage(r.damage.get(name, {}) for r in reports),
            }
        tables[name] = entry
    manifest = {
        **request.params(),
        "generator": "delab_data",
        "schema_fingerprint": mf.schema_fingerprint(),
        "code_fingerprint": mf.code_fingerprint(),
        "schema": mf.schema_summary(list(tables)),
        "tables": tables,
    }
    mf.write(tmp, manifest)
    return manifest


def _join_text_parts(tmp: Path) -> dict[str, str]:
    parts_root = tmp / writers.PARTS_DIR
    out: dict[str, str] = {}
    if not parts_root.exists():
        return out
    for parts_dir in sorted(p for p in parts_root.glob("*/*/*") if p.is_dir()):
        variant, domain, filename = parts_dir.relative_to(parts_root).parts
        target = (tmp / "dirty" if variant == "dirty" else tmp) / domain / filename
        writers.join_parts(parts_dir, target)
        out[str(target.relative_to(tmp))] = writers.sha256(target)
    shutil.rmtree(parts_root)
    return out


def _files_of(files: dict[str, str], spec, variant: str) -> dict[str, str]:
    prefixes = [
        str(writers.table_path(Path(), spec.domain, spec.name, fmt, variant)) for fmt in spec.formats
    ]
    return {
        rel: digest
        for rel, digest in sorted(files.items())
        if any(rel == p or rel.startswith(p + os.sep) for p in prefixes)
    }


def _sum_damage(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for c in counts:
        for kind, n in c.items():
            total[kind] = total.get(kind, 0) + int(n)
    return total


# ---------------------------------------------------------------- folder safety
def _check_replace(out: Path, existing: dict[str, Any] | None, params: dict[str, Any], force: bool) -> None:
    """Refuse to replace a folder that is not a dataset of this very request (unless forced).

    A dataset of the same request made by an older generator is replaced without asking: it is what
    the user asked for, only stale.
    """
    if force or not out.exists():
        return
    if existing is not None and all(existing.get(k) == v for k, v in params.items()
                                    if k != "generator_version"):
        return
    if existing is None:
        raise DataError(f"{out} exists but holds no complete dataset (no manifest.json); move it away or "
                        "pass --force to replace it")
    raise DataError(
        f"{out} already holds a dataset made with seed {existing.get('seed')} and scale "
        f"{(existing.get('scale') or {}).get('name')}; pass --force to replace it, "
        "or --out to write elsewhere"
    )


def _check_disk(parent: Path, request: Request) -> None:
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {parent}: {exc.strerror}; choose another folder with --out") from exc
    if not os.access(parent, os.W_OK):
        raise DataError(f"{parent} is not writable; fix its permissions or choose another folder with --out")
    scale = request.scale
    need = sum(getattr(scale, unit) * size for unit, size in BYTES_PER_UNIT.items())
    free = shutil.disk_usage(parent).free
    if free < need:
        raise DataError(f"not enough free disk in {parent}: about {need / 1e9:.1f} GB needed, "
                        f"{free / 1e9:.1f} GB free; free some space or pick a smaller --scale")


def _fresh_tmp(out: Path) -> Path:
    """A new hidden work folder beside ``out``, after removing those of runs that died."""
    for stale in out.parent.glob(f".{out.name}.partial-*"):
        pid = stale.name.split(".partial-", 1)[1].split("-")[0]
        if not (pid.isdigit() and _alive(int(pid))):
            shutil.rmtree(stale, ignore_errors=True)
    # unique per run: worker processes cache dimension tables by folder name
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    return tmp


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _commit(tmp: Path, out: Path) -> None:
    """Swap the finished folder into place; the old dataset (if any) is removed only afterwards."""
    trash = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(trash)
    tmp.rename(out)
    shutil.rmtree(trash, ignore_errors=True)
