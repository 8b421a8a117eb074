"""`feedsvc db upgrade|status`: schema migrations (Alembic)."""

from __future__ import annotations

import argparse
from typing import Any

from feedsvc.config import load_config
from feedsvc.store import Store
from feedsvc.store.db import schema_revision


def register(subparsers: Any) -> None:
    from feedsvc.cli import add_config_option

    parser = subparsers.add_parser("db", help="database schema: upgrade, status")
    db_sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply pending migrations (creates a new database)")
    add_config_option(upgrade)
    upgrade.set_defaults(func=run_upgrade)
    status = db_sub.add_parser("status", help="show the current and latest schema revision")
    add_config_option(status)
    status.set_defaults(func=run_db_status)


def run_upgrade(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    with Store.for_config(cfg) as store:
        current, head = schema_revision(store.engine)
    print(f"database at revision {current} (latest {head})")
    return 0


def run_db_status(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    with Store.for_config(cfg, migrate=False) as store:
        current, head = schema_revision(store.engine)
    state = "up to date" if current == head else "needs `feedsvc db upgrade`"
    print(f"revision {current or 'none'} (latest {head}): {state}")
    return 0 if current == head else 1
