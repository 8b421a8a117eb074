"""scrapy_settings: the one AppConfig → Scrapy mapping (politeness, cache, retries, per-source overrides)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from scrapy.settings.default_settings import EXTENSIONS_BASE

from crawler.settings import UNUSED_EXTENSIONS, scrapy_settings, shared_settings
from feedsvc.config import parse_config


def _cfg(tmp_path: Path, source_extra: dict[str, object] | None = None) -> object:
    raw = {
        "crawl": {"user_agent": "bot/1 (+http://x)", "download_delay": 2.0, "retries": 4, "max_pages": 50,
                  "concurrent_requests_per_domain": 3, "timeout": 12},
        "sources": [{"id": "gw", "title": "GW", "start_urls": ["http://127.0.0.1/"],
                     "listings": [{"id": "latest", "heading": "最新"}], **(source_extra or {})}],
    }
    return parse_config(raw, str(tmp_path / "config.toml"))


def test_politeness_and_cache_settings(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    s = scrapy_settings(cfg, cfg.sources[0])  # type: ignore[attr-defined]
    assert s["ROBOTSTXT_OBEY"] is True and s["USER_AGENT"] == "bot/1 (+http://x)"
    assert s["DOWNLOAD_DELAY"] == 2.0 and s["AUTOTHROTTLE_ENABLED"] is True
    assert s["CONCURRENT_REQUESTS_PER_DOMAIN"] == 3 and s["DOWNLOAD_TIMEOUT"] == 12
    assert s["RETRY_TIMES"] == 4 and 429 in s["RETRY_HTTP_CODES"] and 503 in s["RETRY_HTTP_CODES"]
    assert s["DOWNLOADER_MIDDLEWARES"]["crawler.middlewares.BackoffRetryMiddleware"] == 550
    assert s["HTTPCACHE_ENABLED"] and s["HTTPCACHE_POLICY"] == "crawler.middlewares.RevalidatePolicy"
    # The cache lives next to the config (relative path resolved there), one folder per source.
    assert s["HTTPCACHE_DIR"] == str(tmp_path / ".feedsvc" / "httpcache" / "gw")
    assert s["CLOSESPIDER_PAGECOUNT"] >= 50
    assert s["TELNETCONSOLE_ENABLED"] is False and s["REMOTE_CONTROL_ENABLED"] is False


def test_per_source_overrides(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, {"download_delay": 0, "max_pages": 5})
    s = scrapy_settings(cfg, cfg.sources[0])  # type: ignore[attr-defined]
    assert s["DOWNLOAD_DELAY"] == 0 and s["AUTOTHROTTLE_ENABLED"] is False  # no throttling without a delay
    assert s["CLOSESPIDER_PAGECOUNT"] == 5 * 5 + 1


def test_unused_scrapy_extensions_are_not_even_imported(tmp_path: Path) -> None:
    """RemoteControl is imported whenever it is listed, enabled or not, and its import pulls in aiohttp (~130 ms
    and 10 MiB per crawl child): the crawl settings unlist it. Checked in a fresh interpreter, where nothing else
    imported it first."""
    assert set(EXTENSIONS_BASE) >= UNUSED_EXTENSIONS  # names Scrapy still uses: leaving them out means something
    cfg = _cfg(tmp_path)
    config = tmp_path / "settings.json"
    config.write_text(json.dumps(shared_settings(cfg, cfg.sources[0], window=4), default=str))  # type: ignore[attr-defined]
    probe = (
        "import json, sys\n"
        "from scrapy.crawler import Crawler\n"

        "from crawler.settings import crawler_settings\n"
        "from crawler.spiders.listing import ArticleListSpider\n"
        f"values = json.loads(open({str(config)!r}).read())\n"
        "from scrapy.utils.reactor import install_reactor\n"
        "settings = crawler_settings(values)\n"
        "install_reactor(settings['TWISTED_REACTOR'])\n"
        "crawler = Crawler(ArticleListSpider, settings)\n"
        "crawler._apply_settings()\n"
        "assert not any(type(e).__name__ in ('RemoteControl', 'LogStats') for e in crawler.extensions.middlewares)\n"
        "print(json.dumps(sorted(m for m in ('scrapy.extensions.remote_control', 'aiohttp') if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1]) == []
