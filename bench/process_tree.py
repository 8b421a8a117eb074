"""Memory of a process tree, read from /proc: the benchmarks that run a crawl as a parent and its children (or
spawn them from the bench itself) measure the whole tree with one function."""

from __future__ import annotations

import os

PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(root: int, *, include_root: bool = True) -> int:
    """Bytes resident in every process below `root` right now, and in `root` itself unless `include_root` is false
    (a bench that runs crawls from its own process counts only them)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * PAGE  # field 24 of proc(5): resident pages
        except (OSError, ValueError, IndexError):
            continue
    total, todo = (rss.get(root, 0) if include_root else 0), [root]
    while todo:
        pid = todo.pop()
        kids = [child for child, parent in parents.items() if parent == pid]
        total += sum(rss.get(kid, 0) for kid in kids)
        todo += kids
    return total
