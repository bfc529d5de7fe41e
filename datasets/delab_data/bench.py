"""`make bench-data`: the generator's speed, against anchors measured in the same run.

Prints rows/s for N trips written to Parquet (default 10M, the `large` scale, 2 workers), DuckDB's TPC-H
``dbgen(sf=1)`` rows/s, a Faker trips-like loop on 100k rows, the ratios, and peak memory per process.
No assertion: a benchmark reports, it does not pass or fail.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
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


def bench_faker(rows: int = 100_000) -> tuple[float, int]:
    """Seconds for a typical Faker loop building trips-like dicts."""
    from faker import Faker

    fake = Faker()
    Faker.seed(1)
    rng = random.Random(1)
    cities = ["New York", "Chicago", "Austin", "Seattle", "Miami", "Boston"]
    started = time.perf_counter()
    out = []
    for i in range(rows):
        start = fake.date_time_between(start_date="-90d", end_date="now")
        out.append({
            "trip_id": i + 1, "driver_id": rng.randint(1, 12_000), "rider_id": rng.randint(1, 100_000),
            "start_time": start, "end_time": start + timedelta(minutes=rng.randint(3, 60)),
            "distance_km": round(rng.lognormvariate(1.3, 0.6), 2), "city": rng.choice(cities),
            "driver_name": fake.name(),
        })
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
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="delab-bench-") as tmp:
        gen_s, gen_rows = bench_generator(args.trips, args.workers, Path(tmp))
    own, child = peak_rss_gb()  # before the anchors, which hold their data in this process
    db_s, db_rows = bench_dbgen()
    fk_s, fk_rows = bench_faker(args.faker_rows)
    ours, dbgen, faker = gen_rows / gen_s, db_rows / db_s, fk_rows / fk_s
    print(f"delab_data  : {gen_rows:>11,} trips -> Parquet in {gen_s:6.2f} s = {ours:>12,.0f} rows/s "
          f"({args.workers} workers)")
    print(f"duckdb dbgen: {db_rows:>11,} rows (TPC-H sf=1) in {db_s:6.2f} s = {dbgen:>12,.0f} rows/s")
    print(f"faker loop  : {fk_rows:>11,} rows in {fk_s:6.2f} s = {faker:>12,.0f} rows/s")
    print(f"ratio vs dbgen: {ours / dbgen:6.2f}x  (target >= {TARGETS['vs_dbgen']}x)")
    print(f"ratio vs faker: {ours / faker:6.0f}x  (target >= {TARGETS['vs_faker']:.0f}x)")
    print(f"peak RSS: main process {own:.2f} GB, largest worker {child:.2f} GB "
          f"(target <= {TARGETS['peak_rss_gb']} GB per process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
