"""Which operating-system user runs the database server, and folders that user can use.

PostgreSQL refuses to run as root. When the course runs as root (CI, containers), the server runs as
a dedicated unprivileged system account instead: ``delab-pg`` (created once with ``useradd --system``
and announced on stderr; ``DELAB_PG_USER`` names an existing account to use instead). Only folders
this package creates for the server are handed to that account; nothing else is chmod-ed. If the
account cannot reach the binaries or the state folder, an error names the blocking folder and the fix.
For a normal user the server simply runs as that user.
"""

from __future__ import annotations

import logging
import os
import pwd
import re
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ServiceError

DEFAULT_SERVER_USER = "delab-pg"
NO_CAPABILITIES = (
    "running as root without the capabilities to switch users (CAP_SETUID, CAP_SETGID, CAP_CHOWN; a "
    "sandbox dropped them?): PostgreSQL refuses to run as root, so it cannot start here. Run this as a "
    "normal user (a bubblewrap sandbox: add `--unshare-user --uid 65534 --gid 65534`), or set "
    "DATABASE_URL to a server started outside"
)
_log = logging.getLogger("delab.services")


@dataclass(frozen=True)
class Account:
    """An OS user: name, uid, gid, and whether we switch to it (only when running as root)."""

    name: str
    uid: int
    gid: int
    switch: bool

    @classmethod
    def owner_of(cls, path: Path) -> Account:
        """The account owning ``path`` (switched to when we are root and it is not)."""
        st = path.stat()
        return cls(_user_name(st.st_uid), st.st_uid, st.st_gid, switch=os.geteuid() == 0 and st.st_uid != 0)

    def run_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``subprocess.run`` that run a command as this account."""
        return {"user": self.uid, "group": self.gid, "extra_groups": []} if self.switch else {}

    def can_enter(self, folder: Path) -> bool:
        """Whether this account may traverse ``folder`` (by its mode bits; root always may)."""
        if not self.switch:
            return os.access(folder, os.X_OK)
        st = folder.stat()
        if st.st_uid == self.uid:
            return bool(st.st_mode & stat.S_IXUSR)
        if st.st_gid == self.gid:
            return bool(st.st_mode & stat.S_IXGRP)
        return bool(st.st_mode & stat.S_IXOTH)


def server_account() -> Account:
    """The account the server runs as: the current user, or a system account when we are root."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return Account(entry.pw_name, entry.pw_uid, entry.pw_gid, switch=False)
    if not can_switch_users():
        raise ServiceError(NO_CAPABILITIES)
    name = os.environ.get("DELAB_PG_USER", DEFAULT_SERVER_USER)
    entry = _lookup(name) or _create_system_user(name)
    if entry.pw_uid == 0:
        raise ServiceError(f"DELAB_PG_USER={name} is root; PostgreSQL must run as an unprivileged user")
    return Account(entry.pw_name, entry.pw_uid, entry.pw_gid, switch=True)


def can_switch_users() -> bool:
    """Whether this process holds CAP_CHOWN, CAP_SETGID and CAP_SETUID (assumed off Linux)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return True
    found = re.search(r"^CapEff:\s*([0-9a-fA-F]+)", status, re.MULTILINE)
    effective = int(found.group(1), 16) if found else 0
    return all(effective >> bit & 1 for bit in (0, 6, 7))  # CAP_CHOWN, CAP_SETGID, CAP_SETUID


def _lookup(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _create_system_user(name: str) -> pwd.struct_passwd:
    """``useradd --system`` the server account (once per machine), saying so on stderr."""
    if name != DEFAULT_SERVER_USER:
        raise ServiceError(f"DELAB_PG_USER={name}: no such user; create it or unset DELAB_PG_USER")
    _log.warning("running as root: creating the system user %r to run PostgreSQL (once per machine)", name)
    cmd = ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
           "--shell", "/usr/sbin/nologin", "--comment", "delab course database server", name]
    for _attempt in range(20):  # concurrent first calls (test workers) contend for /etc/passwd's lock
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        except FileNotFoundError:
            raise ServiceError(
                "running as root, PostgreSQL needs an unprivileged user but `useradd` is missing: create "
                f"a user {name!r}, or set DELAB_PG_USER to an existing one (e.g. nobody), or run as a "
                "normal user"
            ) from None
        entry = _lookup(name)  # another process may have created it meanwhile (useradd then fails)
        if entry is not None:
            return entry
        time.sleep(0.25)
    raise ServiceError(f"could not create the system user {name!r}: {done.stderr.strip()}; "
                       "set DELAB_PG_USER to an existing unprivileged user instead")


def check_reachable(account: Account, paths: dict[Path, str]) -> None:
    """Raise an actionable error if ``account`` cannot traverse every folder leading to ``paths``.

    ``paths`` maps each path to the way of moving it elsewhere, for the message.
    """
    for path, move in paths.items():
        for folder in [*reversed(path.parents), path]:
            if folder.is_dir() and not account.can_enter(folder):
                raise ServiceError(
                    f"the database server runs as user {account.name!r} (PostgreSQL refuses to run as "
                    f"root), which cannot enter {folder} (mode {stat.filemode(folder.stat().st_mode)}) "
                    f"on the way to {path}. Fix one of: `chmod o+x {folder}` (lets others pass through, "
                    f"not list it); {move}; or run as a normal user"
                )


def owned_dir(path: Path, account: Account, mode: int = 0o700) -> Path:
    """Create ``path`` (if missing) for ``account``'s exclusive use; refuse one owned by someone else."""
    path.mkdir(mode=mode, exist_ok=True)
    st = path.stat()
    if st.st_uid != account.uid:
        if account.switch and st.st_uid == 0 and not any(path.iterdir()):
            os.chown(path, account.uid, account.gid)  # a folder we just created as root
        else:
            owner = _user_name(st.st_uid)
            raise ServiceError(
                f"{path} belongs to user {owner!r}, but the database server runs as {account.name!r}; it was "
                f"probably created by another user (or as root). Delete it (the server's data is in it) "
                f"or run as {owner!r}"
            )
    if stat.S_IMODE(st.st_mode) != mode:
        os.chmod(path, mode)
    return path


def _user_name(uid: int) -> str:
    """The login name of ``uid``, or the number itself when it has none."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)
