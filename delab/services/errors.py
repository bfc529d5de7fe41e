"""Errors raised by the service helpers: each message says what went wrong and what to do about it."""

from __future__ import annotations


class ServiceError(RuntimeError):
    """A local service could not be started, reached or stopped."""


class PortInUseError(ServiceError):
    """A TCP port that a service was asked to use is already taken."""

    def __init__(self, port: int, host: str = "127.0.0.1", setting: str | None = None) -> None:
        self.port, self.host, self.setting = port, host, setting
        change = f"set {setting} to another port" if setting else "ask for another port"
        super().__init__(
            f"port {port} on {host} is already in use by another program "
            f"(see `ss -ltnp 'sport = :{port}'`); stop that program or {change} "
            "(delab.services.free_port() finds a free one)"
        )
