"""The engine: manifest, determinism across workers, no-op re-runs, atomicity and clear errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from delab_data import dictionary, engine, manifest
from delab_data.dial import DialError, parse_dial
from delab_data.dirty import dirty_schema
from delab_data.engine import DataError, generate
from delab_data.plan import PlanError, Request
from delab_data.scales import PRESETS, ScaleError, parse_scale
from delab_data.schema import TABLES
from delab_data.writers import read_table, table_path

QUIET = {"progress": False, "log": lambda _msg: None}
#: Two chunks of trips, so that worker count could matter if anything were wrong.
TWO_CHUNKS = replace(PRESETS["tiny"], name="two-chunks", trips=300_000)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("data") / "tiny"
    generate(out, Request(PRESETS["tiny"], seed=42), workers=2, **QUIET)
    return out


def test_manifest_records_request_rows_and_hashes(tiny: Path) -> None:
    info = manifest.read(tiny)
    assert info is not None
    assert info["seed"] == 42 and info["scale"]["name"] == "tiny"
    assert info["dirty"] == parse_dial("default").as_dict()
    assert set(info["tables"]) == set(TABLES)
    assert info["tables"]["trips"]["rows"] > 9_000
    assert manifest.verify(tiny) == []
    assert info["schema"]["trips"][:7] == [
        {"name": n, "type": t, "nullable": False}
        for n, t in [("trip_id", "int64"), ("driver_id", "int64"), ("rider_id", "int64"),
                     ("start_time", "timestamp[ms]"), ("end_time", "timestamp[ms]"),
                     ("distance_km", "double"), ("city", "string")]
    ]


def test_every_declared_format_is_written_and_readable(tiny: Path) -> None:
    info = manifest.read(tiny)
    for name, spec in TABLES.items():
        files = info["tables"][name]["files"]
        for fmt in spec.formats:
            rel = str(table_path(Path(), spec.domain, name, fmt, spec.variant))
            assert any(f == rel or f.startswith(rel + "/") for f in files), (name, fmt)
        if "parquet" in spec.formats:
            data = read_table(table_path(tiny, spec.domain, name, "parquet", spec.variant))
            assert data.schema.names == spec.column_names
            assert data.num_rows == info["tables"][name]["rows"]


def test_parquet_reads_back_with_the_declared_types_from_compact_encodings(tiny: Path) -> None:
    """No Arrow schema is stored (dictionary-encoded text must read back as text), so Parquet's own
    types must carry every declared type, nullability included, for the clean and dirty variants."""
    for name, spec in TABLES.items():
        variants = [(spec.variant, spec.schema)]
        if "dirty" in manifest.read(tiny)["tables"][name] and "parquet" in spec.formats:
            variants.append(("dirty", dirty_schema(spec)))
        for variant, declared in variants if "parquet" in spec.formats else []:
            folder = table_path(tiny, spec.domain, name, "parquet", variant)
            assert read_table(folder).schema.equals(declared), (name, variant)
    meta = pq.ParquetFile(tiny / "rides" / "trips" / "part-00000.parquet").metadata
    assert b"ARROW:schema" not in (meta.metadata or {})
    encodings = {meta.row_group(0).column(i).path_in_schema: meta.row_group(0).column(i).encodings
                 for i in range(meta.num_columns)}  # fmt: skip
    assert "DELTA_BINARY_PACKED" in encodings["trip_id"] and "DELTA_BINARY_PACKED" in encodings["start_time"]
    assert "RLE_DICTIONARY" in encodings["city"] and "RLE_DICTIONARY" in encodings["fare"]


def test_csv_has_one_header_and_every_row(tiny: Path) -> None:
    info = manifest.read(tiny)
    lines = (tiny / "rides" / "trips.csv").read_text().splitlines()
    assert lines[0].replace('"', "").split(",")[:7] == TABLES["trips"].column_names[:7]
    assert len(lines) == info["tables"]["trips"]["rows"] + 1


def test_dirty_variant_is_recorded_and_clean_variant_is_clean(tiny: Path) -> None:
    info = manifest.read(tiny)["tables"]["trips"]
    assert info["dirty"]["rows"] > info["rows"]  # duplicates were added
    assert sum(info["dirty"]["damage"].values()) > 0
    clean = read_table(tiny / "rides" / "trips")
    assert clean.column("trip_id").null_count == 0
    assert len(pc.unique(clean.column("trip_id"))) == clean.num_rows
    assert pc.min(clean.column("distance_km")).as_py() >= 0  # cancelled trips travel 0 km
    assert pc.all(pc.greater_equal(clean.column("end_time"), clean.column("start_time"))).as_py()
    assert set(pc.unique(clean.column("city")).to_pylist()) <= set(
        read_table(tiny / "rides" / "cities").column("city").to_pylist()
    )


def test_rerun_with_same_parameters_is_a_no_op(tiny: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in tiny.rglob("*") if p.is_file()}
    messages: list[str] = []
    generate(tiny, Request(PRESETS["tiny"], seed=42), workers=2, progress=False, log=messages.append)
    assert "up to date" in messages[0]
    assert {p: p.stat().st_mtime_ns for p in tiny.rglob("*") if p.is_file()} == before


@pytest.mark.slow
@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_same_seed_gives_identical_files_with_one_or_two_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start: str
) -> None:
    monkeypatch.setattr(engine, "_start_method", lambda: start)
    request = Request(TWO_CHUNKS, seed=3, tables=("trips", "payments"))
    one = generate(tmp_path / "one", request, workers=1, **QUIET)
    two = generate(tmp_path / "two", request, workers=2, **QUIET)
    assert one["tables"]["trips"]["files"]  # several part files, each hashed
    assert len([f for f in one["tables"]["trips"]["files"] if f.endswith(".parquet")]) == 2
    differing = {
        f for name in one["tables"] for f, digest in one["tables"][name]["files"].items()
        if two["tables"][name]["files"].get(f) != digest
    }
    assert not differing
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)


def test_workers_are_spawned_not_forked_while_other_threads_run() -> None:
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait)
    helper.start()
    try:
        assert engine._start_method() == "spawn"
    finally:
        stop.set()
        helper.join()


def test_other_seed_needs_force_and_then_replaces(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "d"
    small_request = Request(PRESETS["tiny"], seed=1, tables=("cities",))
    generate(out, small_request, workers=1, **QUIET)
    with pytest.raises(DataError, match="--force"):
        generate(out, replace(small_request, seed=2), workers=1, **QUIET)
    assert manifest.read(out)["seed"] == 1  # untouched
    generate(out, replace(small_request, seed=2), workers=1, force=True, **QUIET)
    assert manifest.read(out)["seed"] == 2


def test_folder_without_manifest_is_not_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match="no complete dataset"):
        generate(out, Request(PRESETS["tiny"], tables=("cities",)), workers=1, **QUIET)
    assert (out / "notes.txt").read_text() == "mine"


def test_killed_run_never_looks_complete_and_next_run_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "delab.cli", "data", "--scale", "trips=600000", "--out", str(out),
           "--workers", "1", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not any(tmp_path.glob(".killed.partial-*/rides/trips/part-*.parquet")):
        assert proc.poll() is None, "generation ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists() and manifest.read(out) is None
    assert list(tmp_path.glob(".killed.partial-*"))  # the debris is hidden, not the dataset
    generate(out, Request(PRESETS["tiny"], tables=("cities",)), workers=1, **QUIET)
    assert manifest.read(out) is not None
    assert not list(tmp_path.glob(".killed.partial-*"))


def test_unwritable_target_and_full_disk_get_clear_errors(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(DataError, match="cannot create"):
        generate(blocker / "data", Request(PRESETS["tiny"], tables=("cities",)), **QUIET)
    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda _p: shutil._ntuple_diskusage(10, 10, 1))
    with pytest.raises(DataError, match="not enough free disk"):
        generate(tmp_path / "full", Request(PRESETS["large"]), **QUIET)
    assert not (tmp_path / "full").exists()


def test_bad_arguments_are_explained() -> None:
    with pytest.raises(ScaleError, match="tiny, small, large"):
        parse_scale("huge")
    with pytest.raises(ScaleError, match="at least 100"):
        parse_scale("10")
    assert parse_scale("trips=2000,orders=500").orders == 500
    with pytest.raises(DialError, match=r"between 0 and 0\.5"):
        parse_dial("nulls=0.9")
    with pytest.raises(DialError, match="cannot read"):
        parse_dial("bogus=1")
    assert parse_dial("none").is_clean
    with pytest.raises(PlanError, match="unknown tables"):
        generate("/tmp/never", Request(PRESETS["tiny"], tables=("nope",)), **QUIET)


def test_cli_reports_bad_scale_without_traceback() -> None:
    out = subprocess.run([sys.executable, "-m", "delab.cli", "data", "--scale", "huge"],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "unknown scale 'huge'" in out.stdout and "Traceback" not in out.stderr


def test_data_dictionary_is_current() -> None:
    assert dictionary.is_current(), "run `delab data-dictionary` and commit datasets/DATA_DICTIONARY.md"
    text = dictionary.render()
    for name, spec in TABLES.items():
        assert f"### `{name}`" in text
        for col in spec.columns:
            assert f"| `{col.name}` |" in text


def test_dataset_from_older_generator_code_is_regenerated_without_force(tmp_path: Path) -> None:
    out = tmp_path / "stale"
    request = Request(PRESETS["tiny"], seed=5, tables=("cities",))
    generate(out, request, workers=1, **QUIET)
    info = manifest.read(out)
    info["code_fingerprint"] = "from-an-older-checkout"
    manifest.write(out, info)
    messages: list[str] = []
    generate(out, request, workers=1, progress=False, log=messages.append)
    assert messages and messages[0].startswith("wrote")
    assert manifest.read(out)["code_fingerprint"] == manifest.code_fingerprint()


def test_asking_for_fewer_tables_changes_no_rows(tiny: Path, tmp_path: Path) -> None:
    only = generate(tmp_path / "only-trips", Request(PRESETS["tiny"], seed=42, tables=("trips",)),
                    workers=1, **QUIET)
    full = manifest.read(tiny)
    assert only["tables"]["trips"]["files"] == full["tables"]["trips"]["files"]
    assert "payments" not in only["tables"]
