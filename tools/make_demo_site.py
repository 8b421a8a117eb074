"""Generate the bundled demo site (feedsvc/demo/site/): a small Chinese document portal plus an English blog.

Modelled on /work/shared/reference/sample-page.txt: GBK pages, 推荐文稿 / 阅读排行 / 最新文稿 lists whose dates
are month-day without a year (glued to the title in 推荐文稿, as on the real site), and ~30 articles each
ending with a 您可能感兴趣的文稿 block. Deterministic: run it again and the output is byte-identical.

    python tools/make_demo_site.py            # rewrites feedsvc/demo/site/
    python tools/make_demo_site.py OUT_DIR    # writes elsewhere (the tests compare it with the committed copy)
"""

from __future__ import annotations

import html
import json
import random
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "feedsvc" / "demo" / "site"
SITE = "示例公文网"
NEWEST = datetime(2026, 11, 20, 9, 30)

# theme → (title templates, sentences). Topics repeat across articles so related items have something to find.
THEMES: dict[str, tuple[list[str], list[str]]] = {
    "党建": (
        ["{y}年支部党员大会会议记录", "党支部与党员一对一谈心谈话记录", "党建创新案例:把党组织建在项目上",
         "{y}年基层党建工作要点", "关于加强党员教育管理的实施意见", "党纪学习教育工作情况汇报"],
        ["支部委员会认真组织学习,党员同志结合自身实际谈认识、谈体会。", "要把党的建设贯穿工作全过程,以高质量党建引领高质量发展。",
         "坚持“三会一课”制度,规范组织生活,提升支部组织力。", "党员干部要带头学习党章、尊崇党章,做到知行合一。",
         "把党组织建在项目上,让党旗在一线高高飘扬,助推重点项目加速推进。", "围绕中心抓党建,抓好党建促发展,形成同频共振的良好局面。"],
    ),
    "乡村振兴": (
        ["乡镇青年干部围绕乡村振兴交流研讨材料", "关于数字乡村建设存在的问题与对策建议", "{y}年乡村振兴重点任务清单",
         "乡镇典型事迹材料:产业兴旺带富一方", "关于推进农村人居环境整治的调研报告", "驻村第一书记工作总结"],
        ["乡村振兴关键在产业,要因地制宜发展特色种养和乡村旅游。", "数字乡村建设要补齐网络基础设施短板,推动电商进村入户。",
         "持续改善农村人居环境,扎实推进厕所革命和生活垃圾治理。", "驻村工作队深入农户走访,帮助群众解决急难愁盼问题。",
         "培育新型农业经营主体,带动小农户与现代农业有机衔接。", "壮大村级集体经济,让农民群众在发展中有更多获得感。"],
    ),
    "办公室": (
        ["做好新时代办公室工作必须强化六种意识", "办公室工作经验交流材料", "关于提高公文写作质量的几点思考",
         "以明确的权责为基层减负", "机关办文办会办事规范汇编", "{y}年办公室工作总结和明年打算"],
        ["办公室是党委、政府的服务部,服务是工作主旋律。", "要有大局意识,想问题站得更高一些,办事情更超脱一些。",
         "当好参谋助手,围绕中心工作,贴近领导思路,积极做好决策服务。", "公文写作要做到主题鲜明、结构严谨、语言准确、文风朴实。",
         "精简文件会议,把基层干部从文山会海中解放出来。", "强化督查督办,推动各项决策部署落地见效。"],
    ),
    "廉政": (
        ["{y}年廉政谈话记录", "深入整治违规吃喝问题研讨材料", "集体廉政谈话提纲",
         "关于加强党风廉政建设和反腐败工作的实施意见", "廉政警示教育大会讲话", "领导干部个人廉洁自律情况报告"],
        ["要深刻汲取典型案例教训,筑牢拒腐防变的思想防线。", "严格落实中央八项规定精神,坚决纠治“四风”问题。",
         "主要负责同志要履行第一责任人职责,做到管业务必须管廉政。", "以案促改、以案促治,健全完善廉政风险防控机制。",
         "开展经常性纪律教育,让党员干部知敬畏、存戒惧、守底线。", "坚持严的基调不动摇,一体推进不敢腐、不能腐、不想腐。"],
    ),
    "教育": (
        ["在庆祝教师节活动上的致辞", "关于推进义务教育优质均衡发展的调研报告", "{y}年校园安全工作方案",
         "教师队伍建设情况汇报", "关于做好课后服务工作的通知", "家校共育工作经验材料"],
        ["教育是国之大计、党之大计,教师是立教之本、兴教之源。", "推进义务教育优质均衡发展,缩小城乡、校际差距。",
         "落实校园安全责任,开展经常性安全教育和应急演练。", "加强师德师风建设,引导广大教师以德立身、以德施教。",
         "丰富课后服务内容,满足学生多样化学习需求。", "构建家校社协同育人机制,形成教育合力。"],
    ),
}

ENGLISH = [
    ("release-notes-0-1", "Release notes for feedsvc 0.1", "Feeds for sites that publish none: listings, dates and related items."),
    ("month-day-dates", "Why month-day dates are hard", "A date like 12-30 has no year; the crawler picks the latest one not after the crawl day."),
    ("polite-crawling", "Crawling politely", "robots.txt, a descriptive user agent, delays, and conditional requests that cost 304s."),
    ("gbk-pages", "Reading GBK pages", "Encodings declared in the header, in a meta tag, or nowhere at all."),
    ("related-items", "Related items that are actually related", "Site-provided lists are often just the latest items; computing similarity does better."),
    ("running-unattended", "Running unattended for months", "Scheduled crawls that survive restarts, never pile up, and retry with backoff."),
]


def build_articles(rng: random.Random) -> list[dict[str, object]]:
    articles: list[dict[str, object]] = []
    when = NEWEST
    themes = list(THEMES)
    for n in range(30):
        theme = themes[n % len(themes)]
        titles, sentences = THEMES[theme]
        title = titles[(n // len(themes)) % len(titles)].format(y=when.year if n % 2 else when.year - 1)
        paragraphs = ["".join(rng.sample(sentences, 3)) for _ in range(3)]
        articles.append({"id": 2001 + n, "title": title, "theme": theme, "when": when, "paragraphs": paragraphs})
        when -= timedelta(hours=rng.choice([9, 15, 22, 31]))
    return articles


def page(title: str, body: str, charset: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta http-equiv="Content-Type" content="text/html; '
            f'charset={charset}">\n<title>{html.escape(title)}</title>\n</head>\n<body>\n'
            f'<div class="header"><a href="/" class="logo">{SITE}</a></div>\n'
            f'<div class="nav"><a href="/">首页</a> <a href="/list_2.html">更多文稿</a> <a href="/en/">English</a></div>\n'
            f"{body}\n<div class=\"footer\">Copyright &copy; {SITE} · 演示站点,内容为生成的示例文本</div>\n</body>\n</html>\n")


def md(a: dict[str, object]) -> str:
    when = a["when"]
    assert isinstance(when, datetime)
    return when.strftime("%m-%d")


def link(a: dict[str, object]) -> str:
    return f"/a/{a['id']}.html"


def latest_items(items: list[dict[str, object]]) -> str:
    return "\n".join(f'<li><a href="{link(a)}">{html.escape(str(a["title"]))}</a><span class="date">{md(a)}</span></li>'
                     for a in items)


def index_page(articles: list[dict[str, object]], rng: random.Random) -> str:
    recommended = rng.sample(articles, 8)
    ranking = rng.sample(articles, 10)
    rec = "\n".join(f'<li><a href="{link(a)}" target="_blank">{md(a)}{html.escape(str(a["title"]))}</a></li>'
                    for a in recommended)  # month-day glued to the title, as on the real site
    # Like the real site: the ranking is empty in the HTML and filled by a script (crawled through Chromium).
    rank_rows = json.dumps([[link(a), str(a["title"])] for a in ranking], ensure_ascii=True).replace("</", "<\\/")
    body = (f'<div class="main">\n<div class="box latest">\n<h2>最新文稿</h2>\n<ul class="list">\n'
            f"{latest_items(articles[:12])}\n</ul>\n"
            '<div class="pages"><span>1</span> <a href="list_2.html">2</a> <a class="next" href="list_2.html">下一页</a></div>\n'
            f'</div>\n<div class="box">\n<h3>推荐文稿</h3>\n<ul>\n{rec}\n</ul>\n</div>\n'
            '<div class="box rank">\n<div class="title"><h3>阅读排行</h3><a class="more" href="/">更多&gt;&gt;</a></div>\n'
            '<ol id="phb"></ol>\n</div>\n</div>\n'
            f'<script>\nvar rows = {rank_rows};\ndocument.getElementById("phb").innerHTML = rows.map(function (r, i) {{\n'
            '  var a = document.createElement("a"); a.href = r[0]; a.textContent = r[1];\n'
            '  return "<li><em>" + (i + 1) + "</em>" + a.outerHTML + "</li>";\n}).join("");\n</script>')
    return page(f"{SITE} - 首页", body, "gbk")


def list_page(articles: list[dict[str, object]]) -> str:
    body = (f'<div class="main">\n<div class="box latest">\n<h2>最新文稿</h2>\n<ul class="list">\n'
            f"{latest_items(articles[12:])}\n</ul>\n"
            '<div class="pages"><a href="/">1</a> <span>2</span></div>\n</div>\n</div>')
    return page(f"最新文稿_第2页_{SITE}", body, "gbk")


def article_page(a: dict[str, object], articles: list[dict[str, object]], rng: random.Random) -> str:
    when = a["when"]
    assert isinstance(when, datetime)
    paragraphs = a["paragraphs"]
    assert isinstance(paragraphs, list)
    others = [o for o in articles if o["id"] != a["id"]]
    # Like the real site: mostly the newest items, not really related ones.
    related = others[:7] + rng.sample(others[7:], 3)
    rel = "\n".join(f'<li><a href="{link(o)}" target="_blank">{md(o)}{html.escape(str(o["title"]))}</a></li>'
                    for o in related)
    text = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    body = (f'<div class="main">\n<div class="crumb"><a href="/">首页</a> &gt; {a["theme"]} &gt; 正文</div>\n'
            f'<div class="article">\n<h1>{html.escape(str(a["title"]))}</h1>\n'
            f'<div class="info">发布时间:{when:%Y-%m-%d %H:%M} 来源:{SITE} 栏目:{a["theme"]}</div>\n'
            f'<div class="content" id="content">\n{text}\n</div>\n</div>\n'
            f'<div class="related">\n<div class="hd"><h3>您可能感兴趣的文稿</h3></div>\n<ul class="list">\n{rel}\n</ul>\n</div>\n</div>')
    return page(f"{a['title']}_{SITE}", body, "gbk")


def english_pages() -> dict[str, str]:
    def en_page(title: str, body: str) -> str:
        return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
                f'</head>\n<body>\n<header><a href="/en/">The feedsvc demo blog</a></header>\n{body}\n</body>\n</html>\n')

    out: dict[str, str] = {}
    when = NEWEST
    items = []
    for slug, title, summary in ENGLISH:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        shown = when.strftime("%b %-d, %Y")
        items.append(f'<li><a href="/en/posts/{slug}.html">{html.escape(title)}</a> '
                     f'<time datetime="{stamp}">{shown}</time></li>')
        out[f"en/posts/{slug}.html"] = en_page(title, (
            f'<article>\n<h1>{html.escape(title)}</h1>\n<p class="byline">Posted <time datetime="{stamp}">{shown}</time></p>\n'
            f"<p>{html.escape(summary)}</p>\n<p>This page is part of the demo site bundled with feedsvc.</p>\n</article>"))
        when -= timedelta(days=2, hours=5)
    out["en/index.html"] = en_page("The feedsvc demo blog", (
        '<main>\n<section>\n<h2>Latest posts</h2>\n<ul>\n' + "\n".join(items) + "\n</ul>\n</section>\n</main>"))
    return out


def main(out: Path = OUT) -> None:
    rng = random.Random(20261120)
    articles = build_articles(rng)
    files: dict[str, tuple[str, str]] = {
        "index.html": (index_page(articles, rng), "gbk"),
        "list_2.html": (list_page(articles), "gbk"),
        "robots.txt": ("User-agent: *\nDisallow: /admin/\n", "utf-8"),
    }
    for a in articles:
        files[f"a/{a['id']}.html"] = (article_page(a, articles, rng), "gbk")
    for name, text in english_pages().items():
        files[name] = (text, "utf-8")
    if out.exists():
        shutil.rmtree(out)
    for name, (text, encoding) in sorted(files.items()):
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode(encoding))
    print(f"wrote {len(files)} files to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
