"""Smoke run of bench/renderer_memory_bench.py, run as bench/README.md documents it (one hog, shorter), so the
benchmark cannot rot: the lines parse and the watchdog kills the hog's renderer."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.test_crawler_browser import need_chromium

ROOT = Path(__file__).resolve().parents[2]


def test_renderer_memory_bench_prints_peaks_and_ratios() -> None:
    need_chromium()
    # README: `python bench/renderer_memory_bench.py` (three hogs, 15 s each); here one hog, 10 s.
    done = subprocess.run([sys.executable, "bench/renderer_memory_bench.py", "--seconds", "10", "--hogs",
                           "arraybuffers"], cwd=ROOT, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"^ordinary page: renderer peak \d+ MB$", out, re.M), out
    assert re.search(r"^arraybuffers\s+uncapped peak\s+\d+ MB, (alive after 10s|renderer killed after [\d.]+s)$",
                     out, re.M), out
    assert re.search(r"^arraybuffers\s+capped\s+peak\s+\d+ MB, renderer killed after [\d.]+s$", out, re.M), out
    assert re.search(r"^ratio arraybuffers/ordinary: uncapped [\d.]+x, capped [\d.]+x$", out, re.M), out


def test_unknown_hog_is_one_line_and_exit_2() -> None:
    done = subprocess.run([sys.executable, "bench/renderer_memory_bench.py", "--hogs", "nope"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "unknown hog" in done.stderr
