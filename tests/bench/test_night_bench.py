"""Smoke run of bench/night_bench.py at tiny size, so the benchmark cannot rot: three polite sites on one cron line
(default jitter), crawled by `feedsvc crawl` and by a night of `feedsvc run`; each must be one crawl child and one
after-crawl step, and store the same items."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "night_bench.py"


def test_night_bench_smoke() -> None:
    result = subprocess.run([sys.executable, str(BENCH), "--sources", "3", "--delay", "0.2"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    rows = {" ".join(line.split()[1:3]): line.split() for line in lines[1:3]}
    assert sorted(rows) == ["feedsvc crawl", "night (feedsvc"], result.stdout
    crawl, night = rows["feedsvc crawl"], rows["night (feedsvc"]
    assert crawl[-7:-2] == ["1", "1", "42", "45", "1"], result.stdout  # children, steps, items, pages, max/site
    assert night[-7:-2] == ["1", "1", "42", "45", "1"], result.stdout
    assert "night/crawl: CPU" in lines[3] and "(errors)" not in result.stdout
