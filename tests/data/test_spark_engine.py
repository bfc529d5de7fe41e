"""The Spark engine gives the same rows as the local engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from delab_data.engine import generate
from delab_data.plan import Request
from delab_data.scales import PRESETS
from delab_data.writers import read_table

pytestmark = [pytest.mark.spark, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java 17+")]


def test_spark_engine_rows_equal_local_engine(tmp_path: Path) -> None:
    from delab_data.spark_engine import generate_spark, spark_session

    request = Request(PRESETS["tiny"], seed=11, tables=("trips",))
    generate(tmp_path / "local", request, workers=1, progress=False, log=lambda _m: None)
    spark = spark_session("delab-data-test")
    try:
        info = generate_spark(tmp_path / "spark", request, spark=spark)
    finally:
        spark.stop()
    local = read_table(tmp_path / "local" / "rides" / "trips").sort_by("trip_id")
    remote = read_table(tmp_path / "spark" / "rides" / "trips")
    remote = remote.select(local.schema.names).cast(local.schema).sort_by("trip_id")
    assert info["tables"]["trips"]["rows"] == local.num_rows
    assert remote.equals(local)
