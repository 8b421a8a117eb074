"""Smoke run of bench/import_weight.py, so its documented command never rots: every process's groups measured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "import_weight.py"


def test_import_weight_smoke() -> None:
    result = subprocess.run([sys.executable, str(BENCH)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    for line in ("bare Scrapy spider:", "feedsvc crawl (parent, while the crawl runs):",
                 "crawl process (python -m crawler.run):", "feedsvc crawl, both processes:"):
        assert line in result.stdout
    assert "SQLAlchemy, the models, the store" in result.stdout
