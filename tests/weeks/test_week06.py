"""Week 6: the solution scores full marks, the blank release 0, and each question catches a mistake.

The mistakes are realistic edits of the solution's own cells (see ``mutant``): a client that ignores
Retry-After, an upsert that never updates, a MERGE without the lsn guard, a consumer that
auto-commits, a change log replayed first-change-wins.
"""

from __future__ import annotations

import pytest
from conftest import WeekSuite, edited

pytestmark = pytest.mark.slow
WEEK = "week06-data-ingestion"
#: Graded in the sandbox, as a class is: each kernel runs as an unprivileged user with its own
#: DELAB_STATE and loopback-only network, so its PostgreSQL, vendor API and Kafka are its own.
SANDBOX = None


def mutant(gid: str, *edits: tuple[str, str]) -> dict[str, str]:
    """The solution's cell ``gid`` with each (old, new) text replaced: a student's wrong answer."""
    return {gid: edited(WEEK, gid, *edits)}


MUTANTS = {
    # retries a 429 on its own schedule: too early, the server refuses again
    "ignores_retry_after": mutant("q1_code", (
        'wait = float(response.headers.get("Retry-After", backoff * 2 ** attempt))',
        "wait = backoff * 2 ** attempt")),
    # a later file's corrections never reach the table
    "upsert_does_nothing": mutant("q2_code", (
        'DO UPDATE SET {", ".join(f"{c} = EXCLUDED.{c}" for c in UPDATED)}', "DO NOTHING")),
    # an old batch delivered again overwrites newer rows and resurrects deleted drivers
    "no_lsn_guard": mutant("q3_code", ("WHEN MATCHED AND s.lsn > t._lsn AND", "WHEN MATCHED AND"),
                           ("WHEN MATCHED AND s.lsn > t._lsn THEN", "WHEN MATCHED THEN")),
    # offsets are committed on close even after the "crash": the restart misses nothing to re-read
    "auto_commit": mutant("q4_code", ('"enable.auto.commit": False', '"enable.auto.commit": True')),
    # the first change of each restaurant wins instead of the latest
    "changelog_first_wins": mutant("bonus_code", ("ORDER BY lsn DESC) = 1 AND", "ORDER BY lsn) = 1 AND")),
}
#: the question each mutant must lose points on
CAUGHT_BY = {
    "ignores_retry_after": "q1_vendor_products", "upsert_does_nothing": "q2_orders_pipeline",
    "no_lsn_guard": "q3_cdc_in_sync", "auto_commit": "q4_kafka_at_least_once",
    "changelog_first_wins": "bonus_staging_layer",
}


class TestWeek06(WeekSuite):
    WEEK = WEEK
    FIRST_QUESTION = "q1_vendor_products"
    MUTANTS = MUTANTS
    CAUGHT_BY = CAUGHT_BY
    SANDBOX = SANDBOX
    ONLY_ITS_QUESTIONS = True
