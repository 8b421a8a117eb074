"""One WebSub hub: `publish_to_hub(hub, urls)` POSTs hub.mode=publish with the feed URLs, batched, retried.

A hub is a third-party server that may be slow, down or picky: every request has a timeout, failures that may
pass (no answer, 5xx, 429) are retried with exponential backoff, and a batch the hub refuses with another 4xx
is retried one URL per request (hubs differ in whether they accept several hub.url values). A hub still failing
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

log = logging.getLogger(__name__)
USER_AGENT = "feedsvc-websub/0.1"


@dataclass(frozen=True, slots=True)
class HubAnswer:
    """How announcing one URL went: `ok` when the hub answered 2xx; `http_status` None when it did not answer."""

    url: str
    ok: bool
    http_status: int | None
    attempts: int
    error: str | None = None


def _post(hub: str, urls: Sequence[str], timeout: float) -> tuple[int | None, str | None]:
    """(HTTP status or None, error text or None) of one publish request."""
    body = urllib.parse.urlencode([("hub.mode", "publish"), *(("hub.url", u) for u in urls)]).encode("ascii")
    request = urllib.request.Request(hub, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured hub URL
            return int(response.status), None
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode("utf-8", "replace").strip().splitlines()
        return exc.code, f"HTTP {exc.code}" + (f": {detail[0]}" if detail else "")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"no answer: {reason}"


def _retryable(status: int | None) -> bool:
    return status is None or status >= 500 or status == 429


def _send(hub: str, urls: Sequence[str], timeout: float, retries: int, backoff: float,
          sleep: Callable[[float], None]) -> list[HubAnswer]:
    attempts = 0
    status: int | None = None
    error: str | None = None
    for attempt in range(retries + 1):
        if attempt:
            sleep(backoff * 2 ** (attempt - 1))
        attempts += 1
        status, error = _post(hub, urls, timeout)
        if status is not None and 200 <= status < 300:
            return [HubAnswer(u, True, status, attempts) for u in urls]
        if not _retryable(status):
            break
    if len(urls) > 1 and not _retryable(status):  # the hub may not take batches: one URL per request
        log.info("websub hub=%s refused a batch of %d (%s); announcing one URL per request", hub, len(urls), error)
        return [answer for u in urls for answer in _send(hub, [u], timeout, retries, backoff, sleep)]
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
