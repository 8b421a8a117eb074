"""`feedsvc run` (feed server + scheduler in one process tree) and `feedsvc demo` (the bundled sample site)."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path
from typing import Any

from feedsvc.cli import add_config_option
from feedsvc.config import default_config_path


def register(subparsers: Any) -> None:
    run = subparsers.add_parser(
        "run", help="serve the feeds and run scheduled crawls (the main job; Ctrl-C stops both cleanly)",
        description="Feed server and crawl scheduler together. SIGHUP or editing the config reloads it.")
    add_config_option(run)
    run.add_argument("--host", help="address to bind (default: [server] host)")
    run.add_argument("--port", type=int, help="port to bind (default: [server] port; 0 picks a free one)")
    run.add_argument("--no-access-log", action="store_true", help="do not log every request")
    run.set_defaults(func=run_run)

    demo = subparsers.add_parser(
        "demo", help="crawl a bundled sample site and serve its feeds (offline, SQLite, nothing to set up)",
        description="Start the bundled sample site on 127.0.0.1, crawl it, serve the feeds, print their URLs.")
    demo.add_argument("--port", type=int, default=None,
                      help="feed server port (default: 8080 if free, else any free port; 0 = any free port)")
    demo.add_argument("--no-serve", action="store_true", help="crawl, print the summary and URLs, and exit")
    demo.add_argument("--data-dir", default="feedsvc-demo", metavar="DIR",
                      help="where the demo config, database and cache go (default: ./feedsvc-demo)")
    demo.set_defaults(func=run_demo)


def _logging_for_service() -> None:
    import logging

    # One line per crawl start/finish and per reload; quiet libraries unless -v was given.
    root = logging.getLogger()
    if root.level > logging.INFO:
        logging.getLogger("feedsvc.scheduler").setLevel(logging.INFO)
        logging.getLogger("feedsvc.run").setLevel(logging.INFO)
        logging.getLogger("feedsvc.after_crawl").setLevel(logging.INFO)


def run_run(args: argparse.Namespace) -> int:
    from feedsvc.config import load_config
    from feedsvc.runtime import bind_socket, run_service

    _logging_for_service()
    config_path = str(Path(args.config or default_config_path()).resolve())
    cfg = load_config(config_path)
    sock = bind_socket(args.host or cfg.server.host, args.port if args.port is not None else cfg.server.port)
    host, port = sock.getsockname()[:2]
    print(f"feedsvc: feeds on http://{host}:{port}/ ; scheduler running ({len(cfg.sources)} source(s)); "
          "Ctrl-C to stop", flush=True)
    return run_service(config_path, cfg=cfg, sock=sock, access_log=not args.no_access_log)


def run_demo(args: argparse.Namespace) -> int:
    from rich.console import Console

    from feedsvc.cli.crawl_progress import crawl_with_board, print_summary
    from feedsvc.demo.project import (
        PREFERRED_SITE_PORT,
        free_port,
        missing_needs,
        print_needs,
        print_urls,
        write_demo_config,
    )
    from feedsvc.demo.server import DemoSite
    from feedsvc.runtime import bind_socket, run_service

    console = Console(highlight=False)

    def interrupt(_sig: int, _frame: Any) -> None:
        raise KeyboardInterrupt  # run_crawl stops its child on the way out

    previous = signal.signal(signal.SIGTERM, interrupt)
    site = DemoSite(port=free_port("127.0.0.1", PREFERRED_SITE_PORT)).start()
    try:
        sock = None
        if args.no_serve:
            port = args.port if args.port else free_port("127.0.0.1", 8080)
        else:
            sock = bind_socket("127.0.0.1", args.port if args.port is not None else free_port("127.0.0.1", 8080))
            port = int(sock.getsockname()[1])
        setup = write_demo_config(Path(args.data_dir).resolve(), site.base_url, port)
        # Paths and URLs are shown as they are: a `[x]` in them is text, not Rich markup.
        console.print(f"Demo site (GBK Chinese portal + English blog): {site.base_url}/", markup=False)
        console.print(f"Demo config: {setup.config_path}", markup=False)
        ids = [source.id for source in setup.cfg.sources]
        outcomes = crawl_with_board(setup.cfg, ids, console, timeout=600).outcomes
        print_summary(outcomes, console, console)
        print_needs(missing_needs(setup.cfg), console)
        base_url = f"http://127.0.0.1:{port}"
        print_urls(setup.cfg, base_url, console, serving=not args.no_serve)
        failed = [o for o in outcomes if not o.succeeded]
        if args.no_serve or sock is None:
            return 1 if failed else 0
        signal.signal(signal.SIGTERM, previous)
        # Only now: the service logs each scheduled crawl, but the board above says all of the first one, and an
        # INFO line printed into it while it is live splits it.
        _logging_for_service()
        print(f"Serving feeds on {base_url}/ with scheduled re-crawls. Press Ctrl-C to stop.", flush=True)
        return run_service(str(setup.config_path), cfg=setup.cfg, sock=sock, access_log=False, log_level="warning")
    finally:
        signal.signal(signal.SIGTERM, previous)
        site.stop()
