"""Writes tests/data/suggest/: the layout corpus for bench/suggest_quality.py, pages and truth.json together so they agree. Run: python tools/make_suggest_corpus.py"""
import html
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "suggest"
OUT.mkdir(parents=True, exist_ok=True)
E = html.escape

def write(name, page, truth, renamed=None, enc="utf-8", article=None):
    d = OUT / name
    d.mkdir(exist_ok=True)
    fname = "index.gbk.html" if enc == "gbk" else "index.html"
    (d / fname).write_bytes(page.encode(enc))
    truth["page"] = fname
    if renamed:
        rn = "renamed.gbk.html" if enc == "gbk" else "renamed.html"
        (d / rn).write_bytes(renamed.encode(enc))
        truth["renamed"] = rn
    if article:
        (d / "article.html").write_text(article, encoding="utf-8")
    (d / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

NAV_ZH = '<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/list/1.html">通知公告</a></li><li><a href="/list/2.html">工作动态</a></li><li><a href="/list/3.html">政策法规</a></li><li><a href="/list/4.html">办事指南</a></li><li><a href="/about.html">关于我们</a></li></ul></div>'
FOOT_ZH = '<div class="footer"><div class="links">友情链接：<a href="http://gov.example.cn/">政府网</a> <a href="http://news.example.cn/">新闻网</a> <a href="http://edu.example.cn/">教育网</a> <a href="/map.html">网站地图</a></div><p>版权所有 &copy; 2025</p></div>'

# 1. GBK portal with glued dates
rec = [("1001", "10-12", "2024年廉政谈话记录", "2025-10-12"), ("1002", "09-30", "2025年第三季度工作总结报告", "2025-09-30"),
       ("1003", "09-18", "关于开展安全生产大检查的通知", "2025-09-18"), ("1004", "08-02", "2025年度党员发展计划安排", "2025-08-02"),
       ("1005", "07-21", "乡镇典型事迹材料汇编（第二辑）", "2025-07-21"), ("1006", "12-30", "2024年党建工作述职报告", "2025-12-30")]
lat = [("2001", "2026-01-04", "关于做好2026年元旦春节期间有关工作的通知", "2026-01-04"), ("2002", "2026-01-02", "市政府常务会议研究部署近期重点工作", "2026-01-02"),
       ("2003", "2025-12-28", "全市经济工作会议召开", "2025-12-28"), ("2004", "2025-12-20", "关于公布第一批行政许可事项清单的公告", "2025-12-20"),
       ("2005", "2025-12-15", "冬季供暖保障工作新闻发布会实录", "2025-12-15"), ("2006", "2025-12-01", "十二月份重点项目建设推进情况通报", "2025-12-01"),
       ("2007", "2025-11-26", "关于征集2026年民生实事项目的公告", "2025-11-26")]
def gbk_page(rec_cls, lat_cls, title_cls):
    r = "".join(f'<li><a href="/a/{i}.html" target="_blank">{d}{E(t)}</a></li>' for i, d, t, _ in rec)
    rows_ = "".join(f'<li><span class="date">{d}</span><a href="/a/{i}.html">{E(t)}</a></li>' for i, d, t, _ in lat)
    return f'''<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk"><title>某市政务门户</title></head><body>
<div class="top"><a href="/">某市政务门户</a></div>{NAV_ZH}
<div class="main"><div class="left"><div class="{lat_cls}"><div class="{title_cls}"><span>最新动态</span><a class="more" href="/list/2.html">更多&gt;&gt;</a></div>
<ul>{rows_}</ul></div></div>
<div class="right"><div class="{rec_cls}"><div class="{title_cls}"><span>推荐文稿</span></div><ul>{r}</ul></div>
<div class="hot-tags"><h3>热门标签</h3><a href="/tag/1">廉政</a> <a href="/tag/2">党建</a> <a href="/tag/3">安全</a> <a href="/tag/4">民生</a> <a href="/tag/5">发布会</a></div></div></div>
{FOOT_ZH}</body></html>'''
write("gbk_portal", gbk_page("tjwg", "zxdt", "tit"),
      {"timezone": "Asia/Shanghai", "listings": [
          {"name": "最新动态", "items": [[f"/a/{i}.html", t, iso] for i, _, t, iso in lat]},
          {"name": "推荐文稿", "items": [[f"/a/{i}.html", t, iso] for i, _, t, iso in rec]}]},
      renamed=gbk_page("recommend-box", "news-latest", "box-title"), enc="gbk")

# 2. blog cards
posts = [("winter-garden", "Notes from a winter garden", "2 days ago", "2026-01-03"), ("pruning-roses", "Pruning roses in the rain", "Dec 28, 2025", "2025-12-28"),
         ("seed-catalogues", "Reading seed catalogues like novels", "Dec 20, 2025", "2025-12-20"), ("compost-myths", "Five compost myths, tested", "Dec 9, 2025", "2025-12-09"),
         ("greenhouse-build", "Building a greenhouse from old windows", "Nov 30, 2025", "2025-11-30"), ("bulbs-late", "Planting bulbs late: what happened", "Nov 14, 2025", "2025-11-14")]
def blog_page(cards_cls, card_cls):
    cards = "".join(f'<div class="{card_cls}"><a href="/posts/{s}/"><img src="/img/{s}.jpg" alt=""><h3>{E(t)}</h3></a><p class="excerpt">A few words about {E(t.lower())}.</p><span class="meta">{d}</span></div>' for s, t, d, _ in posts)
    return f'''<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>The Muddy Boots Blog</title></head><body>
<header class="site-header"><a class="brand" href="/">Muddy Boots</a><nav><ul><li><a href="/">Home</a></li><li><a href="/archive/">Archive</a></li><li><a href="/about/">About</a></li><li><a href="/contact/">Contact</a></li></ul></nav></header>
<main><h2>Featured</h2><div class="{cards_cls}">{cards}</div></main>
<aside><h3>Tags</h3><div class="tag-cloud"><a href="/tags/roses/">roses</a> <a href="/tags/compost/">compost</a> <a href="/tags/winter/">winter</a> <a href="/tags/tools/">tools</a> <a href="/tags/seeds/">seeds</a></div>
<h3>Elsewhere</h3><ul class="blogroll"><li><a href="https://other.example.org/">Another garden blog</a></li><li><a href="https://third.example.net/">Allotment diaries</a></li><li><a href="https://fourth.example.com/">Seed savers forum</a></li></ul></aside>
<footer><p>&copy; 2025 Muddy Boots</p><a href="/privacy/">Privacy</a> <a href="/feed/">RSS</a></footer></body></html>'''
write("blog_cards", blog_page("cards", "card"), {"timezone": "UTC", "listings": [
    {"name": "Featured", "items": [[f"/posts/{s}/", t, iso] for s, t, _, iso in posts]}]},
    renamed=blog_page("post-grid", "post-tile"))

# 3. table rows
notices = [("n/301", "关于2026年春节放假安排的通知", "2025-12-30"), ("n/300", "关于开展年度统计执法检查的公告", "2025-12-22"),
           ("n/299", "关于调整办公时间的通知", "2025-12-10"), ("n/298", "2025年第四季度政府采购意向公开", "2025-12-01"),
           ("n/297", "关于征求《物业管理条例》修订意见的公告", "2025-11-21"), ("n/296", "行政审批事项目录动态调整公示", "2025-11-12")]
def table_page(tcls):
    rows = "".join(f'<tr><td class="t"><a href="/{u}.html" title="{E(t)}">{E(t)}</a></td><td>办公室</td><td class="d">{iso}</td></tr>' for u, t, iso in notices)
    return f'''<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>通知公告 - 某局</title></head><body>{NAV_ZH}
<div class="crumbs">当前位置：<a href="/">首页</a> &gt; <a href="/list/1.html">通知公告</a></div>
<div class="content"><h2>通知公告</h2><table class="{tcls}"><tr><th>标题</th><th>发布机构</th><th>日期</th></tr>{rows}</table>
<div class="pager"><a href="/list/1_2.html">2</a> <a href="/list/1_3.html">3</a> <a href="/list/1_2.html">下一页</a></div></div>{FOOT_ZH}</body></html>'''
write("table_rows", table_page("notice-table"), {"timezone": "Asia/Shanghai", "listings": [
    {"name": "通知公告", "items": [[f"/{u}.html", t, iso] for u, t, iso in notices]}]}, renamed=table_page("tbl-list"))

# 4. dl/dt/dd
arch = [("2025/12/field-notes", "Field notes: the last frost", "2025-12-29"), ("2025/12/trains", "On slow trains and fast thoughts", "2025-12-17"),
        ("2025/11/lamps", "Repairing old lamps", "2025-11-30"), ("2025/11/letters", "Letters I never sent", "2025-11-08"),
        ("2025/10/fog", "A week of fog", "2025-10-21")]
def dl_page(dcls):
    items = "".join(f'<dt><a href="/{u}.html">{E(t)}</a></dt><dd class="when">Posted {iso}</dd>' for u, t, iso in arch)
    return f'''<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Quiet Notes</title></head><body>
<div id="menu"><a href="/">Home</a> | <a href="/archive.html">Archive</a> | <a href="/about.html">About</a></div>
<div class="page"><h1>Quiet Notes</h1><p>Short essays, now and then.</p><h2>Recent essays</h2><dl class="{dcls}">{items}</dl></div>
<div id="footer"><a href="/feed.xml">Feed</a> · <a href="/colophon.html">Colophon</a> · <a href="/contact.html">Contact</a></div></body></html>'''
write("dl_archive", dl_page("essays"), {"timezone": "UTC", "listings": [
    {"name": "Recent essays", "items": [[f"/{u}.html", t, iso] for u, t, iso in arch]}]}, renamed=dl_page("entries-list"))

# 5. multi-column news front page
cols = {"Politics": [("p1", "Council approves new bridge budget", "2026-01-04"), ("p2", "Mayor outlines plans for the year", "2026-01-03"), ("p3", "Election date set for spring", "2025-12-30"), ("p4", "Opposition calls for transport audit", "2025-12-28")],
        "Business": [("b1", "Local bakery chain opens third shop", "2026-01-04"), ("b2", "Port traffic hits record in December", "2026-01-02"), ("b3", "Tech park adds two hundred jobs", "2025-12-29"), ("b4", "Farmers market moves indoors for winter", "2025-12-22")],
        "Culture": [("c1", "Museum reopens its textile wing", "2026-01-05"), ("c2", "Choir festival draws record crowd", "2025-12-31"), ("c3", "Library extends weekend opening hours", "2025-12-27"), ("c4", "Street art trail gets new murals", "2025-12-19")]}
most = [("b2", "Port traffic hits record in December"), ("p1", "Council approves new bridge budget"), ("c2", "Choir festival draws record crowd"), ("p3", "Election date set for spring"), ("b1", "Local bakery chain opens third shop")]
def news_page(ccls, rcls):
    columns = "".join(f'<div class="{ccls}"><h2>{name}</h2><ul>' + "".join(f'<li><a href="/story/{s}">{E(t)}</a> <time>{iso}</time></li>' for s, t, iso in items) + '</ul></div>' for name, items in cols.items())
    mr = "".join(f'<li><a href="/story/{s}">{E(t)}</a></li>' for s, t in most)
    return f'''<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Harbour Town Gazette</title></head><body>
<header><h1>Harbour Town Gazette</h1><nav class="sections"><a href="/politics">Politics</a> <a href="/business">Business</a> <a href="/culture">Culture</a> <a href="/sport">Sport</a> <a href="/opinion">Opinion</a></nav></header>
<div class="breadcrumb"><a href="/">Home</a> › Front page</div>
<div class="columns">{columns}</div>
<div class="{rcls}"><h2>Most read</h2><ol>{mr}</ol></div>
<footer><ul><li><a href="/about">About us</a></li><li><a href="/jobs">Jobs</a></li><li><a href="/advertise">Advertise</a></li><li><a href="/terms">Terms</a></li></ul></footer></body></html>'''
news_truth = [{"name": n, "items": [[f"/story/{s}", t, iso] for s, t, iso in items]} for n, items in cols.items()]
news_truth.append({"name": "Most read", "items": [[f"/story/{s}", t, None] for s, t in most]})
write("news_front", news_page("col", "rank-list"), {"timezone": "UTC", "listings": news_truth}, renamed=news_page("column", "popular-box"))

# 6. menus and tag clouds: nothing to find
tags = ["python", "rust", "go", "databases", "testing", "design", "security", "devops", "web", "mobile"]
menus = f'''<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Directory</title></head><body>
<header><nav><ul class="menu"><li><a href="/">Home</a></li><li><a href="/products">Products</a><ul><li><a href="/products/a">Product A</a></li><li><a href="/products/b">Product B</a></li><li><a href="/products/c">Product C</a></li></ul></li><li><a href="/support">Support</a></li><li><a href="/blog">Blog</a></li></ul></nav></header>
<div class="breadcrumbs"><a href="/">Home</a> / <a href="/topics">Topics</a> / Index</div>
<div class="main"><h1>Topics</h1><div class="tagcloud">{" ".join(f'<a href="/t/{t}" style="font-size:{10+i}px">{t}</a>' for i, t in enumerate(tags))}</div>
<h2>Categories</h2><ul class="categories">{"".join(f'<li><a href="/c/{t}">{t.title()}</a> (12)</li>' for t in tags[:6])}</ul>
<h2>Popular searches</h2><ul>{"".join(f'<li><a href="/search?q={t}">{t}</a></li>' for t in tags[3:9])}</ul>
<h2>Partner sites</h2><ul>{"".join(f'<li><a href="https://partner{i}.example.org/">Partner number {i} website</a></li>' for i in range(5))}</ul>
<h2>Downloads</h2><ul>{"".join(f'<li><a href="/files/manual-{t}.pdf">Manual for {t} users</a></li>' for t in tags[:5])}</ul></div>
<footer><div class="footer-links"><a href="/privacy">Privacy</a> <a href="/terms">Terms</a> <a href="/cookies">Cookies</a> <a href="/accessibility">Accessibility</a></div>
<div class="social"><a href="https://x.example/">X</a> <a href="https://fb.example/">Facebook</a> <a href="https://yt.example/">YouTube</a></div></footer></body></html>'''
write("menus_tags", menus, {"timezone": "UTC", "listings": []})

# 7. script-filled ranking
latest7 = [("a/501", "区政府召开专题会议研究防汛工作", "2026-01-04"), ("a/500", "关于开展冬季消防安全检查的通知", "2026-01-03"),
           ("a/499", "区委理论学习中心组开展集中学习", "2025-12-31"), ("a/498", "2025年度重点民生项目进展情况", "2025-12-26"),
           ("a/497", "优化营商环境工作推进会召开", "2025-12-18")]
def script_page(lcls):
    rows_ = "".join(f'<li><a href="/{u}.html">{E(t)}</a><span>{iso}</span></li>' for u, t, iso in latest7)
    return f'''<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>某区政府网</title></head><body>{NAV_ZH}
<div class="wrap"><div class="{lcls}"><h3>最新文稿</h3><ul>{rows_}</ul></div>
<div class="box-rank"><div class="title"><span>阅读排行</span></div><ul id="phb"></ul></div></div>
<script>fetch("/api/rank.json").then(r => r.json()).then(list => {{ document.getElementById("phb").innerHTML = list.map(x => '<li><a href="' + x.url + '">' + x.title + '</a></li>').join(""); }});</script>
{FOOT_ZH}</body></html>'''
write("script_ranking", script_page("news-box"), {"timezone": "Asia/Shanghai", "script_filled": ["阅读排行"], "listings": [
    {"name": "最新文稿", "items": [[f"/{u}.html", t, iso] for u, t, iso in latest7]}]}, renamed=script_page("latest-box"))
print("ok")
