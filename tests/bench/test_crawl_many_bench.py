"""Smoke run of bench/crawl_many_bench.py at tiny size, so the benchmark cannot rot: two polite sites on their
own loopback hosts, crawled by `feedsvc crawl` (a window of one: two crawl children), per-source processes and
a bare Scrapy spider (one spider, and one Crawler per site), and one crawl child both ways (sources sharing a
Crawler, one Crawler each)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "crawl_many_bench.py"


def test_crawl_many_bench_smoke() -> None:
    result = subprocess.run([sys.executable, str(BENCH), "--sources", "2", "--delay", "0.2", "--per-source-max", "2",
                             "--window", "1", "--bare-crawlers", "--designs"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    names = [" ".join(r[1:3]) for r in rows]
    assert names == ["feedsvc crawl", "child, shared", "child, crawler/src", "per-source x4", "bare scrapy",
                     "bare, crawler/site"], result.stdout
    for row in rows:
        pages, max_per_site = row[-4], row[-3]
        assert pages == "30" and max_per_site == "1", result.stdout  # 15 pages a site, one request at a time
    assert "(errors)" not in result.stdout
