"""demo/server.py: the bundled demo site over real HTTP on 127.0.0.1: files, ETags, 404s, no way out of the root."""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest

from feedsvc.demo.server import DemoSite
from feedsvc.errors import FeedsvcError


def _get(site: DemoSite, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=5)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_serves_files_with_validators_and_answers_304(tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "news").mkdir(parents=True)
    (root / "index.html").write_text("<html>home</html>")
    (root / "news" / "index.html").write_bytes("<h1>新闻</h1>".encode())
    (root / "robots.txt").write_text("User-agent: *\n")
    (tmp_path / "secret.txt").write_text("outside")
    with DemoSite(root=root) as site:
        assert site.base_url == f"http://127.0.0.1:{site.port}" and site.port > 0
        status, headers, body = _get(site, "/news/")
        assert (status, headers["Content-Type"], body) == (200, "text/html", "<h1>新闻</h1>".encode())
        assert _get(site, "/news/", {"If-None-Match": headers["ETag"]})[0] == 304
        assert _get(site, "/robots.txt")[1]["Content-Type"] == "text/plain; charset=utf-8"
        assert _get(site, "/missing.html")[0] == 404
        assert _get(site, "/../secret.txt")[0] == 404
        assert _get(site, "/%2e%2e/secret.txt")[0] == 404
        assert site.requests == 6


def test_a_missing_site_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FeedsvcError, match="demo site is missing"):
        DemoSite(root=tmp_path).start()


def test_the_bundled_site_has_a_home_page() -> None:
    with DemoSite() as site:
        status, headers, body = _get(site, "/")
        assert status == 200 and headers["Content-Type"] == "text/html" and b"<html" in body.lower()
