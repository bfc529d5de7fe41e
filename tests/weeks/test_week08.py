"""Week 8: the solution scores full marks, the blank release 0, and each question catches a mistake.

Mistakes are grouped (several independent ones per wrong notebook) to keep the run short, and only
the solution starts Spark (~10 s): the wrong notebooks compute Q8 with DuckDB.
"""

from __future__ import annotations

import pytest
from conftest import WeekSuite, edited, solution_code

pytestmark = pytest.mark.slow
WEEK = "week08-lakehouse"
#: Graded in the sandbox, as a class is: each kernel has its own folder, DuckDB, Spark and local S3.
SANDBOX = None


def code(gid: str) -> str:
    return solution_code(WEEK, gid)


def edit(gid: str, *pairs: tuple[str, str]) -> str:
    return edited(WEEK, gid, *pairs)


#: Q8's table computed by DuckDB instead of Spark: the mutants below that are not about Q8 use it, so
#: that only the solution starts a JVM (the `_SUCCESS` file Spark writes is then missing: Q8 is not
#: compared for them).
NO_SPARK = '''
con.execute(f"""COPY (
    SELECT event_date, count(*) AS plays, count(DISTINCT subscriber_id) AS viewers
    FROM read_parquet('{SILVER}/*/*.parquet', hive_partitioning = true)
    WHERE event_type = 'play' GROUP BY event_date)
    TO 'out/lake/gold/plays_per_day' (FORMAT parquet, PER_THREAD_OUTPUT, OVERWRITE)""")
'''
MUTANTS = {
    # bronze drops the duplicate lines (bronze must keep everything); silver appended to on every run
    # instead of replaced (a re-run doubles it); time travel one version off; viewers counted as events
    "a": {
        "q1_bronze_code": edit("q1_bronze_code", (
            "raw = pj.read_json(landing_file)",
            "raw = pa.Table.from_pandas(pj.read_json(landing_file).to_pandas().drop_duplicates(), "
            "preserve_index=False)")),
        "q2_silver_code": edit("q2_silver_code", (
            "    shutil.rmtree(SILVER, ignore_errors=True)\n", ""), (
            'partitioning_flavor="hive")',
            'partitioning_flavor="hive",\n                     existing_data_behavior="overwrite_or_ignore", '
            'basename_template=f"run-{len(list(SILVER.rglob(\'*.parquet\')))}-{{i}}.parquet")')),
        "q4_history_code": edit("q4_history_code", ("DeltaTable(DELTA, version=version)",
                                                    "DeltaTable(DELTA, version=max(version - 1, 0))")),
        "q7_duckdb_code": edit("q7_duckdb_code", ("count(DISTINCT subscriber_id) AS viewers",
                                                  "count(subscriber_id) AS viewers")),
        "q8_spark_code": NO_SPARK,
    },
    # silver partitioned by the day the event arrived (late events in the wrong folder); VACUUM left as
    # a dry run and no Z-order; Q8 counts every event instead of the plays (and not with Spark)
    "b": {
        "q2_silver_code": edit("q2_silver_code", ("CAST(event_time AS DATE) AS event_date",
                                                  "CAST(ingest_time AS DATE) AS event_date")),
        "q5_maintenance_code": edit("q5_maintenance_code", (
            '    table.optimize.z_order(["title_id"])\n', ""), (
            "table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)",
            "table.vacuum()")),
        "q8_spark_code": NO_SPARK.replace("WHERE event_type = 'play' ", ""),
    },
    # MERGE updates matched rows whatever their age (the redelivery undoes the corrections and a
    # re-run makes a new version); Iceberg's second batch overwrites the first; silver on S3 in one file
    "c": {
        "q3_merge_code": edit("q3_merge_code", (
            '.when_matched_update_all(predicate="s.ingest_time > t.ingest_time")',
            ".when_matched_update_all()")),
        "q6_iceberg_code": edit("q6_iceberg_code", ('table.append(rest.append_column("is_late", late))',
                                                    'table.overwrite(rest.append_column("is_late", late))')),
        "q8_spark_code": NO_SPARK,
        "bonus_s3_code": edit("bonus_s3_code", (
            ',\n                 partitioning=["event_date"], partitioning_flavor="hive")', ")")),
    },
}
CAUGHT_BY = {
    "a": ["q1_bronze", "q2_silver", "q4_history", "q7_duckdb"],
    "b": ["q2_silver", "q5_maintenance", "q8_spark"],
    "c": ["q3_merge", "q6_iceberg", "bonus_s3"],
}


class TestWeek08(WeekSuite):
    WEEK = WEEK
    FIRST_QUESTION = "q1_bronze"
    MUTANTS = MUTANTS
    CAUGHT_BY = CAUGHT_BY
    SANDBOX = SANDBOX
