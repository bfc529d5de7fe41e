"""DuckDB connections that load extensions offline, from the `duckdb-ext-*` wheels in the venv."""

from __future__ import annotations

from pathlib import Path

import duckdb


def extension_directory() -> Path | None:
    """The folder holding the pip-installed extension binaries, if the wheels are installed."""
    try:
        import duckdb_ext  # type: ignore[import-not-found]
    except ImportError:
        return None
    return Path(next(iter(duckdb_ext.__path__))) / "extensions"


def connect(database: str | Path = ":memory:", extensions: tuple[str, ...] = (), **config: object):
    """A DuckDB connection whose ``LOAD <ext>`` works with no network; loads ``extensions`` at once."""
    ext_dir = extension_directory()
    settings = dict(config)
    if ext_dir is not None:
        settings.setdefault("extension_directory", str(ext_dir))
    settings.setdefault("autoinstall_known_extensions", False)
    con = duckdb.connect(str(database), config=settings)
    for name in extensions:
        try:
            con.load_extension(name)
        except duckdb.Error as exc:
            raise RuntimeError(
                f"DuckDB extension {name!r} could not be loaded offline: install the wheel "
                f"`duckdb-ext-{name}=={duckdb.__version__}.*` (it is in requirements.lock) ({exc})"
            ) from exc
    return con
