"""`make bench-data` still runs end to end and reports every figure (tiny sizes: no timing is asserted)."""

from __future__ import annotations

import re

import pytest
from delab_data import bench


@pytest.mark.slow
def test_bench_reports_rates_ratios_and_memory(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--trips", "20000", "--faker-rows", "300", "--dbgen-sf", "0.01"]) == 0
    out = capsys.readouterr().out
    rates = dict(re.findall(r"^(delab_data|duckdb dbgen|faker loop)\s*:.*= +([\d,]+) rows/s", out, re.M))
    assert set(rates) == {"delab_data", "duckdb dbgen", "faker loop"}, out
    assert all(int(rate.replace(",", "")) > 0 for rate in rates.values())
    assert "20,000 trips" in out and "TPC-H sf=0.01" in out
    assert re.search(r"ratio vs dbgen: +\d+\.\d+x", out) and re.search(r"ratio vs faker: +\d+x", out)
    assert re.search(r"peak RSS: main process \d+\.\d+ GB, largest worker \d+\.\d+ GB", out)
