"""A labelled corpus of full article pages as sites serve them: six site templates (three Chinese, three
English), each with its own navigation, notices, share bars, author boxes, "related"/"most read" lists of
other articles and footers, several inside the article body; bodies are long (beyond what relatedness reads).
Generated in code (deterministic, small). Every category appears on every site, so site boilerplate is
evidence of the site, never of the topic.

`page_items` runs each page through the crawler's article extraction (crawler/article.py) and returns what
the store would hold; `evaluate_pages` measures precision@5 through the production path
(feedsvc.related.scoring.compute_related) and the plain TF-IDF baseline over whole cleaned bodies.
"""

from __future__ import annotations

import html
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import scipy.sparse as sp
from parsel import Selector

from crawler.article import extract_article
from feedsvc.config import ArticleSelectors
from feedsvc.related.docs import MAX_BODY_BYTES, Doc, to_doc
from feedsvc.related.scoring import compute_related
from feedsvc.related.tokens import batch_keys, normalize
from feedsvc.store.related import ItemText
from tests.support.related_corpus import EN, EN_SHARED, ZH, ZH_SHARED

T0 = datetime(2024, 5, 1, tzinfo=UTC)
# Category-neutral sentences every long article has plenty of (recombined like the topical ones).
ZH_GENERIC = ZH_SHARED + [
    "各地各部门要切实增强责任感和紧迫感，把各项工作抓实抓细抓到位。", "要坚持问题导向，认真查找工作中存在的不足和短板。",
    "各单位要结合实际，制定具体实施方案，明确时间节点和工作要求。", "对工作不力、造成不良影响的，将依规依纪严肃追究责任。",
    "要加强宣传引导，营造全社会共同参与的良好氛围。", "请各单位于本月底前将工作开展情况报送办公室。",
    "下一步，我们将继续总结经验，完善制度机制，推动工作再上新台阶。", "会议由分管领导主持，相关科室负责同志参加会议。",
    "要加强督促检查，确保各项措施落地见效。", "这项工作事关全局，必须高度重视、周密部署、扎实推进。",
]
EN_GENERIC = EN_SHARED + [
    "The figures were released in a statement on the organisation's website on Tuesday.",
    "Critics say the plan does not go far enough, while supporters call it a good first step.",
    "It is not yet clear how many people will be affected by the change.", "A spokesperson declined to comment further.",
    "The announcement comes after months of discussion behind closed doors.",
    "Several people who spoke to us asked not to be named.", "More details are expected to follow in the coming weeks.",
    "The decision was welcomed by local leaders, who had campaigned for it for years.",
    "Experts cautioned that it was too early to draw firm conclusions.", "The full report runs to more than a hundred pages.",
]


def _halves(sentence: str, zh: bool) -> tuple[str, str]:
    """A sentence cut in two near its middle (at a comma in Chinese, at a space in English)."""
    if zh:
        body = sentence.rstrip("。")
        cut = body.find("，")
        cut = cut if 0 < cut < len(body) - 1 else len(body) // 2
        return body[:cut], body[cut:].lstrip("，")
    words = sentence.rstrip(".").split()
    mid = len(words) // 2
    return " ".join(words[:mid]), " ".join(words[mid:])


def _sentences(pool: list[str], n: int, rng: random.Random, zh: bool) -> list[str]:
    """n sentences made of halves of the pool's sentences: the category's words, rarely one sentence twice."""
    parts = [_halves(s, zh) for s in pool]
    out = []
    for _ in range(n):
        a, b = rng.sample(parts, 2)
        out.append(f"{a[0]}，{b[1]}。" if zh else f"{a[0]} {b[1]}.")
    return out


def _others(titles: list[str], rng: random.Random, n: int = 4) -> str:
    return "".join(f'<li><a href="/a/{rng.randrange(10_000)}.html">{html.escape(t)}</a></li>'
                   for t in rng.sample(titles, n))


# Each template: (page HTML from title, body paragraphs' HTML, other titles, rng, page number).
Template = Callable[[str, str, list[str], random.Random, int], str]


def _zh_gov(title: str, body: str, others: list[str], rng: random.Random, n: int) -> str:
    return f"""<html><head><title>{title}_某某市人民政府</title></head><body>
<div class="top">网站首页 | 机构概况 | 政务公开 | 办事服务 | 互动交流 | 专题专栏</div>
<div class="weizhi">当前位置：首页 &gt; 政务公开 &gt; 通知公告</div>
<table><tr><td class="main"><h1>{title}</h1>
<div class="info">发布时间：2024-05-{n % 28 + 1:02d} 来源：市政府办公室 浏览次数：{rng.randrange(100, 9000)} 【字体：大 中 小】</div>
<div class="TRS_Editor"><p>各区县人民政府，市政府各部门，各直属机构：</p>{body}
<p>本网站所有内容仅供参考，如有疑问请拨打政务服务热线12345咨询。</p><p>扫一扫在手机打开当前页</p>
<p>【打印本页】【关闭窗口】【我要纠错】</p></div></td>
<td class="side"><div class="tit">热点信息</div><ul>{_others(others, rng)}</ul></td></tr></table>
<div class="bottom">主办单位：某某市人民政府办公室 承办单位：某某市大数据中心<br>地址：某某市人民路1号 邮编：100000
 电话：0000-12345678<br>网站标识码：1234000001 某ICP备12345678号 政府网站找错</div></body></html>"""


def _zh_share(title: str, body: str, others: list[str], rng: random.Random, n: int) -> str:
    return f"""<html><head><title>{title} - 公文范文网</title></head><body>
<div class="header"><div class="logo">公文范文网 专业的公文写作学习平台</div><ul class="menu"><li>首页</li><li>工作总结</li>
<li>工作计划</li><li>心得体会</li><li>讲话稿</li><li>通知公告</li><li>述职报告</li></ul></div>
<div class="wrap"><div class="left"><h1>{title}</h1><div class="pubinfo">时间：2024-05-{n % 28 + 1:02d} 作者：admin
 点击：{rng.randrange(100, 9000)}次</div>
<div class="content"><p>温馨提示：本站文章由网友投稿，仅供学习参考，请勿直接照搬使用。</p>{body}
<p>本文仅供学习参考，转载请注明出处。</p><p>声明：本站所有文章资料均来源于网络，如有侵权请联系站长删除。</p>
<div class="xgwz"><p>相关文章：</p><ul>{_others(others, rng)}</ul></div>
<p>下载本文档需要登录账号，开通会员可免费下载全站文档，点击这里立即开通会员。</p></div></div>
<div class="right"><h3>阅读排行</h3><ul>{_others(others, rng, 8)}</ul></div></div>
<div class="foot">Copyright © 2024 公文范文网 版权所有 联系我们 | 免责声明 | 网站地图 | 投诉建议</div></body></html>"""


def _zh_news(title: str, body: str, others: list[str], rng: random.Random, n: int) -> str:
    editor = ["王小明", "李华", "张伟"][n % 3]
    return f"""<html><head><title>{title}-某某日报</title></head><body>
<header><nav>首页 新闻 时政 社会 财经 教育 健康 视频</nav></header>
<article><h1>{title}</h1><div class="meta">2024-05-{n % 28 + 1:02d} 10:{n % 60:02d} 来源：某某日报</div>
<p>原标题：{title}</p><p>【某某日报讯】 关注某某日报微信公众号，第一时间获取权威资讯。</p>{body}
<div class="share">分享到：微信 微博 QQ空间</div><p>责任编辑：{editor}</p>
<p>版权声明：凡注明“来源：某某日报”的所有作品，版权均属于某某日报，未经授权不得转载、摘编或利用其它方式使用。</p>
</article><aside><h3>热点推荐</h3><ul>{_others(others, rng)}</ul></aside>
<footer>某某日报社 版权所有 违法和不良信息举报电话：12345</footer></body></html>"""


def _en_wordpress(title: str, body: str, others: list[str], rng: random.Random, n: int) -> str:
    return f"""<html><head><title>{title} | Daily Example</title></head><body>
<header class="site-header"><nav>Home News Sport Tech Food Science Health About Contact</nav></header>
<main><article class="post"><h1 class="entry-title">{title}</h1>
<div class="entry-meta">Posted on May {n % 28 + 1}, 2024 by Staff Writer</div>
<div class="entry-content">{body[:len(body) // 2]}
<div class="newsletter">Sign up for our newsletter to get the best stories delivered to your inbox every week.</div>
{body[len(body) // 2:]}
<p>Like this story? Share it with a friend and follow us on social media for more updates.</p>
<div class="sharedaddy"><h3>Share this:</h3><ul><li>Twitter</li><li>Facebook</li><li>Email</li></ul></div>
<div class="author-box">About the author: Sam Lee has covered news and features for the Daily Example since 2012
 and lives in Portland with two cats and far too many books.</div>
<h3>You might also like</h3><ul class="jp-list">{_others(others, rng)}</ul></div></article></main>
<footer>© 2024 Daily Example. All rights reserved. Privacy Policy · Terms of Use · Cookie Settings</footer>
</body></html>"""


def _en_ledger(title: str, body: str, others: list[str], rng: random.Random, n: int) -> str:
    paragraphs = body.split("</p>")
    mid = len(paragraphs) // 3
    body = ("</p>".join(paragraphs[:mid]) + "</p><p>Advertisement</p><p>Continue reading the main story</p>"
            + "</p>".join(paragraphs[mid:]))
    return f"""<html><head><title>{title} - The Morning Ledger</title></head><body>
<div id="masthead">The Morning Ledger | World | Business | Sport | Science | Lifestyle | Opinion</div>
<div id="cookie">We use cookies to improve your experience on our site and to show you relevant advertising.
 By continuing to browse you agree to our use of cookies.</div>
<div class="story"><div class="headline">{title}</div><div class="byline">By Morning Ledger reporters, May {n % 28 + 1} 2024</div>
<div class="story-body">{body}
<p>Sign up for the Morning Ledger daily briefing and never miss the stories that matter to you.</p>
<p>Most read</p><ol>{_others(others, rng)}</ol></div></div>
<div id="foot">The Morning Ledger Ltd. Registered in England. All content is copyright protected.</div></body></html>"""


def _en_magazine(title: str, body: str, others: list[str], rng: random.Random, n: int) -> str:
    return f"""<html><head><title>{title} — Example Magazine</title></head><body>
<div class="topbar">Subscribe · Log in · Newsletters · Podcasts</div>
<div class="post-content"><h1>{title}</h1>
<p>This article is part of our ongoing series. Our journalism is supported by readers like you: consider becoming
 a member today.</p>{body}
<p>Filed under: Features, Long Reads, Weekend.</p><p>Comments are closed.</p>
<p>Read more: {_others(others, rng, 3)}</p></div>
<div class="footer-links">About us · Careers · Advertise · Contact · Terms · Privacy</div></body></html>"""


ZH_SITES: dict[str, Template] = {"gov.zh": _zh_gov, "share.zh": _zh_share, "news.zh": _zh_news}
EN_SITES: dict[str, Template] = {"wp.en": _en_wordpress, "ledger.en": _en_ledger, "mag.en": _en_magazine}


@dataclass(frozen=True, slots=True)
class Page:
    id: int
    site: str
    lang: str
    category: str
    url: str
    html: str


# Sentences per body (topical, category-neutral), per language: long bodies, beyond what relatedness reads.
LENGTHS = {"zh": ((6, 10), (45, 60)), "en": ((8, 12), (60, 75))}


def build_pages(per_category: int = 10, seed: int = 11,
                lengths: dict[str, tuple[tuple[int, int], tuple[int, int]]] | None = None) -> list[Page]:
    """Pages of every category on every site of each language; long bodies (more than relatedness reads) of
    topical sentences on the category among many category-neutral ones (counts: `lengths`, see LENGTHS)."""
    rng = random.Random(seed)
    pages: list[Page] = []
    for lang, pools, shared, sites in (("zh", ZH, ZH_GENERIC, ZH_SITES), ("en", EN, EN_GENERIC, EN_SITES)):
        zh = lang == "zh"
        topical, generic = (lengths or LENGTHS)[lang]
        all_titles = [t for titles, _ in pools.values() for t in titles]
        for c, (category, (titles, pool)) in enumerate(pools.items()):
            for k in range(per_category):
                site = list(sites)[(k + c) % len(sites)]
                body = _sentences(shared, rng.randint(*generic), rng, zh)
                for sentence in _sentences(pool, rng.randint(*topical), rng, zh):
                    body.insert(rng.randrange(len(body) + 1), sentence)
                per_paragraph = 4
                paragraphs = ["".join(body[i : i + per_paragraph]) if zh else " ".join(body[i : i + per_paragraph])
                              for i in range(0, len(body), per_paragraph)]
                body_html = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
                title = titles[k % len(titles)]
                page_id = len(pages) + 1
                others = [t for t in all_titles if t != title]
                pages.append(Page(page_id, site, lang, category, f"http://{site}/a/{page_id}.html",
                                  sites[site](html.escape(title), body_html, others, rng, page_id)))
    return pages


def page_items(pages: list[Page]) -> list[ItemText]:
    """What the store holds for each page after the crawler's article extraction."""
    out = []
    for page in pages:
        article = extract_article(Selector(text=page.html), ArticleSelectors(), page.url)
        out.append(ItemText(page.id, article.title or "", article.summary, article.content_html,
                            T0 + timedelta(minutes=page.id), None, page.site))
    return out


@dataclass(frozen=True, slots=True)
class PageQuality:
    chosen: dict[str, float]  # precision@5 per language, production path
    baseline: dict[str, float]  # precision@5 per language, plain TF-IDF over whole cleaned bodies


def _precision(pages: list[Page], ranked: dict[int, list[int]], k: int = 5) -> dict[str, float]:
    label = {p.id: p for p in pages}
    hits: dict[str, list[float]] = {"zh": [], "en": []}
    for page in pages:
        shown = ranked.get(page.id, [])[:k]
        hits[page.lang].append(sum(label[i].category == page.category for i in shown) / k)
    return {lang: sum(v) / len(v) for lang, v in hits.items()}


def tfidf_baseline(items: list[ItemText], k: int = 5) -> dict[int, list[int]]:
    """Plain TF-IDF (count x smoothed idf, unit length, cosine) over title + the whole cleaned body, the same
    terms (feedsvc.related.tokens): no boilerplate removal, no cap on length, no idf power, no term cap."""
    texts = [normalize(t.title + "\n" + _whole(t.content)) for t in items]
    rows, keys, counts = batch_keys(texts)
    vocab, cols = np.unique(keys, return_inverse=True)
    n = len(items)
    df = np.bincount(cols, minlength=len(vocab))
    idf = np.log((1 + n) / (1 + df)) + 1.0
    matrix = sp.csr_matrix((counts * idf[cols], (rows, cols)), shape=(n, len(vocab)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    matrix = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ matrix
    scores = (matrix @ matrix.T).toarray()
    np.fill_diagonal(scores, -1.0)
    ids = [t.id for t in items]
    return {ids[r]: [ids[c] for c in np.argsort(-scores[r], kind="stable")[:k]] for r in range(n)}


def _whole(content: str | None) -> str:
    """A cleaned body's whole text (tags to spaces), uncapped."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", content or "")).split())


def evaluate_pages(pages: list[Page], min_score: float = 0.08, limit: int = 10) -> PageQuality:
    """precision@5 of the production path (stored items -> Docs -> compute_related) and of the baseline."""
    items = page_items(pages)
    docs: list[Doc] = [to_doc(t) for t in items]
    lists, _dups = compute_related(docs, limit, min_score)
    chosen = _precision(pages, {i: [j for j, _ in v] for i, v in lists.items()})
    return PageQuality(chosen, _precision(pages, tfidf_baseline(items)))


def long_bodies(pages: list[Page]) -> float:
    """Share of pages whose cleaned body is longer than what relatedness reads."""
    return sum(len(_whole(t.content).encode()) > MAX_BODY_BYTES for t in page_items(pages)) / len(pages)
