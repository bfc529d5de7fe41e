"""Week 7: the solution scores full marks, the blank release 0, and each question catches a mistake.

Every notebook starts its own Spark JVM (10-20 s), so the wrong answers are grouped: one graded
notebook carries mistakes in questions that do not feed each other, and each mutant lists every
question its mistakes reach (a wrong cleaning step also changes everything computed from it)."""

from __future__ import annotations

import pytest
from conftest import WeekSuite

pytestmark = [pytest.mark.slow, pytest.mark.spark]
WEEK = "week07-spark"
#: Graded in the sandbox, as a class is: each kernel runs its own Spark JVM as an unprivileged user,
#: inside its own memory cgroup (the notebook's metadata asks for 4 GB).
SANDBOX = None

INFER_SCHEMA = '''
TRIPS_SCHEMA = None


def read_trips(csv_path):
    return spark.read.csv(str(csv_path), header=True, inferSchema=True)
'''
DROP_ANY_NULL = '''
def clean_trips(raw):
    return raw.dropna().dropDuplicates()
'''
KEEPS_EXPORT_CITY = '''
def enrich(trips, drivers, riders):
    d = drivers.select("driver_id", F.concat_ws(" ", "first_name", "last_name").alias("driver_name"),
                       "vehicle_type", F.col("rating").alias("driver_rating"))
    r = riders.select("rider_id", F.col("home_city").alias("rider_home_city"))
    return trips.join(d, "driver_id", "left").join(r, "rider_id", "left")
'''
APPENDS = '''
def write_trips(df, target):
    df.write.mode("append").partitionBy("city").parquet(str(target))
'''
NOT_PARTITIONED = '''
def write_trips(df, target):
    df.write.mode("overwrite").parquet(str(target))
'''
FARE_ONLY = '''
city_revenue = spark.sql("""
    SELECT city, count(*) AS completed_trips, sum(fare) AS revenue, avg(distance_km) AS avg_distance_km
    FROM trips_parquet WHERE status = 'completed' GROUP BY city""")
'''
NO_PARTITION_BY = '''
top_drivers = spark.sql("""
    WITH per_driver AS (
        SELECT city, driver_id, driver_name, sum(fare + tip) AS revenue FROM trips_parquet
        WHERE status = 'completed' GROUP BY city, driver_id, driver_name)
    SELECT * FROM (SELECT *, row_number() OVER (ORDER BY revenue DESC, driver_id) AS rank_in_city
                   FROM per_driver) WHERE rank_in_city <= 3""")
'''
ORDER_CITY = '''
def orders_per_customer_city(orders_csv, customers):
    orders = spark.read.csv(str(orders_csv), header=True, schema=ORDERS_SCHEMA,
                            timestampFormat="yyyy-MM-dd HH:mm:ss")
    required = ["customer_id", "placed_at", "subtotal", "delivery_fee", "tip", "total"]
    complete = orders.dropna(subset=required)
    joined = complete.dropDuplicates().join(customers.select("customer_id"), "customer_id")
    return joined.groupBy("city", "status").agg(F.count("*").alias("orders"), F.sum("total").alias("revenue"))
'''
ORDERS_SCHEMA_SOURCE = """T.StructType(
    [T.StructField(c, T.LongType()) for c in ("order_id", "customer_id", "restaurant_id", "courier_id")]
    + [T.StructField("city", T.StringType())]
    + [T.StructField(c, T.TimestampType()) for c in ("placed_at", "accepted_at", "picked_up_at",
                                                     "delivered_at")]
    + [T.StructField("status", T.StringType())]
    + [T.StructField(c, T.DoubleType()) for c in ("subtotal", "delivery_fee", "tip")]
    + [T.StructField("promo_code", T.StringType())]
    + [T.StructField(c, T.DoubleType()) for c in ("discount", "total")]
)
"""
LOOSE_WATERMARK = '''
def run_stream(source, sink, checkpoint):
    events = spark.readStream.schema(EVENT_SCHEMA).option("maxFilesPerTrigger", 1).json(
        str(source), timestampFormat="yyyy-MM-dd HH:mm:ss")
    counts = (events.withWatermark("event_time", "60 days")
              .groupBy(F.window("event_time", "1 day"), "event_type").agg(F.count("*").alias("events"))
              .select(F.col("window.start").alias("window_start"), F.col("window.end").alias("window_end"),
                      "event_type", "events"))
    query = (counts.writeStream.format("parquet").outputMode("append").option("path", str(sink))
             .option("checkpointLocation", str(checkpoint)).trigger(availableNow=True).start())
    query.awaitTermination()
    return query
'''
DOWNSTREAM = {"q4_partitioned_parquet", "q5a_city_revenue", "q5b_top_drivers"}
#: the solution's ORDERS_SCHEMA (q6_orders_code) is replaced too, so the mutant defines its own
ORDER_CITY = "ORDERS_SCHEMA = " + ORDERS_SCHEMA_SOURCE + ORDER_CITY
#: mutant -> (cells replaced, the questions it must lose points on, every question it may affect)
MUTANTS = {
    "schema_and_city_and_watermark": (
        {"q1_read_trips_code": INFER_SCHEMA, "q6_orders_code": ORDER_CITY,
         "bonus_stream_code": LOOSE_WATERMARK},
        {"q1_read_trips", "q6_orders_customers", "bonus_stream_late_events"},
        {"q1_read_trips", "q2_clean_trips", "q3_enrich", *DOWNSTREAM, "q6_orders_customers",
         "bonus_stream_late_events"},
    ),
    "drops_unrated_trips": ({"q2_clean_trips_code": DROP_ANY_NULL}, {"q2_clean_trips"},
                            {"q2_clean_trips", "q3_enrich", *DOWNSTREAM}),
    "keeps_misspelt_city": ({"q3_enrich_code": KEEPS_EXPORT_CITY}, {"q3_enrich"}, {"q3_enrich", *DOWNSTREAM}),
    "appends_on_rerun": ({"q4_write_trips_code": APPENDS}, {"q4_partitioned_parquet"}, DOWNSTREAM),
    "unpartitioned_and_sql": (
        {"q4_write_trips_code": NOT_PARTITIONED, "q5a_city_revenue_code": FARE_ONLY,
         "q5b_top_drivers_code": NO_PARTITION_BY},
        {"q4_partitioned_parquet", "q5a_city_revenue", "q5b_top_drivers"}, DOWNSTREAM,
    ),
}


CELLS = {name: cells for name, (cells, _, _) in MUTANTS.items()}
CAUGHT_BY = {name: sorted(must) for name, (_, must, _) in MUTANTS.items()}
AFFECTS = {name: set(may) for name, (_, _, may) in MUTANTS.items()}


class TestWeek07(WeekSuite):
    WEEK = WEEK
    FIRST_QUESTION = "q1_read_trips"
    MUTANTS = CELLS
    CAUGHT_BY = CAUGHT_BY
    SANDBOX = SANDBOX
    ONLY_ITS_QUESTIONS = True
    AFFECTS = AFFECTS
