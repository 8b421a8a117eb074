"""`feedsvc check`: validate the config and summarise it."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table

from feedsvc.config import AppConfig, load_config


def register(subparsers: Any) -> None:
    from feedsvc.cli import add_config_option

    parser = subparsers.add_parser("check", help="validate the config and summarise sources, listings and topics")
    add_config_option(parser)
    parser.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    print_summary(cfg, Console())
    return 0


def print_summary(cfg: AppConfig, console: Console) -> None:
    from feedsvc.store.db import resolve_url

    console.print(f"[green]ok[/green] {cfg.path}: {len(cfg.sources)} source(s), {len(cfg.topics)} topic(s)")
    console.print(f"database: {resolve_url(cfg.database.url, cfg.base_dir)}")
    table = Table(title="Sources")
    for column in ("source", "title", "start urls", "time zone", "schedule", "listings"):
        table.add_column(column)
    for source in cfg.sources:
        listings = ", ".join(f"{lst.id} ({lst.kind})" for lst in source.listings)
        schedule = source.schedule or f"{cfg.scheduler.default_schedule} (default)"
        state = "" if source.enabled else " [dim](disabled)[/dim]"
        table.add_row(source.id + state, source.title, "\n".join(source.start_urls), source.timezone, schedule, listings)
    console.print(table)
    if cfg.topics:
        topics = Table(title="Topics")
        for column in ("topic", "title", "keywords", "seed urls"):
            topics.add_column(column)
        for topic in cfg.topics:
            topics.add_row(topic.id, topic.title, ", ".join(topic.keywords), "\n".join(topic.seed_urls))
        console.print(topics)
