"""The course's DuckDB warehouse: a file-backed database with views over the shared dataset.

    con = warehouse()                      # <state>/warehouse/course.duckdb
    register_dataset(con)                  # views trips, drivers, ... over the dataset's files
    con.sql("SELECT count(*) FROM trips")
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from .. import duck
from ..paths import state_dir
from .errors import ServiceError

#: Formats a view can read, most preferred first, with the DuckDB reader for each.
_READERS = {".parquet": "read_parquet", ".csv": "read_csv_auto", ".jsonl": "read_json_auto"}


def default_path() -> Path:
    """``<state>/warehouse/course.duckdb``."""
    return state_dir() / "warehouse" / "course.duckdb"


def warehouse(path: str | Path | None = None, read_only: bool = False,
              extensions: tuple[str, ...] = ()) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse file (created with its folder if needed), extensions offline."""
    target = Path(path) if path is not None else default_path()
    if read_only and not target.exists():
        raise ServiceError(f"{target} does not exist yet; open it once without read_only=True to create it")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = {"access_mode": "READ_ONLY"} if read_only else {}
        return duck.connect(target, extensions=extensions, **mode)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise ServiceError(
            f"{target} is open in another process (DuckDB allows one writer): close that connection "
            f"(con.close(), or restart that notebook's kernel) and try again ({exc})"
        ) from exc


def register_dataset(con: duckdb.DuckDBPyConnection, data_dir: str | Path | None = None,
                     tables: Iterable[str] | None = None) -> list[str]:
    """Create (or replace) one view per table of the dataset in ``data_dir``; returns the view names.

    Tables come from ``<data_dir>/manifest.json``; a view reads the table's Parquet folder if it has
    one, else its CSV or JSON-lines file. ``tables`` limits which tables get a view.
    """
    folder = Path(data_dir) if data_dir is not None else _default_data_dir()
    entries = _manifest_tables(folder)
    names = list(entries) if tables is None else list(tables)
    unknown = sorted(set(names) - set(entries))
    if unknown:
        raise ServiceError(f"tables {unknown} are not in {folder / 'manifest.json'}; "
                           f"it has {sorted(entries)}")
    for name in names:
        reader, source = _source(folder, name, entries[name])
        con.execute(f"CREATE OR REPLACE VIEW {_ident(name)} AS SELECT * FROM {reader}({_literal(source)})")
    return names


def _default_data_dir() -> Path:
    from ..paths import data_dir

    return data_dir()


def _manifest_tables(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / "manifest.json"
    try:
        return dict(json.loads(path.read_text())["tables"])
    except FileNotFoundError:
        raise ServiceError(f"no dataset in {folder} (no manifest.json): generate it with `make data` "
                           "or point DELAB_DATA at one") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ServiceError(f"{path} is not a dataset manifest ({exc}); regenerate the dataset") from exc


def _source(folder: Path, name: str, entry: dict[str, Any]) -> tuple[str, str]:
    """The DuckDB reader and path (or glob) of a table's preferred stored format."""
    files = [Path(rel) for rel in entry.get("files", {})]
    for suffix, reader in _READERS.items():
        matching = [f for f in files if f.suffix == suffix]
        if not matching:
            continue
        if suffix == ".parquet":
            return reader, str(folder / matching[0].parent / "*.parquet")
        return reader, str(folder / matching[0])
    raise ServiceError(f"table {name!r} in {folder} has no Parquet, CSV or JSON-lines file in its manifest")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
