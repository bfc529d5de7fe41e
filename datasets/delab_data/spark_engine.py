"""The Spark engine: the same chunks, run as Spark tasks (``mapInArrow`` over chunk numbers).

Point it at a cluster with ``SPARK_MASTER=spark://host:7077`` (default ``local[2]``). Every executor
needs this package installed (``pip install -e .`` in the course checkout, or ship it with
``--py-files``) and ``--out`` must be a folder all executors and the driver can reach (a shared file
system, or an object store path such as ``s3a://bucket/course-data`` with the hadoop-aws jars on the
cluster). Rows are identical to the local engine's because each chunk draws from its own seed; the
files differ (Spark names its part files), so the Spark engine writes Parquet only and records its
row counts in ``manifest.json`` beside the data when the output folder is local.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from . import manifest as mf
from .context import ChunkContext
from .engine import DataError, _check_replace, _fresh_tmp
from .plan import Request, producers_for, waves
from .schema import PRODUCERS, TABLES, conform


def spark_session(app: str = "delab-data") -> Any:
    """The course's SparkSession (:func:`delab.services.spark.spark_session`: ``SPARK_MASTER`` or
    local[2], this interpreter as the Python workers, Java checked first)."""
    from delab.services.spark import spark_session as course_session

    return course_session(app)


def chunk_rows(request: Request, producer: str, table: str, chunks: list[int], dims: dict[str, bytes]):
    """Yield the record batches of ``table`` for the given chunk numbers (runs on executors)."""
    prod = PRODUCERS[producer]
    cache: dict[str, pa.Table] = {}

    def load(name: str) -> pa.Table:
        if name not in cache:
            cache[name] = pa.ipc.open_stream(io.BytesIO(dims[name])).read_all()
        return cache[name]

    for chunk in chunks:
        start, count = prod.chunk_range(request.scale, chunk)
        ctx = ChunkContext(request.seed, request.scale, producer, chunk, prod.n_chunks(request.scale),
                           start, count, loader=load, wanted=frozenset({table}))
        data = conform(TABLES[table], prod.make(ctx)[table])
        yield from data.cast(spark_schema(data.schema)).to_batches()


def spark_schema(schema: pa.Schema) -> pa.Schema:
    """The same schema with timestamps in microseconds, the only unit Spark accepts from Arrow."""
    return pa.schema([
        pa.field(f.name, pa.timestamp("us", f.type.tz), f.nullable) if pa.types.is_timestamp(f.type) else f
        for f in schema
    ])


def _ipc(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def generate_spark(out: Path | str, request: Request, force: bool = False, spark=None) -> dict[str, Any]:
    """Generate the clean Parquet tables of ``request`` with Spark into ``out``."""
    out = Path(out).resolve()
    _check_replace(out, mf.read(out), request.params(), force)
    spark = spark or spark_session()
    tmp = _fresh_tmp(out)
    try:
        rows = _run(spark, tmp, request)
        manifest = {**request.params(), "engine": "spark", "generator": "delab_data",
                    "schema_fingerprint": mf.schema_fingerprint(),
                    "tables": {name: {"domain": TABLES[name].domain, "rows": n} for name, n in rows.items()}}
        mf.write(tmp, manifest)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _run(spark, tmp: Path, request: Request) -> dict[str, int]:
    """Run every wave; dimensions become broadcast Arrow streams for the next waves."""
    dims: dict[str, bytes] = {}
    rows: dict[str, int] = {}
    for wave in waves(producers_for(request.tables)):
        for prod in wave:
            for table in prod.tables:
                if TABLES[table].variant != "clean":
                    continue
                target = tmp / TABLES[table].domain / table
                df = _table_frame(spark, request, prod.name, table, dims)
                df.write.mode("overwrite").parquet(str(target))
                rows[table] = _count_rows(target)
                if table in {n for p in PRODUCERS.values() for n in p.needs}:
                    dims[table] = _ipc(pq.read_table(target).select(TABLES[table].column_names))
    if not rows:
        raise DataError("nothing to generate for these tables")
    return rows


def _count_rows(folder: Path) -> int:
    """Rows of a Parquet folder, from the file footers only."""
    return sum(pq.read_metadata(f).num_rows for f in folder.glob("*.parquet"))


def _table_frame(spark, request: Request, producer: str, table: str, dims: dict[str, bytes]):
    """A DataFrame whose partitions are the producer's chunks, filled by ``mapInArrow``."""
    from pyspark.sql.pandas.types import from_arrow_schema

    n = PRODUCERS[producer].n_chunks(request.scale)
    shared = spark.sparkContext.broadcast(dims)

    def fill(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        chunks = [int(c) for batch in batches for c in batch.column(0).to_pylist()]
        yield from chunk_rows(request, producer, table, chunks, shared.value)

    ids = spark.range(0, n, 1, numPartitions=n)
    return ids.mapInArrow(fill, from_arrow_schema(spark_schema(TABLES[table].schema)))
