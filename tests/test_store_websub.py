"""store/websub.py on SQLite and PostgreSQL: announcements recorded per hub and feed; a failure keeps the digest
last announced successfully, so the feed is announced again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from feedsvc.store.websub import AnnouncementResult, announced_digests, hub_summaries, record_announcements

T0 = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
HUB = "http://hub.test/"


def test_failures_keep_the_last_good_digest_and_summaries_count_per_hub(session: Session) -> None:
    record_announcements(session, [AnnouncementResult(HUB, "http://f/new.atom", "d1", True, 204, 1),
                                   AnnouncementResult(HUB, "http://f/gw.atom", "g1", False, 503, 3, "HTTP 503")], T0)
    later = T0 + timedelta(hours=1)
    record_announcements(session, [AnnouncementResult(HUB, "http://f/new.atom", "d2", False, None, 3, "no answer"),
                                   AnnouncementResult("http://other/", "http://f/new.atom", "d2", True, 204, 1)],
                         later)
    session.commit()
    assert announced_digests(session, HUB) == {"http://f/new.atom": "d1", "http://f/gw.atom": None}
    assert announced_digests(session, "http://other/") == {"http://f/new.atom": "d2"}
    summaries = {s.hub: s for s in hub_summaries(session)}
    assert (summaries[HUB].ok, summaries[HUB].failed, summaries[HUB].last_error) == (0, 2, "no answer")
    assert summaries[HUB].last_attempt == later
    assert (summaries["http://other/"].ok, summaries["http://other/"].failed) == (1, 0)
