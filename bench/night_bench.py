"""Night benchmark (issue 17): N polite sources on one cron line, crawled by the scheduler (`feedsvc run`, the default
600 s jitter) against `feedsvc crawl` of the same sources, in the same run. Prints CPU (user+system of the whole
process tree), peak RSS (of the whole tree: the sum over its live processes, sampled), crawl children, after-crawl
steps, and the night's ratios to the crawl. The goal: ≤ 1.3× the CPU and ≤ 1.5× the peak RSS.

Usage: python bench/night_bench.py [--sources 200] [--delay 1.0] [--window 100] [--no-related]

The sites are bench/crawl_many_bench.py's (each source its own loopback host, 14 articles, one request at a time),
and so is the config, plus static publishing (`[server] publish_dir`), so the after-crawl step does what a night's
does: related refresh, publish. Both runs start from an empty database.

Making the night happen now, with the default jitter: the scheduler is started once (as a deployment's first start)
so the line's job is stored with its jittered next run (03:00 plus up to 600 s); that stored run is then moved to
just before `feedsvc run` starts, as if the machine had been down over it, and the scheduler's missed-run rule
fires it at start. What fires is the line's real job, through the real service; only the wait is skipped.
The night ends when its after-crawl steps have covered every source; then the service gets SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT)]

import crawl_many_bench  # noqa: E402  (bench/ is not a package: its scripts import each other by path)
from process_tree import tree_rss  # noqa: E402

STEP = re.compile(r"after crawl: (\d+) run\(s\)")


def night_config(folder: Path, n: int, port: int, delay: float, window: int) -> Path:
    """crawl_many_bench's config (default schedule and jitter: one nightly line), publishing static feeds too."""
    path = crawl_many_bench.write_config(folder, n, port, delay, window)
    path.write_text(path.read_text(encoding="utf-8") + '\n[server]\npublish_dir = "public"\n', encoding="utf-8")
    return path


class Measured:
    """A command run as a process tree: its output lines, its peak tree RSS (sampled), its CPU once waited for."""

    def __init__(self, cmd: list[str], cwd: Path) -> None:
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=crawl_many_bench.env(), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace")
        self.lines: list[str] = []
        self.peak = 0
        self._done = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(target=self._sample, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def _sample(self) -> None:
        while not self._done.wait(0.1):
            self.peak = max(self.peak, tree_rss(self.proc.pid))

    def wait_for(self, found: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not found():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"error: {self.proc.args[2:4]} ended or timed out before the night was over:\n"
                         + "".join(self.lines[-30:]))
            time.sleep(0.2)

    def finish(self, stop: bool = False) -> dict[str, float]:
        """Wait for the tree (SIGTERM first when `stop`): wall, CPU of the process and everything it waited for."""
        if stop:  # the night is over now; the service would wait for the next one
            wall = time.monotonic() - self.started
            self.proc.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(self.proc.pid, 0)
        if not stop:
            wall = time.monotonic() - self.started
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self._done.set()
        return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": self.peak / 2**20,
                "ok": float(self.proc.returncode == 0)}


def stored(config: Path) -> dict[str, float]:
    """Crawl children (distinct crawler pids) and items stored."""
    with sqlite3.connect(config.parent / "feeds.db") as db:
        children = db.execute("select count(distinct pid) from crawl_runs").fetchone()[0]
        items = db.execute("select count(*) from items").fetchone()[0]
    return {"children": float(children), "items": float(items)}


def run_crawl(config: Path, related: bool) -> dict[str, float]:
    cmd = [sys.executable, "-m", "feedsvc", "crawl", "--config", str(config)] + ([] if related else ["--no-related"])
    run = Measured(cmd, config.parent)
    result = run.finish()
    return {**result, **stored(config), "steps": 1.0}


def prepare_night(config: Path) -> None:
    """The deployment's first start stores the line's job (its next run jittered); then the night's time passes."""
    from feedsvc.scheduling.service import SchedulerService
    from tests.support.scheduling import line_job_id, move_next_run

    service = SchedulerService(str(config))
    service.start()
    job_id = line_job_id(service, "s0")
    service.stop(grace=5)
    move_next_run(config, job_id, datetime.now(UTC) - timedelta(seconds=1))


def run_night(config: Path, n: int, related: bool) -> dict[str, float]:
    prepare_night(config)
    cmd = [sys.executable, "-m", "feedsvc", "run", "--config", str(config), "--port", "0", "--no-access-log"]
    run = Measured(cmd, config.parent)
    run.wait_for(lambda: sum(int(m.group(1)) for ln in list(run.lines) if (m := STEP.search(ln))) >= n,
                 timeout=600 + 2 * n)
    result = run.finish(stop=True)
    steps = sum(1 for ln in run.lines if STEP.search(ln))
    return {**result, **stored(config), "steps": float(steps)}


def bench(n: int, args: argparse.Namespace) -> list[tuple[str, dict[str, float]]]:
    sites, port = crawl_many_bench.start_sites(n)
    rows: list[tuple[str, dict[str, float]]] = []
    try:
        for name, run in (("feedsvc crawl", run_crawl), ("night (feedsvc run)", None)):
            with tempfile.TemporaryDirectory() as tmp:
                config = night_config(Path(tmp), n, port, args.delay, args.window)
                crawl_many_bench.site_stats(port, reset=True)
                result = run(config, not args.no_related) if run else run_night(config, n, not args.no_related)
                rows.append((name, {**result, **crawl_many_bench.politeness(port, n, args.delay)}))
    finally:
        sites.send_signal(signal.SIGTERM)
        sites.wait()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sources", type=int, nargs="+", default=[200])
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--no-related", action="store_true", help="skip the related refresh in both runs")
    args = parser.parse_args()
    print(f"{'sources':>7} {'run':<20} {'wall s':>7} {'cpu s':>7} {'rss MB':>7} {'children':>8} {'steps':>5} "
          f"{'items':>6} {'pages':>6} {'max/site':>8} {'cpu x':>6} {'rss x':>6}")
    for n in args.sources:
        rows = bench(n, args)
        base = rows[0][1]
        for name, r in rows:
            print(f"{n:>7} {name:<20} {r['wall']:>7.1f} {r['cpu']:>7.1f} {r['rss_mb']:>7.0f} {r['children']:>8.0f} "
                  f"{r['steps']:>5.0f} {r['items']:>6.0f} {r['pages']:>6.0f} {r['max_inflight']:>8.0f} "
                  f"{r['cpu'] / base['cpu']:>5.2f}x {r['rss_mb'] / base['rss_mb']:>5.2f}x"
                  + ("" if r["ok"] else "  (errors)"), flush=True)
        night = rows[1][1]
        print(f"{n:>7} night/crawl: CPU {night['cpu'] / base['cpu']:.2f}x (goal <= 1.3x), "
              f"peak RSS {night['rss_mb'] / base['rss_mb']:.2f}x (goal <= 1.5x)", flush=True)


if __name__ == "__main__":
    main()
