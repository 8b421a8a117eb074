"""`feedsvc worker --redis URL`: run this machine as a crawl node (feedsvc.scheduling.node)."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from feedsvc.scheduling.queue import QUEUE_KEY


def register(subparsers: Any) -> None:
    from feedsvc.cli import add_config_option

    worker = subparsers.add_parser(
        "worker", help="crawl sources queued in Redis by `feedsvc crawl --redis` (one node per machine)",
        description="A crawl node: takes sources from the shared Redis list and crawls them, many at once.")
    worker.add_argument("--redis", required=True, metavar="URL", help="e.g. redis://10.0.0.5:6379/0")
    worker.add_argument("--key", default=QUEUE_KEY, help=argparse.SUPPRESS)
    worker.add_argument("--window", type=int, default=None,
                        help="sources crawled at once (default: [crawl] concurrent_sources)")
    worker.add_argument("--idle-exit", type=int, default=0, metavar="SECONDS",
                        help="stop after this long with nothing to do (default: run until stopped)")
    worker.add_argument("--no-related", action="store_true",
                        help="skip the related-items refresh after crawls (rebuild later: feedsvc related --rebuild)")
    add_config_option(worker)
    worker.set_defaults(func=run_worker_command)


def run_worker_command(args: argparse.Namespace) -> int:
    from feedsvc.cli.crawl_cmd import _config_path
    from feedsvc.config import load_config
    from feedsvc.scheduling.node import run_node

    cfg = load_config(_config_path(args))  # a broken config fails here, with one line
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _sig, _frame: stop.set())
    return run_node(cfg, args.redis, key=args.key, window=args.window, idle_exit=args.idle_exit, stop=stop,
                    related=not args.no_related)
