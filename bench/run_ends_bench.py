"""Run bookkeeping benchmark: what a crawl process writes about its runs (not its items) for N sources, on SQLite,
with today's statements against one statement per source measured in the same run.

Usage: python bench/run_ends_bench.py [--sources 1000] [--renewals 5] [--database-url URL]

A crawl process holds a lease per source it crawls and renews them all, with every running crawl's counts,
from its lease thread; at each source's end it closes the run and copies the outcome onto the source
(crawler/process.py). Measured (CPU of this process, `time.process_time`):
- renew: `--renewals` renewals of N leases with N runs' progress, batched (store/leases.py `renew_leases`,
  store/runs.py `update_run_progress`) against one UPDATE per lease and per run (`renew_lease` in a loop);
- ends: N run ends, each in its own transaction as the crawl writes them (`finish_run`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedsvc.config import load_config  # noqa: E402
from feedsvc.models import CrawlRun  # noqa: E402
from feedsvc.store import Store  # noqa: E402
from feedsvc.store.db import write_transaction  # noqa: E402
from feedsvc.store.leases import acquire_lease, renew_lease, renew_leases  # noqa: E402
from feedsvc.store.runs import RunCounts, finish_run, start_run, update_run_progress  # noqa: E402
from feedsvc.store.sources import sync_sources  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TTL = timedelta(minutes=5)
OWNER = "bench:1:x"


def write_config(folder: Path, n: int, url: str | None) -> Path:
    sources = "".join(f'[[sources]]\nid = "s{i}"\ntitle = "s{i}"\nstart_urls = ["http://127.0.0.1/{i}"]\n'
                      '  [[sources.listings]]\n  id = "latest"\n  heading = "Latest"\n' for i in range(n))
    path = folder / "config.toml"
    database = url or f"sqlite:///{folder / 'runs.db'}"
    path.write_text(f'[database]\nurl = "{database}"\n' + sources, encoding="utf-8")
    return path


def renew_one_by_one(session: Any, names: list[str], runs: dict[int, RunCounts], at: datetime) -> None:
    """What the lease thread did before: an UPDATE per lease, then one per running crawl."""
    for name in names:
        renew_lease(session, name, OWNER, at, TTL)
    for run_id, counts in runs.items():
        session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(pages=counts.pages,
                                                                             items_seen=counts.items_seen))


def renew_batched(session: Any, names: list[str], runs: dict[int, RunCounts], at: datetime) -> None:
    renew_leases(session, names, OWNER, at, TTL)
    update_run_progress(session, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--renewals", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="an empty database (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(write_config(Path(tmp), args.sources, args.database_url))
        with Store.for_config(cfg) as store:
            with store.session() as session, session.begin():
                sync_sources(session, cfg.sources, T0)
                run_ids = [start_run(session, s.id, T0) for s in cfg.sources]
                names = [f"crawl:{s.id}" for s in cfg.sources]
                for name in names:
                    acquire_lease(session, name, OWNER, T0, TTL)
            progress = {run_id: RunCounts(pages=3, items_seen=7) for run_id in run_ids}
            cpu: dict[str, float] = {}
            for label, renew in (("one by one", renew_one_by_one), ("batched", renew_batched),
                                 ("one by one ", renew_one_by_one), ("batched ", renew_batched)):
                started = time.process_time()
                for k in range(args.renewals):
                    with write_transaction(store.session_factory) as session:
                        renew(session, names, progress, T0 + timedelta(seconds=k))
                cpu[label] = time.process_time() - started
            started = time.process_time()
            for run_id in run_ids:
                with write_transaction(store.session_factory) as session:
                    finish_run(session, run_id, "ok", RunCounts(pages=15, items_seen=14, items_new=14), T0, "fine")
            ends = time.process_time() - started
    per_row = min(cpu["one by one"], cpu["one by one "])
    batched = min(cpu["batched"], cpu["batched "])
    print(f"{args.sources} sources, {args.renewals} renewals of every lease with every run's progress (best of 2):")
    print(f"  one statement per lease and run: {per_row:.3f} CPU-s")
    print(f"  batched (renew_leases, update_run_progress): {batched:.3f} CPU-s = {batched / per_row:.2f}x")
    print(f"run ends: {args.sources} in their own transactions, {ends:.3f} CPU-s = "
          f"{1000 * ends / args.sources:.2f} ms per source")


if __name__ == "__main__":
    main()
