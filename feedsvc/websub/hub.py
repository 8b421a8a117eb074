"""One WebSub hub: `publish_to_hub(hub, urls)` POSTs hub.mode=publish with the feed URLs, batched, retried.

A hub is a third-party server that may be slow, down or picky: every request has a timeout, failures that may
pass (no answer, 5xx, 429) are retried by the one backoff policy (feedsvc.errors.backoff, through tenacity)
unless the hub's Retry-After says when, a redirect is never followed (it counts as failed), and a batch the
hub refuses with another 4xx is retried one URL per request (hubs differ in whether they accept several hub.url values). A hub still failing
after the retries is not sent the remaining batches of that round (they fail at once, attempts=0). Never raises
for a hub's failure: each URL gets a HubAnswer saying what happened.
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt

from feedsvc.errors import backoff, retry_after_seconds

log = logging.getLogger(__name__)
USER_AGENT = "feedsvc-websub/0.1"
# The longest wait a hub's Retry-After may ask before we try again anyway ("come back tomorrow" is not waited for).
MAX_RETRY_AFTER = 300.0


@dataclass(frozen=True, slots=True)
class HubAnswer:
    """How announcing one URL went: `ok` when the hub answered 2xx; `http_status` None when it did not answer."""

    url: str
    ok: bool
    http_status: int | None
    attempts: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int | None  # None: no answer
    error: str | None
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A hub's redirect is an answer, not a place to go: followed, it would turn our POST into a GET to any
    URL (any scheme, host and port). It fails the announcement instead."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _post(hub: str, urls: Sequence[str], timeout: float) -> _Reply:
    """One publish request."""
    body = urllib.parse.urlencode([("hub.mode", "publish"), *(("hub.url", u) for u in urls)]).encode("ascii")
    request = urllib.request.Request(hub, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return _Reply(int(response.status), None)
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            where = exc.headers.get("Location", "") if exc.headers else ""
            return _Reply(exc.code, f"HTTP {exc.code}: the hub redirects ({where[:200]!r}); redirects are not "
                                    "followed, set the hub's final URL in [websub] hubs")
        detail = exc.read(300).decode("utf-8", "replace").strip().splitlines()
        return _Reply(exc.code, f"HTTP {exc.code}" + (f": {detail[0]}" if detail else ""),
                      exc.headers.get("Retry-After") if exc.headers else None)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return _Reply(None, f"no answer: {reason}")


def _retryable(status: int | None) -> bool:
    return status is None or status >= 500 or status == 429


def _wait(backoff_s: float) -> Callable[[RetryCallState], float]:
    """The one backoff policy, except when the hub said when to come back (Retry-After, bounded)."""
    fallback = backoff(backoff_s)

    def wait(state: RetryCallState) -> float:
        reply = state.outcome.result() if state.outcome is not None and not state.outcome.failed else None
        after = retry_after_seconds(reply.retry_after) if isinstance(reply, _Reply) else None
        return min(after, MAX_RETRY_AFTER) if after is not None else float(fallback(state))

    return wait


def _send(hub: str, urls: Sequence[str], timeout: float, retries: int, backoff_s: float,
          sleep: Callable[[float], None]) -> list[HubAnswer]:
    attempts = 0

    def attempt() -> _Reply:
        nonlocal attempts
        attempts += 1
        return _post(hub, urls, timeout)

    reply: _Reply = Retrying(
        stop=stop_after_attempt(retries + 1), wait=_wait(backoff_s), sleep=sleep,
        retry=retry_if_result(lambda r: not r.ok and _retryable(r.status)),
        retry_error_callback=lambda state: state.outcome.result() if state.outcome is not None else None,
    )(attempt)
    if reply.ok:
        return [HubAnswer(u, True, reply.status, attempts) for u in urls]
    status, error = reply.status, reply.error
    if len(urls) > 1 and status is not None and 400 <= status < 500 and status != 429:
        # The hub may not take batches: one URL per request.
        log.info("websub hub=%s refused a batch of %d (%s); announcing one URL per request", hub, len(urls), error)
        return [answer for u in urls for answer in _send(hub, [u], timeout, retries, backoff_s, sleep)]
    log.warning("websub announce failed hub=%s urls=%d after %d attempt(s): %s", hub, len(urls), attempts, error)
    return [HubAnswer(u, False, status, attempts, error) for u in urls]


def publish_to_hub(hub: str, urls: Sequence[str], *, timeout: float = 5.0, retries: int = 3,
                   backoff: float = 1.0, batch_size: int = 20,
                   sleep: Callable[[float], None] = time.sleep) -> list[HubAnswer]:
    """Announce `urls` to `hub`, `batch_size` per request; one HubAnswer per URL, in order."""
    answers: list[HubAnswer] = []
    down: HubAnswer | None = None
    for start in range(0, len(urls), batch_size):
        batch = urls[start:start + batch_size]
        if down is not None:  # down through every retry: the rest would only wait out the same failures
            answers += [HubAnswer(u, False, down.http_status, 0, down.error) for u in batch]
            continue
        sent = _send(hub, batch, timeout, retries, backoff, sleep)
        answers += sent
        if all(not a.ok and _retryable(a.http_status) for a in sent):
            down = sent[-1]
    return answers
