"""Smoke run of bench/render_bench.py: both crawls finish, the browser crawl renders the rankings, ratios print."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.test_crawler_browser import need_chromium

ROOT = Path(__file__).resolve().parents[2]


def test_render_bench_smoke() -> None:
    need_chromium()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "render_bench.py"), "--listings", "2"],
                            capture_output=True, text=True, timeout=240, env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "render=never: 40 fetches" in out and "render=auto : 42 fetches" in out, out
    assert "ranking entries 10, status ok" in out and "ratio auto/never: pages/s" in out, out
