"""`feedsvc serve` (the feed server under uvicorn) and `feedsvc publish DIR` (static files)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from feedsvc.cli import add_config_option
from feedsvc.config import CONFIG_ENV, default_config_path, load_config
from feedsvc.errors import ConfigError


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="serve the feeds over HTTP (uvicorn)",
                                  description="Serve RSS, Atom and JSON feeds, OPML and the index page.")
    add_config_option(serve)
    serve.add_argument("--host", help="address to bind (default: [server] host)")
    serve.add_argument("--port", type=int, help="port to bind (default: [server] port; 0 picks a free one)")
    serve.add_argument("--workers", type=int, help="worker processes (default: [server] workers)")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.add_argument("--no-access-log", action="store_true", help="do not log every request (faster)")
    serve.set_defaults(func=run_serve)

    publish = subparsers.add_parser("publish", help="write every feed, the OPML and index.html as static files",
                                    description="Write static files whose paths match the HTTP routes.")
    add_config_option(publish)
    publish.add_argument("dir", metavar="DIR", help="output folder (e.g. /var/www/feeds)")
    publish.set_defaults(func=run_publish)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    config_path = Path(args.config or default_config_path()).resolve()
    cfg = load_config(config_path)  # fail here, in the parent, with one clear line
    workers = args.workers if args.workers is not None else cfg.server.workers
    if workers < 1:
        raise ConfigError(f"--workers {workers}: use 1 or more worker processes")
    from feedsvc.http.app import HOST_ENV, PORT_ENV
    from feedsvc.http.metrics import multiprocess_dir
    from feedsvc.http.protocol import server_options
    from feedsvc.store import Store
    from feedsvc.store.probe import probe_database

    # A database that cannot work fails here, in the parent, as one line and exit 2; inside uvicorn's lifespan it
    # would be a traceback and exit 3. Opening it once also migrates before several workers race to.
    probe_database(cfg.database.url, cfg.base_dir)
    Store.for_config(cfg).close()

    host = args.host or cfg.server.host
    port = args.port if args.port is not None else cfg.server.port
    # Workers are separate processes that build their own app: they find the config through the env.
    os.environ[CONFIG_ENV] = str(config_path)
    os.environ[HOST_ENV] = host
    os.environ[PORT_ENV] = str(port)
    with multiprocess_dir(workers):  # one /metrics scrape sums every worker's counters
        uvicorn.run(
            "feedsvc.http.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=args.log_level,
            access_log=not args.no_access_log,
            proxy_headers=True,
            **server_options(),  # header read deadline and connection limits (docs/security.md)
        )
    return 0


def run_publish(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from feedsvc.feeds.publish import publish
    from feedsvc.websub.announce import announce_feeds

    cfg = load_config(args.config)
    with Progress(transient=True) as bar:
        task = bar.add_task("publishing feeds", total=None)
        result = publish(cfg, args.dir, progress=lambda done, total: bar.update(task, completed=done, total=total))
    print(f"wrote {result.written} files to {result.out_dir}" + (f", {result.unchanged} unchanged" if result.unchanged else "")
          + (f", removed {result.removed} stale" if result.removed else ""))
    announced = announce_feeds(cfg, result.digests)  # WebSub: tell the hubs which published feeds changed
    if announced is not None:
        print(f"websub: {announced.announced} feed URL(s) announced, {announced.failed} failed, "
              f"{announced.unchanged} unchanged")
    return 0
