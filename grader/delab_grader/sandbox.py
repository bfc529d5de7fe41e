"""The sandbox around every kernel that runs student (or solution) code.

Each kernel runs under Debian's bubblewrap (``bwrap``) in new mount, PID, network, IPC and UTS
namespaces as ``nobody`` in a user namespace, with every capability dropped:

* files: an allow-list, all read-only: the system folders (/usr, /etc minus its secrets, /opt),
  Python and the virtual environment, the course's own packages and the dataset. The kernel's working
  folder and its answer outbox are the only writable host folders; /tmp is a private tmpfs. Nothing else
  exists inside: not the sources (``solutions/``), the course state (references, gradebook, other
  submissions), the repository's other folders, /root or /home.
* network: a private network namespace: loopback only, so notebooks can still start local servers.
* processes: PID namespace; when the grader or the kernel dies, everything started inside dies too.
* limits (:mod:`delab_grader.limits`): a cgroup for memory and process count, rlimits for CPU time and
  file size; the grader caps notebook output and wall-clock time (:mod:`delab_grader.execute`).
* environment: cleared, only a short allow-list is passed on (no tokens or grader settings).

Kernels talk to the grader over ZeroMQ Unix sockets in a private runtime folder bound into the
sandbox. :func:`configure` selects the mode: ``required`` (grading: refuse when the sandbox cannot be
created), ``optional`` (``delab check``: run unsandboxed and say so) or ``off`` (``--unsafe``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

from delab_grader.course import GraderError
from delab_grader.limits import Cgroup, Limits, launcher_cmd

MODES = ("required", "optional", "off")
SYSTEM_DIRS = ("/usr", "/etc", "/opt", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
HIDDEN_ETC = ("shadow", "gshadow", "shadow-", "gshadow-", "ssh", "sudoers", "sudoers.d", "ssl/private")
GRADER_ENV = ("DELAB_COURSE_DIR", "DELAB_GRADEBOOK_URL", "DELAB_HOME")
PASSED_ENV = ("LANG", "LANGUAGE", "TZ", "JAVA_HOME", "SPARK_HOME", "DELAB_SCALE")
NAMESPACES = ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try")
#: Inside, the kernel is ``nobody`` (a user namespace) with no capabilities: never root, so servers that
#: refuse root (PostgreSQL) start, and nothing can remount or leave the namespaces.
USER = ("--unshare-user", "--uid", "65534", "--gid", "65534")
INSTALL_HINT = (
    "install bubblewrap (sudo apt-get install bubblewrap; `make setup` says so) and allow user "
    "namespaces, or pass --unsafe to run without isolation (only for code you trust)"
)


class SandboxUnavailable(GraderError):
    """The sandbox cannot be created on this machine."""


@dataclass
class Settings:
    """How kernels are started: the sandbox mode and the resource limits."""

    mode: str = "required"
    limits: Limits = field(default_factory=Limits)


_settings = Settings()
_notebook_limits: ContextVar[Any] = ContextVar("delab_notebook_limits", default=None)


def configure(mode: str | None = None, limits: Limits | None = None) -> Settings:
    """Change the settings for kernels started from now on; returns the previous settings."""
    global _settings
    if mode is not None and mode not in MODES:
        raise ValueError(f"sandbox mode must be one of {MODES}, not {mode!r}")
    previous = _settings
    _settings = Settings(mode or previous.mode, limits or previous.limits)
    return previous


def settings() -> Settings:
    """The settings in force."""
    return _settings


def use_notebook_limits(metadata: Any) -> None:
    """Kernels started from now on by this asyncio task (and tasks it starts) use the limits in a source
    notebook's metadata (``{"delab": {"limits": {"memory_mb": 8192}}}``) on top of the settings."""
    _notebook_limits.set(metadata)


def current_limits() -> Limits:
    """The limits for a kernel started now."""
    return Limits.from_metadata(_notebook_limits.get(), _settings.limits)


@functools.cache
def probe() -> str | None:
    """None if a bubblewrap sandbox can be created here, else why not."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    cmd = [bwrap, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", *NAMESPACES, *USER]
    cmd += ["--cap-drop", "ALL"]
    try:
        done = subprocess.run([*cmd, "true"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not be run ({exc})"
    if done.returncode != 0:
        return f"bwrap cannot create namespaces here ({done.stderr.strip() or done.returncode})"
    return None


def sandboxed() -> bool:
    """True if kernels started now run in the sandbox; SandboxUnavailable if it is required but missing."""
    if _settings.mode == "off":
        return False
    problem = probe()
    if problem and _settings.mode == "required":
        why = f"refusing to run student code without the sandbox: {problem}; {INSTALL_HINT}"
        raise SandboxUnavailable(why)
    return problem is None


@contextlib.contextmanager
def student_side() -> Iterator[list[str]]:
    """For ``delab check``: the sandbox if possible, else run unsandboxed; yields notes saying so."""
    global _settings
    previous = _settings
    if previous.mode == "required":
        _settings = Settings("optional", previous.limits)
    try:
        problem = probe() if _settings.mode != "off" else "it was switched off"
        note = f"note: ran WITHOUT the grader's sandbox ({problem}); grading always uses it"
        yield [note] if problem else []
    finally:
        _settings = previous


def code_folders() -> list[Path]:
    """Folders the kernel's Python needs: the interpreter, the venv and the course's own packages."""
    import delab_data

    import delab
    import delab_grader

    found = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).resolve().parent.parent}
    found |= {Path(m.__file__).resolve().parent for m in (delab, delab_data, delab_grader)}
    return sorted(found)


def _ro(path: Path | str) -> list[str]:
    return ["--ro-bind", str(path), str(path)]


def bwrap_args(writable: list[Path], readable: list[Path], cwd: Path, env: dict[str, str]) -> list[str]:
    """The bwrap command line (up to the kernel's own command)."""
    args = ["bwrap", "--clearenv", *NAMESPACES, *USER, "--cap-drop", "ALL", "--die-with-parent"]
    for folder in SYSTEM_DIRS:
        if os.path.islink(folder):
            args += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            args += _ro(folder)
    for name in HIDDEN_ETC:
        target = Path("/etc") / name
        if target.is_dir():
            args += ["--tmpfs", str(target)]
        elif target.exists():
            args += ["--ro-bind", "/dev/null", str(target)]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", "/tmp/home"]
    for folder in readable:
        if folder.exists():
            args += _ro(folder)
    for folder in writable:
        args += ["--bind", str(folder), str(folder)]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return [*args, "--remount-ro", "/", "--chdir", str(cwd), "--"]


def sandbox_env(env: dict[str, str]) -> dict[str, str]:
    """The environment inside: an allow-list of ``env`` plus fixed, sandbox-local settings."""
    kept = {k: v for k, v in env.items() if k in PASSED_ENV or k.startswith(("LC_", "DELAB_", "MPL"))}
    kept = {k: v for k, v in kept.items() if k not in GRADER_ENV}
    return kept | {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp/home",
        "TMPDIR": "/tmp",
        "IPYTHONDIR": "/tmp/home/.ipython",
        "DELAB_STATE": "/tmp/home/.delab",
        "JPY_PARENT_PID": "1",  # the grader is outside the PID namespace: do not watch it
        "PYTHONDONTWRITEBYTECODE": "1",
        "SPARK_LOCAL_IP": "127.0.0.1",  # the only interface inside
    }


class LimitedKernelManager(AsyncKernelManager):
    """A kernel in its own cgroup with rlimits (the ``--unsafe`` / unsandboxed ``check`` launch)."""

    def __init__(self, limits: Limits, **kwargs: Any) -> None:
        super().__init__(kernel_name="python3", **kwargs)
        self.limits = limits
        self.cgroup: Cgroup | None = None
        self.address_space = _settings.mode != "optional"  # no RLIMIT_AS fallback for a student's check

    def wrap(self, cmd: list[str], kw: dict[str, Any]) -> list[str]:
        """The command that starts ``cmd`` (overridden by the sandbox)."""
        return cmd

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        self.cgroup = Cgroup(self.limits)
        cmd = launcher_cmd(self.limits, self.cgroup, self.wrap(kernel_cmd, kw), self.address_space)
        await super()._async_launch_kernel(cmd, **kw)

    async def interrupt_kernel(self) -> None:
        """Interrupt by message: a signal to the launcher would not reach the kernel in the sandbox."""
        if self.has_kernel:
            self._connect_control_socket()
            self.session.send(self._control_socket, self.session.msg("interrupt_request", content={}))

    def limit_hit(self) -> list[str]:
        """Limits the kernel's processes ran into (memory, processes)."""
        return self.cgroup.hit() if self.cgroup else []

    async def cleanup_resources(self, restart: bool = False) -> None:
        """Also kill whatever is left in the cgroup and remove it."""
        await super().cleanup_resources(restart)
        if self.cgroup is not None:
            self.cgroup.close()


class SandboxedKernelManager(LimitedKernelManager):
    """A kernel launched inside bubblewrap; ZeroMQ over Unix sockets in a private runtime folder."""

    def __init__(self, limits: Limits, writable: list[Path], readable: list[Path], cwd: Path) -> None:
        runtime = Path(tempfile.mkdtemp(prefix="dk-"))  # short: Unix socket paths are limited
        super().__init__(limits, transport="ipc", ip=str(runtime / "k"))
        self.connection_file = str(runtime / "kernel.json")
        self.runtime, self.writable, self.readable, self.cwd = runtime, writable, readable, cwd

    def wrap(self, cmd: list[str], kw: dict[str, Any]) -> list[str]:
        env = sandbox_env(kw.get("env") or dict(os.environ))
        kw.pop("cwd", None)
        kw["env"] = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}  # for bwrap itself
        bwrap = shutil.which("bwrap") or "bwrap"
        args = bwrap_args([self.runtime, *self.writable], self.readable, self.cwd, env)
        return [bwrap, *args[1:], *cmd]

    async def cleanup_resources(self, restart: bool = False) -> None:
        await super().cleanup_resources(restart)
        shutil.rmtree(self.runtime, ignore_errors=True)


def kernel_manager(work: Path, outbox: Path, env: dict[str, str] | None = None) -> LimitedKernelManager:
    """A kernel manager for a kernel working in ``work`` and exporting to ``outbox``, sandboxed
    according to :func:`configure` (SandboxUnavailable if required but impossible)."""
    limits = current_limits()
    if not sandboxed():
        return LimitedKernelManager(limits)
    readable = code_folders()
    data = (env or {}).get("DELAB_DATA") or os.environ.get("DELAB_DATA")
    if data:
        readable.append(Path(data).resolve())
    return SandboxedKernelManager(limits, [work, outbox], readable, work)


def death_reason(km: Any) -> str:
    """Why a kernel died, as precisely as its cgroup tells."""
    hit = km.limit_hit() if isinstance(km, LimitedKernelManager) else []
    if "memory" in hit:
        return f"the kernel died: it ran out of memory (limit {km.limits.memory_mb} MB)"
    if "processes" in hit:
        return f"the kernel died after reaching the limit of {km.limits.processes} processes"
    return "the kernel died (did the code exit, crash or run out of memory?)"
