"""`feedsvc demo`'s project: the demo config for the bundled site, and the feed URLs worth showing.

Everything lives in one folder (default ./feedsvc-demo/): config.toml, a SQLite database and the HTTP cache.
Works offline: the site is served from the package on 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from feedsvc.config import DATABASE_URL_ENV, AppConfig, browser_missing, load_config

# The site prefers a fixed port so item URLs (which include it) stay the same from one demo run to the next.
PREFERRED_SITE_PORT = 8765
DEMO_DB = "feedsvc-demo.db"

CONFIG_TEMPLATE = """\
# Written by `feedsvc demo` (rewritten on every demo run). A complete, working config: copy it as a start.
[database]
url = "sqlite:///{db}"

[crawl]
user_agent = "feedsvc-demo/0.1 (+http://127.0.0.1)"
download_delay = 0          # the demo site is local; be polite (1.0 or more) with real sites
autothrottle = false
http_cache_dir = "httpcache"

[server]
host = "127.0.0.1"
port = {port}
base_url = "http://127.0.0.1:{port}"
cache_max_age = 60

[scheduler]
timezone = "Asia/Shanghai"
default_schedule = "*/30 * * * *"   # re-crawl every 30 minutes while the demo runs
jitter = 30

[[sources]]
id = "gwdemo"
title = "示例公文网"
start_urls = ["{site}/"]
timezone = "Asia/Shanghai"
  [[sources.listings]]
  id = "recommended"
  kind = "recommended"
  heading = "推荐文稿"
  [[sources.listings]]
  id = "ranking"
  kind = "ranking"
  heading = "阅读排行"
  [[sources.listings]]
  id = "latest"
  kind = "latest"
  heading = "最新文稿"
  pagination = "div.pages a.next"
  [[sources.listings]]
  id = "related"
  kind = "related"
  heading = "您可能感兴趣的文稿"

[[sources]]
id = "blog"
title = "The feedsvc demo blog"
start_urls = ["{site}/en/"]
timezone = "UTC"
  [[sources.listings]]
  id = "latest"
  kind = "latest"
  heading = "Latest posts"

[[topics]]
id = "lianzheng"
title = "廉政建设"
keywords = ["廉政", "纪律", "四风", "反腐败"]
"""


@dataclass(frozen=True)
class DemoSetup:
    config_path: Path
    cfg: AppConfig
    site_url: str


def free_port(host: str, preferred: int) -> int:
    """`preferred` when it is free, else any free port (0 asks for any)."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # Same option as the servers that will bind it: a port in TIME_WAIT from the last run is free.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError(f"no free port on {host}")


def write_demo_config(data_dir: Path, site_url: str, port: int) -> DemoSetup:
    """Write data_dir/config.toml for this site and feed port. A different site address than last time
    means the old items' URLs are dead: start with a fresh demo database then."""
    data_dir.mkdir(parents=True, exist_ok=True)
    config_path = data_dir / "config.toml"
    marker = data_dir / "site-url.txt"
    if marker.exists() and marker.read_text().strip() != site_url:
        for name in (DEMO_DB, f"{DEMO_DB}-wal", f"{DEMO_DB}-shm"):
            (data_dir / name).unlink(missing_ok=True)
    marker.write_text(site_url + "\n")
    config_path.write_text(CONFIG_TEMPLATE.format(db=DEMO_DB, port=port, site=site_url), encoding="utf-8")
    # The demo always uses its own SQLite file, whatever an operator's environment points at.
    os.environ.pop(DATABASE_URL_ENV, None)
    return DemoSetup(config_path, load_config(config_path), site_url)


def feed_urls(cfg: AppConfig, base_url: str) -> list[tuple[str, str]]:
    """(what, URL) pairs worth opening or subscribing to."""
    out = [("Index page (open in a browser)", f"{base_url}/"),
           ("All new items (Atom)", f"{base_url}/feeds/new.atom"),
           ("OPML (import every feed into a reader at once)", f"{base_url}/opml")]
    for source in cfg.sources:
        out.append((f"{source.title}", f"{base_url}/feeds/{source.id}.atom"))
        for listing in source.listings:
            out.append((f"  {listing.id} ({listing.kind})", f"{base_url}/feeds/{source.id}/{listing.id}.rss"))
    for topic in cfg.topics:
        out.append((f"Topic: {topic.title}", f"{base_url}/feeds/topics/{topic.id}.atom"))
    return out


def missing_needs(cfg: AppConfig) -> list[str]:
    """What the demo needs that this machine lacks, one line each: the 阅读排行 ranking is filled by a script,
    so crawling it takes Chromium."""
    missing = browser_missing(cfg.crawl.chromium_path)
    if missing is None:
        return []
    return [f"The 阅读排行 ranking (gwdemo/ranking) is filled by a script and stays empty without a browser: "
            f"{missing}, then run the demo again."]


def print_needs(needs: list[str], console: Console) -> None:
    """One note per missing need, printed literally: install commands hold brackets (`feedsvc[browser]`) that
    Rich markup would swallow."""
    for need in needs:
        console.print(Text.assemble(("note", "yellow"), ": ", need), highlight=False)


def print_urls(cfg: AppConfig, base_url: str, console: Console, serving: bool) -> None:
    console.print()
    console.print("[bold]Feeds[/bold]" + ("" if serving else " (not served: --no-serve was given)"))
    # Plain lines, never wrapped or cut, so every URL can be copied whole; cell_len pads CJK titles right.
    rows = feed_urls(cfg, base_url)
    width = max(cell_len(what) for what, _ in rows) + 2
    for what, url in rows:
        console.print(f"  {what}{' ' * (width - cell_len(what))}{url}", soft_wrap=True, markup=False)
    console.print()
