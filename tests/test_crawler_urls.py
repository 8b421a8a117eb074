"""Canonical URLs: one article reached by two links is one item."""

from __future__ import annotations

import pytest

from crawler.urls import canonical_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://site.test/a/1001.html?from=home#top", "http://site.test/a/1001.html"),
        ("http://site.test/a/1001.html", "http://site.test/a/1001.html"),
        ("HTTP://Site.TEST:80/a/1001.html", "http://site.test/a/1001.html"),
        ("https://site.test:443", "https://site.test/"),
        ("https://site.test:8443/x", "https://site.test:8443/x"),
        ("http://site.test?x=1", "http://site.test/?x=1"),
        ("http://site.test/p?b=2&from=x&a=1", "http://site.test/p?b=2&a=1"),  # order kept, not sorted
        ("http://site.test/p?utm_source=a&utm_medium=b&id=7&fbclid=z", "http://site.test/p?id=7"),
        ("http://site.test/p?from=1", "http://site.test/p"),
        ("http://site.test/p?FROM=1&keep=", "http://site.test/p?keep="),
        ("http://site.test/文章/1.html", "http://site.test/%E6%96%87%E7%AB%A0/1.html"),
        ("http://site.test/%e6%96%87%e7%ab%a0/1.html", "http://site.test/%E6%96%87%E7%AB%A0/1.html"),
        ("http://例子.测试/a", "http://xn--fsqu00a.xn--0zwm56d/a"),
        ("http://[::1]:8080/x#f", "http://[::1]:8080/x"),
        ("  http://site.test/x  ", "http://site.test/x"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url, ["from"]) == expected


def test_two_links_to_one_article_are_equal() -> None:
    a = canonical_url("http://site.test/a/1001.html?from=home#top", ["from"])
    b = canonical_url("http://SITE.test:80/a/1001.html", ["from"])
    assert a == b


def test_params_are_kept_when_not_listed() -> None:
    assert canonical_url("http://site.test/a?from=home") == "http://site.test/a?from=home"


@pytest.mark.parametrize("url", ["ftp://site.test/x", "/a/1001.html", "mailto:x@y.z", "javascript:void(0)", "http://"])
def test_rejects_non_http_urls(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        canonical_url(url)


def test_a_backslash_ends_the_host_for_the_fence_and_for_storage_alike() -> None:
    from crawler.offsite import SourceFence
    from crawler.urls import split_url

    trick = "http://127.0.0.2:8000\\@127.0.0.1:8080/x"
    assert split_url(trick).hostname == "127.0.0.2"  # as Scrapy would request it and the store would keep it
    assert canonical_url(trick).startswith("http://127.0.0.2:8000/")
    refusal = SourceFence(["http://127.0.0.1:8080/"]).url_refusal(trick)
    assert refusal is not None and "127.0.0.2" in refusal


def test_urls_longer_than_the_columns_are_refused() -> None:
    from crawler.urls import MAX_URL_LENGTH

    base = "http://a.example/"
    assert len(canonical_url(base + "a" * (MAX_URL_LENGTH - len(base)))) == MAX_URL_LENGTH
    with pytest.raises(ValueError, match="longer than 2048"):
        canonical_url(base + "a" * (MAX_URL_LENGTH - len(base) + 1))


def test_one_site_is_one_registrable_domain() -> None:
    from crawler.urls import same_site, site_of

    assert site_of("money.example.com") == site_of("war.example.com") == "example.com"
    assert site_of("news.example.com.cn") == "example.com.cn"  # a two-label public suffix
    assert site_of("www.bbc.co.uk") == "bbc.co.uk"
    assert site_of("alice.github.io") != site_of("bob.github.io")  # private suffixes: two people, two sites
    assert site_of("127.0.0.1") == "127.0.0.1" and site_of("localhost") == "localhost"
    assert same_site("https://news.qq.com/a", "https://new.qq.com/omn/1.html")
    assert not same_site("https://example.com/", "https://example.org/")
    assert not same_site("http://10.0.0.1/", "http://10.0.0.2/")  # an address is only ever itself
