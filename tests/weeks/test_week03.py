"""Week 3: the solution scores full marks, the blank release 0, and each question catches a mistake.

Mistakes are grouped (several independent ones per wrong notebook) to keep the run short. Only the
solution and the bonus mutant use PostgreSQL (the other wrong notebooks skip the bonus); the bonus
mutant is graded in a second, one-worker batch (which also keeps the grading safe when the sandbox is
switched off, where kernels would share one server).
"""

from __future__ import annotations

import pytest
from conftest import WeekSuite, edited, grade_variants, solution_code

pytestmark = pytest.mark.slow
WEEK = "week03-data-modeling"
#: Graded in the sandbox, as a class is: each kernel runs as an unprivileged user with its own
#: DELAB_STATE, so the PostgreSQL bonus gets a server per submission.
SANDBOX = None
SKIP_BONUS = {"bonus_q9_model_code": "pass", "bonus_q10_code": "pass"}


def code(gid: str) -> str:
    return solution_code(WEEK, gid)


def edit(gid: str, *pairs: tuple[str, str], text: str | None = None) -> str:
    return edited(WEEK, gid, *pairs, text=text)


def strip_references(text: str) -> str:
    import re

    return re.sub(r" REFERENCES \w+ \(\w+\)", "", text)


MUTANTS = {
    # forgot every REFERENCES and kept unassigned couriers as NULL keys; day_of_week from dayofweek()
    # (Sunday = 0); revenue counts refunded orders; global instead of per-city ranking; snowflake
    # revenue over every status
    "a": SKIP_BONUS | {
        "q1_ddl_code": strip_references(code("q1_ddl_code")).replace(
            "courier_id       BIGINT NOT NULL", "courier_id       BIGINT"),
        "q2_load_code": edit("q2_load_code", ("isodow(d), isodow(d) >= 6", "dayofweek(d), isodow(d) >= 6"),
                             ("coalesce(o.courier_id, -1)", "o.courier_id")),
        "q4_code": edit("q4_code", ("WHERE f.status = 'delivered'", "WHERE f.status <> 'cancelled'")),
        "q6_code": edit("q6_code", ("OVER (PARTITION BY r.city ORDER BY", "OVER (ORDER BY")),
        "q7_snowflake_code": edit("q7_snowflake_code", ("WHERE f.status = 'delivered'\nGROUP BY ALL",
                                                        "GROUP BY ALL")),
    },
    # a column named differently from the contract; items counted as lines, not portions;
    # refunded (but delivered) orders left out; no foreign key from sf_restaurant to sf_cuisine
    "b": SKIP_BONUS | {
        "q1_ddl_code": edit("q1_ddl_code", ("customer_name    VARCHAR", "name             VARCHAR")),
        "q2_load_code": edit("q2_load_code", ("CAST(sum(quantity) AS INTEGER)", "CAST(count(*) AS INTEGER)")),
        "q5_code": edit("q5_code", ("WHERE f.delivery_minutes IS NOT NULL", "WHERE f.status = 'delivered'")),
        "q7_snowflake_code": edit("q7_snowflake_code", (
            "cuisine_id      INTEGER NOT NULL REFERENCES sf_cuisine (cuisine_id)",
            "cuisine_id      INTEGER")),
    },
}
CAUGHT_BY = {
    "a": ["q1_star_keys", "q2_dimensions", "q3_grain_and_orphans", "q4_revenue_by_cuisine_month",
          "q6_top_restaurants", "q7_snowflake_revenue"],
    "b": ["q1_star_columns", "q2_fact_orders", "q5_delivery_by_vehicle", "q7_snowflake_keys"],
    # fact table without foreign keys; one ranking over all months instead of one per month
    "bonus": ["bonus_q9_streaming_schema", "bonus_q10_top_genres"],
}


def bonus_mutant() -> dict[str, str]:
    return {
        "bonus_q9_model_code": strip_references(code("bonus_q9_model_code").replace(
            " REFERENCES streaming.dim_date", "").replace(" REFERENCES streaming.dim_subscriber", "").replace(
            " REFERENCES streaming.dim_title", "")),
        "bonus_q10_code": edit("bonus_q10_code", (
            "OVER (PARTITION BY to_char(d.full_date, 'YYYY-MM')\n                                ORDER BY",
            "OVER (ORDER BY")),
    }


class TestWeek03(WeekSuite):
    WEEK = WEEK
    FIRST_QUESTION = "q4_revenue_by_cuisine_month"
    MUTANTS = MUTANTS
    CAUGHT_BY = CAUGHT_BY
    SANDBOX = SANDBOX

    @classmethod
    def grade(cls, state):
        results = super().grade(state)
        return results | grade_variants(WEEK, {"bonus": bonus_mutant()}, state, workers=1, sandbox=SANDBOX)
