"""OPML 2.0 subscription list of every feed, importable in a reader in one step. Pure: no DB, no HTTP."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from feedsvc.text import clean_title

MEDIA_TYPE = "text/x-opml; charset=utf-8"


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    title: str
    xml_url: str
    html_url: str
    description: str = ""
    group: str | None = None  # outlines of one group nest under a folder outline (a reader's folder)


def render_opml(title: str, owner_url: str, feeds: Sequence[OpmlFeed]) -> bytes:
    """OPML 2.0 with one `type="rss"` outline per feed (readers use that type for Atom too)."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = clean_title(title)
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    etree.SubElement(head, "ownerId").text = owner_url
    body = etree.SubElement(root, "body")
    folders: dict[str, etree._Element] = {}
    for feed in feeds:
        parent = body
        if feed.group:
            parent = folders.get(feed.group)
            if parent is None:
                label = clean_title(feed.group)
                parent = etree.SubElement(body, "outline", text=label, title=label)
                folders[feed.group] = parent
        name = clean_title(feed.title)
        outline = etree.SubElement(parent, "outline", type="rss", text=name, title=name,
                                   xmlUrl=feed.xml_url, htmlUrl=feed.html_url)
        if feed.description:
            outline.set("description", clean_title(feed.description))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
