"""What each process of a one-site crawl holds before its first page: resident memory (VmRSS) added by each group
of imports, in a fresh interpreter per process, against a bare Scrapy spider's process measured in the same run.

Usage: python bench/import_weight.py

A module loaded at start is held through the whole crawl, so this is the floor under `bench/crawl_bench.py
--whole`'s peak (the `feedsvc crawl` parent and its crawl process are alive together; a bare spider is one
process). Groups are imported in order, so a group's figure is what it adds to those before it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Each process: (name, [(group label, statements)]). The statements are what that process runs before crawling.
PROCESSES: list[tuple[str, list[tuple[str, str]]]] = [
    ("bare Scrapy spider", [
        ("Scrapy, Twisted, the HTTP/1.1 handler",
         "import scrapy, scrapy.crawler, scrapy.core.downloader.handlers.http11"),
    ]),
    ("feedsvc crawl (parent, while the crawl runs)", [
        ("config (pydantic models), read", "from feedsvc.config import load_config; load_config(CONFIG)"),
        ("command line, Rich, board, child launcher, database probe",
         "import feedsvc.cli, feedsvc.cli.crawl_cmd, feedsvc.cli.crawl_progress, feedsvc.store.probe, "
         "feedsvc.scheduling.child"),
    ]),
    ("crawl process (python -m crawler.run)", [
        ("config (pydantic models), read", "from feedsvc.config import load_config; load_config(CONFIG)"),
        ("SQLAlchemy, the models, the store", "import feedsvc.store.leases, feedsvc.store.runs, feedsvc.store.items"),
        ("Scrapy, Twisted, the HTTP/1.1 handler",
         "import scrapy, scrapy.crawler, scrapy.core.downloader.handlers.http11"),
        ("the crawl: process, spider, pipelines (trafilatura, dates)",
         "import crawler.run, crawler.process, crawler.shared, crawler.spiders.listing, crawler.pipelines"),
    ]),
]

PROBE = textwrap.dedent("""
    import json, sys
    CONFIG = sys.argv[1]
    def rss():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024
    out = [("interpreter", rss())]
    for label, statements in json.loads(sys.argv[2]):
        before = rss()
        exec(statements)
        out.append((label, rss() - before))
    print(json.dumps(out))
""")


def measure(groups: list[tuple[str, str]], config: Path) -> list[tuple[str, float]]:
    result = subprocess.run([sys.executable, "-c", PROBE, str(config), json.dumps(groups)], capture_output=True,
                            text=True, check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return [(label, float(mib)) for label, mib in json.loads(result.stdout)]


def main() -> None:
    config = ROOT / "config.example.toml"
    totals: dict[str, float] = {}
    for name, groups in PROCESSES:
        rows = measure(groups, config)
        totals[name] = sum(mib for _, mib in rows)
        print(f"{name}: {totals[name]:.0f} MiB before its first page")
        for label, mib in rows:
            print(f"  {label:<60} {mib:6.1f} MiB")
    bare = totals["bare Scrapy spider"]
    ours = sum(v for k, v in totals.items() if k != "bare Scrapy spider")
    print(f"feedsvc crawl, both processes: {ours:.0f} MiB = {ours / bare:.2f}x the bare spider's {bare:.0f} MiB "
          "(imports only; a crawl adds its pages and items to both)")


if __name__ == "__main__":
    main()
