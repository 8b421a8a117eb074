"""feedsvc/config/hosts.py: sources sharing a host share one politeness budget (one child, one at a time)."""

from __future__ import annotations

from feedsvc.config import SourceConfig
from feedsvc.config.hosts import HostBudget, host_groups, source_hosts, split_sources


def _source(source_id: str, *urls: str, allowed: list[str] | None = None) -> SourceConfig:
    return SourceConfig(id=source_id, title=source_id, start_urls=list(urls), allowed_domains=allowed,
                        listings=[{"id": "latest", "heading": "Latest"}])


def test_a_sources_names_are_its_start_hosts_and_allowed_domains() -> None:
    source = _source("a", "https://News.Example.com/x", "http://127.0.0.5:8080/", allowed=["cdn.example.org"])
    assert source_hosts(source) == {"news.example.com", "127.0.0.5:8080", "cdn.example.org"}


def test_sources_meeting_on_a_host_or_under_an_allowed_domain_group_together() -> None:
    sources = [_source("a", "https://news.example.com/"), _source("b", "https://other.org/"),
               _source("c", "https://www.site.net/", allowed=["example.com"]), _source("d", "https://news.example.com/b"),
               _source("e", "http://127.0.0.1/"), _source("f", "http://127.0.0.2/")]
    groups = [[s.id for s in group] for group in host_groups(sources)]
    assert groups == [["a", "c", "d"], ["b"], ["e"], ["f"]]


def test_split_keeps_each_group_in_one_share_and_balances_the_rest() -> None:
    sources = [_source(f"s{i}", f"http://127.0.1.{i}/") for i in range(1, 9)]
    sources += [_source("same1", "http://shared.example/"), _source("same2", "http://shared.example/b")]
    shares = split_sources(sources, 2)
    assert sorted(len(share) for share in shares) == [5, 5]
    assert any({"same1", "same2"} <= {s.id for s in share} for share in shares)
    assert [[s.id for s in share] for share in split_sources(sources[:1], 2)] == [["s1"]]  # no empty child


def test_budget_holds_a_host_and_its_subdomains_until_given_back() -> None:
    budget = HostBudget()
    budget.take({"news.example.com"})
    assert not budget.free({"news.example.com"})
    assert not budget.free({"example.com"})  # an allowed domain covering the busy host
    assert budget.free({"other.example.com", "example.org"})
    budget.take({"example.org"})
    assert not budget.free({"www.example.org"})  # under a busy covering name
    budget.give_back({"news.example.com"})
    assert budget.free({"example.com"})
    assert budget.free({"127.0.0.1"}) and budget.free({"0.0.1"})


def test_a_port_is_its_own_site_but_an_allowed_domain_covers_every_port() -> None:
    budget = HostBudget()
    budget.take({"127.0.0.1:8001", "news.example.com:8080"})
    assert budget.free({"127.0.0.1:8002"})
    assert not budget.free({"127.0.0.1:8001"}) and not budget.free({"example.com"})
    groups = host_groups([_source("a", "http://127.0.0.1:8001/"), _source("b", "http://127.0.0.1:8002/"),
                          _source("c", "http://127.0.0.1:8001/x")])
    assert [[s.id for s in group] for group in groups] == [["a", "c"], ["b"]]
