"""Smoke run of bench/extract_bench.py at a tiny size, run as bench/README.md documents it, so the benchmark
cannot rot: every list item of the generated page is extracted and the ratio line parses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_extract_bench_prints_entries_and_ratio() -> None:
    # README: `python bench/extract_bench.py` (200 rounds over a 100 KB page); here 5 rounds over 10 KB.
    done = subprocess.run([sys.executable, "bench/extract_bench.py", "--repeat", "5", "--size", "10"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    page = re.search(r"^page: (\d+) KB, (\d+) <li>, (\d+) entries in 3 listings; 5 rounds$", out, re.M)
    assert page, out
    size_kb, items, entries = map(int, page.groups())
    assert size_kb >= 10
    # Every <li> but the two navigation links is an entry of 推荐文稿 or 最新文稿 (阅读排行 is script-filled, empty).
    assert entries == items - 2, out
    for label in ("extract all listings (parse incl.)", "baseline Selector(text).css('li')",
                  "extract one article (parse incl.)"):
        assert re.search(rf"^{re.escape(label)}\s+[\d.]+ms\s+[\d.]+ms\s+[\d.]+ms$", out, re.M), out
    ratio = re.search(r"^ratio listings/baseline \(median\): wall ([\d.]+)x, cpu ([\d.]+)x$", out, re.M)
    assert ratio, out
    assert float(ratio[1]) > 0 and float(ratio[2]) > 0
