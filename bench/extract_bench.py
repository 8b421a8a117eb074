"""Extraction benchmark: median/p90 time to extract every listing (and one article) from a ~100 KB listing page.

Usage: python bench/extract_bench.py [--repeat N] [--size KB]

The page is generated from the fixture site's patterns (tests/data/site): a 推荐文稿 block with dates glued
to titles, a script-filled empty 阅读排行, and a long 最新文稿 list with <span> dates, trailing dates and
dirty titles. The machine is noisy, so a baseline is measured in the same run, interleaved with the
measured work: the bare cost of `parsel.Selector(text=html).css('li')` over the same page.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from parsel import Selector

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.extract import extract_article, extract_listing  # noqa: E402
from feedsvc.config import ArticleSelectors, ListingConfig  # noqa: E402

TITLES = [
    "2024年支部党员大会会议记录通用版(专题研究活动方案)", "2024年廉政谈话记录", "乡镇典型事迹材料",
    "以明确的权责为基层减负", "党纪学习教育工作情况", "深入整治违规吃喝问题研讨材料",
    "党建创新案例:市推行党组织建在项目上+助推重点项目“加速跑”", "在庆祝第40个教师节活动上的致辞",
    "Office Work in the New Era &amp;nbsp;Six Kinds of Awareness", "&lt;script&gt;关于数字乡村建设的对策建议",
]
LISTINGS = [
    ListingConfig(id="recommended", kind="recommended", heading="推荐文稿"),
    ListingConfig(id="ranking", kind="ranking", heading="阅读排行"),
    ListingConfig(id="latest", kind="latest", heading="最新文稿"),
]


def _date(rng: random.Random) -> str:
    return f"{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def make_listing_page(target_bytes: int = 100_000, seed: int = 7) -> str:
    """A home page like tests/data/site/index.html, with the latest list grown to `target_bytes` of HTML."""
    rng = random.Random(seed)
    recommended = "\n".join(
        f'<li><a href="/a/{2000 + i}.html" target="_blank">{_date(rng)}{rng.choice(TITLES)}</a></li>' for i in range(10)
    )
    head = f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>某公文网 - 首页</title>
<script>var _hmt = _hmt || [];</script></head><body>
<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/list_2.html">最新文稿</a></li></ul></div>
<div class="right"><div class="box"><h3>推荐文稿</h3><ul>{recommended}</ul></div>
<div class="box rank"><div class="title"><span>阅读排行</span><a class="more" href="javascript:void(0)">更多</a></div>
<ul id="phb"></ul></div><script>document.getElementById("phb").innerHTML = '<li><a href="/a/1.html">x</a></li>';</script>
</div><div class="left"><div class="box latest"><h2>最新文稿</h2><ul class="list">
"""
    tail = """</ul><div class="pages"><a class="next" href="list_2.html">下一页</a></div></div></div>
<div class="footer">Copyright &copy; 某公文网</div></body></html>"""
    forms = [
        '<li><a href="/a/{n}.html">{t}</a><span>{d}</span></li>',
        '<li><a href="/a/{n}.html?from=home#top">{d}{t}</a></li>',
        '<li><a href="/a/{n}.html" title="{t}">{t}</a> <em>[{d}]</em></li>',
        "<li><a href=/a/{n}.html>{t} 2025-{d}</a>",
        '<li><a href="/a/{n}.html">{t}</a><span class="date">{d}</li>',
    ]
    items: list[str] = []
    size = len(head) + len(tail)
    n = 3000
    while size < target_bytes:
        item = rng.choice(forms).format(n=n, t=rng.choice(TITLES), d=_date(rng))
        items.append(item)
        size += len(item.encode()) + 1
        n += 1
    return head + "\n".join(items) + tail


def extract_all(html: str) -> int:
    page = Selector(text=html)
    count = 0
    for listing in LISTINGS:
        entries = extract_listing(page, listing, "http://bench.test/")
        count += len(entries or [])
    return count


def baseline(html: str) -> int:
    return len(Selector(text=html).css("li"))


def timed(func: Callable[[str], object], html: str, samples: dict[str, list[float]]) -> None:
    """Wall time and this thread's CPU time (CPU time is less disturbed when other processes share the cores)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    func(html)
    samples["wall"].append(time.perf_counter() - wall)
    samples["cpu"].append(time.thread_time() - cpu)


def summarize(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="measured rounds (default 200)")
    parser.add_argument("--size", type=int, default=100, help="listing page size in KB (default 100)")
    args = parser.parse_args()

    html = make_listing_page(args.size * 1000)
    article_html = (ROOT / "tests/data/site/a/1003.html").read_text(encoding="utf-8")
    entries = extract_all(html)

    def article(text: str) -> object:
        return extract_article(Selector(text=text), ArticleSelectors(), "http://bench.test/a/1003.html", ["您可能感兴趣的文稿"])

    for _ in range(10):  # warm caches (css→xpath translation, imports)
        extract_all(html), baseline(html), article(article_html)
    runs: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in ("listings", "base", "article")}
    for _ in range(args.repeat):  # interleaved, so drift in machine load hits all three alike
        timed(extract_all, html, runs["listings"])
        timed(baseline, html, runs["base"])
        timed(article, article_html, runs["article"])

    print(f"page: {len(html.encode()) / 1000:.0f} KB, {baseline(html)} <li>, {entries} entries in 3 listings; "
          f"{args.repeat} rounds")
    print(f"{'':36} {'wall median':>12} {'wall p90':>10} {'cpu median':>11}")
    labels = {"listings": "extract all listings (parse incl.)", "base": "baseline Selector(text).css('li')",
              "article": "extract one article (parse incl.)"}
    for name, label in labels.items():
        median, p90 = summarize(runs[name]["wall"])
        cpu_median, _ = summarize(runs[name]["cpu"])
        print(f"{label:36} {median * 1000:10.2f}ms {p90 * 1000:8.2f}ms {cpu_median * 1000:9.2f}ms")
    wall_ratio = summarize(runs["listings"]["wall"])[0] / summarize(runs["base"]["wall"])[0]
    cpu_ratio = summarize(runs["listings"]["cpu"])[0] / summarize(runs["base"]["cpu"])[0]
    print(f"ratio listings/baseline (median): wall {wall_ratio:.1f}x, cpu {cpu_ratio:.1f}x")


if __name__ == "__main__":
    main()
