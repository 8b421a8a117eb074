"""Shared data for the relatedness tests that go through a database: a config and a few short articles."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedsvc.config import parse_config
from feedsvc.models import Item
from feedsvc.store.items import ItemRecord, store_items
from feedsvc.store.sources import sync_sources

T0 = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
CFG = parse_config({
    "sources": [{"id": "gw", "title": "GW", "start_urls": ["http://127.0.0.1/"],
                 "listings": [{"id": "latest", "heading": "最新"}, {"id": "more", "heading": "您可能感兴趣的文稿",
                                                                  "kind": "related"}]}],
    "topics": [{"id": "party", "title": "党建", "keywords": ["党员"]},
               {"id": "tax", "title": "Tax", "seed_urls": ["http://gw/en/tax1"]}],
})

PARTY = "支部党员大会讨论发展党员工作，党员积极分子培养考察，组织生活会批评与自我批评，三会一课制度落实。"
FLOOD = "防汛抗旱指挥部部署汛期防汛工作，水库堤防巡查值守，山洪地质灾害预警，抢险物资储备到位。"
TAX = "The tax reform cuts income tax rates for small businesses and changes the tax code for deductions."
FOOTBALL = "The football club won the league final after a penalty shootout; the striker scored twice."

ARTICLES = [
    ("http://gw/p1", "2024年第一党支部党员大会会议记录", PARTY),
    ("http://gw/p2", "第二党支部组织生活会发展党员情况", PARTY[10:] + "党员发展对象公示。"),
    ("http://gw/f1", "防汛工作部署会议讲话", FLOOD),
    ("http://gw/f2", "汛期防汛抢险工作方案", FLOOD[8:] + "防汛值班制度。"),
    ("http://gw/en/tax1", "Tax reform for small businesses", TAX),
    ("http://gw/en/tax2", "Income tax rates cut in tax reform", TAX[20:] + " Tax deductions explained."),
    ("http://gw/en/foot1", "Club wins the league final", FOOTBALL),
]


def article(url: str, title: str, text: str) -> ItemRecord:
    return ItemRecord(source_id="gw", url=url, title=title, summary=text[:60], content=f"<p>{text}</p>",
                      is_article=True, listing_id="latest", listing_kind="latest", rank=1)


def store_articles(session: Session, rows: list[tuple[str, str, str]], at: datetime) -> list[int]:
    sync_sources(session, CFG.sources, T0)
    result = store_items(session, [article(*row) for row in rows], None, at)
    session.commit()
    return result.new_item_ids


def url_ids(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Item.url, Item.id)).all())
