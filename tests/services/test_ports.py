"""delab.services.ports: free ports, busy ports, waiting for a server."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator

import pytest

from delab.services import PortInUseError, ServiceError, free_port, port_in_use, wait_for_port
from delab.services.ports import port_setting


@pytest.fixture
def listener() -> Iterator[int]:
    """A port something listens on for the duration of a test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_free_port_is_bindable() -> None:
    port = free_port()
    assert 0 < port < 65536 and not port_in_use(port)


def test_preferred_port_is_kept_when_free() -> None:
    port = free_port()
    assert free_port(port) == port


def test_taken_port_names_the_port_and_the_setting(listener: int) -> None:
    assert port_in_use(listener)
    with pytest.raises(PortInUseError, match=rf"port {listener} on 127.0.0.1 .*set DELAB_API_PORT") as info:
        free_port(listener, setting="DELAB_API_PORT")
    assert info.value.port == listener


def test_wait_for_a_listening_port(listener: int) -> None:
    wait_for_port("127.0.0.1", listener, timeout=5)


def test_wait_gives_up_with_a_clear_error() -> None:
    port = free_port()
    with pytest.raises(ServiceError, match=rf"nothing accepted connections on 127.0.0.1:{port}"):
        wait_for_port("127.0.0.1", port, timeout=0.2)


def test_wait_stops_when_the_server_process_died() -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    with pytest.raises(ServiceError, match="exited"):
        wait_for_port("127.0.0.1", free_port(), timeout=60, process=dead)


@pytest.mark.parametrize("raw", ["eighty", "0", "70000", "-1"])
def test_a_port_setting_that_is_not_a_port_is_refused(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("DELAB_PG_PORT", raw)
    with pytest.raises(ServiceError, match=rf"DELAB_PG_PORT='{raw}' is not a TCP port"):
        port_setting("DELAB_PG_PORT")


def test_a_port_setting_unset_or_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DELAB_PG_PORT", raising=False)
    assert port_setting("DELAB_PG_PORT") is None
    monkeypatch.setenv("DELAB_PG_PORT", " 5433 ")
    assert port_setting("DELAB_PG_PORT") == 5433
