"""`feedsvc suggest URL`: print a `[[sources]]` block for a site's dated lists (`--write` appends it to the
config). The page is fetched by `python -m crawler.run --suggest` in a child process; this module never imports
scrapy.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

from feedsvc.config import default_config_path
from feedsvc.config.edit import append_source, is_blank


def register(subparsers: Any) -> None:
    from feedsvc.cli import add_config_option

    parser = subparsers.add_parser("suggest", help="find a page's dated lists and print a [[sources]] block for them")
    parser.add_argument("url", help="the page to look at (a home page or a list page)")
    parser.add_argument("--id", help="source id (default: from the host name)")
    parser.add_argument("--title", help="source title (default: the page's <title>)")
    parser.add_argument("--write", action="store_true", help="append the block to the config after checking it")
    add_config_option(parser)
    parser.set_defaults(func=run_suggest_command)


def run_suggest_command(args: argparse.Namespace) -> int:
    config = Path(args.config or default_config_path())
    cmd = [sys.executable, "-m", "crawler.run", "--suggest", args.url]
    if not is_blank(config):  # its User-Agent, robots and delay settings; a config still to be started: defaults
        cmd += ["--config", str(config)]
    cmd += [flag for name in ("id", "title") if getattr(args, name) for flag in (f"--{name}", getattr(args, name))]
    child = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    sys.stdout.write(child.stdout)
    if child.returncode != 0 or not args.write:
        return child.returncode
    append_source(config, child.stdout)
    print(f"appended to {config}; run `feedsvc check` and `feedsvc preview`", file=sys.stderr)
    return 0
