"""delab.services.postgres: the handle, reuse across processes, round trips, reset, DATABASE_URL, root."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from pg_helpers import scalar

from delab.services import (
    PostgresServer,
    ServiceError,
    _account,
    postgres,
)
from delab.services import _pgctl as pgctl
from delab.services._account import Account
from delab.services.admin import preflight
from delab.services.postgres import _options

ROOT = os.geteuid() == 0


def test_handle_describes_the_running_server(pg: PostgresServer, state: Path) -> None:
    assert pg.running and pg.pid
    assert pg.url.startswith("postgresql+psycopg2://postgres@/course?host=")
    assert pg.dsn.startswith("postgresql://postgres@/course?host=")
    assert pg.database == "course"
    assert "'course'" in repr(pg) and f"pid {pg.pid}" in repr(pg) and "started here" in repr(pg)
    assert pg.log_path == state / "postgres" / "course" / "server.log"
    assert (pg.bin_dir / "psql").exists()
    assert (state / "postgres" / "course" / "data" / "PG_VERSION").exists()


def test_second_call_reuses_the_server(pg: PostgresServer) -> None:
    again = postgres()
    assert again.pid == pg.pid
    assert "started here" not in repr(again)
    with again:  # leaving a block that did not start the server leaves it running
        pass
    assert pg.running


def test_sqlalchemy_and_pandas_round_trip(pg: PostgresServer) -> None:
    df = pd.DataFrame({"rider_id": [1, 2, 3], "name": ["Ada", "Bo", "Cy"], "rating": [4.5, 3.0, None]})
    df.to_sql("riders", pg.engine(), index=False, if_exists="replace")
    back = pd.read_sql("SELECT * FROM riders ORDER BY rider_id", pg.engine())
    pd.testing.assert_frame_equal(back, df, check_dtype=False)


def test_psycopg_connection(pg: PostgresServer) -> None:
    with pg.connect() as con:
        assert con.execute("SELECT current_database(), current_user").fetchone() == ("course", "postgres")


def test_simultaneous_first_calls_share_one_server(state: Path) -> None:
    """Two processes start "race" at once: one starts it, the other reuses it; only the starter's exit
    stops it."""
    code = ("import sys; from delab.services import postgres; s = postgres('race'); "
            "print(s.pid, 'started here' in repr(s), flush=True); sys.stdin.read()")
    children = [subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True, env=dict(os.environ)) for _ in range(2)]
    said = [child.stdout.readline().split() for child in children if child.stdout]
    assert said[0][0] == said[1][0] and sorted(s[1] for s in said) == ["False", "True"], said
    data, pid = state / "postgres" / "race" / "data", int(said[0][0])
    starter = next(c for c, s in zip(children, said, strict=True) if s[1] == "True")
    other = next(c for c in children if c is not starter)
    assert other.communicate("")[0] == "" and pgctl.postmaster_alive(data, pid)
    starter.communicate("")
    assert not pgctl.postmaster_alive(data, pid)


def test_reset_recreates_the_database(pg: PostgresServer) -> None:
    pd.DataFrame({"x": [1]}).to_sql("scratch", pg.engine(), index=False, if_exists="replace")
    pg.reset()
    assert scalar(pg, "SELECT to_regclass('public.scratch') IS NULL") is True
    assert scalar(pg, "SELECT 1") == 1  # the shared engine reconnects after the drop


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_database_url_points_at_an_existing_server(pg: PostgresServer, state: Path, scheme: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", pg.dsn.replace("postgresql://", f"{scheme}://", 1))
    external = postgres("elsewhere", settings={"work_mem": "4MB"})
    assert not (state / "postgres" / "elsewhere").exists()
    assert external.url == pg.url and external.pid is None and external.running
    assert repr(external).startswith("PostgresServer(DATABASE_URL")
    assert pd.read_sql("SELECT 41 + 1 AS answer", external.engine())["answer"].tolist() == [42]
    external.stop()
    assert pg.running


def test_database_url_must_be_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://u@h/db")
    with pytest.raises(ServiceError, match="PostgreSQL"):
        postgres()


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="port"):
        postgres("x", settings={"port": 1})
    with pytest.raises(ValueError, match="server name"):
        postgres("../x")


def test_missing_binaries_are_reported(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert preflight() == []
    monkeypatch.setenv("DELAB_PG_BIN", str(state / "nowhere"))
    with pytest.raises(ServiceError, match=r"missing[\s\S]*DELAB_PG_BIN"):
        postgres("nobin")
    assert "missing" in preflight()[0]


@pytest.mark.skipif(not ROOT, reason="checks what happens when the course runs as root")
def test_root_reports_a_state_folder_the_server_cannot_reach(monkeypatch: pytest.MonkeyPatch) -> None:
    with tempfile.TemporaryDirectory() as private:  # mode 0700, owned by root
        monkeypatch.setenv("DELAB_STATE", str(Path(private) / "state"))
        with pytest.raises(ServiceError, match=r"cannot enter .*\(mode drwx------\)[\s\S]*chmod o\+x"):
            postgres()
        assert "DELAB_STATE" in preflight()[0]


@pytest.mark.skipif(not ROOT, reason="needs a folder owned by another user than the server's")
def test_folder_of_another_user_is_refused(state: Path) -> None:
    foreign = state / "postgres" / "foreign"
    (foreign / "data").mkdir(parents=True)  # made by root: not the server account's
    with pytest.raises(ServiceError, match=r"belongs to user 'root'.*runs as 'delab-pg'"):
        postgres("foreign")


@pytest.mark.skipif(not ROOT, reason="only root needs to switch users")
def test_root_without_capabilities_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_account, "can_switch_users", lambda: False)  # e.g. bwrap --cap-drop ALL
    with pytest.raises(ServiceError, match=r"without the capabilities[\s\S]*--unshare-user"):
        postgres()


def _python_usable_by(account: Account) -> str:
    """This interpreter, or the same minor version elsewhere on PATH, if ``account`` can run it."""
    name = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, shutil.which(name, path="/usr/local/bin:/usr/bin")):
        real = Path(candidate).resolve() if candidate else None
        if real and all(account.can_enter(folder) for folder in real.parents):
            return str(real)
    pytest.skip(f"{account.name} cannot run any {name} (its folders are private)")


@pytest.mark.skipif(not ROOT, reason="needs root to switch to an unprivileged user")
def test_runs_as_a_normal_user(pg: PostgresServer) -> None:
    user = pwd.getpwnam("delab-pg")  # created by the pg fixture's first call
    python = _python_usable_by(Account(user.pw_name, user.pw_uid, user.pw_gid, switch=True))
    repo = Path(__file__).parents[2]
    with tempfile.TemporaryDirectory() as home:
        os.chown(home, user.pw_uid, user.pw_gid)
        env = {"PATH": os.environ["PATH"], "DELAB_STATE": home, "HOME": home, "PYTHONDONTWRITEBYTECODE": "1",
               "PYTHONPATH": f"{repo}:{sysconfig.get_paths()['purelib']}"}
        code = ("from delab.services import postgres; s = postgres(); "
                "print(s.connect().execute('SHOW data_directory').fetchone()[0])")
        done = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True, check=False,
                              user=user.pw_uid, group=user.pw_gid, extra_groups=[], cwd=repo)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"{home}/postgres/course/data"


def test_long_state_paths_get_a_short_socket_folder() -> None:
    short = pgctl.Layout(Path("/home/ada/course/.delab/postgres/course"))
    assert short.socket_dir == short.root / "run"
    deep = pgctl.Layout(Path("/home/ada") / ("x" * 120) / "postgres" / "course")
    assert deep.socket_dir.parent == Path(tempfile.gettempdir()) and len(str(deep.socket_dir)) < 60


def test_settings_become_server_options() -> None:
    assert _options({"fsync": False, "work_mem": "8MB", "max_wal_senders": 4}, 6543) == {
        "fsync": "off", "work_mem": "8MB", "max_wal_senders": "4",
        "listen_addresses": "127.0.0.1", "port": "6543",
    }
