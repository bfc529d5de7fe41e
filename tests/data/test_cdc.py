"""Change logs: replaying them gives the current tables, and they carry a clean SCD type-2 history."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import assert_conforms, make_ctx
from delab_data.schema import PRODUCERS, TABLES

SOURCES = {"drivers_cdc": ("drivers", "driver_id", "signup_date"),
           "restaurants_cdc": ("restaurants", "restaurant_id", "opened_date")}  # fmt: skip
PERIOD = (pd.Timestamp("2025-01-06"), pd.Timestamp("2025-01-06") + pd.Timedelta(days=91))


def image(row: dict, side: str, columns: list[str]) -> dict:
    return {c: row[f"{side}_{c}"] for c in columns}


def replay(log: pa.Table, source: pa.Table, key: str) -> pa.Table:
    """Apply the log row by row in lsn order, checking every before-image against the state."""
    columns = [c for c in source.column_names if c != key]
    state: dict[int, dict] = {}
    for row in log.sort_by("lsn").to_pylist():
        k = row[key]
        if row["op"] == "c":
            assert k not in state and all(v is None for v in image(row, "before", columns).values())
        else:
            assert state[k] == image(row, "before", columns), f"before-image of lsn {row['lsn']} is stale"
        if row["op"] == "d":
            assert all(v is None for v in image(row, "after", columns).values())
            del state[k]
        else:
            state[k] = image(row, "after", columns)
    rows = [{key: k, **v} for k, v in sorted(state.items())]
    return pa.Table.from_pylist(rows, schema=source.schema)


@pytest.fixture(scope="module")
def logs(tiny_tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
    return tiny_tables


@pytest.mark.parametrize("name", SOURCES)
def test_log_conforms(logs: dict[str, pa.Table], name: str) -> None:
    assert_conforms(TABLES[name], logs[name])
    source = TABLES[SOURCES[name][0]]
    expected = {f"{side}_{c}" for side in ("before", "after") for c in source.column_names} - {
        f"before_{SOURCES[name][1]}", f"after_{SOURCES[name][1]}"}  # fmt: skip
    assert expected <= set(logs[name].column_names)


@pytest.mark.parametrize("name", SOURCES)
def test_replay_gives_the_current_table(logs: dict[str, pa.Table], name: str) -> None:
    source, key, _ = SOURCES[name]
    assert replay(logs[name], logs[source], key).equals(logs[source].sort_by(key))


@pytest.mark.parametrize("name", SOURCES)
def test_log_shape(logs: dict[str, pa.Table], name: str) -> None:
    source, key, start = SOURCES[name]
    df = logs[name].to_pandas()
    current = logs[source].to_pandas()
    assert df["lsn"].is_monotonic_increasing and df["lsn"].is_unique
    assert df["commit_ts"].is_monotonic_increasing
    assert df["commit_ts"].between(*PERIOD, inclusive="left").all()
    inserts = df[df.op == "c"].groupby(key).size()
    assert (inserts == 1).all() and set(current[key]) <= set(inserts.index)
    updates = df[df.op == "u"].groupby(key).size()
    assert updates.max() <= 3 and len(updates) > 0.1 * len(current)
    deleted = set(df.loc[df.op == "d", key])
    assert deleted and not deleted & set(current[key]) and min(deleted) > current[key].max()
    started = pd.to_datetime(df[f"after_{start}"].fillna(df[f"before_{start}"]))
    assert (df["commit_ts"] >= started).all()
    last = df.groupby(key)["commit_ts"].max()
    assert (current.set_index(key)["updated_at"] == last.loc[current[key]]).all()
    changed = df[df.op == "u"]
    columns = [c for c in current.columns if c not in (key, "updated_at")]
    differs = np.zeros(len(changed), dtype=bool)
    for c in columns:
        differs |= (changed[f"before_{c}"] != changed[f"after_{c}"]).to_numpy()
    assert differs.all(), "every update changes something besides updated_at"


def test_driver_history_agrees_with_trips(logs: dict[str, pa.Table]) -> None:
    """Trips put drivers in their current city until they stop, so the history must say the same."""
    df = logs["drivers_cdc"].to_pandas().sort_values("lsn")
    updates = df[df.op == "u"]
    status_changes = updates[updates.before_status != updates.after_status]
    assert len(status_changes) > 0
    assert (status_changes.after_status == "inactive").all()
    last = df.groupby("driver_id").tail(1).set_index("driver_id")
    assert (last.loc[status_changes.driver_id, "lsn"].to_numpy() == status_changes.lsn.to_numpy()).all()
    current = set(logs["drivers"]["driver_id"].to_pylist())
    moves = updates[updates.before_city != updates.after_city]
    assert set(moves.driver_id).isdisjoint(current)
    zone_moves = updates[updates.before_home_zone_id != updates.after_home_zone_id]
    assert len(zone_moves) > 0


def test_deleted_entities_are_referenced_nowhere(logs: dict[str, pa.Table]) -> None:
    for name, refs in (
        ("drivers_cdc", [("trips", "driver_id")]),
        ("restaurants_cdc", [("orders", "restaurant_id"), ("menu_items", "restaurant_id")]),
    ):
        log = logs[name].to_pandas()
        key = SOURCES[name][1]
        deleted = set(log.loc[log.op == "d", key])
        for table, column in refs:
            if table in logs:
                assert not deleted & set(logs[table][column].to_pylist()), (name, table)  # fmt: skip


@pytest.mark.parametrize("name", SOURCES)
def test_scd2_history_has_one_current_version_per_key(logs: dict[str, pa.Table], name: str) -> None:
    source, key, _ = SOURCES[name]
    df = logs[name].to_pandas().sort_values("lsn")
    df["valid_to"] = df.groupby(key)["commit_ts"].shift(-1)
    versions = df[df.op != "d"]
    assert (versions["valid_to"].isna() | (versions["commit_ts"] < versions["valid_to"])).all()
    current_versions = versions[versions["valid_to"].isna()]
    assert current_versions[key].is_unique
    assert set(current_versions[key]) == set(logs[source][key].to_pylist())
    latest = current_versions.set_index(key).sort_index()
    now = logs[source].to_pandas().set_index(key).sort_index()
    for c in now.columns:
        assert (latest[f"after_{c}"].to_numpy() == now[c].to_numpy()).all(), c


@pytest.mark.parametrize("name", SOURCES)
def test_sql_merge_of_daily_batches_gives_the_current_table(logs: dict[str, pa.Table], name: str) -> None:
    """What students do: MERGE each day's changes (latest change per key) into the target table."""
    source, key, _ = SOURCES[name]
    columns = [c for c in logs[source].column_names if c != key]
    con = duckdb.connect()
    con.register("log", logs[name])
    con.register("src", logs[source])
    con.sql("CREATE TABLE target AS SELECT * FROM src LIMIT 0")
    assignments = ", ".join(f"{c} = s.after_{c}" for c in columns)
    values = ", ".join(f"s.after_{c}" for c in columns)
    days = con.sql("SELECT DISTINCT commit_ts::DATE AS d FROM log ORDER BY d").fetchall()
    for (day,) in days:
        con.execute(f"""
            MERGE INTO target t
            USING (SELECT * FROM log WHERE commit_ts::DATE = ? QUALIFY row_number() OVER (
                   PARTITION BY {key} ORDER BY lsn DESC) = 1) s
            ON t.{key} = s.{key}
            WHEN MATCHED AND s.op = 'd' THEN DELETE
            WHEN MATCHED THEN UPDATE SET {assignments}
            WHEN NOT MATCHED AND s.op <> 'd' THEN INSERT ({key}, {", ".join(columns)})
                                                  VALUES (s.{key}, {values})
        """, [day])  # fmt: skip
    merged = con.sql(f"SELECT * FROM target ORDER BY {key}").arrow()
    merged = merged.read_all() if hasattr(merged, "read_all") else merged
    assert merged.cast(logs[source].schema).equals(logs[source].sort_by(key))


@pytest.mark.parametrize("name", SOURCES)
def test_same_context_same_log(logs: dict[str, pa.Table], name: str) -> None:
    ctx = make_ctx(name, tables=logs)
    assert PRODUCERS[name].make(ctx)[name].equals(PRODUCERS[name].make(ctx)[name])
