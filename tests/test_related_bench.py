"""Smoke runs of every bench/related_* script at a tiny size, so none can rot (bench/related_corpus.py is the
corpus module both use)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_related_bench_smoke() -> None:
    out = _run("bench/related_bench.py", "--items", "200", "--queries", "21", "--crawls", "1")
    assert "one item  a crawl of 1 new item into 200, refresh + commit" in out
    assert "refresh   a crawl of 20 new items into 200" in out and "rebuild   index + all neighbours" in out


def test_related_quality_smoke() -> None:
    out = _run("bench/related_quality.py", "--quick")
    assert "baseline: plain TF-IDF, whole cleaned bodies" in out and "chosen (production path)" in out
