"""Week 5: the solution scores full marks, the blank release 0, and each question catches a mistake.

Each notebook runs PostgreSQL, dbt and Airflow, so mistakes are grouped (several independent ones per
wrong notebook) to keep the run short.
"""

from __future__ import annotations

import pytest
from conftest import WeekSuite, edited, solution_code

pytestmark = pytest.mark.slow
WEEK = "week05-etl-elt"
#: Graded in the sandbox, as a class is: each kernel has its own PostgreSQL, DuckDB files, dbt project
#: and Airflow home under its own folder.
SANDBOX = None


def code(gid: str) -> str:
    return solution_code(WEEK, gid)


def edit(gid: str, *pairs: tuple[str, str], text: str | None = None) -> str:
    return edited(WEEK, gid, *pairs, text=text)


RAISE = '        log.exception("ETL of %s failed", csv_path)\n        raise'
UPSERT = ' "\n                           f"ON CONFLICT (trip_id) DO UPDATE SET {UPDATE}"'
REJECTS = 'db.execute(text("DELETE FROM trip_rejects WHERE source = :source"), {"source": source})'
RELATIONSHIP = """          - name: restaurant_id
            data_tests:
              - relationships:
                  arguments:
                    to: ref('stg_restaurants')
                    field: restaurant_id
"""
REPLACE_DAY = """db.execute(f"DELETE FROM daily_orders WHERE order_date = DATE '{ds}'")"""
MUTANTS = {
    # the first line of a repeated trip wins, corrections are ignored (ON CONFLICT DO NOTHING) and
    # errors are swallowed silently; the orders' own (misspelled) city instead of the restaurant's and
    # the oldest batch wins in staging; the job at 07:00; tasks without retries
    "a": {
        "q1_etl_code": edit("q1_etl_code", ('keep="last"', 'keep="first"'),
                            ("DO UPDATE SET {UPDATE}", "DO NOTHING"), (RAISE, "        return None")),
        "q4_models_code": edit("q4_models_code", ("        r.city,\n", "        o.city,\n"),
                               ("        status,\n        try_strptime(placed_at",
                                "        city,\n        status,\n        try_strptime(placed_at"),
                               ("order by _batch desc, _row desc", "order by _batch, _row desc")),
        "q5_schedule_code": edit("q5_schedule_code", ('at("06:00")', 'at("07:00")')),
        "q6_dag_code": edit("q6_dag_code", ('default_args={"retries": 2, ', 'default_args={')),
    },
    # plain appends (no primary key, rejects added again); no relationships test and a hard-coded
    # table name instead of source(); the daily load appends instead of replacing its day; the
    # backfill stops a day early
    "b": {
        "q1_etl_code": edit("q1_etl_code", ("trip_id BIGINT PRIMARY KEY", "trip_id BIGINT"), (UPSERT, '"'),
                            (REJECTS, "pass")),
        "q4_models_code": edit("q4_models_code", (RELATIONSHIP, ""),
                               ("from {{ source('raw', 'restaurants') }}", "from raw.restaurants")),
        "q6_dag_code": edit("q6_dag_code", (REPLACE_DAY, "pass")),
        "bonus_backfill_code": edit("bonus_backfill_code", ('freq="D")', 'freq="D")[:-1]')),
    },
}
CAUGHT_BY = {
    "a": ["q1_transform", "q3_late_changed", "q3_logging", "q4_fct_orders", "q4_mart", "q4_next_batch",
          "q5_schedule", "q6_dag"],
    "b": ["q2_idempotent_load", "q4_dbt_build", "q4_lineage", "q6_runs", "bonus_backfill"],
}


class TestWeek05(WeekSuite):
    WEEK = WEEK
    FIRST_QUESTION = "q1_transform"
    MUTANTS = MUTANTS
    CAUGHT_BY = CAUGHT_BY
    SANDBOX = SANDBOX
