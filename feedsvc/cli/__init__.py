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

# Which module registers each command: `feedsvc crawl` imports crawl_cmd alone, not the store, the related code
# and feedgen that other commands' modules bring (about 0.3 CPU-s and 35 MiB the parent of a crawl held for
# nothing; bench/README.md "One site"). tests/test_cli.py checks this table against what the modules register.
COMMANDS = {
    "check": "feedsvc.cli.config_cmd",
    "db": "feedsvc.cli.db_cmd",
    "preview": "feedsvc.cli.crawl_cmd", "crawl": "feedsvc.cli.crawl_cmd", "export": "feedsvc.cli.crawl_cmd",
    "status": "feedsvc.cli.crawl_cmd",
    "serve": "feedsvc.cli.serve_cmd", "publish": "feedsvc.cli.serve_cmd",
    "related": "feedsvc.cli.related_cmd",
    "run": "feedsvc.cli.run_cmd", "demo": "feedsvc.cli.run_cmd",
    "worker": "feedsvc.cli.worker_cmd",
    "suggest": "feedsvc.cli.suggest_cmd",
    "heal": "feedsvc.cli.heal_cmd",
}

Handler = Callable[[argparse.Namespace], int]


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=None,
        help="config file (default: $FEEDSVC_CONFIG, else ./config.toml)",
    )


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or only `command`'s module's commands when `command` is a known one."""
    parser = argparse.ArgumentParser(prog="feedsvc", description="Turn websites without feeds into feeds.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = (COMMANDS[command],) if command in COMMANDS else COMMAND_MODULES
    for name in modules:  # every one exists: a missing module is a broken install and fails loudly
        import_module(name).register(subparsers)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The command word: the first argument that is not an option (the only top-level options take no value);
    None when help is asked for first, so `feedsvc -h` lists every command."""
    for arg in argv:
        if arg in ("-h", "--help"):
            return None
        if not arg.startswith("-"):
            return arg
    return None


def configure_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * min(verbosity, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(_command(argv))
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
