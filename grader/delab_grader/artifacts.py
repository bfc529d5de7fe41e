"""Produced artifacts (files, folders, Delta tables, DuckDB/SQL tables) described as plain data.

Used inside the student's kernel by ``answer()``: the description (type, schema, primary key, ...)
goes to JSON and the content, when tabular, to Parquet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Artifact:
    """What ``answer()`` records for a produced artifact: a JSON description and optional table."""

    description: dict[str, Any]
    table: Any = None  # pyarrow.Table


def _read_tabular(path: Path) -> tuple[str, Any]:
    if path.is_dir() and (path / "_delta_log").is_dir():
        from deltalake import DeltaTable

        return "delta", DeltaTable(str(path)).to_pyarrow_table()
    suffix = path.suffix.lower()
    if path.is_dir() or suffix == ".parquet":
        import pyarrow.dataset as ds

        return "parquet", ds.dataset(str(path), format="parquet").to_table()
    if suffix == ".csv":
        import pyarrow.csv as pcsv

        return "csv", pcsv.read_csv(str(path))
    return "file", None


def describe_path(path: Path | str) -> Artifact:
    """A file or folder artifact; CSV, Parquet (file or folder) and Delta content is read as a table."""
    path = Path(path)
    desc: dict[str, Any] = {"type": "missing", "name": path.name, "exists": path.exists()}
    if not path.exists():
        return Artifact(desc)
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    desc.update(files=len(files), size=sum(p.stat().st_size for p in files))
    try:
        kind, table = _read_tabular(path)
    except Exception as exc:  # unreadable content is a wrong answer, reported to the student
        desc.update(type="unreadable", error=f"{type(exc).__name__}: {exc}")
        return Artifact(desc)
    desc["type"] = kind
    if table is not None:
        desc["columns"] = [{"name": f.name, "type": str(f.type)} for f in table.schema]
    return Artifact(desc, table)


def _quote(name: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def duckdb_table(con: Any, name: str) -> Artifact:
    """A DuckDB table (or view) with its schema, primary key and content."""
    table_name = name.split(".")[-1]
    cols = con.execute(
        "select column_name, data_type from information_schema.columns where table_name = ? "
        "order by ordinal_position",
        [table_name],
    ).fetchall()
    pk = con.execute(
        "select constraint_column_names from duckdb_constraints() "
        "where table_name = ? and constraint_type = 'PRIMARY KEY'",
        [table_name],
    ).fetchall()
    desc = {
        "type": "duckdb_table",
        "name": name,
        "exists": bool(cols),
        "columns": [{"name": c, "type": t} for c, t in cols],
        "primary_key": list(pk[0][0]) if pk else [],
    }
    if not cols:
        return Artifact(desc)
    result = con.sql(f"select * from {_quote(name)}").arrow()
    return Artifact(desc, result.read_all() if hasattr(result, "read_all") else result)


def sql_table(engine: Any, name: str, schema: str | None = None) -> Artifact:
    """A table in a SQL database (PostgreSQL, SQLite, ... via a SQLAlchemy engine or URL)."""
    import pandas as pd
    import pyarrow as pa
    import sqlalchemy as sa

    engine = sa.create_engine(engine) if isinstance(engine, str) else engine
    inspector = sa.inspect(engine)
    exists = inspector.has_table(name, schema=schema)
    desc: dict[str, Any] = {"type": "sql_table", "name": name, "exists": exists}
    if not exists:
        return Artifact(desc)
    desc["columns"] = [
        {"name": c["name"], "type": str(c["type"])} for c in inspector.get_columns(name, schema)
    ]
    desc["primary_key"] = list(inspector.get_pk_constraint(name, schema).get("constrained_columns") or [])
    with engine.connect() as conn:
        df = pd.read_sql_table(name, conn, schema=schema)
    return Artifact(desc, pa.Table.from_pandas(df, preserve_index=False))
