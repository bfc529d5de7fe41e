"""Fixtures shared by every test folder."""

from __future__ import annotations

from pathlib import Path

import pytest

# Notebooks under tests/ are fixtures the tests grade, not lectures: `--nbval-lax` must not run them.
collect_ignore_glob = ["fixtures/*"]


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete tiny dataset (seed 42) generated once per test process into a temporary folder."""
    from delab_data.engine import generate
    from delab_data.plan import Request
    from delab_data.scales import PRESETS

    out = tmp_path_factory.mktemp("shared-data") / "tiny"
    generate(out, Request(PRESETS["tiny"], seed=42), workers=1, progress=False, log=lambda _m: None)
    return out
