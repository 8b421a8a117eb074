"""Smoke run of bench/crawl_bench.py at a tiny size, run as bench/README.md documents it, so the benchmark
cannot rot: the generated site is served, both crawls finish, ours stores every article, and the ratio parses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_crawl_bench_prints_both_crawls_and_ratio() -> None:
    # README: `python bench/crawl_bench.py --pages 5000 --rounds 3`; here 40 pages (2 listing pages, 40 articles).
    done = subprocess.run([sys.executable, "bench/crawl_bench.py", "--pages", "40", "--rounds", "1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"^site: 41 pages \(42 paths", out, re.M), out
    bare = re.search(r"^  bare scrapy : (\d+) pages in [\d.]+s = (\d+) pages/s", out, re.M)
    ours = re.search(r"^  feedsvc     : (\d+) pages in [\d.]+s = (\d+) pages/s .* (\d+) items stored, status (\w+)$",
                     out, re.M)
    assert bare and ours, out
    # Both crawlers reach every page of the site (ours may fetch a listing page twice, once through the browser).
    assert int(bare[1]) >= 41 and int(ours[1]) >= 41, out
    assert (ours[3], ours[4]) == ("40", "ok"), out
    ratio = re.search(r"^  ratio feedsvc/bare = ([\d.]+) \(target >= 0.7\)$", out, re.M)
    assert ratio and float(ratio[1]) > 0, out
    assert re.search(r"^load average at the end: [\d.]+", out, re.M), out


def test_crawl_bench_whole_command_prints_speed_and_memory_ratios() -> None:
    # README: `python bench/crawl_bench.py --pages 325 --whole --render never --rounds 3`
    done = subprocess.run([sys.executable, "bench/crawl_bench.py", "--pages", "40", "--whole", "--render", "never"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    out = done.stdout
    ours = re.search(r"^  feedsvc crawl: (\d+) pages, whole process .* (\d+) items stored, status (\w+)$", out, re.M)
    assert ours and int(ours[1]) >= 41 and (ours[2], ours[3]) == ("40", "ok"), out
    assert re.search(r"^  speed bare wall / feedsvc wall = [\d.]+ \(target >= 0.6\), CPU ratio [\d.]+, "
                     r"memory feedsvc / bare = [\d.]+ \(target <= 1.5\)$", out, re.M), out
