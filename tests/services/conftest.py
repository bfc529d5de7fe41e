"""Fixtures for the service helpers: a throw-away state folder per test module, never the real .delab/."""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from delab.services import _pgctl as pgctl
from delab.services.postgres import PostgresServer, _started, postgres

pgmod = importlib.import_module("delab.services.postgres")


@pytest.fixture(scope="module")
def state() -> Iterator[Path]:
    """DELAB_STATE for one module, in a folder the server account can reach even when tests run as root
    (pytest's own tmp_path lives under a 0700 folder)."""
    folder = Path(tempfile.mkdtemp(prefix="delab-svc-"))
    folder.chmod(0o755)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DELAB_STATE", str(folder))
        # throw-away clusters need no durability; it makes starts and stops slow on a busy disk
        mp.setattr(pgmod, "_BASE_OPTIONS", {"fsync": "off"})
        for var in ("DATABASE_URL", "DELAB_PG_PORT", "DELAB_PG_BIN"):
            mp.delenv(var, raising=False)
        yield folder
        stop_servers_under(folder)
    shutil.rmtree(folder, ignore_errors=True)


def stop_servers_under(folder: Path) -> None:
    """Stop every server whose data folder is under ``folder`` (tests that fail midway leave some)."""
    for root in (folder / "postgres").glob("*"):
        layout = pgctl.Layout(root)
        info = pgctl.read_pidfile(layout.data) if root.is_dir() else None
        if info is not None and pgctl.postmaster_alive(layout.data, info.pid):
            pgctl.stop(pgctl.bin_dir(), layout, _account_of(root))
            _started.pop(layout.data, None)


def _account_of(root: Path):
    from delab.services._account import Account

    st = root.stat()
    return Account("owner", st.st_uid, st.st_gid, switch=os.geteuid() == 0 and st.st_uid != 0)


@pytest.fixture(scope="module")
def pg(state: Path) -> Iterator[PostgresServer]:
    """The module's default server ("course"), started once."""
    server = postgres()
    yield server
    server.stop()
