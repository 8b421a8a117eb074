"""Which sources share a politeness budget: sources whose hosts meet crawl in one process, one at a time.

A source's names are its start URLs' hosts (with the port when one is given: two test servers on 127.0.0.1 are
two sites) and its allowed domains; a name also covers its subdomains and its host on any port (allowed_domains
do in the crawl fence), so `example.com` meets `news.example.com` and `news.example.com:8080`. Used twice: every
crawl (`feedsvc crawl` and the scheduler's, through feedsvc.scheduling.child.run_shared) splits sources between
crawl children by `host_groups` (a group never spans two children), and a crawl child holds a group's later
sources back while one of them crawls (`HostBudget`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from feedsvc.config.schema import SourceConfig


def source_hosts(source: SourceConfig) -> frozenset[str]:
    """The names `source`'s crawl asks first: its start URLs' hosts (host:port when a port is given) and its
    allowed domains, lower case."""
    names = set()
    for url in source.start_urls:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        try:
            port = parts.port
        except ValueError:  # not a port: the host alone
            port = None
        names.add(f"{host}:{port}" if host and port else host)
    names.update(domain.lower().strip(".") for domain in source.allowed_domains or ())
    return frozenset(name for name in names if name)


def _parents(name: str) -> list[str]:
    """news.example.com:8080 → [news.example.com, example.com, com]: the names that would cover it."""
    host, _, port = name.rpartition(":") if ":" in name else (name, "", "")
    covers = [host] if port else []
    if host.replace(".", "").isdigit():  # an IPv4 address covers no other host, and no domain covers it
        return covers
    labels = host.split(".")
    return covers + [".".join(labels[i:]) for i in range(1, len(labels))]


def host_groups(sources: Sequence[SourceConfig]) -> list[list[SourceConfig]]:
    """`sources` in groups that share no name (in config order, groups ordered by their first source)."""
    parent = list(range(len(sources)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    names = [source_hosts(s) for s in sources]
    for i, own in enumerate(names):
        for name in own:
            if name in owner:
                parent[root(i)] = root(owner[name])
            else:
                owner[name] = i
    for i, own in enumerate(names):  # a name meets the names covering it
        for name in own:
            for cover in _parents(name):
                if cover in owner:
                    parent[root(i)] = root(owner[cover])
    groups: dict[int, list[SourceConfig]] = {}
    for i, source in enumerate(sources):
        groups.setdefault(root(i), []).append(source)
    return list(groups.values())


def split_sources(sources: Sequence[SourceConfig], parts: int) -> list[list[SourceConfig]]:
    """At most `parts` non-empty shares of about equal size; a host group stays whole (largest groups placed
    first, each into the smallest share so far)."""
    shares: list[list[SourceConfig]] = [[] for _ in range(max(1, parts))]
    for group in sorted(host_groups(sources), key=len, reverse=True):
        min(shares, key=len).extend(group)
    order = {s.id: n for n, s in enumerate(sources)}
    return [sorted(share, key=lambda s: order[s.id]) for share in shares if share]


class HostBudget:
    """The names of the sources crawling now: a source may start when none of its names meets a busy one."""

    def __init__(self) -> None:
        self._names: Counter[str] = Counter()
        self._covered: Counter[str] = Counter()  # every name covering a busy name

    def free(self, names: Iterable[str]) -> bool:
        return not any(name in self._names or name in self._covered or any(p in self._names for p in _parents(name))
                       for name in names)

    def take(self, names: Iterable[str]) -> None:
        for name in names:
            self._names[name] += 1
            self._covered.update(_parents(name))

    def give_back(self, names: Iterable[str]) -> None:
        for name in names:
            for counter, keys in ((self._names, [name]), (self._covered, _parents(name))):
                for key in keys:
                    counter[key] -= 1
                    if counter[key] <= 0:
                        del counter[key]
