"""`python scheduler.py --config PATH`: run the crawl scheduler alone (no feed server).

A thin entry point; the logic lives in feedsvc/scheduling/ (jobs.py, service.py). Logs one line
per crawl start and finish. SIGHUP reloads the config; SIGTERM/SIGINT stop cleanly (a running crawl gets
SIGTERM and finishes its current batch). Exit code 2 with `error: …` for a bad config or database.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType


def setup_logging(verbose: int) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose > 1 else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler's own INFO lines repeat ours ("Running job …"); keep them for -v.
    logging.getLogger("apscheduler").setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.INFO if verbose else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    from feedsvc.config import default_config_path
    from feedsvc.errors import FeedsvcError
    from feedsvc.scheduling.service import SchedulerService

    parser = argparse.ArgumentParser(prog="scheduler.py", description="Run scheduled crawls (no feed server).")
    parser.add_argument("--config", metavar="PATH", default=None,
                        help="config file (default: $FEEDSVC_CONFIG, else ./config.toml)")
    parser.add_argument("--poll-interval", type=float, default=2.0, metavar="SECONDS",
                        help="how often to check the config file for changes (default 2)")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    args = parser.parse_args(argv)
    setup_logging(args.verbose)

    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("feedsvc.scheduler").info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        service = SchedulerService(args.config or default_config_path(), poll_interval=args.poll_interval)
        service.install_sighup()
        service.start()
    except FeedsvcError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    while not stop.wait(1.0):
        pass
    service.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
