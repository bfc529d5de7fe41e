"""`make bench-grade` still runs end to end and reports every figure (two notebooks, no timing asserted)."""

from __future__ import annotations

import re

import pytest
from delab_grader import bench


@pytest.mark.slow
def test_bench_reports_rates_speed_up_and_overhead(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--n", "2", "--workers", "1", "--sample", "1"]) == 0
    out = capsys.readouterr().out
    rates = re.findall(r"^(delab grade|nbgrader autograde|raw nbclient)\s*:.*-> ([\d.]+) nb/min", out, re.M)
    assert [name for name, _ in rates] == ["delab grade", "nbgrader autograde", "raw nbclient"], out
    assert all(float(rate) > 0 for _, rate in rates)
    assert re.search(r"speed-up vs nbgrader sequential: \d+\.\d+x", out)
    assert re.search(r"overhead beyond raw execution: [+-]\d+\.\d+ worker-s per notebook", out)
