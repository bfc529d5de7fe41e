"""TCP port helpers for the course's local services (vendor API, S3, MLflow, PostgreSQL over TCP)."""

from __future__ import annotations

import os
import socket
import time
from typing import Protocol

from .errors import PortInUseError, ServiceError


class _Process(Protocol):
    def poll(self) -> int | None: ...


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could not bind ``host:port`` right now (someone listens on it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def port_setting(name: str) -> int | None:
    """The TCP port in environment variable ``name`` (None when unset); :class:`ServiceError` if invalid."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ServiceError(f"{name}={raw!r} is not a TCP port (1-65535): fix or unset it")
    return int(raw)


def free_port(preferred: int | None = None, host: str = "127.0.0.1", *, setting: str | None = None) -> int:
    """``preferred`` if it is free (else :class:`PortInUseError` naming ``setting``), or any free port."""
    if preferred:
        if port_in_use(preferred, host):
            raise PortInUseError(preferred, host, setting)
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 30.0, process: _Process | None = None) -> None:
    """Block until something accepts connections on ``host:port``.

    Raises :class:`ServiceError` after ``timeout`` seconds, or as soon as ``process`` (the server
    being waited for, e.g. a ``subprocess.Popen``) has exited.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            pass
        if process is not None and process.poll() is not None:
            raise ServiceError(
                f"the server meant to listen on {host}:{port} exited (code {process.poll()}) "
                "before accepting connections; see its log above"
            )
        if time.monotonic() >= deadline:
            raise ServiceError(
                f"nothing accepted connections on {host}:{port} within {timeout:g} s; check that the "
                "server started (its log) and that the port matches its setting"
            )
        time.sleep(0.05)
