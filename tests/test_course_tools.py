"""The `delab` command line, `doctor`, notebook data access and repository hygiene."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from delab import data, doctor, paths

REPO = Path(__file__).resolve().parent.parent


def _fake_java(tmp_path: Path, banner: str) -> str:
    script = tmp_path / "java"
    script.write_text(f"#!/bin/sh\necho '{banner}' >&2\n")
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize(
    ("banner", "major"),
    [('openjdk version "17.0.15" 2025-04-15', 17), ('java version "1.8.0_292"', 8),
     ('openjdk version "21" 2023-09-19', 21), ("garbage", None)],
)
def test_java_version_is_read_from_the_banner(tmp_path: Path, banner: str, major: int | None) -> None:
    assert doctor.java_version(_fake_java(tmp_path, banner)) == major


def test_missing_java_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "java_version", lambda java=None: None)
    finding = doctor.check_java()
    assert not finding.ok and "openjdk-17" in finding.fix


def test_port_in_use_is_reported() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not doctor.port_free(port)
    assert doctor.port_free(port)


def test_doctor_reports_datasets(tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELAB_DATA_ROOT", str(tiny_dataset.parent))
    findings = {f.name: f for f in doctor.run_checks()}
    assert findings["Dataset tiny"].ok and "seed 42" in findings["Dataset tiny"].detail
    text = doctor.render(list(findings.values()))
    assert "Python" in text and "Java" in text


def test_cli_doctor_and_help_run() -> None:
    out = subprocess.run([sys.executable, "-m", "delab.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "data" in out.stdout and "doctor" in out.stdout


def test_notebook_data_access(tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELAB_DATA", str(tiny_dataset))
    trips = data.read("trips")
    assert list(trips.columns[:7]) == ["trip_id", "driver_id", "rider_id", "start_time", "end_time",
                                       "distance_km", "city"]
    assert data.path("trips", "csv").name == "trips.csv"
    assert data.path("trips", "csv", dirty=True).parent.parent.name == "dirty"
    listing = data.tables()
    assert int(listing.loc[listing.table == "trips", "rows"].iloc[0]) == len(trips)
    with pytest.raises(KeyError, match="has no table"):
        data.path("nope")


def test_missing_dataset_message_says_what_to_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELAB_DATA", str(tmp_path))
    with pytest.raises(data.DatasetMissing, match="make data"):
        data.read("trips")


def test_paths_follow_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DELAB_DATA", raising=False)
    monkeypatch.setenv("DELAB_DATA_ROOT", str(tmp_path))
    monkeypatch.setenv("DELAB_SCALE", "tiny")
    assert paths.data_dir() == tmp_path / "tiny"
    assert paths.data_dir("large") == tmp_path / "large"


def test_committed_notebooks_have_no_outputs() -> None:
    files = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=REPO, capture_output=True, text=True).stdout
    dirty = []
    for name in files.split():
        nb = json.loads((REPO / name).read_text())
        if any(c.get("outputs") or c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code"):
            dirty.append(name)
    assert not dirty, f"strip outputs (make strip) from: {dirty}"
