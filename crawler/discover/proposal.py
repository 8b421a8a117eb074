"""The `[[sources]]` TOML block for a suggestion: complete, commented, with the first items each listing yielded
as comments. Strings are written as TOML basic strings (JSON escapes are valid TOML), so site text cannot break
out of its value.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from crawler.discover.suggest import Suggestion
from feedsvc.text import clean_text

_SHOWN = 3  # first items shown under each listing


# json.dumps escapes U+0000-U+001F; TOML also forbids a raw DEL, and C1 controls are escaped so no terminal acts on them.
_UNESCAPED_CONTROLS = re.compile("[\x7f-\x9f]")


def _q(value: str) -> str:
    quoted = json.dumps(value, ensure_ascii=False)
    return _UNESCAPED_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _comment(text: str) -> str:
    # A newline would end the comment and TOML forbids control characters in one.
    return " ".join(clean_text(text).split())


def source_id_for(url: str) -> str:
    host = (urlsplit(url).hostname or "site").removeprefix("www.")
    slug = re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-")[:60] or "site"
    return slug if slug[0].isalnum() else f"s{slug}"


def render_source(url: str, source_id: str, title: str, timezone: str, listings: list[Suggestion],
                  related: Suggestion | None, render: str | None = None) -> str:
    lines = [
        f"# Suggested by `feedsvc suggest {url}`: check the listings, then `feedsvc check` and `feedsvc preview {source_id}`.",
        "[[sources]]",
        f"id = {_q(source_id)}",
        f"title = {_q(title)}",
        f"start_urls = [{_q(url)}]",
        f"timezone = {_q(timezone)}  # dates without a zone are read in this one",
    ]
    if render:
        lines.append(f"render = {_q(render)}  # a listing below is filled by script: the crawl renders it in Chromium")
    for sug in [*listings, *([related] if related else [])]:
        lines.append("")
        lines.append("  [[sources.listings]]")
        if sug.note:
            lines.append(f"  # {_comment(sug.note)}")
        lines.append(f"  id = {_q(sug.id)}")
        lines.append(f"  kind = {_q(sug.kind)}" + ("  # found on article pages" if sug.kind == "related" else ""))
        if sug.heading:
            lines.append(f"  heading = {_q(sug.heading)}  # found by its heading: survives class renames")
        elif sug.block:
            lines.append(f"  block = {_q(sug.block)}  # no heading leads to it: its id/class")
        if sug.pagination:
            lines.append(f"  pagination = {_q(sug.pagination)}")
        if sug.entries:
            lines.append(f"  # {len(sug.entries)} items, first ones:")
            for entry in sug.entries[:_SHOWN]:
                date = f"[{entry.date_text}] " if entry.date_text else ""
                lines.append(f"  #   {_comment(date + entry.title)} <{_comment(entry.url)}>")
    return "\n".join(lines) + "\n"
