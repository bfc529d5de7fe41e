"""Week 4: the solution scores full marks, the blank release 0, and each question catches a mistake.

Mistakes are grouped (several independent ones per wrong notebook) to keep the run short.
"""

from __future__ import annotations

import re

import pytest
from conftest import WeekSuite, edited, solution_code

pytestmark = pytest.mark.slow
WEEK = "week04-data-warehousing"


def code(gid: str) -> str:
    return solution_code(WEEK, gid)


def edit(gid: str, *pairs: tuple[str, str], text: str | None = None) -> str:
    return edited(WEEK, gid, *pairs, text=text)


MUTANTS = {
    # no foreign keys declared and day_of_week from dayofweek() (Sunday = 0); trips by day counts only
    # completed trips; busiest drivers sorted ascending; growth computed across cities; lake
    # partitioned by month instead of day
    "a": {
        "q1_load_code": edit("q1_load_code", ("isodow(d), isodow(d) >= 6", "dayofweek(d), isodow(d) >= 6"),
                             text=re.sub(r" REFERENCES \w+ \(\w+\)", "", code("q1_load_code"))),
        "q2_code": edit("q2_code", ("USING (date_key)\nGROUP BY",
                                    "USING (date_key)\nWHERE f.status = 'completed'\nGROUP BY")),
        "q3_code": edit("q3_code", ("ORDER BY trips DESC, f.driver_id", "ORDER BY trips, f.driver_id")),
        "q5_code": edit("q5_code", ("OVER (PARTITION BY city ORDER BY month)",
                                    "OVER (ORDER BY city, month)")),
        "q8_code": edit("q8_code", ("d.full_date AS trip_date",
                                    "strftime(d.full_date, '%Y-%m') AS trip_month"),
                        ("PARTITION_BY (trip_date)", "PARTITION_BY (trip_month)"),
                        ("WHERE trip_date = DATE '2025-02-14'", "WHERE trip_month = '2025-02'")),
    },
    # cancelled trips (0 km) in the average; dropoff instead of pickup zone; rides counted as riders;
    # the one-day query filters on a column inside the files, so no partition is pruned
    "b": {
        "q4_code": edit("q4_code", ("WHERE f.status = 'completed'\nGROUP BY z.city", "GROUP BY z.city")),
        "q6_code": edit("q6_code", ("z.zone_id = f.pickup_zone_id", "z.zone_id = f.dropoff_zone_id")),
        "q7_code": edit("q7_code", ("count(DISTINCT f.rider_id) AS riders", "count(f.rider_id) AS riders")),
        "q8_code": edit("q8_code", ("WHERE trip_date = DATE '2025-02-14'", "WHERE date_key = 20250214")),
    },
    # only one month of the stage loaded
    "c": {
        "q1_load_code": edit("q1_load_code", ("'stage/*/*.csv'", "'stage/month=2025-01/*.csv'")),
    },
}
CAUGHT_BY = {
    "a": ["q1_star_keys", "q1_dimensions", "q2_trips_by_day", "q3_busiest_drivers", "q5_revenue_growth",
          "q8_partitioned_files"],
    "b": ["q4_distance_by_city", "q6_airport_by_vehicle", "q7_platform_weekend", "q8_pruning"],
    "c": ["q1_staged", "q1_fact_trips"],
}


class TestWeek04(WeekSuite):
    WEEK = WEEK
    FIRST_QUESTION = "q2_trips_by_day"
    MUTANTS = MUTANTS
    CAUGHT_BY = CAUGHT_BY
