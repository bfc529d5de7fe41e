"""Fixtures for the service helpers: a throw-away state folder per test module, never the real .delab/."""

from __future__ import annotations

import importlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from delab.services.admin import stop_all
from delab.services.postgres import PostgresServer, postgres

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
        stop_all(folder)  # servers that tests failing midway left running
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def pg(state: Path) -> Iterator[PostgresServer]:
    """The module's default server ("course"), started once."""
    server = postgres()
    yield server
    server.stop()
