"""delab.services.warehouse: the DuckDB file and views over a dataset folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from delab import duck
from delab.services import ServiceError, register_dataset, warehouse


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small dataset in the generator's layout: Parquet folders, a CSV, a JSON-lines file, a manifest."""
    root = tmp_path_factory.mktemp("dataset")
    (root / "mobility" / "trips").mkdir(parents=True)
    for part, ids in enumerate([[1, 2], [3]]):
        table = pa.table({"trip_id": ids, "fare": [10.0 * i for i in ids]})
        pq.write_table(table, root / "mobility" / "trips" / f"part-{part:05d}.parquet")
    (root / "mobility" / "drivers.csv").write_text("driver_id,name\n7,Ada\n8,Bo\n")
    (root / "food" / "menus").mkdir(parents=True)
    pq.write_table(pa.table({"menu_id": [5]}), root / "food" / "menus" / "part-00000.parquet")
    (root / "food" / "menus.csv").write_text("menu_id\n999\n")  # Parquet is preferred when both exist
    (root / "food" / "events.jsonl").write_text('{"event": "open"}\n{"event": "close"}\n')
    files = {
        "trips": {"mobility/trips/part-00000.parquet": "x", "mobility/trips/part-00001.parquet": "x"},
        "drivers": {"mobility/drivers.csv": "x"},
        "menus": {"food/menus.csv": "x", "food/menus/part-00000.parquet": "x"},
        "events": {"food/events.jsonl": "x"},
    }
    tables = {name: {"domain": rel.split("/")[0], "files": f} for name, f in files.items()
              for rel in list(f)[:1]}
    (root / "manifest.json").write_text(json.dumps({"seed": 42, "tables": tables}))
    return root


def test_default_file_lives_in_the_state_folder(state: Path) -> None:
    con = warehouse()
    con.execute("CREATE TABLE notes AS SELECT 1 AS n")
    con.close()
    assert (state / "warehouse" / "course.duckdb").exists()


def test_extensions_load_offline(tmp_path: Path) -> None:
    if duck.extension_directory() is None:
        pytest.skip("the duckdb-ext-* wheels are not installed")
    con = warehouse(tmp_path / "w.duckdb", extensions=("tpch",))
    assert con.sql("SELECT count(*) FROM tpch_queries()").fetchone() == (22,)


def test_views_over_every_table(dataset: Path, tmp_path: Path) -> None:
    con = warehouse(tmp_path / "w.duckdb")
    assert sorted(register_dataset(con, dataset)) == ["drivers", "events", "menus", "trips"]
    assert con.sql("SELECT count(*), sum(fare) FROM trips").fetchone() == (3, 60.0)
    assert con.sql("SELECT name FROM drivers ORDER BY driver_id").fetchall() == [("Ada",), ("Bo",)]
    assert con.sql("SELECT menu_id FROM menus").fetchall() == [(5,)]
    assert con.sql("SELECT count(*) FROM events").fetchone() == (2,)
    con.close()
    reopened = warehouse(tmp_path / "w.duckdb", read_only=True)  # views are stored in the file
    assert reopened.sql("SELECT count(*) FROM trips").fetchone() == (3,)


def test_only_some_tables(dataset: Path, tmp_path: Path) -> None:
    con = warehouse(tmp_path / "w.duckdb")
    assert register_dataset(con, dataset, tables=["trips"]) == ["trips"]
    views = {r[0] for r in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert views == {"trips"}
    with pytest.raises(ServiceError, match=r"\['nope'\] are not in"):
        register_dataset(con, dataset, tables=["nope"])


def test_missing_dataset_and_file(tmp_path: Path) -> None:
    con = warehouse(tmp_path / "w.duckdb")
    with pytest.raises(ServiceError, match="make data"):
        register_dataset(con, tmp_path / "no-data")
    with pytest.raises(ServiceError, match="does not exist yet"):
        warehouse(tmp_path / "absent.duckdb", read_only=True)


def test_file_held_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "busy.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('open', "
         "flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(ServiceError, match="open in another process"):
            warehouse(path)
    finally:
        holder.communicate("")
