"""Where the course keeps things. Every location can be overridden by an environment variable."""

from __future__ import annotations

import os
from pathlib import Path

#: Scale used when neither an argument nor ``DELAB_SCALE`` names one.
DEFAULT_SCALE = "small"


def repo_root() -> Path:
    """The course checkout: ``DELAB_HOME`` if set, else the folder above this package."""
    env = os.environ.get("DELAB_HOME")
    return Path(env).resolve() if env else Path(__file__).resolve().parent.parent


def default_scale() -> str:
    """The dataset scale in force: ``DELAB_SCALE`` (CI sets ``tiny``) or ``small``."""
    return os.environ.get("DELAB_SCALE", DEFAULT_SCALE)


def data_root() -> Path:
    """Folder holding one generated dataset per scale: ``DELAB_DATA_ROOT`` or ``<repo>/data``."""
    env = os.environ.get("DELAB_DATA_ROOT")
    return Path(env).resolve() if env else repo_root() / "data"


def data_dir(scale: str | None = None) -> Path:
    """The dataset notebooks read: ``DELAB_DATA`` if set, else ``<data_root>/<scale>``."""
    env = os.environ.get("DELAB_DATA")
    if env and scale is None:
        return Path(env).resolve()
    return data_root() / (scale or default_scale())


def state_dir() -> Path:
    """Course runtime state that is never committed (servers' folders, caches): ``<repo>/.delab``."""
    env = os.environ.get("DELAB_STATE")
    return Path(env).resolve() if env else repo_root() / ".delab"
