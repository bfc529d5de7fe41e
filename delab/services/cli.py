"""`delab services status|stop`: see and stop this checkout's local database servers."""

from __future__ import annotations

import argparse

from .admin import preflight, running_servers, stop_all


def run_status(args: argparse.Namespace) -> int:
    """Print the running servers (and any problem that would stop one from starting)."""
    servers = running_servers()
    for name, pid in servers.items():
        print(f"postgres {name}: running (PID {pid})")
    if not servers:
        print("no local PostgreSQL server is running")
    for problem in preflight():
        print(f"problem: {problem}")
    return 0


def run_stop(args: argparse.Namespace) -> int:
    """Stop every running server of this checkout (their data is kept)."""
    stopped = stop_all()
    print(f"stopped: {', '.join(stopped)}" if stopped else "nothing to stop")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``delab services`` with its ``status`` and ``stop`` actions."""
    services = sub.add_parser("services", help="status of the local database servers, or stop them all")
    actions = services.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("status", help="list running servers").set_defaults(func=run_status)
    actions.add_parser("stop", help="stop them all (data is kept)").set_defaults(func=run_stop)
