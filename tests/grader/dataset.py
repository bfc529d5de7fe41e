"""A tiny dataset for the grader's tests: two Parquet files and a manifest, varied by seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd


def make_dataset(folder: Path, seed: int = 1) -> Path:
    """Write orders.parquet, drivers.parquet and manifest.json into ``folder``; return it."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    drivers = pd.DataFrame(
        {
            "driver_id": np.arange(1, 7, dtype="int32"),
            "name": [f"driver-{i}" for i in range(1, 7)],
            "city": ["A", "B", "A", "C", "B", "A"],
        }
    )
    n = 40
    orders = pd.DataFrame(
        {
            "order_id": np.arange(1, n + 1, dtype="int64"),
            "driver_id": rng.integers(1, 7, n).astype("int32"),
            "amount": rng.uniform(3, 60, n).round(2),
            "day": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 5, n), unit="D"),
        }
    )
    drivers.to_parquet(folder / "drivers.parquet", index=False)
    orders.to_parquet(folder / "orders.parquet", index=False)
    (folder / "manifest.json").write_text(json.dumps({"seed": seed, "tables": ["orders", "drivers"]}))
    return folder
