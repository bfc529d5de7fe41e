"""answer() exports: every answer type becomes plain data, read back validated (no kernels)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa
from delab_grader import exports, student
from delab_grader.artifacts import describe_path, duckdb_table, sql_table
from delab_grader.exports import ExportError, read_export, write_export
from delab_grader.spec import make_spec

DF = pd.DataFrame({"k": [1, 2], "v": [0.5, 1.5]})


def roundtrip(tmp_path: Path, value, **spec):
    write_export(tmp_path, "q", value, make_spec(**spec))
    return read_export(tmp_path, "q")


@pytest.mark.parametrize(
    "value",
    [
        DF,
        pa.Table.from_pandas(DF),
        duckdb.sql("select 1 as k, 0.5 as v union all select 2, 1.5"),
        DF.set_index("k"),
    ],
)
def test_tables_become_parquet(tmp_path, value):
    got = roundtrip(tmp_path, value)
    assert got.kind == "table"
    pd.testing.assert_frame_equal(got.table.sort_values("k").reset_index(drop=True), DF, check_dtype=False)
    assert not list(tmp_path.rglob("*.pkl")) and not list(tmp_path.rglob("*.pickle"))


def test_groupby_series_keeps_its_keys(tmp_path):
    got = roundtrip(tmp_path, DF.groupby("k")["v"].sum())
    assert list(got.table.columns) == ["k", "v"]


def test_values_become_json(tmp_path):
    value = {
        "n": np.int64(3),
        "x": float("nan"),
        "when": pd.Timestamp("2024-01-01"),
        "s": {2, 1},
        "t": (1, 2),
    }
    got = roundtrip(tmp_path, value)
    assert got.kind == "value"
    assert got.value == {"n": 3, "x": None, "when": "2024-01-01T00:00:00", "s": [1, 2], "t": [1, 2]}


def test_unexportable_objects_are_refused(tmp_path):
    with pytest.raises(ExportError, match="cannot record a object"):
        write_export(tmp_path, "q", object(), make_spec())


def test_spec_is_recorded_with_the_export(tmp_path):
    got = roundtrip(tmp_path, DF, keys=["k"], rtol=0.1)
    assert got.spec["keys"] == ["k"] and got.spec["rtol"] == 0.1


def test_csv_parquet_and_delta_artifacts(tmp_path):
    DF.to_csv(tmp_path / "a.csv", index=False)
    DF.to_parquet(tmp_path / "a.parquet")
    from deltalake import write_deltalake

    write_deltalake(str(tmp_path / "delta"), DF)
    for name, kind in [("a.csv", "csv"), ("a.parquet", "parquet"), ("delta", "delta")]:
        art = describe_path(tmp_path / name)
        assert art.description["type"] == kind and art.table.num_rows == 2
    assert describe_path(tmp_path / "nope.csv").description == {
        "type": "missing",
        "name": "nope.csv",
        "exists": False,
    }


def test_duckdb_table_records_primary_key(tmp_path):
    con = duckdb.connect()
    con.execute("create table t (k integer primary key, v double)")
    con.execute("insert into t values (1, 0.5), (2, 1.5)")
    got = roundtrip(tmp_path / "x", duckdb_table(con, "t"))
    assert got.kind == "artifact" and got.artifact["primary_key"] == ["k"]
    assert len(got.table) == 2


def test_sql_table_through_sqlalchemy(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("create table t (k integer primary key, v real)")
        conn.exec_driver_sql("insert into t values (1, 0.5), (2, 1.5)")
    art = sql_table(engine, "t")
    assert art.description["primary_key"] == ["k"] and art.table.num_rows == 2
    assert sql_table(engine, "missing").description["exists"] is False


def test_reader_validates(tmp_path, monkeypatch):
    write_export(tmp_path, "q", DF, make_spec())
    meta = json.loads((tmp_path / "q" / "meta.json").read_text())
    (tmp_path / "q" / "meta.json").write_text(json.dumps({**meta, "kind": "pickle"}))
    with pytest.raises(ExportError, match="unknown kind"):
        read_export(tmp_path, "q")
    (tmp_path / "q" / "meta.json").write_text("{nope")
    with pytest.raises(ExportError, match="not valid JSON"):
        read_export(tmp_path, "q")
    write_export(tmp_path, "q", DF, make_spec())
    monkeypatch.setattr(exports, "MAX_ROWS", 1)
    with pytest.raises(ExportError, match="capped"):
        read_export(tmp_path, "q")
    assert read_export(tmp_path, "never") is None


def test_symlinked_export_is_refused(tmp_path):
    write_export(tmp_path / "real", "q", DF, make_spec())
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "q").symlink_to(tmp_path / "real" / "q")
    with pytest.raises(ExportError, match="symbolic link"):
        read_export(tmp_path / "exports", "q")


def test_student_answer_and_check_without_grader(monkeypatch, capsys):
    monkeypatch.delenv(student.EXPORTS_ENV, raising=False)
    monkeypatch.setattr(student, "_recorded", {})
    student.answer("q_ok", DF, columns=["k"], parts={"a": ["k"], "b": ["v"]})
    with pytest.raises(AssertionError, match="unique"):
        student.answer("q_bad", pd.DataFrame({"k": [1, 1]}), checks=["unique:k"])
    assert student.check() is False
    out = capsys.readouterr().out
    assert "[ok]   q_ok" in out and "[FAIL] q_bad" in out
    assert "3 hidden check(s) will compare your answers" in out
    assert student.check("q_ok") is True
    assert "[----] q_missing: not answered yet" in (student.check("q_missing"), capsys.readouterr().out)[1]


def test_student_answer_writes_where_the_grader_says(tmp_path, monkeypatch):
    monkeypatch.setenv(student.EXPORTS_ENV, str(tmp_path))
    monkeypatch.setattr(student, "_recorded", {})
    student.answer("q1", 42)
    assert read_export(tmp_path, "q1").value == 42


@pytest.mark.spark
def test_spark_dataframe_is_converted(tmp_path):
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.master("local[1]").appName("grader-test").getOrCreate()
    try:
        got = roundtrip(tmp_path, spark.createDataFrame(DF))
    finally:
        spark.stop()
    assert got.kind == "table" and sorted(got.table.k) == [1, 2]


@pytest.mark.parametrize("keys", [None, ["event_id"]])
def test_nulls_in_text_and_boolean_columns_equal_themselves(tmp_path, keys):
    from delab_grader.compare import grade_answer
    from delab_grader.spec import make_spec

    table = pa.table({"event_id": [1, 2, 3, 4], "device": pa.array([None, None, "tv", "phone"]),
                      "premium": pa.array([True, None, False, None])})
    spec = make_spec(keys=keys)
    for side in ("expected", "actual"):
        exports.write_export(tmp_path / side, "q", table, spec)
    expected, actual = (exports.read_export(tmp_path / side, "q") for side in ("expected", "actual"))
    assert grade_answer(expected, actual, spec).fraction == 1
    wrong = table.set_column(1, "device", pa.array(["tv", None, "tv", "phone"]))
    exports.write_export(tmp_path / "wrong", "q", wrong, spec)
    assert grade_answer(expected, exports.read_export(tmp_path / "wrong", "q"), spec).fraction < 1
