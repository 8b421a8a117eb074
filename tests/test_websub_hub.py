"""websub/hub.py against local hubs (tests/support/hub_server.py): batches, the one-URL fallback, retries (the one backoff
policy, Retry-After honoured), redirects never followed, unreachable hubs."""

from __future__ import annotations

from feedsvc.websub.hub import publish_to_hub
from tests.support.hub_server import Hub


def test_a_batch_the_hub_refuses_falls_back_to_one_url_per_request() -> None:
    with Hub(mode="no-batches") as picky:
        answers = publish_to_hub(picky.url, ["http://f/1", "http://f/2", "http://f/3"], batch_size=3, retries=0)
        assert [a.ok for a in answers] == [True, True, True]
        assert [len(r.urls) for r in picky.requests] == [3, 1, 1, 1]
        assert all(r.mode == ["publish"] for r in picky.requests)


def test_a_hub_answering_503_is_retried_then_skipped_for_the_remaining_batches() -> None:
    slept: list[float] = []
    with Hub(mode="down") as down:
        answers = publish_to_hub(down.url, ["http://f/1", "http://f/2", "http://f/3"], batch_size=2, retries=2,
                                 backoff=0.5, sleep=slept.append)
        assert len(down.requests) == 3  # one batch, tried three times; the second batch is not sent
    assert [(a.ok, a.http_status, a.attempts) for a in answers] == [(False, 503, 3), (False, 503, 3),
                                                                    (False, 503, 0)]
    assert slept == [0.5, 1.0]  # exponential backoff between attempts
    assert answers[0].error is not None and answers[0].error.startswith("HTTP 503")


def test_an_unreachable_hub_is_not_asked_again_in_the_same_round() -> None:
    answers = publish_to_hub("http://127.0.0.1:9/hub", ["http://f/1", "http://f/2"], batch_size=1, retries=2,
                             backoff=0.01)
    assert [(a.ok, a.http_status) for a in answers] == [(False, None), (False, None)]
    assert answers[0].attempts == 3 and answers[1].attempts == 0


def test_a_hub_redirect_is_not_followed_and_counts_as_failed() -> None:
    with Hub(mode="redirect") as moved, Hub() as elsewhere:
        moved.location = elsewhere.url  # an http redirect to a live hub: still not followed
        answers = publish_to_hub(moved.url, ["http://f/1", "http://f/2"], batch_size=2, retries=2, sleep=lambda _s: None)
        assert [(a.ok, a.http_status, a.attempts) for a in answers] == [(False, 302, 1), (False, 302, 1)]
        assert len(moved.requests) == 1 and elsewhere.requests == []  # no retry, no per-URL fallback, no GET
        assert answers[0].error is not None and "redirect" in answers[0].error
    with Hub(mode="redirect") as ftp:  # to another scheme and port: never a connection there
        answers = publish_to_hub(ftp.url, ["http://f/1"], retries=0)
        assert not answers[0].ok and answers[0].http_status == 302


def test_a_hubs_retry_after_sets_the_wait() -> None:
    slept: list[float] = []
    with Hub(mode="busy") as busy:
        busy.retry_after = "7"
        answers = publish_to_hub(busy.url, ["http://f/1"], retries=2, backoff=0.5, sleep=slept.append)
    assert [(a.ok, a.attempts) for a in answers] == [(True, 2)]
    assert slept == [7.0]  # the hub's word, not the 0.5 s backoff
    slept.clear()
    with Hub(mode="busy") as busy:
        busy.retry_after = "²"  # not ASCII digits: ignored, the backoff applies
        assert publish_to_hub(busy.url, ["http://f/1"], retries=2, backoff=0.5, sleep=slept.append)[0].ok
    assert slept == [0.5]
