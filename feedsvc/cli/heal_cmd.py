"""`feedsvc heal SOURCE`: look for the listings whose block a redesign renamed, and write the block found again
into the config (a backup beside it). The pages are fetched by `python -m crawler.run SOURCE --heal` in a child
process; this module never imports scrapy.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedsvc.config import load_config
from feedsvc.config.edit import set_listing_block


def register(subparsers: Any) -> None:
    from feedsvc.cli import add_config_option

    parser = subparsers.add_parser("heal", help="write the blocks of renamed listings back into the config")
    parser.add_argument("source", help="source id")
    parser.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    add_config_option(parser)
    parser.set_defaults(func=run_heal_command)


def run_heal_command(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    cfg.source(args.source)  # unknown source: a clear error before starting Scrapy
    cmd = [sys.executable, "-m", "crawler.run", args.source, "--config", cfg.path, "--heal"]
    child = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    found = [json.loads(line) for line in child.stdout.splitlines() if line.startswith("{")]
    if not found:
        print(f"nothing healed: every listing of {args.source!r} was found, or no block matched what it held "
              f"before with enough confidence (see `feedsvc preview {args.source}`)")
        return 1
    for heal in found:
        print(f"listing '{heal['listing']}': {heal['field']} now `{heal['value']}` "
              f"({heal['share']:.0%} of its items known from before)")
        if not args.dry_run:
            backup = set_listing_block(Path(cfg.path), args.source, heal["listing"], heal["value"],
                                       datetime.now(UTC), field=heal["field"])
            print(f"  written to {cfg.path} (backup: {backup})")
    return 0
