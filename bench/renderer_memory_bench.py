"""Renderer memory bench: how far a hostile page grows Chromium's renderer outside the JS heap, without and with
the crawl's memory watchdog (crawler/browser.py `ProcessBrowser.watch_memory`), against an ordinary page measured
in the same run.

Usage: python bench/renderer_memory_bench.py [--seconds 15] [--hogs arraybuffers,canvases,dom]

Each page is served to the system Chromium (/usr/bin/chromium) with the crawl's own flags (CHROMIUM_ARGS, so the
256 MB JS heap cap holds) through Playwright routing; nothing touches the network. Each hog allocates without
end before its load event: 64 MB typed arrays, 4096x4096 canvases, DOM nodes. Resident memory (VmRSS) of the
page's renderer is sampled every 0.1 s for --seconds or until the renderer dies; "uncapped" runs without the
watchdog, "capped" with it. Prints one line per page and run, then the ratios to the ordinary page.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from crawler.browser import CHROMIUM_ARGS, RENDERER_MEMORY_MB, ProcessBrowser, _renderers, _resident_mb  # noqa: E402
from tests.support.memory_hogs import HOGS as MEMORY_HOGS  # noqa: E402

HOGS = {
    "ordinary": "document.body.appendChild(document.createElement('ul')).innerHTML ="
                " '<li>one</li>'.repeat(50);",
    **MEMORY_HOGS,
}


async def measure(browser: object, script: str, seconds: float, capped: bool) -> tuple[int, float | None]:
    """(peak MB of the page's renderer, seconds until it died or None)."""
    before = set(_renderers())
    context = await browser.new_context()  # type: ignore[attr-defined]
    html = f"<!DOCTYPE html><html><body><script>{script}</script></body></html>"

    async def route(route: object, _request: object) -> None:
        await route.fulfill(body=html, content_type="text/html")  # type: ignore[attr-defined]

    await context.route("**/*", route)
    page = await context.new_page()
    died: list[float] = []
    page.on("crash", lambda _page: died.append(time.monotonic()))
    watch = asyncio.ensure_future(ProcessBrowser().watch_memory()) if capped else None
    started = time.monotonic()
    loading = asyncio.ensure_future(page.goto("http://bench.invalid/", wait_until="commit"))
    peak = 0
    while time.monotonic() - started < seconds and not died:
        await asyncio.sleep(0.1)
        mine = [pid for pid in _renderers() if pid not in before]
        peak = max(peak, max((_resident_mb(pid) for pid in mine), default=0))
    if watch is not None:
        watch.cancel()
    loading.cancel()
    await context.close()
    return peak, (died[0] - started) if died else None


async def run(seconds: float, hogs: list[str]) -> None:
    from playwright.async_api import async_playwright

    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                               args=list(CHROMIUM_ARGS))
    try:
        base, _ = await measure(browser, HOGS["ordinary"], min(seconds, 3.0), capped=False)
        print(f"ordinary page: renderer peak {base} MB")
        print(f"cap: {RENDERER_MEMORY_MB} MB; sampling {seconds:g}s per run")
        results = {}
        for name in hogs:
            for capped in (False, True):
                peak, died = await measure(browser, HOGS[name], seconds, capped)
                results[name, capped] = peak
                end = f"renderer killed after {died:.1f}s" if died is not None else f"alive after {seconds:g}s"
                print(f"{name:13} {'capped' if capped else 'uncapped':8} peak {peak:5d} MB, {end}")
        for name in hogs:
            print(f"ratio {name}/ordinary: uncapped {results[name, False] / max(base, 1):.1f}x, "
                  f"capped {results[name, True] / max(base, 1):.1f}x")
    finally:
        await browser.close()
        await playwright.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--hogs", default="arraybuffers,canvases,dom")
    args = parser.parse_args()
    hogs = [h for h in args.hogs.split(",") if h]
    unknown = [h for h in hogs if h not in HOGS or h == "ordinary"]
    if unknown:
        print(f"error: unknown hog(s) {', '.join(unknown)}; choose from arraybuffers, canvases, dom", file=sys.stderr)
        return 2
    if not os.access("/usr/bin/chromium", os.X_OK):
        print("error: /usr/bin/chromium is missing (apt-get install chromium)", file=sys.stderr)
        return 2
    asyncio.run(run(args.seconds, hogs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
