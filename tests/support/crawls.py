"""Helpers for crawl tests: a config for the fixture sites, and running `python -m crawler.run` / `feedsvc`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

# Crawl day of the fixture site's golden dates (tests/data/site/README.md).
FIXED_NOW = "2026-01-05T12:00:00+08:00"

# The fixture portal's lists, as (id, kind, heading); the latest list pages on through `div.pages a.next`.
GW_LISTS = (("recommended", "recommended", "推荐文稿"), ("ranking", "ranking", "阅读排行"),
            ("latest", "latest", "最新文稿"), ("related", "related", "您可能感兴趣的文稿"))


def gw_listings(latest_heading: str = "最新文稿", only: tuple[str, ...] | None = None, paginate: bool = True) -> str:
    """The portal's `[[sources.listings]]` blocks (all four, or those named in `only`)."""
    blocks = []
    for listing_id, kind, heading in GW_LISTS:
        if only is not None and listing_id not in only:
            continue
        heading = latest_heading if listing_id == "latest" else heading
        more = '  pagination = "div.pages a.next"\n' if listing_id == "latest" and paginate else ""
        blocks.append(f'  [[sources.listings]]\n  id = "{listing_id}"\n  kind = "{kind}"\n  heading = "{heading}"\n{more}')
    return "\n" + "".join(blocks)


def toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def gw_source(base_url: str, source_id: str = "gwsite", latest_heading: str = "最新文稿", extra: str = "") -> str:
    return (
        f'[[sources]]\nid = "{source_id}"\ntitle = "某公文网"\nstart_urls = [{toml_str(base_url + "/")}]\n'
        f'timezone = "Asia/Shanghai"\ndrop_query_params = ["from"]\n{extra}\n'
        # Plain HTTP, so page counts do not depend on Chromium being installed (tests/test_crawler_browser.py renders).
        + ("" if "render" in extra else 'render = "never"\n')
        + gw_listings(latest_heading)
    )


def demo_site_sources(site: str, listings: str | None = None) -> str:
    """The bundled demo site's two sources (feedsvc/demo/site), for tests that crawl it: the portal, with the
    fixture site's listings unless `listings` narrows them, and the English blog."""
    listings = gw_listings() if listings is None else listings
    return (
        f'[[sources]]\nid = "gwdemo"\ntitle = "示例公文网"\nstart_urls = [{toml_str(site + "/")}]\n'
        f'timezone = "Asia/Shanghai"\n{listings.strip(chr(10))}\n'
        f'[[sources]]\nid = "blog"\ntitle = "The feedsvc demo blog"\nstart_urls = [{toml_str(site + "/en/")}]\n'
        'timezone = "UTC"\n  [[sources.listings]]\n  id = "latest"\n  kind = "latest"\n  heading = "Latest posts"\n'
    )


def simple_source(source_id: str, url: str, heading: str = "Latest posts") -> str:
    return (
        f'[[sources]]\nid = "{source_id}"\ntitle = "{source_id}"\nstart_urls = [{toml_str(url)}]\n'
        f'  [[sources.listings]]\n  id = "latest"\n  heading = "{heading}"\n'
    )


def write_config(tmp_path: Path, db_url: str, sources: list[str], *, timeout: float = 3.0, retries: int = 1,
                 name: str = "config.toml", crawl_extra: str = "") -> Path:
    text = (
        f"[database]\nurl = {toml_str(db_url)}\n"
        f'[crawl]\nuser_agent = "feedsvc-test/1.0 (+http://127.0.0.1/)"\ndownload_delay = 0\n'
        f"timeout = {timeout}\nretries = {retries}\nconcurrent_requests_per_domain = 4\n"
        f'http_cache_dir = "httpcache"\n{crawl_extra}\n'
        + "\n".join(sources)
    )
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("FEEDSVC_DATABASE_URL", None)  # the test config names its database
    env["PYTHONIOENCODING"] = "utf-8"  # rich tables and Chinese titles, whatever the CI locale
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[2]), env.get("PYTHONPATH", "")])
    return env


def run_crawler(config: Path, source: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "crawler.run", source, "--config", str(config), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=child_env())


def run_feedsvc(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "feedsvc", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=child_env())


def events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def done_event(stdout: str) -> dict[str, Any]:
    found = [e for e in events(stdout) if e["event"] == "done"]
    assert found, f"no done event in output:\n{stdout}"
    return found[-1]
