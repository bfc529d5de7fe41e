"""`make bench-data`: the generator's speed, against anchors measured in the same run.

Prints rows/s for N trips written to Parquet (default 10M, the `large` scale, 2 workers), DuckDB's TPC-H
``dbgen(sf=1)`` rows/s, a Faker loop making 100k rows of the trips table's columns (also to Parquet), the
ratios, peak memory per process, and the machine's load average (the figures are noisy on a busy machine).
No assertion: a benchmark reports, it does not pass or fail.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from .dial import parse_dial
from .engine import generate
from .plan import Request
from .scales import PRESETS

TARGETS = {"vs_dbgen": 2.0, "vs_faker": 500.0, "peak_rss_gb": 0.5}


def bench_generator(trips: int, workers: int, folder: Path) -> tuple[float, int]:
    """Seconds and rows for ``trips`` trips written to Parquet only (no dirty variant)."""
    scale = replace(PRESETS["large"], name=f"bench{trips}", trips=trips)
    request = Request(scale=scale, seed=7, dirty=parse_dial("none"), tables=("trips",), formats=("parquet",))
    started = time.perf_counter()
    manifest = generate(folder / "bench", request, workers=workers, progress=False, log=lambda _: None)
    return time.perf_counter() - started, manifest["tables"]["trips"]["rows"]


def bench_dbgen(scale_factor: float = 1.0) -> tuple[float, int]:
    """Seconds and rows of DuckDB's TPC-H generator (extension loaded from its wheel)."""
    from delab.duck import connect

    con = connect(extensions=("tpch",))
    con.execute("SET enable_progress_bar = false")
    started = time.perf_counter()
    con.execute(f"CALL dbgen(sf={scale_factor})")
    seconds = time.perf_counter() - started
    tables = [row[0] for row in con.execute("SHOW TABLES").fetchall()]
    rows = sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
    con.close()
    return seconds, rows


def bench_faker(folder: Path, rows: int = 100_000) -> tuple[float, int]:
    """Seconds for an idiomatic Faker loop making ``rows`` trips-like rows and writing them to Parquet.

    Each row has the 15 columns of the generator's ``trips`` table (datasets/DATA_DICTIONARY.md), each
    generated column from one Faker call: ``trip_id`` is the loop counter (a sequential key, like ours);
    ``driver_id``, ``rider_id``, ``pickup_zone_id`` and ``dropoff_zone_id`` are ``fake.random_int`` over
    the `large` scale's key ranges; ``start_time`` is ``fake.date_time_between`` over the dataset's period
    and ``end_time`` adds ``fake.random_int`` minutes to it; ``distance_km``, ``fare``, ``tip`` and
    ``surge_multiplier`` are ``fake.pyfloat`` with sensible ranges and decimals; ``city``, ``status``,
    ``payment_type`` and ``rating`` (None = not rated) are ``fake.random_element`` of the generator's own
    vocabularies, weighted by its shares where it has them (cities, payment types, cancellations).
    The rows are collected in a list of dicts, made into a pandas DataFrame and written to Parquet, as
    our figure includes writing Parquet. The timing covers the loop and the write. (No person names or
    addresses: the trips table has none, and ``fake.name()`` alone costs more than all 15 columns.)
    """
    import pandas as pd
    from faker import Faker

    from .domains.rides_dims import (
        CITIES,
        CITY_SHARE,
        PAYMENT_SHARE,
        PAYMENT_TYPES,
        ZONE_NAMES,
        driver_count,
        rider_count,
    )
    from .domains.rides_trips import CANCEL_RATE, STATUSES

    fake = Faker()
    Faker.seed(1)
    trips, zones = PRESETS["large"].trips, sum(map(len, ZONE_NAMES.values()))
    drivers, riders = driver_count(trips), rider_count(trips)
    first = datetime.combine(PRESETS["large"].period_start, datetime.min.time())
    last = first + timedelta(days=PRESETS["large"].period_days)
    cities = OrderedDict(zip(CITIES, CITY_SHARE.tolist(), strict=True))
    payments = OrderedDict(zip(PAYMENT_TYPES, PAYMENT_SHARE, strict=True))
    statuses = OrderedDict(zip(STATUSES, (1 - CANCEL_RATE, CANCEL_RATE), strict=True))
    started = time.perf_counter()
    out = []
    for i in range(rows):
        start = fake.date_time_between(start_date=first, end_date=last)
        out.append({
            "trip_id": i + 1,
            "driver_id": fake.random_int(1, drivers),
            "rider_id": fake.random_int(1, riders),
            "start_time": start,
            "end_time": start + timedelta(minutes=fake.random_int(2, 60)),
            "distance_km": fake.pyfloat(right_digits=2, min_value=0.3, max_value=40),
            "city": fake.random_element(cities),
            "pickup_zone_id": fake.random_int(1, zones),
            "dropoff_zone_id": fake.random_int(1, zones),
            "fare": fake.pyfloat(right_digits=2, min_value=5, max_value=150),
            "tip": fake.pyfloat(right_digits=2, min_value=0, max_value=25),
            "surge_multiplier": fake.pyfloat(right_digits=1, min_value=1, max_value=3.5),
            "status": fake.random_element(statuses),
            "payment_type": fake.random_element(payments),
            "rating": fake.random_element((None, 1, 2, 3, 4, 5)),
        })  # fmt: skip
    pd.DataFrame(out).to_parquet(folder / "faker_trips.parquet")
    return time.perf_counter() - started, len(out)


def peak_rss_gb() -> tuple[float, float]:
    """Peak resident memory of this process and of the largest finished child, in GB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6
    return own, child


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=PRESETS["large"].trips)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--faker-rows", type=int, default=100_000)
    parser.add_argument("--dbgen-sf", type=float, default=1.0, help="TPC-H scale factor of the anchor")
    args = parser.parse_args(argv)

    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="delab-bench-") as tmp:
        gen_s, gen_rows = bench_generator(args.trips, args.workers, Path(tmp))
        own, child = peak_rss_gb()  # before the anchors, which hold their data in this process
        db_s, db_rows = bench_dbgen(args.dbgen_sf)
        fk_s, fk_rows = bench_faker(Path(tmp), args.faker_rows)
    ours, dbgen, faker = gen_rows / gen_s, db_rows / db_s, fk_rows / fk_s
    print(f"load average (1/5/15 min) at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"on {os.cpu_count()} cores")
    print(f"delab_data  : {gen_rows:>11,} trips -> Parquet in {gen_s:6.2f} s = {ours:>12,.0f} rows/s "
          f"({args.workers} workers)")
    print(f"duckdb dbgen: {db_rows:>11,} rows (TPC-H sf={args.dbgen_sf:g}) in {db_s:6.2f} s = "
          f"{dbgen:>12,.0f} rows/s")
    print(f"faker loop  : {fk_rows:>11,} trips -> Parquet in {fk_s:6.2f} s = {faker:>12,.0f} rows/s")
    print(f"ratio vs dbgen: {ours / dbgen:6.2f}x  (target >= {TARGETS['vs_dbgen']}x)")
    print(f"ratio vs faker: {ours / faker:6.0f}x  (target >= {TARGETS['vs_faker']:.0f}x)")
    print(f"peak RSS: main process {own:.2f} GB, largest worker {child:.2f} GB "
          f"(target <= {TARGETS['peak_rss_gb']} GB per process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
