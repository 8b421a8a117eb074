"""The words the listing detector, suggest and heal read on pages: heading decorations, ranking/related/latest
words, pagination labels and chrome class words. One home, so discovery and the crawler agree on what a
"热门排行" or "下一页" is.
"""

from __future__ import annotations

import re

# Decorations around heading text: `【推荐文稿】`, `推荐文稿 >>`, `Latest posts:`, `■相关链接` (a bullet before it).
DECOR = " \t\r\n\xa0\u3000:：>»›<«‹·|-—–[]【】「」■□●○◆◇▪▫►▶▸•"

# A box of most-read/popular items (its heading or its class/id).
RANKING_WORDS = re.compile(r"排行|排名|热门|热点|热读|点击|most\s+(read|viewed|popular)|popular|trending|top\s*\d*", re.I)
RANKING_CLASS = re.compile(r"rank|hot|popular|phb|most", re.I)
# An article page's "related" box; the same words name the listing kind `related`.
RELATED_WORDS = re.compile(
    r"相关|感兴趣|延伸阅读|推荐阅读|延伸|related|you\s+may\s+also|also\s+like|see\s+also|read\s+next|read\s+more", re.I)
LATEST_WORDS = re.compile(r"最新|latest|recent|new", re.I)
RECOMMENDED_WORDS = re.compile(r"推荐|精选|featured|recommend|editor", re.I)

# Pagination: page numbers (`2`, `[3]`, `第4页`) and "next" labels.
PAGE_NUMBER = re.compile(r"[\[(【第]?\s*(\d{1,6})\s*[\])】页]?")
NEXT_LABELS = frozenset({"下一页", "下页", "后一页", "下一頁", "next", "next page", "next »", "»", "›", ">", ">>", "next >"})

# Class/id words of boxes that hold site chrome (menus, tag clouds, breadcrumbs, share bars, pagers).
CHROME_WORDS = re.compile(
    r"(?:^|[-_\s])(nav|navbar|menu|menus|breadcrumbs?|crumbs?|footer|foot|header|head|topbar|tags?|tag-?cloud|"
    r"cloud|keywords?|sitemap|friend-?links?|links|yqlj|share|social|pagination|pager|pages)(?:$|[-_\s\d])",
    re.I,
)


def heading_kind(heading: str) -> str | None:
    """The listing kind a heading names ("ranking", "latest", "recommended", "related"), None for another name."""
    for pattern, kind in ((RANKING_WORDS, "ranking"), (LATEST_WORDS, "latest"), (RECOMMENDED_WORDS, "recommended"),
                          (RELATED_WORDS, "related")):
        if pattern.search(heading):
            return kind
    return None
