"""`delab doctor`: is this machine ready for the course? Each check says how to fix what it finds."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil

from . import paths

MIN_PYTHON = (3, 11)
MIN_JAVA = 17
MIN_FREE_GB = {"memory": 4.0, "disk": 10.0}
#: Fixed loopback ports the course uses by default. The vendor API, S3 (moto) and Kafka (mock) servers
#: take a free port each time; Spark's web UI and Airflow's API server are not started.
PORTS = {
    "JupyterLab": 8888,
    "MLflow": 5000,
}
JAVA_HELP = (
    "install a Java runtime 17 or newer: Debian/Ubuntu `sudo apt-get install openjdk-17-jre-headless`, "
    "macOS `brew install openjdk@17`, conda `conda install -c conda-forge openjdk=17`; or point JAVA_HOME "
    "at an existing one"
)


@dataclass(frozen=True)
class Finding:
    """One line of the report."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def check_python() -> Finding:
    version = sys.version_info[:3]
    ok = version[:2] >= MIN_PYTHON
    return Finding("Python", ok, ".".join(map(str, version)), "use Python 3.11 (make setup does this)")


def java_version(java: str | None = None) -> int | None:
    """Major version of the `java` on PATH (or ``java``), None when there is none."""
    java = java or _java_binary()
    if not java:
        return None
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def _java_binary() -> str | None:
    import os

    home = os.environ.get("JAVA_HOME")
    if home and Path(home, "bin", "java").exists():
        return str(Path(home, "bin", "java"))
    return shutil.which("java")


def check_java() -> Finding:
    major = java_version()
    if major is None:
        return Finding("Java (Spark)", False, "not found", JAVA_HELP)
    return Finding("Java (Spark)", major >= MIN_JAVA, f"version {major}", JAVA_HELP)


def check_memory() -> Finding:
    free = psutil.virtual_memory().available / 2**30
    need = MIN_FREE_GB["memory"]
    return Finding("Free memory", free >= need, f"{free:.1f} GiB available",
                   f"close programs: the Spark weeks want {need:.0f} GiB", required=False)


def check_disk() -> Finding:
    root = paths.repo_root()
    free = shutil.disk_usage(root).free / 2**30
    need = MIN_FREE_GB["disk"]
    return Finding("Free disk", free >= need, f"{free:.1f} GiB free in {root}",
                   f"the small dataset and the venv need about {need:.0f} GiB", required=False)


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on ``host:port``."""
    from .services.ports import port_in_use

    return not port_in_use(port, host)


def check_ports() -> list[Finding]:
    return [
        Finding(f"Port {port} ({what})", port_free(port), "free" if port_free(port) else "in use",
                "stop what listens there, or change the course setting for it", required=False)
        for what, port in PORTS.items()
    ]


def check_datasets() -> list[Finding]:
    from delab_data import manifest

    findings = []
    root = paths.data_root()
    for folder in sorted(p for p in root.glob("*") if p.is_dir() and not p.name.startswith(".")):
        info = manifest.read(folder)
        if info is None:
            findings.append(Finding(f"Dataset {folder.name}", False, "incomplete (no manifest.json)",
                                    f"run `delab data --scale {folder.name} --force`", required=False))
        else:
            rows = sum(t["rows"] for t in info["tables"].values())
            findings.append(Finding(f"Dataset {folder.name}", True,
                                    f"seed {info['seed']}, {len(info['tables'])} tables, {rows:,} rows"))
    if not findings:
        findings.append(Finding("Datasets", False, f"none in {root}",
                                f"run `make data` (or `delab data --scale {paths.default_scale()}`)",
                                required=False))
    return findings


def check_postgres() -> Finding:
    from .services.admin import preflight

    problems = preflight()
    return Finding("PostgreSQL (embedded)", not problems, "ready" if not problems else "; ".join(problems),
                   "reinstall the venv (make distclean setup) or set DATABASE_URL to an existing server")


def check_sandbox() -> Finding:
    found = shutil.which("bwrap")
    return Finding("Grading sandbox (bubblewrap)", bool(found), found or "not found",
                   "instructors grading a class: sudo apt-get install bubblewrap", required=False)


def run_checks() -> list[Finding]:
    """Every check, in report order."""
    return [
        check_python(), check_java(), check_memory(), check_disk(), check_postgres(), check_sandbox(),
        *check_ports(), *check_datasets(),
    ]


def render(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        mark = "ok " if f.ok else ("ERR" if f.required else "warn")
        hint = "" if f.ok or not f.fix else f"\n       → {f.fix}"
        lines.append(f"[{mark:>4}] {f.name}: {f.detail}{hint}")
    return "\n".join(lines)


def run_doctor(args: argparse.Namespace) -> int:
    """Print the report; exit 1 when a required check fails."""
    if args.java:
        finding = check_java()
        print(render([finding]))
        return 0 if finding.ok else 1
    findings = run_checks()
    print(render(findings))
    return 0 if all(f.ok for f in findings if f.required) else 1


def add_commands(sub: argparse._SubParsersAction) -> None:
    doc = sub.add_parser("doctor", help="check Python, Java, memory, disk, ports and datasets")
    doc.add_argument("--java", action="store_true", help="only check for Java 17+ (used by make setup)")
    doc.set_defaults(func=run_doctor)
