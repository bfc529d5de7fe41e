"""`delab data …` and `delab data-dictionary`: the generator's command line."""

from __future__ import annotations

import argparse
import os

from delab import paths

from .dial import DialError, parse_dial
from .scales import ScaleError, parse_scale


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the generator's subcommands on the `delab` parser."""
    data = sub.add_parser("data", help="generate the shared synthetic datasets",
                          description="Generate the shared datasets (a no-op when they are up to date).")
    data.add_argument("--scale", default=None,
                      help="tiny | small | large | a trip count | trips=N,orders=N,viewing_events=N "
                           "(default: $DELAB_SCALE or small)")
    data.add_argument("--seed", type=int, default=int(os.environ.get("DELAB_SEED", 42)))
    data.add_argument("--dirty", default="default",
                      help="dirty-data dial: default | none | a factor (2 = twice the defaults) | "
                           "nulls=0.05,duplicates=0.02,... (the clean variant is always written)")
    data.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    data.add_argument("--tables", default=None, help="comma-separated table names (default: all)")
    data.add_argument("--out", default=None, help="target folder (default: data/<scale>)")
    data.add_argument("--engine", choices=["local", "spark"], default="local",
                      help="local process pool, or Spark (SPARK_MASTER, default local[2])")
    data.add_argument("--force", action="store_true", help="replace an existing different dataset")
    data.add_argument("--verify", action="store_true",
                      help="re-hash an existing dataset against its manifest")
    data.add_argument("--quiet", action="store_true", help="no progress bar")
    data.set_defaults(func=run_data)

    dic = sub.add_parser("data-dictionary", help="regenerate datasets/DATA_DICTIONARY.md")
    dic.add_argument("--check", action="store_true", help="exit 1 if the committed file is out of date")
    dic.set_defaults(func=run_dictionary)


def run_data(args: argparse.Namespace) -> int:
    """Generate (or verify) one dataset."""
    from . import manifest
    from .engine import DataError, generate
    from .plan import PlanError, Request

    try:
        scale = parse_scale(args.scale or paths.default_scale())
        rates = parse_dial(args.dirty)
    except (ScaleError, DialError) as exc:
        print(f"delab data: {exc}")
        return 2
    out = args.out or paths.data_root() / scale.name
    if args.verify:
        problems = manifest.verify(paths.data_root() / scale.name if args.out is None else out)
        print("\n".join(problems) if problems else f"{out}: every file matches its manifest")
        return 1 if problems else 0
    tables = tuple(t.strip() for t in args.tables.split(",")) if args.tables else None
    request = Request(scale=scale, seed=args.seed, dirty=rates, tables=tables)
    try:
        if args.engine == "spark":
            from .spark_engine import generate_spark

            generate_spark(out, request, force=args.force)
        else:
            generate(out, request, workers=args.workers, force=args.force, progress=not args.quiet)
    except (DataError, PlanError) as exc:
        print(f"delab data: {exc}")
        return 2
    return 0


def run_dictionary(args: argparse.Namespace) -> int:
    """Write or check the data dictionary."""
    from . import dictionary

    if args.check:
        if dictionary.is_current():
            return 0
        print(f"{dictionary.DICTIONARY_FILE} is out of date: run `delab data-dictionary`")
        return 1
    print(f"wrote {dictionary.write()}")
    return 0
