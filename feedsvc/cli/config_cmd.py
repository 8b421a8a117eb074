"""`feedsvc check`: validate the config, try the database, and summarise it."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.text import Text

from feedsvc.cli.tables import TextTable
from feedsvc.config import AppConfig, load_config
from feedsvc.text import safe_text


def register(subparsers: Any) -> None:
    from feedsvc.cli import add_config_option

    parser = subparsers.add_parser("check", help="validate the config and summarise sources, listings and topics")
    add_config_option(parser)
    parser.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    print_config_summary(cfg, Console())
    return 0


def print_config_summary(cfg: AppConfig, console: Console) -> None:
    from feedsvc.store.probe import probe_database

    # Probed before anything is printed: a config whose database cannot work is not "ok".
    database = probe_database(cfg.database.url, cfg.base_dir)  # StorageError: one line, exit 2
    console.print(f"[green]ok[/green] {safe_text(cfg.path)}: {len(cfg.sources)} source(s), {len(cfg.topics)} topic(s)")
    console.print(f"database: {safe_text(database)}")
    for note in cfg.jitter_notes():
        console.print(f"[yellow]note[/yellow] {safe_text(note)}")
    table = TextTable("Sources", ("source", "title", "start urls", "time zone", "schedule", "listings"))
    for source in cfg.sources:
        listings = "\n".join(f"{lst.id} ({lst.kind})" for lst in source.listings)
        schedule = source.schedule or f"{cfg.scheduler.default_schedule} (default)"
        name = Text(source.id)
        if not source.enabled:
            name.append(" (disabled)", style="dim")
        table.add_row(name, source.title, "\n".join(source.start_urls), source.timezone, schedule, listings)
    table.print(console)
    if cfg.topics:
        topics = TextTable("Topics", ("topic", "title", "keywords", "seed urls"))
        for topic in cfg.topics:
            topics.add_row(topic.id, topic.title, ", ".join(topic.keywords), "\n".join(topic.seed_urls))
        topics.print(console)
