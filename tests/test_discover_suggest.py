"""crawler/discover/suggest.py `rendered_fills`: an empty box becomes a proposal only when the rendered page shows
it with mostly dated items (the rest of the module is measured by tests/test_suggest.py's layouts and the fetch
tests)."""

from __future__ import annotations

from crawler.discover.suggest import Suggestion, rendered_fills
from crawler.extract import ListingEntry


def _entries(dated: int, undated: int) -> list[ListingEntry]:
    return [ListingEntry(f"http://s.example/a/{n}.html", f"Story number {n}", "01-0" + str(n % 9 + 1) if n < dated else None,
                         n + 1) for n in range(dated + undated)]


def test_only_boxes_shown_dated_after_rendering_are_proposed() -> None:
    boxes = [Suggestion("ranking", "ranking", "阅读排行", None), Suggestion("hot", "ranking", "热门", None),
             Suggestion("news", "latest", "要闻", None)]
    rendered = [Suggestion("ranking-2", "ranking", "阅读排行", None, _entries(3, 1), "div.pages a"),
                Suggestion("hot-2", "ranking", "热门", None, _entries(1, 3)),  # filled, but mostly undated
                Suggestion("other", "latest", "其他", None, _entries(4, 0))]  # not an empty box of the HTML
    (proposed,) = rendered_fills(rendered, boxes)
    assert (proposed.id, proposed.heading, proposed.pagination, len(proposed.entries)) == ("ranking", "阅读排行", "div.pages a", 4)
    assert proposed.note and "filled by script" in proposed.note
    assert rendered_fills([], boxes) == []  # the script filled nothing
