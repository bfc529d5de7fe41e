"""Housekeeping for the command line and ``delab doctor``: check the machine, stop leftover servers."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from ..paths import state_dir
from . import _pgctl as pgctl
from ._account import DEFAULT_SERVER_USER, NO_CAPABILITIES, Account, can_switch_users, check_reachable
from .errors import ServiceError
from .postgres import MOVE_BINS, MOVE_STATE, _locked, _started


def preflight() -> list[str]:
    """Problems that would stop ``postgres()`` from starting a local server here (empty: none).

    Starts nothing and creates nothing.
    """
    try:
        bins = pgctl.bin_dir()
        pgctl.major_version(bins)
    except (ServiceError, OSError, subprocess.CalledProcessError) as exc:
        return [str(exc)]
    if os.geteuid() != 0:
        return []
    if not can_switch_users():
        return [NO_CAPABILITIES]
    name = os.environ.get("DELAB_PG_USER", DEFAULT_SERVER_USER)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return [] if shutil.which("useradd") else [f"running as root without `useradd`: create a user "
                                                   f"{name!r} or set DELAB_PG_USER to an existing one"]
    account = Account(entry.pw_name, entry.pw_uid, entry.pw_gid, switch=True)
    existing = next(p for p in [state_dir(), *state_dir().parents] if p.exists())
    try:
        check_reachable(account, {bins: MOVE_BINS, existing: MOVE_STATE})
    except ServiceError as exc:
        return [str(exc)]
    return []


def running_servers(state: Path | None = None) -> dict[str, int]:
    """Local servers of this checkout (or of ``state``) that are running: name → postmaster PID."""
    found = {}
    for root in sorted((state or state_dir()).joinpath("postgres").glob("*/data")):
        info = pgctl.read_pidfile(root)
        if info is not None and pgctl.postmaster_alive(root, info.pid):
            found[root.parent.name] = info.pid
    return found


def stop_all(state: Path | None = None) -> list[str]:
    """Stop every running local server of this checkout (or of ``state``); returns their names.

    For ``delab`` commands and ``make clean``: a server whose folder is deleted keeps running.
    """
    base = (state or state_dir()) / "postgres"
    names = list(running_servers(state))
    for name in names:
        layout = pgctl.Layout(base / name)
        with _locked(layout):
            pgctl.stop(pgctl.bin_dir(), layout, Account.owner_of(layout.root))
        _started.pop(layout.data, None)
    return names
