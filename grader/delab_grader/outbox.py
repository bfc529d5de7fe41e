"""Answers leave the sandbox only right after the test cell that records them.

The kernel writes exports into its *outbox* (the only writable folder it shares with the grader besides
its working folder). After every code cell the grader copies, from the outbox, the answers that cell
names if it is a graded test cell, into the private exports folder the kernel cannot see, then empties
the outbox. Anything written at another time (a background thread, an ``atexit`` hook, a forked
process, a student cell calling ``answer`` itself) is discarded. Copying never follows symbolic links
and reads only regular files, at most one byte past the size limit, so a hostile outbox cannot make the
grader read other files. The copies are then validated by :func:`delab_grader.exports.read_export`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from delab_grader.exports import MAX_JSON_BYTES, MAX_PARQUET_BYTES, META, TABLE
from delab_grader.notebook import ANSWER_CALL, nbgrader_meta

FILES = {META: MAX_JSON_BYTES, TABLE: MAX_PARQUET_BYTES}
NOFOLLOW = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def recorded_qids(cell: Any) -> list[str]:
    """Answer ids a graded test cell records (none for other cells)."""
    meta = nbgrader_meta(cell)
    if cell.get("cell_type") != "code" or not meta.get("grade") or meta.get("solution"):
        return []
    return ANSWER_CALL.findall(cell.get("source", ""))


def _copy_file(dir_fd: int, name: str, dest: Path, limit: int) -> None:
    try:
        fd = os.open(name, NOFOLLOW, dir_fd=dir_fd)
    except OSError:
        return  # missing, a symbolic link, ...: not copied
    with os.fdopen(fd, "rb") as src:
        if not stat.S_ISREG(os.fstat(src.fileno()).st_mode):
            return
        data = src.read(limit + 1)  # an oversized file stays oversized: read_export names the problem
    dest.write_bytes(data)


def _copy_answer(outbox_fd: int, qid: str, exports: Path) -> None:
    try:
        fd = os.open(qid, NOFOLLOW | os.O_DIRECTORY, dir_fd=outbox_fd)
    except OSError:
        return
    try:
        dest = exports / qid
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        for name, limit in FILES.items():
            _copy_file(fd, name, dest / name, limit)
    finally:
        os.close(fd)


def collect(outbox: Path, exports: Path, qids: list[str]) -> None:
    """Copy the answers ``qids`` from ``outbox`` into ``exports``, then empty ``outbox``."""
    try:
        outbox_fd = os.open(outbox, NOFOLLOW | os.O_DIRECTORY)
    except OSError:
        outbox_fd = None  # replaced by a file or a link: nothing is taken from it
    if outbox_fd is not None:
        try:
            for qid in qids:
                _copy_answer(outbox_fd, qid, exports)
        finally:
            os.close(outbox_fd)
    empty(outbox)


def empty(outbox: Path) -> None:
    """Remove everything in ``outbox`` (recreating it as a plain folder if it was replaced)."""
    if outbox.is_symlink() or (outbox.exists() and not outbox.is_dir()):
        outbox.unlink()
    if outbox.is_dir():
        for child in outbox.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    child.unlink()
    outbox.mkdir(parents=True, exist_ok=True)
