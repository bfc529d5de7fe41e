"""Answers as plain data on disk: Parquet for tables, JSON for values and artifact descriptions.

The student's kernel writes exports with :func:`write_export`; the grading process reads them back
with :func:`read_export`, which validates kind, size and shape before anything is compared. Nothing
here pickles or evaluates anything.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from delab_grader.spec import Spec, check_qid

FORMAT = 1
KINDS = ("table", "value", "artifact")
MAX_JSON_BYTES = 2_000_000
MAX_PARQUET_BYTES = 128_000_000
MAX_ROWS = 2_000_000
META, TABLE = "meta.json", "table.parquet"


class ExportError(ValueError):
    """An answer that cannot be exported or an export that fails validation."""


@dataclass
class Export:
    """One answer as plain data: a table (pandas, read back), a JSON value, or an artifact description."""

    qid: str
    kind: str
    value: Any = None
    table: Any = None  # pandas.DataFrame for "table" and tabular artifacts
    artifact: dict[str, Any] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=dict)


def to_plain(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-safe data (numpy scalars, dates, decimals, tuples, sets converted) or ExportError."""
    if depth > 20:
        raise ExportError("answer is nested too deeply (more than 20 levels)")
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, decimal.Decimal):
        return to_plain(float(value))
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        return to_plain(value.item(), depth + 1)
    if type(value).__name__ in ("Timestamp", "Timedelta", "NaTType"):
        return None if str(value) == "NaT" else str(value)
    if isinstance(value, dict):
        return {str(k): to_plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v, depth + 1) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((to_plain(v, depth + 1) for v in value), key=repr)
    raise ExportError(
        f"cannot record a {type(value).__name__}: give a DataFrame, a number, a string, a list, a dict "
        "or an artifact (a Path, duckdb_table(...), sql_table(...))"
    )


def _pandas_to_arrow(df: Any) -> Any:
    import pandas as pd
    import pyarrow as pa

    if isinstance(df, pd.Series):
        df = df.to_frame(name=df.name if df.name is not None else "value")
    if not isinstance(df.index, pd.RangeIndex) or any(n is not None for n in df.index.names):
        df = df.reset_index()  # a groupby result keeps its keys in the index: make them columns
    df = df.copy()
    df.columns = ["_".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in df.columns]
    if len(set(df.columns)) != len(df.columns):
        raise ExportError(f"the table has duplicate column names: {list(df.columns)}")
    for col in df.columns:
        if df[col].dtype == object:
            try:
                pa.array(df[col])
            except (pa.ArrowException, TypeError, ValueError):
                df[col] = df[col].map(lambda v: None if v is None else str(v))
    return pa.Table.from_pandas(df, preserve_index=False)


def to_arrow(value: Any) -> Any | None:
    """``value`` as a pyarrow Table if it is table-like (pandas, Spark, DuckDB, Arrow, Polars), else None."""
    module = type(value).__module__.split(".")[0].lstrip("_")
    if module == "pyarrow":
        import pyarrow as pa

        if isinstance(value, pa.RecordBatch):
            return pa.Table.from_batches([value])
        return value if isinstance(value, pa.Table) else None
    if module == "pandas" and type(value).__name__ in ("DataFrame", "Series"):
        return _pandas_to_arrow(value)
    if module == "pyspark" and hasattr(value, "toPandas"):
        return _pandas_to_arrow(value.toPandas())
    if module == "duckdb" and hasattr(value, "df"):
        return _pandas_to_arrow(value.df())
    if module == "polars" and hasattr(value, "to_arrow"):
        return value.to_arrow()
    return None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, allow_nan=False, sort_keys=True)
    if len(text) > MAX_JSON_BYTES:
        raise ExportError(f"answer is too large to record ({len(text)} bytes of JSON, cap {MAX_JSON_BYTES})")
    path.write_text(text)


def _write_table(folder: Path, table: Any) -> dict[str, Any]:
    import pyarrow.parquet as pq

    if table.num_rows > MAX_ROWS:
        raise ExportError(f"table has {table.num_rows} rows; answers are capped at {MAX_ROWS}")
    pq.write_table(table.replace_schema_metadata(None), folder / TABLE)
    return {"rows": table.num_rows, "columns": table.column_names}


def write_export(root: Path, qid: str, value: Any, spec: Spec) -> dict[str, Any]:
    """Record ``value`` as the answer to ``qid`` under ``root``; returns the metadata written."""
    from delab_grader.artifacts import Artifact, describe_path

    check_qid(qid)
    folder = Path(root) / qid
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    meta: dict[str, Any] = {"format": FORMAT, "qid": qid, "spec": spec.to_json()}
    if isinstance(value, Path):
        value = describe_path(value)
    if isinstance(value, Artifact):
        meta.update(kind="artifact", artifact=to_plain(value.description))
        if value.table is not None:
            meta.update(_write_table(folder, value.table))
    elif (table := to_arrow(value)) is not None:
        meta.update(kind="table", **_write_table(folder, table))
    else:
        meta.update(kind="value", value=to_plain(value))
    _write_json(folder / META, meta)
    return meta


def _read_json(path: Path) -> dict[str, Any]:
    if path.stat().st_size > MAX_JSON_BYTES:
        raise ExportError(f"{path.name} is larger than {MAX_JSON_BYTES} bytes")
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportError(f"{path.name} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ExportError(f"{path.name} does not hold a JSON object")
    return data


def _read_table(path: Path) -> Any:
    import pyarrow.parquet as pq

    if path.stat().st_size > MAX_PARQUET_BYTES:
        raise ExportError(f"{path.name} is larger than {MAX_PARQUET_BYTES} bytes")
    try:
        rows = pq.ParquetFile(path).metadata.num_rows
        if rows > MAX_ROWS:
            raise ExportError(f"table has {rows} rows; answers are capped at {MAX_ROWS}")
        return pq.read_table(path).replace_schema_metadata(None).to_pandas()
    except ExportError:
        raise
    except Exception as exc:  # a corrupt file: report it, never crash the batch
        raise ExportError(f"the recorded table could not be read ({type(exc).__name__}: {exc})") from exc


def read_export(root: Path, qid: str) -> Export | None:
    """The validated export of ``qid`` under ``root``, None if it was never recorded, or ExportError."""
    folder = Path(root) / check_qid(qid)
    if not (folder / META).is_file():
        return None
    if folder.is_symlink() or (folder / META).is_symlink():
        raise ExportError(f"export of {qid!r} is a symbolic link; answers must be recorded with answer()")
    meta = _read_json(folder / META)
    kind = meta.get("kind")
    if kind not in KINDS or meta.get("qid") != qid:
        raise ExportError(f"export of {qid!r} has an unknown kind {kind!r} or the wrong question id")
    table_path = folder / TABLE
    has_table = table_path.is_file() and not table_path.is_symlink()
    if kind == "table" and not has_table:
        raise ExportError(f"export of {qid!r} says it is a table but has no {TABLE}")
    artifact = meta.get("artifact", {})
    spec = meta.get("spec", {})
    return Export(
        qid=qid,
        kind=kind,
        value=meta.get("value"),
        table=_read_table(table_path) if has_table and kind != "value" else None,
        artifact=artifact if isinstance(artifact, dict) else {},
        spec=spec if isinstance(spec, dict) else {},
    )


def list_exports(root: Path) -> list[str]:
    """Question ids that have an export under ``root``."""
    root = Path(root)
    return sorted(p.parent.name for p in root.glob(f"*/{META}")) if root.is_dir() else []
