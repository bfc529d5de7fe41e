"""Small helpers shared by the PostgreSQL tests."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from delab.services import PostgresServer
from delab.services import _pgctl as pgctl


def scalar(server: PostgresServer, query: str) -> object:
    """The single value ``query`` returns, through the handle's shared engine."""
    with server.engine().connect() as con:
        return con.execute(sa.text(query)).scalar()


def wait_dead(data: Path, pid: int) -> None:
    """Wait (bounded) until ``pid`` no longer serves ``data``."""
    for _ in range(500):
        if not pgctl.postmaster_alive(data, pid):
            return
        time.sleep(0.02)
    raise AssertionError(f"PID {pid} still running")


def run_python(code: str, env: dict[str, str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (this one) with ``env``."""
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=False, **kwargs)  # type: ignore[call-overload]
