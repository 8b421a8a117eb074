"""Smoke run of `python bench/suggest_quality.py` as bench/README.md documents it (the whole 7-layout corpus,
about a second), so its report cannot rot; tests/test_suggest.py asserts the targets through its `run()`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_suggest_quality_prints_every_layout_and_the_ratio() -> None:
    done = subprocess.run([sys.executable, "bench/suggest_quality.py"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    layouts = sorted(p.name for p in (ROOT / "tests/data/suggest").iterdir() if (p / "truth.json").exists())
    for name in layouts:
        assert re.search(rf"^{name} +\d+/\d+ ", out, re.M), out
    total = re.search(r"^all: items right (\d+)/(\d+) \([\d.]+%\) vs li baseline [\d.]+% \(ratio ([\d.]+)x\);", out,
                      re.M)
    assert total, out
    assert 0 < int(total[1]) <= int(total[2]) and float(total[3]) > 0, out
    assert re.search(r"; decoy heals \d+/\d+$", out, re.M), out
