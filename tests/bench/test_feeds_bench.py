"""Smoke run of bench/feeds_bench.py at tiny size on SQLite and PostgreSQL, so the benchmark cannot rot:
data generation goes through the schema and every timed build runs (the nginx/wrk load part is left out)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "feeds_bench.py"


def test_feeds_bench_generates_and_builds_at_tiny_size(db_url: str, tmp_path: Path) -> None:
    args = [sys.executable, str(BENCH), "--items", "250", "--repeat", "1", "--skip-load"]
    if db_url.startswith("sqlite"):
        args += ["--workdir", str(tmp_path / "bench")]
    else:
        args += ["--database-url", db_url]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "generated 250 items" in done.stdout
    for path in ("/feeds/new.atom", "/feeds/s001.atom", "/feeds/s001/latest.atom", "/feeds/new.json"):
        assert f"build {path}" in done.stdout, done.stdout
