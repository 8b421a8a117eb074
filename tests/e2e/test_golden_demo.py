"""Every feed of the bundled demo site, byte for byte, after a crawl on a fixed clock.

The golden files pin what subscribers receive, so a refactoring that changes one byte of any feed, the OPML
or the index page fails here. Regenerate on purpose only: `FEEDSVC_UPDATE_GOLDEN=1 python -m pytest
tests/e2e/test_golden_demo.py`, then review the diff.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from feedsvc.config import load_config
from feedsvc.demo.server import DemoSite
from feedsvc.feeds.render import FORMATS
from feedsvc.feeds.spec import all_specs
from feedsvc.http.app import create_app
from tests.support.crawls import demo_site_sources, run_crawler, toml_str

GOLDEN = Path(__file__).parents[1] / "data" / "golden" / "demo"
FIXED_NOW = "2026-11-20T12:00:00+08:00"
SITE = "http://demo-site.invalid"  # placeholder in the config template
# Entry ids are derived from item URLs, which carry the site's port: the golden crawl needs one fixed port.
GOLDEN_SITE_PORT = 18765
SITE_AT_PORT = f"http://127.0.0.1:{GOLDEN_SITE_PORT}"
DUMP = GOLDEN.parent / "demo.sql"
UPDATE = os.environ.get("FEEDSVC_UPDATE_GOLDEN") == "1"

CONFIG_TEMPLATE = """
[database]
url = {db}
[crawl]
user_agent = "feedsvc-test/1.0 (+http://127.0.0.1/)"
download_delay = 0
autothrottle = false
concurrent_requests_per_domain = 1  # one page at a time: item ids (and so tie orders) follow page order
[server]
base_url = "http://feeds.invalid"

{sources}
[[topics]]
id = "reports"
title = "Reports"
keywords = ["报告", "report"]
"""
CONFIG = CONFIG_TEMPLATE


def _crawl_demo_into(config_path: Path, db_path: Path, site: DemoSite) -> None:
    config_path.write_text(CONFIG.format(db=toml_str(f"sqlite:///{db_path}"), sources=demo_site_sources(SITE))
                           .replace(SITE, site.base_url), encoding="utf-8")
    for source in ("gwdemo", "blog"):
        done = run_crawler(config_path, source, "--now", FIXED_NOW, timeout=120)
        assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def demo_documents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, bytes]]:
    """Every document served for the demo database. The database itself is a committed SQL dump of one crawl:
    crawls assign item ids in arrival order, so two crawls may order same-dated entries differently."""
    tmp = tmp_path_factory.mktemp("golden")
    db_path = tmp / "demo.db"
    if UPDATE:
        with DemoSite(port=GOLDEN_SITE_PORT) as site:
            _crawl_demo_into(tmp / "crawl.toml", db_path, site)
        with sqlite3.connect(db_path) as conn:
            DUMP.write_text("\n".join(conn.iterdump()) + "\n", encoding="utf-8")
        db_path.unlink()
    with sqlite3.connect(db_path) as conn:
        conn.executescript(DUMP.read_text(encoding="utf-8"))
    config = tmp / "config.toml"
    config.write_text(CONFIG.format(db=toml_str(f"sqlite:///{db_path}"), sources=demo_site_sources(SITE_AT_PORT)),
                      encoding="utf-8")
    cfg = load_config(config)
    documents: dict[str, bytes] = {}
    with TestClient(create_app(cfg, check_interval=0)) as client:
        paths = ["/opml", "/"] + [spec.path(fmt) for spec in all_specs(cfg) for fmt in FORMATS]
        paths += [f"/feeds/items/{item_id}/related.{fmt}" for item_id in (1, 2, 3) for fmt in FORMATS]
        paths += ["/feeds/new.atom?q=report", "/feeds/new.json?source=blog&limit=3"]
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (path, response.text[:200])
            documents[path] = response.content
    yield documents


def _golden_name(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "_", path.strip("/")) or "index"


def test_every_demo_document_is_byte_identical_to_its_golden_file(demo_documents: dict[str, bytes]) -> None:
    differing = []
    for path, body in demo_documents.items():
        golden = GOLDEN / (_golden_name(path) + ".golden")
        if UPDATE:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_bytes(body)
        elif not golden.exists() or golden.read_bytes() != body:
            differing.append(path)
    assert not differing, f"documents differ from tests/data/golden/demo: {differing}"
    assert len(demo_documents) > 20
