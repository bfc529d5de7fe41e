"""delab.services.postgres: context exit, crash recovery, settings restart and CDC, TCP, the CLI."""

from __future__ import annotations

import argparse
import os
import signal
import socket
from pathlib import Path

import pandas as pd
import pytest
from pg_helpers import scalar, wait_dead

from delab.services import (
    LOGICAL_DECODING,
    PortInUseError,
    ServiceError,
    free_port,
    postgres,
)
from delab.services.admin import running_servers, stop_all
from delab.services.cli import add_commands


def test_context_stops_what_it_started_and_keeps_data(state: Path) -> None:
    with postgres("ctx") as server:
        pid, data = server.pid, state / "postgres" / "ctx" / "data"
        pd.DataFrame({"kept": [7]}).to_sql("survivor", server.engine(), index=False)
    wait_dead(data, pid)
    assert not server.running and "stopped" in repr(server)
    with pytest.raises(ServiceError, match=r"rejected one of the settings[\s\S]*wal_level"):
        postgres("ctx", settings={"wal_level": "bogus"})
    with postgres("ctx") as again:
        assert scalar(again, "SELECT kept FROM survivor") == 7


def test_recovers_after_a_crash_and_from_a_foreign_pid_file(state: Path) -> None:
    server = postgres("crash")
    data = state / "postgres" / "crash" / "data"
    pd.DataFrame({"v": [1, 2]}).to_sql("before_crash", server.engine(), index=False)
    server.engine().dispose()
    os.kill(server.pid, signal.SIGKILL)
    wait_dead(data, server.pid)
    assert (data / "postmaster.pid").exists()
    recovered = postgres("crash")
    assert recovered.running and scalar(recovered, "SELECT count(*) FROM before_crash") == 2
    recovered.stop()
    # a postmaster.pid naming a live process that is not this server (PID reuse after a reboot)
    (data / "postmaster.pid").write_text(f"{os.getpid()}\n{data}\n0\n5432\n\n\n0 0\nready\n")
    with postgres("crash") as again:
        assert again.pid != os.getpid() and scalar(again, "SELECT 1") == 1
    (data / "PG_VERSION").write_text("9\n")
    with pytest.raises(ServiceError, match="created by PostgreSQL 9 but the binaries are version"):
        postgres("crash")


def test_logical_decoding_captures_insert_update_delete(state: Path) -> None:
    plain = postgres("cdc")
    first_pid = plain.pid
    assert scalar(plain, "SHOW wal_level") == "replica"
    plain.engine().dispose()
    server = postgres("cdc", settings=LOGICAL_DECODING)  # restarts it with the new settings
    assert server.pid != first_pid and scalar(server, "SHOW wal_level") == "logical"
    with server.connect(autocommit=True) as con:
        con.execute("CREATE TABLE drivers (id int PRIMARY KEY, city text)")
        con.execute("SELECT pg_create_logical_replication_slot('course_slot', 'test_decoding')")
        con.execute("INSERT INTO drivers VALUES (1, 'Lyon')")
        con.execute("UPDATE drivers SET city = 'Nice' WHERE id = 1")
        con.execute("DELETE FROM drivers WHERE id = 1")
        changes = [r[0] for r in con.execute(
            "SELECT data FROM pg_logical_slot_get_changes('course_slot', NULL, NULL)")]
    rows = [c for c in changes if c.startswith("table public.drivers")]
    assert [r.split(":")[1].strip() for r in rows] == ["INSERT", "UPDATE", "DELETE"]
    assert "city[text]:'Nice'" in rows[1]
    server.reset()  # drops the slot with the database
    assert scalar(server, "SELECT count(*) FROM pg_replication_slots") == 0
    assert running_servers()["cdc"] == server.pid
    assert "cdc" in stop_all() and "cdc" not in running_servers()


def test_tcp_port_taken_then_free(state: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(PortInUseError, match=rf"port {port}[\s\S]*DELAB_PG_PORT"):
            postgres("tcp", port=port)
    port = free_port()
    with postgres("tcp", port=port) as server:
        assert server.url == f"postgresql+psycopg2://postgres@127.0.0.1:{port}/course"
        assert scalar(server, "SELECT inet_server_port()") == port


def test_command_line_status_and_stop(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers())
    server = postgres("ctx")  # already made by an earlier test, when run in file order
    args = parser.parse_args(["services", "status"])
    assert args.func(args) == 0 and f"postgres ctx: running (PID {server.pid})" in capsys.readouterr().out
    args = parser.parse_args(["services", "stop"])
    assert args.func(args) == 0 and "ctx" in capsys.readouterr().out and not server.running
