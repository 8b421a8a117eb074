"""A crawl process loads what a crawl uses: a module loaded at start is held through the whole crawl (the one-site
budget in bench/README.md, "One site's crawl: what each process holds"), so rare paths import theirs when taken."""

from __future__ import annotations

import subprocess
import sys

CRAWL_MODULES = ("crawler.run", "crawler.process", "crawler.shared", "crawler.spiders.listing", "crawler.pipelines")
# Loaded only on their path: bs4 for an undeclared page no codec reads cleanly (crawler/encoding.py), healing after
# a redesign, Rich for the terminal, PostgreSQL's dialect for a PostgreSQL database.
RARE = ("bs4", "crawler.discover.heal", "rich", "sqlalchemy.dialects.postgresql", "numpy", "scipy", "feedgen")


def test_starting_a_crawl_process_leaves_rare_paths_unloaded() -> None:
    code = (f"import importlib, sys\nfor name in {CRAWL_MODULES!r}: importlib.import_module(name)\n"
            f"print(sorted(m for m in {RARE!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
