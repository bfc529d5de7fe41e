"""Resource limits for a kernel's whole process tree: a cgroup (memory, processes) plus rlimits.

A kernel is started through :data:`LAUNCHER`, a tiny ``python -I -S`` program that joins the kernel's
cgroups and sets its rlimits, then ``exec``s the sandbox (bwrap) and the kernel: every process the
student starts inherits both. The cgroup is created as a child of the grader's own cgroup, so any limit
placed on the grader still applies; memory and process counts are enforced by the Linux kernel, not in
Python. Without a writable cgroup hierarchy, memory falls back to ``RLIMIT_AS``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

MB = 1024 * 1024
CGROUP_ROOT = Path("/sys/fs/cgroup")
_counter = itertools.count(1)

#: Joins the cgroups named in argv[1] (os.pathsep-separated cgroup.procs files), sets the rlimits
#: argv[2..4] (CPU seconds, file bytes, address-space bytes; 0 = unchanged), then execs argv[5:].
LAUNCHER = """\
import os, resource, sys
procs, cpu, fsize, mem, cmd = sys.argv[1], *map(int, sys.argv[2:5]), sys.argv[5:]
for path in filter(None, procs.split(os.pathsep)):
    with open(path, "w") as f:
        f.write(str(os.getpid()))
for res, value in ((resource.RLIMIT_CPU, cpu), (resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_AS, mem)):
    if value:
        resource.setrlimit(res, (value, value))
os.execvp(cmd[0], cmd)
"""


@dataclass(frozen=True)
class Limits:
    """What one notebook may use. Override per week in the source notebook's metadata
    (``{"delab": {"limits": {"memory_mb": 8192}}}``) or per run on the command line."""

    memory_mb: int = 4096  # all processes together (cgroup), Spark weeks need more
    cpu_seconds: int = 1800  # CPU time per process (RLIMIT_CPU)
    processes: int = 512  # processes + threads at once (pids cgroup)
    file_mb: int = 1024  # largest file written (RLIMIT_FSIZE)
    output_mb: float = 16  # printed/displayed output of the whole notebook kept by the grader

    @classmethod
    def from_metadata(cls, metadata: Any, base: Limits | None = None) -> Limits:
        """``base`` (default: the defaults) updated from a notebook's ``delab.limits`` metadata."""
        base = base or cls()
        wanted = (metadata or {}).get("delab", {}).get("limits", {}) if isinstance(metadata, dict) else {}
        fields = cls.__dataclass_fields__
        known = {k: v for k, v in wanted.items() if k in fields and isinstance(v, int | float)}
        return replace(base, **known)


def _own_cgroup(controller: str) -> Path | None:
    """The folder of this process's cgroup for ``controller`` (v1), or its unified (v2) cgroup."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            return CGROUP_ROOT / controller / path.lstrip("/")
    unified = next((line.split(":", 2)[2] for line in lines if line.startswith("0::")), None)
    if unified is not None and (CGROUP_ROOT / "cgroup.controllers").is_file():
        return CGROUP_ROOT / unified.lstrip("/")
    return None


def _sweep(parent: Path) -> None:
    """Remove cgroups left by graders that were killed (their pid in the name is gone)."""
    for folder in parent.glob("delab-*-*"):
        try:
            os.kill(int(folder.name.split("-")[1]), 0)
        except ProcessLookupError:
            stale = Cgroup.__new__(Cgroup)
            stale.folders, stale.seen = [folder], []
            stale.close()
        except (ValueError, OSError):
            continue


class Cgroup:
    """One kernel's cgroup(s): created with limits, emptied (SIGKILL) and removed by :meth:`close`."""

    def __init__(self, limits: Limits) -> None:
        self.folders: list[Path] = []
        self.seen: list[str] = []  # limits hit, kept after close()
        name = f"delab-{os.getpid()}-{next(_counter)}"
        settings = {
            "memory": {
                "memory.limit_in_bytes": limits.memory_mb * MB,
                "memory.memsw.limit_in_bytes": limits.memory_mb * MB,  # no escape into swap
                "memory.max": limits.memory_mb * MB,
                "memory.swap.max": 0,
            },
            "pids": {"pids.max": limits.processes},
        }
        for controller, values in settings.items():
            parent = _own_cgroup(controller)
            if parent is None or not (parent / "cgroup.procs").exists():
                continue
            _sweep(parent)
            folder = parent / name
            if folder in self.folders:  # v2: one folder holds both controllers
                self._write(folder, values)
                continue
            try:
                folder.mkdir()
            except OSError:
                continue
            self.folders.append(folder)
            self._write(folder, values)

    @staticmethod
    def _write(folder: Path, values: dict[str, int]) -> None:
        for key, value in values.items():
            if (folder / key).exists():
                with contextlib.suppress(OSError):
                    (folder / key).write_text(str(value))

    @property
    def limits_memory(self) -> bool:
        """True if a cgroup enforces the memory limit."""
        return any((f / k).exists() for f in self.folders for k in ("memory.limit_in_bytes", "memory.max"))

    @property
    def procs_files(self) -> list[str]:
        return [str(f / "cgroup.procs") for f in self.folders]

    def counter(self, filename: str, key: str | None = None) -> int:
        """A counter such as ``memory.failcnt`` or ``pids.events``/``max`` (0 if unavailable)."""
        for folder in self.folders:
            try:
                text = (folder / filename).read_text()
            except OSError:
                continue
            if key is None:
                return int(text.split()[0])
            for line in text.splitlines():
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
        return 0

    def hit(self) -> list[str]:
        """Which limits the processes ran into (for the message when a kernel dies)."""
        if not self.folders:
            return self.seen
        found = []
        memory = [("memory.oom_control", "oom_kill"), ("memory.events", "oom_kill"), ("memory.events", "max")]
        if self.counter("memory.memsw.failcnt") or any(self.counter(f, k) for f, k in memory):
            found.append("memory")
        if self.counter("pids.events", "max"):
            found.append("processes")
        return found

    def kill(self) -> None:
        """SIGKILL every process left in the cgroups."""
        for _ in range(50):
            pids = set()
            for folder in self.folders:
                with contextlib.suppress(OSError, ValueError):
                    pids |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        """Kill what is left and remove the cgroups."""
        self.seen = self.hit()
        self.kill()
        for folder in self.folders:
            for _ in range(100):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    self.kill()
                    os.sched_yield()
        self.folders = []


def launcher_cmd(
    limits: Limits, cgroup: Cgroup | None, cmd: list[str], address_space: bool = True
) -> list[str]:
    """``cmd`` started inside ``cgroup`` with the rlimits of ``limits``; without a memory cgroup the
    memory limit becomes RLIMIT_AS if ``address_space`` (it can stop a JVM that reserves a large heap)."""
    with_cgroup = cgroup is not None and cgroup.limits_memory
    memory = 0 if with_cgroup or not address_space else limits.memory_mb * MB
    procs = os.pathsep.join(cgroup.procs_files) if cgroup is not None else ""
    numbers = [limits.cpu_seconds, limits.file_mb * MB, memory]
    return [sys.executable, "-I", "-S", "-c", LAUNCHER, procs, *map(str, numbers), *cmd]
