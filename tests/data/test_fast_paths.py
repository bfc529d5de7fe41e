"""The generator's speed-ups change no data: pandas-free Arrow conversions, the O(n) largest-remainder
pick, the trips' lookup World built once per run and shared through a memory-mapped file."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from conftest import make_ctx
from delab_data import shared
from delab_data.arrays import decoded, from_numpy, read_parquet, strings, to_numpy
from delab_data.domains import rides, rides_world
from delab_data.sampling import _first_largest, categories, stable_order
from delab_data.schema import TABLES, conform
from delab_data.writers import write_part

RNG = np.random.default_rng(3)
N = 1_000
COLUMNS = [
    (RNG.integers(-50, 50, N), pa.int64()),
    (RNG.integers(0, 6, N).astype(np.int8), pa.int8()),
    (RNG.random(N), pa.float64()),
    (RNG.random(N) < 0.4, pa.bool_()),
    ((1_736_000_000_000 + RNG.integers(0, 10**9, N)).view("datetime64[ms]"), pa.timestamp("ms")),
    (np.datetime64("2024-01-01") + RNG.integers(0, 900, N), pa.date32()),
]


@pytest.mark.parametrize(("values", "type"), COLUMNS, ids=[str(t) for _, t in COLUMNS])
def test_arrays_match_pyarrows_own_conversions(values: np.ndarray, type: pa.DataType) -> None:
    null = RNG.random(N) < 0.2
    for mask in (None, null):
        built = from_numpy(values, type, null=mask)
        built.validate(full=True)
        assert built.equals(pa.array(values, type, mask=mask))
    plain = pa.array(values, type)
    expected = plain.to_numpy(zero_copy_only=False)
    for arr in (plain, plain.slice(7, 500), pa.chunked_array([plain.slice(0, 10), plain.slice(10)])):
        got = to_numpy(arr)
        want = arr.to_numpy() if isinstance(arr, pa.ChunkedArray) else arr.to_numpy(zero_copy_only=False)
        assert got.dtype == expected.dtype and np.array_equal(got, want)


def test_strings_match_pa_array() -> None:
    words = ["New York", "São Paulo", "", "✈JFK Airport", "O'Hare"]
    built = strings(words)
    built.validate(full=True)
    assert built.equals(pa.array(words, pa.string()))


def test_first_largest_picks_what_a_stable_argsort_picks() -> None:
    rng = np.random.default_rng(0)
    for trial in range(500):
        n = int(rng.integers(1, 40))
        values = rng.integers(0, 4, n) / 4.0 if trial % 2 else rng.random(n)  # many ties / none
        if trial % 3 == 0:
            values = -values  # negative values and -0.0
        for k in range(-1, n + 2):
            want = np.sort(np.argsort(-values, kind="stable")[:k])
            assert np.array_equal(np.sort(_first_largest(values, k)), want), (values, k)


def test_stable_order_is_a_stable_argsort() -> None:
    rng = np.random.default_rng(1)
    for keys in (rng.integers(0, 40, 5_000), rng.integers(0, 2**32, 5_000), np.zeros(3, np.int64)):
        assert np.array_equal(stable_order(keys), np.argsort(keys, kind="stable"))


def test_dictionary_encoded_text_is_conformed_kept_and_written_as_text(tiny_tables, tmp_path) -> None:
    trips = tiny_tables["trips"]
    codes = RNG.integers(0, 3, trips.num_rows)
    encoded = trips.set_column(trips.schema.get_field_index("status"), "status",
                               categories(("completed", "cancelled", "other"), codes))  # fmt: skip
    kept = conform(TABLES["trips"], encoded, dictionaries=True)
    assert pa.types.is_dictionary(kept.schema.field("status").type)
    assert not kept.schema.field("status").nullable
    plain = conform(TABLES["trips"], encoded)
    assert plain.schema.equals(TABLES["trips"].schema) and decoded(kept).equals(plain)
    write_part(kept, tmp_path / "part.parquet", "parquet", 0)
    assert read_parquet(tmp_path / "part.parquet").equals(plain)


def test_shared_state_round_trips_as_read_only_views(tmp_path: Path) -> None:
    state = {"table": np.arange(100_000, dtype=np.int32), "small": np.broadcast_to(np.int64(7), (10,)),
             "flag": True}  # fmt: skip
    path = shared.path_for(tmp_path, "demo")
    shared.save(state, path)
    loaded = shared.load(str(path))
    assert loaded["flag"] is True and loaded["table"].dtype == np.int32
    assert np.array_equal(loaded["table"], state["table"]) and np.array_equal(loaded["small"], state["small"])
    assert not loaded["table"].flags.writeable  # chunks must not change state other chunks read


def test_trips_from_the_shared_world_equal_trips_from_a_per_process_world(tiny_tables, tmp_path) -> None:
    path = shared.path_for(tmp_path, "rides_trips")
    shared.save(rides_world.build_world(make_ctx("rides_trips", tables=tiny_tables)), path)
    ctx = make_ctx("rides_trips", tables=tiny_tables)
    rides_world._CACHE.clear()
    own = rides.make_trip_chunk(ctx)
    from_file = rides.make_trip_chunk(dataclasses.replace(ctx, prepared=lambda: shared.load(str(path))))
    for name in own:
        assert own[name].equals(from_file[name]), name


def test_engine_leaves_no_shared_state_and_trips_never_import_pandas(tmp_path: Path) -> None:
    script = f"""
import sys
from dataclasses import replace
from pathlib import Path
from delab_data.dial import parse_dial
from delab_data.engine import generate
from delab_data.plan import Request
from delab_data.scales import PRESETS
scale = replace(PRESETS["tiny"], name="t", trips=30_000)
request = Request(scale, seed=1, dirty=parse_dial("none"), tables=("trips",), formats=("parquet",))
generate(Path({str(tmp_path / "out")!r}), request, workers=1, progress=False, log=lambda _: None)
assert "pandas" not in sys.modules, "pyarrow imported pandas: 1-2 s more per process"
"""
    subprocess.run([sys.executable, "-c", script], check=True)
    left = {p.name for p in (tmp_path / "out").iterdir()}
    assert left == {"manifest.json", "rides"}, left
