"""Whether this machine can render pages (a source's `render`): Chromium at `crawl.chromium_path` and
Playwright. The crawler asks before it starts a browser and `feedsvc demo` before it promises a rendered
ranking, so both say the same thing.
"""

from __future__ import annotations

import os

INSTALL_HINT = "apt-get install chromium"


def chromium_available(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def browser_missing(chromium_path: str) -> str | None:
    """What to install so pages can be rendered, or None when Chromium and Playwright are both there."""
    import importlib.util

    if not chromium_available(chromium_path):
        return f"{INSTALL_HINT} (or set crawl.chromium_path; looked for {chromium_path})"
    if importlib.util.find_spec("playwright") is None:
        # Playwright is a main dependency: only a broken or partial install lacks it.
        return "pip install playwright (a dependency of feedsvc; reinstall with: pip install -e .)"
    return None
