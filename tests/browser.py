"""Pytest fixtures for tests in a real headless browser (loaded via ``pytest_plugins``).

The browser is Debian's Chromium at ``/usr/bin/chromium`` (or
``SKIPTRACE_CHROMIUM``), which scripts/setup-env installs, driven by the
``playwright`` package. Playwright's own browser download is never used
(``PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1``; ``playwright install`` is never run).
Like the Neo4j fixtures, these never skip: a missing browser is an error.

``browser`` (session): one Chromium for the whole run, started headless with
the flags this machine needs (no sandbox as root, no GPU, no QUIC, and no
background, update or sync traffic) and a fresh profile.

``open_page`` (function): ``open_page(path_or_url) -> Visit``. Opens a file
(a ``Path``) or a URL in a new browser context and returns the page with what
it did: every request it made, the requests that were *blocked* (anything not
``file://`` or ``http://127.0.0.1``; they are aborted, never sent), the
dialogs it opened (dismissed at once), console errors and uncaught page
errors. A test asserts ``visit.blocked == []`` to prove a page made no
outside request. Contexts are closed when the test ends.

``local_http`` (function): ``local_http(directory) -> base_url``: serves a
directory on ``http://127.0.0.1:<free port>/`` for the test, for pages that
need an origin rather than ``file://``.

Usage::

    @pytest.mark.browser
    def test_page(open_page, tmp_path):
        (tmp_path / "p.html").write_text(html)
        visit = open_page(tmp_path / "p.html")
        assert visit.page.locator("circle").count() == 3
        assert visit.blocked == [] and visit.dialogs == []
"""
from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright  # noqa: E402

CHROMIUM = os.environ.get("SKIPTRACE_CHROMIUM", "/usr/bin/chromium")
#: flags for Chromium on these machines: without the background-networking ones it keeps
#: trying Google's hosts, which the closed network refuses; --no-sandbox because tests run as root
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: hosts a page may reach over http(s); everything else is aborted and recorded
LOCAL_HOSTS = frozenset({"127.0.0.1"})
#: milliseconds any single browser action may take
TIMEOUT_MS = 15_000


def allowed(url: str) -> bool:
    """True for a ``file:``, ``data:``, ``blob:`` or ``about:`` URL or one on 127.0.0.1."""
    parts = urlsplit(url)
    if parts.scheme in ("file", "data", "blob", "about"):
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname in LOCAL_HOSTS


@dataclass
class Visit:
    """A page opened by ``open_page`` and what it did so far (lists fill as it runs)."""

    page: Page
    url: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def screenshot(self, path: Path, *, full_page: bool = True) -> Path:
        """Save a PNG of the page and return its path."""
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Debian Chromium for the session (an error, not a skip, if missing)."""
    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(f"no Chromium at {CHROMIUM}: run scripts/setup-env "
                           "(it installs Debian's chromium package) or set SKIPTRACE_CHROMIUM")
    with sync_playwright() as pw:
        # playwright gives every launch a new, empty temporary profile (user-data-dir)
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                               chromium_sandbox=False, timeout=60_000)
        try:
            yield b
        finally:
            b.close()


def _new_context(browser: Browser, visit_log: Callable[[], Visit | None]) -> BrowserContext:
    ctx = browser.new_context(service_workers="block", viewport={"width": 1100, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)

    def route(r: Route) -> None:
        visit = visit_log()
        url = r.request.url
        if allowed(url):
            r.continue_()
        else:
            if visit is not None:
                visit.blocked.append(url)
            r.abort("blockedbyclient")

    ctx.route("**/*", route)
    return ctx


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Visit]]:
    """``open_page(path_or_url, wait_until="load") -> Visit`` in a fresh context."""
    contexts: list[BrowserContext] = []

    def _open(target: str | Path, *, wait_until: str = "load") -> Visit:
        url = target.resolve().as_uri() if isinstance(target, Path) else target
        holder: list[Visit] = []
        ctx = _new_context(browser, lambda: holder[0] if holder else None)
        contexts.append(ctx)
        page = ctx.new_page()
        visit = Visit(page=page, url=url)
        holder.append(visit)
        page.on("request", lambda req: visit.requests.append(req.url))
        page.on("dialog", lambda d: (visit.dialogs.append(f"{d.type}: {d.message}"), d.dismiss()))
        page.on("console", lambda m: visit.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: visit.page_errors.append(str(e)))
        page.goto(url, wait_until=wait_until)
        return visit

    try:
        yield _open
    finally:
        for ctx in contexts:
            ctx.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
        pass


@pytest.fixture
def local_http() -> Iterator[Callable[[Path], str]]:
    """``local_http(directory) -> "http://127.0.0.1:PORT/"``, stopped when the test ends."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def _serve(directory: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(directory))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, name="local_http", daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    try:
        yield _serve
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()
