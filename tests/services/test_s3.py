"""delab.services.s3: a local S3 (moto) that pyarrow, deltalake, DuckDB and boto3 all use; or a real one."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from delab import duck
from delab.services import PortInUseError, ServiceError, port_in_use
from delab.services.s3 import S3Service, s3

TABLE = pa.table({"event_id": [1, 2, 3], "device": ["tv", "web", "tv"]})


@pytest.fixture(autouse=True)
def no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("S3_ENDPOINT_URL", "DELAB_S3_PORT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def store() -> Iterator[S3Service]:
    with s3() as service:
        service.create_bucket("lake")
        yield service


def test_local_server_on_loopback(store: S3Service) -> None:
    assert store.local and store.endpoint_url.startswith("http://127.0.0.1:")
    assert store.create_bucket("lake") == "s3://lake"  # a second call keeps the bucket
    assert "lake" in {b["Name"] for b in store.client().list_buckets()["Buckets"]}


def test_pyarrow_filesystem_round_trip(store: S3Service) -> None:
    pq.write_table(TABLE, "lake/arrow/part-0.parquet", filesystem=store.filesystem())
    assert pq.read_table("lake/arrow", filesystem=store.filesystem()).equals(TABLE)
    assert store.list_keys("lake", "arrow/") == ["arrow/part-0.parquet"]


def test_delta_table_on_s3(store: S3Service) -> None:
    from deltalake import DeltaTable, write_deltalake

    target = store.url("lake", "delta/events")
    write_deltalake(target, TABLE, storage_options=store.storage_options())
    write_deltalake(target, TABLE.slice(0, 1), mode="append", storage_options=store.storage_options())
    table = DeltaTable(target, storage_options=store.storage_options())
    assert table.version() == 1 and table.to_pyarrow_table().num_rows == 4
    assert any(k.startswith("delta/events/_delta_log/") for k in store.list_keys("lake", "delta/"))


def test_duckdb_reads_and_writes_s3(store: S3Service) -> None:
    if duck.extension_directory() is None:
        pytest.skip("the duckdb-ext-* wheels are not installed")
    con = store.duckdb()
    con.execute("COPY (SELECT 42 AS answer) TO 's3://lake/duck/answer.parquet' (FORMAT parquet)")
    assert con.sql("SELECT answer FROM read_parquet('s3://lake/duck/*.parquet')").fetchall() == [(42,)]


def test_stop_frees_the_port_and_deletes_the_objects() -> None:
    service = s3()
    service.create_bucket("scratch")
    port = int(service.host_port.rsplit(":", 1)[1])
    assert port_in_use(port)
    service.stop()
    service.stop()  # twice is fine
    assert not port_in_use(port) and not service.local
    with s3() as fresh:
        assert fresh.client().list_buckets()["Buckets"] == []


def test_port_setting_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("DELAB_S3_PORT", str(port))
    with s3() as service:
        assert service.endpoint_url == f"http://127.0.0.1:{port}"


def test_taken_port_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        monkeypatch.setenv("DELAB_S3_PORT", str(sock.getsockname()[1]))
        with pytest.raises(PortInUseError, match="set DELAB_S3_PORT to another port"):
            s3()


def test_bad_port_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELAB_S3_PORT", "eighty")
    with pytest.raises(ServiceError, match="DELAB_S3_PORT='eighty' is not a TCP port"):
        s3()


def test_endpoint_setting_points_at_an_existing_s3(store: S3Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3_ENDPOINT_URL", store.endpoint_url + "/")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "someone")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    external = s3()
    assert not external.local and external.endpoint_url == store.endpoint_url
    assert external.storage_options()["AWS_ACCESS_KEY_ID"] == "someone"
    assert "lake" in {b["Name"] for b in external.client().list_buckets()["Buckets"]}  # same server
    external.stop()  # stops nothing
    assert port_in_use(int(store.host_port.rsplit(":", 1)[1]))


@pytest.mark.parametrize(("env", "message"), [
    ({"S3_ENDPOINT_URL": "minio:9000"}, "is not an http\\(s\\) URL"),
    ({"S3_ENDPOINT_URL": "https://s3.example"}, "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not"),
])
def test_bad_endpoint_settings(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ServiceError, match=message):
        s3()


def test_https_endpoint_options() -> None:
    service = S3Service("https://s3.eu-west-1.amazonaws.com", "k", "s", "eu-west-1", "token")
    assert service.secure and service.host_port == "s3.eu-west-1.amazonaws.com"
    assert service.storage_options()["AWS_ALLOW_HTTP"] == "false"
    assert service.storage_options()["AWS_SESSION_TOKEN"] == "token"
    assert service.iceberg_properties()["s3.endpoint"] == service.endpoint_url
    assert service.url("lake", "/a/b") == "s3://lake/a/b"


def test_a_port_taken_after_the_check_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's own start() would wait forever when its bind fails; ours raises at once."""
    import delab.services.s3 as s3mod

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        monkeypatch.setattr(s3mod, "free_port", lambda *args, **kwargs: port)  # the check passes...
        with pytest.raises(ServiceError, match=f"did not start on 127.0.0.1:{port}.*DELAB_S3_PORT"):
            s3(port)                                                            # ...the bind does not
