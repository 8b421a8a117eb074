"""Smoke run of bench/run_ends_bench.py at tiny size, so the benchmark cannot rot: both ways of renewing leases
with progress, and the run ends, on a new SQLite database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "run_ends_bench.py"


def test_run_ends_bench_smoke() -> None:
    result = subprocess.run([sys.executable, str(BENCH), "--sources", "12", "--renewals", "2"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "12 sources, 2 renewals" in result.stdout
    assert "batched (renew_leases, update_run_progress)" in result.stdout and "run ends: 12 in" in result.stdout
