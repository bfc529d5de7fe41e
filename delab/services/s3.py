"""One call gives a notebook an S3 API: a local in-memory one (moto), or a real S3 named by a setting.

    from delab.services.s3 import s3
    store = s3()                                   # local S3 on a free loopback port, ready in ~1 s
    store.create_bucket("lake")
    pq.write_table(table, "lake/events/part-0.parquet", filesystem=store.filesystem())   # pyarrow
    write_deltalake(store.url("lake", "delta/events"), table, storage_options=store.storage_options())
    con = store.duckdb()                           # DuckDB with httpfs (offline) and an S3 secret
    con.sql("SELECT count(*) FROM read_parquet('s3://lake/events/*.parquet')")
    store.stop()                                   # or: with s3() as store: ...

* Local: moto's S3 served by a thread of this process on 127.0.0.1 (``DELAB_S3_PORT`` picks the
  port, else a free one). Objects live in this process's memory (moto keeps one store per process,
  so two local servers of one process would share it) and are deleted when the server stops.
* ``S3_ENDPOINT_URL`` set (e.g. ``https://s3.eu-west-1.amazonaws.com`` or a MinIO URL): nothing is
  started; the same calls use that endpoint with the credentials in ``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY`` (``AWS_SESSION_TOKEN``) and ``AWS_REGION``.
"""

from __future__ import annotations

import logging
import os
import threading
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from .errors import ServiceError
from .ports import free_port, port_setting, wait_for_port

#: Setting that points every call at an existing S3 endpoint instead of a local one.
ENDPOINT_SETTING = "S3_ENDPOINT_URL"
PORT_SETTING = "DELAB_S3_PORT"
LOCAL_KEY = LOCAL_SECRET = "testing"  # moto accepts any credentials
DEFAULT_REGION = "us-east-1"


@dataclass
class S3Service:
    """A handle on an S3 API: its endpoint, credentials and ready-made clients for the course's tools."""

    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = DEFAULT_REGION
    session_token: str | None = None
    _server: Any = field(default=None, repr=False)

    @property
    def local(self) -> bool:
        """True when this process serves the API (moto), False for an external S3."""
        return self._server is not None

    @property
    def secure(self) -> bool:
        return urlparse(self.endpoint_url).scheme == "https"

    @property
    def host_port(self) -> str:
        """``host:port`` of the endpoint (what DuckDB's ``ENDPOINT`` wants)."""
        return urlparse(self.endpoint_url).netloc

    def url(self, bucket: str, key: str = "") -> str:
        """``s3://bucket/key``."""
        return f"s3://{bucket}/{key.lstrip('/')}" if key else f"s3://{bucket}"

    def client(self) -> Any:
        """A boto3 S3 client."""
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, aws_session_token=self.session_token,
                            region_name=self.region)

    def create_bucket(self, name: str) -> str:
        """Create bucket ``name`` unless it exists; returns ``s3://name``."""
        client = self.client()
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
        if name not in existing:
            extra = {} if self.region == DEFAULT_REGION else {
                "CreateBucketConfiguration": {"LocationConstraint": self.region}}
            client.create_bucket(Bucket=name, **extra)
        return self.url(name)

    def list_keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object key in ``bucket`` under ``prefix``, sorted."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def filesystem(self) -> Any:
        """A pyarrow ``S3FileSystem`` (paths are ``bucket/key``, no ``s3://``)."""
        from pyarrow import fs

        return fs.S3FileSystem(endpoint_override=self.endpoint_url, access_key=self.access_key,
                               secret_key=self.secret_key, session_token=self.session_token,
                               region=self.region, scheme="https" if self.secure else "http")

    def storage_options(self) -> dict[str, str]:
        """Options for deltalake (``write_deltalake``, ``DeltaTable``) and other object_store users."""
        options = {"AWS_ENDPOINT_URL": self.endpoint_url, "AWS_ACCESS_KEY_ID": self.access_key,
                   "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_REGION": self.region,
                   "AWS_ALLOW_HTTP": "false" if self.secure else "true",
                   "AWS_S3_ALLOW_UNSAFE_RENAME": "true"}
        if self.session_token:
            options["AWS_SESSION_TOKEN"] = self.session_token
        return options

    def iceberg_properties(self) -> dict[str, str]:
        """FileIO properties for a pyiceberg catalog whose warehouse is on this S3."""
        props = {"s3.endpoint": self.endpoint_url, "s3.access-key-id": self.access_key,
                 "s3.secret-access-key": self.secret_key, "s3.region": self.region}
        if self.session_token:
            props["s3.session-token"] = self.session_token
        return props

    def configure_duckdb(self, con: Any, secret: str = "delab_s3") -> Any:
        """Load httpfs (offline) into ``con`` and create an S3 secret for this endpoint; returns ``con``."""
        try:
            con.load_extension("httpfs")
        except Exception as exc:  # duckdb.Error: the wheel is missing or of another DuckDB version
            raise ServiceError(f"DuckDB's httpfs extension could not be loaded offline: open the "
                               f"connection with delab.duck.connect() and install the duckdb-ext-httpfs "
                               f"wheel matching your DuckDB ({exc})") from exc
        token = f", SESSION_TOKEN '{self.session_token}'" if self.session_token else ""
        con.execute(f"""CREATE OR REPLACE SECRET {secret} (TYPE s3, KEY_ID '{self.access_key}',
            SECRET '{self.secret_key}', REGION '{self.region}', ENDPOINT '{self.host_port}',
            URL_STYLE 'path', USE_SSL {str(self.secure).lower()}{token})""")
        return con

    def duckdb(self, database: str = ":memory:", extensions: tuple[str, ...] = ()) -> Any:
        """A new DuckDB connection (extensions offline, see ``delab.duck``) that reads/writes ``s3://``."""
        from .. import duck

        return self.configure_duckdb(duck.connect(database, extensions=extensions))

    def stop(self) -> None:
        """Stop the local server and delete its objects; does nothing for an external S3."""
        if self._server is not None:
            _reset_moto(self.endpoint_url)
            self._server.stop()
            self._server = None

    def __enter__(self) -> S3Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def s3(port: int | None = None) -> S3Service:
    """The S3 named by ``S3_ENDPOINT_URL``, else a new local in-memory S3 (moto) on 127.0.0.1.

    ``port`` (or ``DELAB_S3_PORT``) fixes the local port; :class:`PortInUseError` if it is taken.
    """
    external = os.environ.get(ENDPOINT_SETTING, "").strip()
    if external:
        return _external(external)
    return _start_local(port if port is not None else port_setting(PORT_SETTING))


def _external(endpoint: str) -> S3Service:
    parsed = urlparse(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ServiceError(f"{ENDPOINT_SETTING}={endpoint!r} is not an http(s) URL: set it to the endpoint, "
                           "e.g. https://s3.eu-west-1.amazonaws.com, or unset it for a local S3")
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        raise ServiceError(f"{ENDPOINT_SETTING} is set but AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are "
                           "not: set both to the credentials of that S3")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    return S3Service(endpoint.rstrip("/"), key, secret, region, os.environ.get("AWS_SESSION_TOKEN"))


def _start_local(port: int | None) -> S3Service:
    if port:
        free_port(port, setting=PORT_SETTING)  # a clear PortInUseError before moto tries
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no log line per request in the notebook
    server = _moto_server(port or 0)
    try:
        server.start()
        host, bound = server.get_host_and_port()
        wait_for_port(host, bound, timeout=15)
    except Exception as exc:
        server.stop()
        raise ServiceError(f"the local S3 (moto) did not start on 127.0.0.1:{port or 'any port'} ({exc}); "
                           f"set {PORT_SETTING} to a free port or unset it") from exc
    return S3Service(f"http://{host}:{bound}", LOCAL_KEY, LOCAL_SECRET, _server=server)


def _reset_moto(endpoint: str) -> None:
    """Empty moto's in-memory store (its ``/moto-api/reset`` call), so no bucket outlives its server."""
    try:
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=5)
    except OSError as exc:
        logging.getLogger("delab.services").warning("could not empty the local S3 before its stop: %s", exc)


def _moto_server_class() -> type:
    from moto.server import ThreadedMotoServer

    class MotoServer(ThreadedMotoServer):  # type: ignore[misc]
        """moto's threaded server, but a failed bind raises instead of leaving ``start()`` waiting forever."""

        def __init__(self, port: int) -> None:
            super().__init__(ip_address="127.0.0.1", port=port, verbose=False)
            self.error: BaseException | None = None

        def _server_entry(self) -> None:
            try:
                super()._server_entry()
            except BaseException as exc:  # reported by start()
                self.error = exc
                self._server_ready_event.set()

        def start(self) -> None:
            self._thread = threading.Thread(target=self._server_entry, daemon=True, name="delab-s3")
            self._thread.start()
            if not self._server_ready_event.wait(15):
                raise ServiceError("moto did not start within 15 s")
            if self.error is not None:  # werkzeug turns a failed bind into SystemExit; show the OSError
                cause = self.error.__context__ or self.error
                raise ServiceError(f"{type(cause).__name__}: {cause}") from self.error

        def stop(self) -> None:
            if self._thread is not None and self._server is not None and self.error is None:
                super().stop()

    return MotoServer


def _moto_server(port: int) -> Any:
    """A stopped moto server for ``port`` (0: any free port); moto is imported only now (~1 s)."""
    return _moto_server_class()(port)
