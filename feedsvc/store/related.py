"""The `related_links` and `related_terms` tables and the item reads relatedness needs; `items.duplicate_of` marks.

origin 'site' rows are the page's own "you may also like" list (written by items.store_items); origin
'computed' rows are ours (written here, from feedsvc/related/refresh.py), ranked 1..k per item. Datetimes are
timezone-aware UTC. Nothing here commits: the caller owns the transaction. Every write that changes what
feeds show (links, duplicate marks) bumps the data version, so cached feeds are rebuilt; `related_terms` (document
frequencies and postings, feedsvc/related/postings.py) never shows in a feed, so writing it does not.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, islice, repeat
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, delete, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased

from feedsvc.models import Appearance, Item, ListingItem, RelatedLink, RelatedTerm
from feedsvc.store._base import MAX_PARAMS_PER_STATEMENT, chunks, wrap_exceptions
from feedsvc.store.meta import bump_data_version

COMPUTED = "computed"
SITE = "site"
# The site's own lists are mostly its latest items (see the sample page), so they rank below anything computed.
SITE_FALLBACK_SCORE = 0.0


@dataclass(frozen=True, slots=True)
class ItemText:
    """What relatedness reads of an item."""

    id: int
    title: str
    summary: str | None
    content: str | None
    first_seen: datetime
    duplicate_of: int | None
    source_id: str

    def __reduce__(self) -> tuple[type[ItemText], tuple[object, ...]]:
        # Pickled as a constructor call: a rebuild sends every row to its worker processes, and the default
        # pickling of a frozen slots dataclass cost 2.6x as much (1.2 CPU-s for 100,000 rows).
        return (ItemText, (self.id, self.title, self.summary, self.content, self.first_seen, self.duplicate_of,
                           self.source_id))


# Relatedness reads the start of a body only (feedsvc.related.docs.MAX_BODY_BYTES of text: 1,200 Chinese or
# 3,600 ASCII characters); cutting it in SQL keeps long HTML pages from being loaded whole. Twice the ASCII
# length leaves room for markup.
BODY_PREFIX_CHARS = 2 * 3600
_TEXT_COLUMNS = (Item.id, Item.title, Item.summary, func.substr(Item.content, 1, BODY_PREFIX_CHARS),
                 Item.first_seen, Item.duplicate_of, Item.source_id)


def _canonical_id(session: Session, item_id: int) -> int:
    duplicate_of = session.scalar(select(Item.duplicate_of).where(Item.id == item_id))
    return int(duplicate_of) if duplicate_of is not None else item_id


@wrap_exceptions
def related_items(session: Session, item_id: int, limit: int) -> list[tuple[Item, float]]:
    """An item's related items, best first: computed links, else the site's own links (score 0.0).

    A near-duplicate shows its original's list. Items hidden as duplicates and the item itself never appear.
    """
    source_id = _canonical_id(session, item_id)
    excluded = {item_id, source_id}
    stmt = (
        select(Item, RelatedLink.score)
        .join(RelatedLink, RelatedLink.to_item_id == Item.id)
        .where(RelatedLink.from_item_id == source_id, RelatedLink.origin == COMPUTED, Item.duplicate_of.is_(None))
        .order_by(RelatedLink.score.desc(), RelatedLink.rank, Item.id)
        .limit(limit + 2)
    )
    found = [(item, float(score)) for item, score in session.execute(stmt) if item.id not in excluded]
    if found:
        return found[:limit]
    site = (
        select(Item)
        .join(RelatedLink, RelatedLink.to_item_id == Item.id)
        .where(RelatedLink.from_item_id.in_(sorted(excluded)), RelatedLink.origin == SITE,
               Item.duplicate_of.is_(None))
        .order_by(func.coalesce(RelatedLink.rank, 1_000_000), Item.id)
        .limit(limit + 2)
    )
    seen: set[int] = set()
    out: list[tuple[Item, float]] = []
    for item in session.scalars(site):
        if item.id not in excluded and item.id not in seen:
            seen.add(item.id)
            out.append((item, SITE_FALLBACK_SCORE))
    return out[:limit]


@dataclass(frozen=True, slots=True)
class RelatedLinkRow:
    """What an entry's "Related" list shows of a related item."""

    id: int
    url: str
    title: str


@wrap_exceptions
def inline_related(session: Session, item_ids: Sequence[int], per_item: int) -> dict[int, list[RelatedLinkRow]]:
    """Top `per_item` computed related items of each item (for a feed page), in one query per 900 ids.

    Uses the stored rank, so no window functions; items with nothing computed are absent from the result.
    Only the three columns a "Related" list shows are read, so a feed build does not load full articles.
    """
    out: dict[int, list[RelatedLinkRow]] = {}
    if per_item <= 0:
        return out
    for part in chunks(sorted(set(item_ids)), MAX_PARAMS_PER_STATEMENT):
        if not part:
            continue
        stmt = (
            select(RelatedLink.from_item_id, Item.id, Item.url, Item.title)
            .join(Item, Item.id == RelatedLink.to_item_id)
            .where(RelatedLink.from_item_id.in_(part), RelatedLink.origin == COMPUTED,
                   RelatedLink.rank <= per_item, Item.duplicate_of.is_(None))
            .order_by(RelatedLink.from_item_id, RelatedLink.rank)
        )
        for from_id, item_id, url, title in session.execute(stmt):
            out.setdefault(int(from_id), []).append(RelatedLinkRow(int(item_id), url, title))
    return out


@wrap_exceptions
def computed_links(session: Session, item_ids: Sequence[int]) -> dict[int, list[tuple[int, float]]]:
    """Current computed lists of these items: from id -> [(to id, score)] best first."""
    out: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for part in chunks(sorted(set(item_ids)), MAX_PARAMS_PER_STATEMENT):
        if not part:
            continue
        stmt = (
            select(RelatedLink.from_item_id, RelatedLink.to_item_id, RelatedLink.score)
            .where(RelatedLink.from_item_id.in_(part), RelatedLink.origin == COMPUTED)
            .order_by(RelatedLink.from_item_id, RelatedLink.rank)
        )
        for from_id, to_id, score in session.execute(stmt):
            out[int(from_id)].append((int(to_id), float(score)))
    return dict(out)


_LINK_COLUMNS = "from_item_id, to_item_id, origin, score, rank, updated_at"


# A rebuild's links: (from item ids, to item ids, scores, ranks), equal lengths.
LinkChunk = tuple[Sequence[int], Sequence[int], Sequence[float], Sequence[int]]


def _link_stamp(conn: Any, at: datetime) -> Any:
    """updated_at as the driver takes it, converted once for every row (on SQLite the text its driver would make
    of it, so the driver's per-row datetime adapter is not paid)."""
    table = cast(Table, RelatedLink.__table__)
    convert = table.c.updated_at.type.bind_processor(conn.dialect)
    stamp = convert(at) if convert else at
    return stamp.isoformat(" ") if conn.dialect.name == "sqlite" and isinstance(stamp, datetime) else stamp


def _link_rows(conn: Any, lists: Iterable[tuple[int, Sequence[tuple[int, float]]]],
               at: datetime) -> Iterator[tuple[Any, ...]]:
    """Plain tuples for the driver, ranked 1..k per list."""
    stamp = _link_stamp(conn, at)
    for from_id, found in lists:
        for rank, (to_id, score) in enumerate(found, start=1):
            if to_id != from_id:
                yield (from_id, to_id, COMPUTED, float(score), rank, stamp)


def _insert_links(conn: Any, rows: Iterable[tuple[Any, ...]]) -> None:
    _insert_rows(conn, "related_links", _LINK_COLUMNS, rows)


def _insert_rows(conn: Any, table: str, columns: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """INSERT these rows (tuples of the comma-separated `columns`): ~1 million links and ~2 million terms in a
    rebuild, so straight to the driver (SQLAlchemy's per-row parameter processing cost 4x more than the insert
    itself). PostgreSQL: COPY. SQLite: many rows per statement, as many as MAX_PARAMS_PER_STATEMENT parameters
    allow, the same values bound but one statement run per 150 links or 300 terms instead of one per row (903,884
    links 1.35 -> 0.86 s, 1.9 million terms 2.46 -> 1.84 s). The driver's errors are raised as SQLAlchemy's, as
    exec_driver_sql raises them (wrap_exceptions makes them StorageErrors)."""
    rows = iter(rows)
    width = columns.count(",") + 1
    dbapi = conn.dialect.loaded_dbapi
    cursor = cast(Any, conn.connection.driver_connection).cursor()
    head = f"INSERT INTO {table} ({columns})"
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        one = f"({', '.join(['?'] * width)})"
        per = MAX_PARAMS_PER_STATEMENT // width
        many = f"{head} VALUES {', '.join([one] * per)}"
        while len(values := list(chain.from_iterable(islice(rows, per)))) == per * width:
            cursor.execute(many, values)
        if values:
            cursor.execute(f"{head} VALUES {', '.join([one] * (len(values) // width))}", values)
    except dbapi.Error as exc:
        raise DBAPIError.instance(head, None, exc, dbapi.Error) from exc
    finally:
        cursor.close()


@wrap_exceptions
def replace_computed_links_many(session: Session, lists: Mapping[int, Sequence[tuple[int, float]]],
                                at: datetime) -> None:
    """Replace the computed lists of many items at once (delete + batched insert)."""
    from_ids = sorted(lists)
    if not from_ids:
        return
    bump_data_version(session)
    for part in chunks(from_ids, MAX_PARAMS_PER_STATEMENT):
        if part:
            session.execute(delete(RelatedLink).where(RelatedLink.from_item_id.in_(part),
                                                      RelatedLink.origin == COMPUTED))
    conn = session.connection()
    _insert_links(conn, _link_rows(conn, ((i, lists[i]) for i in from_ids), at))


@wrap_exceptions
def rewrite_computed_links(session: Session, chunks: Iterable[LinkChunk], at: datetime) -> None:
    """Replace every computed list with these links (a rebuild), given as chunks of columns (from ids, to ids,
    scores, ranks), consumed one at a time. Items left out end with no computed list.

    A rebuild writes ~1 million rows. On SQLite the index on to_item_id is dropped for the rewrite and built
    again after (one sort instead of a random B-tree insert per row; the delete skips it too): the 903,884
    links of 100,000 generated items, deleted and inserted again, 12.4 s -> 7.5 s. Other connections
    keep reading the last committed state meanwhile (WAL). Not on PostgreSQL: there DROP INDEX locks the
    table against readers until the commit; its rows go through COPY instead. Columns, not a list per item:
    the rows are zipped from them in C, where a tuple per link made in Python cost more than the insert.
    """
    conn = session.connection()
    bump_data_version(session)
    table = cast(Table, RelatedLink.__table__)
    rebuilt = list(table.indexes) if conn.dialect.name == "sqlite" else []
    for index in rebuilt:
        index.drop(conn)
    session.execute(delete(RelatedLink).where(RelatedLink.origin == COMPUTED))
    stamp = _link_stamp(conn, at)
    _insert_links(conn, chain.from_iterable(
        zip(from_ids, to_ids, repeat(COMPUTED), scores, ranks, repeat(stamp))  # noqa: B905 (two endless repeats)
        for from_ids, to_ids, scores, ranks in chunks))
    for index in rebuilt:
        index.create(conn)


@wrap_exceptions
def mark_duplicates(session: Session, duplicate_of: Mapping[int, int]) -> None:
    """Set items.duplicate_of (duplicate id -> original id) and drop computed links to or from duplicates."""
    by_original: dict[int, list[int]] = defaultdict(list)
    for dup, original in duplicate_of.items():
        if dup != original:
            by_original[original].append(dup)
    if not by_original:
        return
    bump_data_version(session)
    # One statement per item through the driver's executemany: a rebuild marks thousands, and one compiled
    # UPDATE ... IN per original cost 0.6 ms each (1,013 marks of 100,000 generated items: 0.64 s -> 0.10 s).
    conn, mark = _driver_sql(session)
    conn.exec_driver_sql(f"UPDATE items SET duplicate_of = {mark} WHERE id = {mark}",
                         [(original, dup) for original, dups in sorted(by_original.items()) for dup in sorted(dups)])
    dups_all = sorted(d for d, o in duplicate_of.items() if d != o)
    for part in chunks(dups_all, MAX_PARAMS_PER_STATEMENT // 2):
        if part:
            session.execute(delete(RelatedLink).where(
                RelatedLink.origin == COMPUTED,
                or_(RelatedLink.from_item_id.in_(part), RelatedLink.to_item_id.in_(part))))


@wrap_exceptions
def clear_duplicates(session: Session) -> None:
    session.execute(update(Item).where(Item.duplicate_of.is_not(None)).values(duplicate_of=None))
    bump_data_version(session)


@wrap_exceptions
def item_texts(session: Session, item_ids: Sequence[int]) -> list[ItemText]:
    out: list[ItemText] = []
    for part in chunks(sorted(set(item_ids)), MAX_PARAMS_PER_STATEMENT):
        if part:
            out.extend(ItemText(*row) for row in session.execute(select(*_TEXT_COLUMNS).where(Item.id.in_(part))))
    out.sort(key=lambda t: t.id)
    return out


@wrap_exceptions
def iter_item_texts(session: Session, batch: int = 5000, include_duplicates: bool = True) -> Iterator[ItemText]:
    """Every item, oldest first (first_seen, id), streamed in batches by keyset pagination."""
    last: tuple[datetime, int] | None = None
    while True:
        stmt = select(*_TEXT_COLUMNS).order_by(Item.first_seen, Item.id).limit(batch)
        if not include_duplicates:
            stmt = stmt.where(Item.duplicate_of.is_(None))
        if last is not None:
            stmt = stmt.where(or_(Item.first_seen > last[0], and_(Item.first_seen == last[0], Item.id > last[1])))
        # Core, not the ORM's execute: the ORM's row loading cost a third more CPU for plain columns.
        rows = [ItemText(*row) for row in session.connection().execute(stmt)]
        if not rows:
            return
        yield from rows
        last = (rows[-1].first_seen, rows[-1].id)


@wrap_exceptions
def recent_item_texts(session: Session, limit: int, since: datetime | None = None,
                      source_id: str | None = None) -> list[ItemText]:
    """The newest `limit` items that are not duplicates (of one source, if given), newest first."""
    stmt = select(*_TEXT_COLUMNS).where(Item.duplicate_of.is_(None))
    if since is not None:
        stmt = stmt.where(Item.first_seen >= since)
    if source_id is not None:
        stmt = stmt.where(Item.source_id == source_id)
    stmt = stmt.order_by(Item.first_seen.desc(), Item.id.desc()).limit(limit)
    return [ItemText(*row) for row in session.execute(stmt)]


@wrap_exceptions
def site_link_pairs(session: Session, item_ids: Sequence[int] | None = None) -> set[tuple[int, int]]:
    """(from, to) pairs of the sites' own related links, optionally only those touching these items."""
    stmt = select(RelatedLink.from_item_id, RelatedLink.to_item_id).where(RelatedLink.origin == SITE)
    pairs: set[tuple[int, int]] = set()
    if item_ids is None:
        return {(int(a), int(b)) for a, b in session.execute(stmt)}
    for part in chunks(sorted(set(item_ids)), MAX_PARAMS_PER_STATEMENT // 2):
        if part:
            rows = session.execute(stmt.where(or_(RelatedLink.from_item_id.in_(part),
                                                  RelatedLink.to_item_id.in_(part))))
            pairs.update((int(a), int(b)) for a, b in rows)
    return pairs


def _curated(a: type[Appearance], kinds: Sequence[str]) -> ColumnElement[bool]:
    """The appearance is in a curated listing: a primary-key lookup of the item's own listing_items row."""
    return (
        select(ListingItem.item_id)
        .where(ListingItem.source_id == a.source_id, ListingItem.listing_id == a.listing_id,
               ListingItem.item_id == a.item_id, ListingItem.kind.in_(list(kinds)))
        .exists()
    )


@wrap_exceptions
def coappearance_counts(session: Session, item_ids: Sequence[int] | None = None,
                        kinds: Sequence[str] = ("recommended", "ranking")) -> Counter[tuple[int, int]]:
    """How often two items were listed together (same listing, same crawl run) in curated listings.

    'latest' listings are left out: appearing together there only means "published the same day".
    Pairs are (smaller id, larger id). With `item_ids`, only pairs touching those items: one grouped
    query per chunk that starts from their own appearances (index on item_id), checks each is curated by
    primary key, and only then joins the co-listed rows; the work follows the new items' listings, not
    the size of the appearances history (a self-join over all of it took minutes after a large crawl).
    """
    counts: Counter[tuple[int, int]] = Counter()
    if item_ids is None:
        # Everything (the rebuild): stream the curated appearances grouped by (run, listing) and count
        # pairs here; linear in the pairs, where a self-join rescans a listing's whole history per row.
        a = aliased(Appearance)
        stmt = (select(a.run_id, a.source_id, a.listing_id, a.item_id)
                .where(a.run_id.is_not(None), _curated(a, kinds))
                .order_by(a.run_id, a.source_id, a.listing_id, a.item_id))
        # A pair counts once per run, however many curated listings of that run list both (as below).
        run_pairs: set[tuple[int, int]] = set()
        group: tuple[object, ...] | None = None
        members: list[int] = []
        for run_id, source_id, listing_id, item_id in [*session.execute(stmt), (None, None, None, None)]:
            if (run_id, source_id, listing_id) != group:
                distinct = sorted(set(members))
                run_pairs.update((x, y) for i, x in enumerate(distinct) for y in distinct[i + 1:])
                if group is None or run_id != group[0]:
                    counts.update(run_pairs)
                    run_pairs = set()
                group, members = (run_id, source_id, listing_id), []
            if item_id is not None:
                members.append(int(item_id))
        return counts
    a, b = aliased(Appearance), aliased(Appearance)
    bounded = (
        select(a.item_id, b.item_id, func.count(func.distinct(a.run_id)))
        .join(b, and_(b.run_id == a.run_id, b.source_id == a.source_id, b.listing_id == a.listing_id,
                      b.item_id != a.item_id))
        .where(a.run_id.is_not(None), _curated(a, kinds))
        .group_by(a.item_id, b.item_id)
    )
    for part in chunks(sorted(set(item_ids)), MAX_PARAMS_PER_STATEMENT):
        if part:
            # A pair of two new items comes back from both sides with the same count.
            for x, y, n in session.execute(bounded.where(a.item_id.in_(part))):
                counts[(min(int(x), int(y)), max(int(x), int(y)))] = int(n)
    return counts


@wrap_exceptions
def live_items(session: Session, item_ids: Sequence[int]) -> dict[int, bool]:
    """Which of these items exist and are not near-duplicates: id -> whether it has body text (summary or
    content). Postings may name items merged away or marked as duplicates since; this screens them out."""
    has_text = or_(func.coalesce(Item.summary, "") != "", func.coalesce(Item.content, "") != "")
    out: dict[int, bool] = {}
    for part in chunks(sorted(set(item_ids)), MAX_PARAMS_PER_STATEMENT):
        if part:
            stmt = select(Item.id, has_text).where(Item.id.in_(part), Item.duplicate_of.is_(None))
            out.update((int(i), bool(t)) for i, t in session.execute(stmt))
    return out


@wrap_exceptions
def missing_items(session: Session, item_ids: Iterable[int]) -> set[int]:
    """Which of these ids name no stored item (deleted since they were read). One read of every stored id, for a
    rebuild asking about all of them (100,000 ids: ~30 ms)."""
    stored = {int(i) for (i,) in session.connection().exec_driver_sql("SELECT id FROM items")}
    return {i for i in item_ids if i not in stored}


def _driver_sql(session: Session) -> tuple[Any, str]:
    """(the connection, its placeholder): term, link and duplicate-mark statements go straight to the driver.
    A crawl of 2,000 items reads and writes ~100,000 terms, and SQLAlchemy's per-parameter processing of IN
    lists and upserts cost several times the statements themselves."""
    conn = session.connection()
    return conn, _placeholder(conn)


def _placeholder(conn: Any) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _term_lookup(session: Session, column: str, keys: Sequence[int], where: str = "") -> list[tuple[int, Any]]:
    conn, mark = _driver_sql(session)
    out: list[tuple[int, Any]] = []
    for part in chunks(sorted(set(keys)), MAX_PARAMS_PER_STATEMENT):
        if part:
            sql = (f'SELECT "key", {column} FROM related_terms WHERE "key" IN ({", ".join([mark] * len(part))})'
                   f"{where}")
            out.extend(conn.exec_driver_sql(sql, tuple(part)).fetchall())
    return out


@wrap_exceptions
def term_df(session: Session, keys: Sequence[int]) -> dict[int, int]:
    """Stored document frequencies of these term keys (absent: no item holds the term)."""
    return {int(k): int(df) for k, df in _term_lookup(session, "df", keys)}


@wrap_exceptions
def term_postings(session: Session, keys: Sequence[int]) -> dict[int, bytes]:
    """Stored postings (packed, feedsvc/related/postings.py) of these term keys."""
    return {int(k): bytes(p) for k, p in _term_lookup(session, "postings", keys, " AND length(postings) > 0")}


@wrap_exceptions
def add_terms(session: Session, rows: Sequence[tuple[int, int, bytes]]) -> None:
    """Add (key, df, postings) to the stored terms: df added, postings appended, in the database itself
    (INSERT ... ON CONFLICT DO UPDATE), so two crawls relating at once never lose each other's counts."""
    if not rows:
        return
    conn, mark = _driver_sql(session)
    # || is text concatenation in SQLite: the cast keeps the result a blob (PostgreSQL's bytea || is bytea).
    blob = "BYTEA" if conn.dialect.name == "postgresql" else "BLOB"
    sql = (f'INSERT INTO related_terms ("key", df, postings) VALUES ({mark}, {mark}, {mark}) '
           f'ON CONFLICT ("key") DO UPDATE SET df = related_terms.df + excluded.df, '
           f"postings = CAST(related_terms.postings || excluded.postings AS {blob})")
    ordered = sorted(rows)
    for start in range(0, len(ordered), 5000):
        conn.exec_driver_sql(sql, ordered[start : start + 5000])


@wrap_exceptions
def replace_terms(session: Session, rows: Iterable[tuple[int, int, bytes]]) -> None:
    """Replace every stored term with these (key, df, postings) rows (a rebuild); rows are consumed in batches,
    so a generator keeps millions of them out of memory."""
    session.execute(delete(RelatedTerm))
    _insert_rows(session.connection(), cast(Table, RelatedTerm.__table__).name, '"key", df, postings', rows)
