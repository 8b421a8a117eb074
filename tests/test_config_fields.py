"""feedsvc/config/fields.py: shared value types reject what would fail later (selectors, zones, fence hosts)."""

from __future__ import annotations

import pytest

from feedsvc.config.fields import check_domain


@pytest.mark.parametrize("host", ["example.com", "sub.example.org", "127.0.0.1", "[::1]", "例子.中国"])
def test_host_names_and_ip_literals_are_fence_entries(host: str) -> None:
    assert check_domain(host) == host


@pytest.mark.parametrize(("value", "message"), [
    ("", "is empty"), ("*", "not a host name"), ("https://example.com/", "not a host name"),
    ("example.com:8080", "not a host name"), ("*.example.com", "not a host name"),
])
def test_fence_entries_that_would_allow_nothing_or_everything_are_refused(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_domain(value)
