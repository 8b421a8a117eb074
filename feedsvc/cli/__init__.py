"""The `feedsvc` command line. Each command group lives in its own module and registers itself here.

Errors a user can act on (FeedsvcError) print one line, `error: <message>`, and exit 2; details go to the log.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from importlib import import_module

from feedsvc.errors import FeedsvcError

log = logging.getLogger("feedsvc")

# Modules that define `register(subparsers)`; each adds its commands with set_defaults(func=handler).
COMMAND_MODULES = (
    "feedsvc.cli.config_cmd",
    "feedsvc.cli.db_cmd",
    "feedsvc.cli.crawl_cmd",
    "feedsvc.cli.serve_cmd",
    "feedsvc.cli.related_cmd",
    "feedsvc.cli.run_cmd",
    "feedsvc.cli.worker_cmd",
    "feedsvc.cli.suggest_cmd",
    "feedsvc.cli.heal_cmd",
)

Handler = Callable[[argparse.Namespace], int]


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=None,
        help="config file (default: $FEEDSVC_CONFIG, else ./config.toml)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedsvc", description="Turn websites without feeds into feeds.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:  # every one exists: a missing module is a broken install and fails loudly
        import_module(name).register(subparsers)
    return parser


def configure_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * min(verbosity, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    handler: Handler = args.func
    try:
        return handler(args)
    except FeedsvcError as exc:
        log.debug("command failed", exc_info=True)
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `feedsvc export | head`: the reader left. Point stdout at /dev/null so the interpreter's final
        # flush does not raise again, and end quietly like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
