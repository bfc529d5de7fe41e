"""Find and read the shared dataset from a notebook: ``from delab.data import read; read("trips")``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from . import paths


class DatasetMissing(FileNotFoundError):
    """The dataset a notebook asked for has not been generated (or its generation did not finish)."""


def dataset_dir(scale: str | None = None) -> Path:
    """The folder of the current dataset; raises a message saying how to make it when it is missing."""
    folder = paths.data_dir(scale)
    if not (folder / "manifest.json").exists():
        wanted = scale or paths.default_scale()
        raise DatasetMissing(
            f"no complete dataset in {folder}. Generate it from the course folder with "
            f"`make data SCALE={wanted}` (or `delab data --scale {wanted}`), then re-run this cell."
        )
    return folder


def manifest(scale: str | None = None) -> dict[str, Any]:
    """The dataset's manifest (seed, scale, tables with row counts and files)."""
    from delab_data import manifest as mf

    info = mf.read(dataset_dir(scale))
    assert info is not None
    return info


def path(name: str, fmt: str = "parquet", dirty: bool = False, scale: str | None = None) -> Path:
    """Where table ``name`` is stored in format ``fmt`` (a folder for Parquet, a file otherwise)."""
    from delab_data.writers import table_path

    info = manifest(scale)
    if name not in info["tables"]:
        raise KeyError(f"the dataset has no table {name!r}; it has: {', '.join(sorted(info['tables']))}")
    table = info["tables"][name]
    variant = "dirty" if dirty or table["variant"] == "dirty" else "clean"
    target = table_path(dataset_dir(scale), table["domain"], name, fmt, variant)
    if not target.exists():
        raise FileNotFoundError(f"table {name!r} is not stored as {fmt} ({'dirty' if dirty else 'clean'}): "
                                f"{target} does not exist")
    return target


def read(
    name: str, columns: list[str] | None = None, dirty: bool = False, scale: str | None = None
) -> pd.DataFrame:
    """Table ``name`` as a pandas DataFrame (from Parquet)."""
    import pyarrow.parquet as pq

    return pq.read_table(path(name, "parquet", dirty, scale), columns=columns).to_pandas()


def tables(scale: str | None = None) -> pd.DataFrame:
    """One row per table: domain, rows, and the formats it is stored in."""
    info = manifest(scale)
    rows = [
        {"table": name, "domain": t["domain"], "variant": t["variant"], "rows": t["rows"],
         "files": len(t["files"]), "dirty_rows": t.get("dirty", {}).get("rows")}
        for name, t in sorted(info["tables"].items())
    ]
    return pd.DataFrame(rows)
