"""Week 2: the solution scores full marks, the blank release 0, and each question catches a mistake."""

from __future__ import annotations

import pytest
from conftest import WeekSuite

pytestmark = pytest.mark.slow
WEEK = "week02-python-sql"
#: Graded in the sandbox, as a class is: each kernel runs as an unprivileged user with its own
#: DELAB_STATE, so every submission gets a PostgreSQL server of its own.
SANDBOX = None

AT_LEAST_5_KM = '''
trips_csv = pd.read_csv(TRIPS_CSV)
per_driver = (trips_csv[trips_csv["distance_km"] >= 5].groupby("driver_id").size()
              .reset_index(name="long_trips"))
per_driver.to_csv(OUT / "long_trips_per_driver.csv", index=False)
'''
DISTINCT_RIDERS = '''
trips_per_driver = con.sql(
    "SELECT driver_id, count(DISTINCT rider_id) AS trips FROM trips GROUP BY driver_id").df()
'''
FORGOT_DESC = '''
top5_new_york = con.sql("""
    SELECT driver_id, count(*) AS trips FROM trips WHERE city = 'New York'
    GROUP BY driver_id ORDER BY trips, driver_id LIMIT 5""").df()
'''
SKIPS_CANCELLED = '''
avg_distance = con.sql("""
    SELECT city, avg(distance_km) AS avg_distance_km FROM trips
    WHERE distance_km > 0 GROUP BY city""").df()
'''
NO_PARTITION = '''
driver_rank = con.sql("""
    SELECT city, driver_id, count(*) AS trips,
           rank() OVER (ORDER BY count(*) DESC) AS rank_in_city
    FROM trips GROUP BY city, driver_id""").df()
'''
NO_INDEX = '''
top5_postgres = pd.read_sql(text("""
    SELECT driver_id, count(*) AS trips FROM trips WHERE city = :city
    GROUP BY driver_id ORDER BY trips DESC, driver_id LIMIT 5"""), engine, params={"city": "New York"})
'''
DURATION_IN_SECONDS = '''
df = raw.drop_duplicates().drop_duplicates("trip_id", keep="first").copy()
for col in ("start_time", "end_time"):
    df[col] = pd.to_datetime(df[col], format="%Y-%m-%d %H:%M:%S", errors="coerce")
df = df.dropna(subset=["start_time", "end_time", "distance_km", "fare"])
df = df[(df["distance_km"] >= 0) & (df["fare"] >= 0) & (df["end_time"] >= df["start_time"])]
df["duration_min"] = (df["end_time"] - df["start_time"]).dt.total_seconds()
zones = ZONES.rename(columns={"zone_id": "pickup_zone_id", "zone_name": "pickup_zone",
                              "is_airport": "is_airport_pickup"})
clean = df.drop(columns=["city"]).merge(
    zones[["pickup_zone_id", "pickup_zone", "city", "is_airport_pickup"]], on="pickup_zone_id")
clean = clean[["trip_id", "driver_id", "rider_id", "start_time", "end_time", "distance_km", "fare",
               "duration_min", "city", "pickup_zone", "is_airport_pickup"]]
'''
MUTANTS = {
    "at_least_5_km": {"q1_long_trips_per_driver_code": AT_LEAST_5_KM},
    "distinct_riders": {"q2a_trips_per_driver_code": DISTINCT_RIDERS},
    "forgot_desc": {"q2b_top5_new_york_code": FORGOT_DESC},
    "skips_cancelled": {"q2c_avg_distance_code": SKIPS_CANCELLED},
    "no_partition": {"q2d_driver_rank_code": NO_PARTITION},
    "no_index": {"q2e_top5_postgres_code": NO_INDEX},
    "duration_in_seconds": {"bonus_etl_transform_code": DURATION_IN_SECONDS},
}
#: the question each mutant must lose points on
CAUGHT_BY = {
    "at_least_5_km": "q1_long_trips_per_driver", "distinct_riders": "q2a_trips_per_driver",
    "forgot_desc": "q2b_top5_new_york", "skips_cancelled": "q2c_avg_distance",
    "no_partition": "q2d_driver_rank", "no_index": "q2e_top5_postgres",
    "duration_in_seconds": "bonus_etl_trips_clean",
}


class TestWeek02(WeekSuite):
    WEEK = WEEK
    FIRST_QUESTION = "q2a_trips_per_driver"
    MUTANTS = MUTANTS
    CAUGHT_BY = CAUGHT_BY
    SANDBOX = SANDBOX
    ONLY_ITS_QUESTIONS = True
