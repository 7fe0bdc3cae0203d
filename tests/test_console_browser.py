"""The web console in a real headless browser (Debian's chromium via playwright, tests/browser.py):
log in, search by phone, open a borrower, reveal a number with a purpose, open a ring, read the
audit; no dialog (XSS), no request off this machine, no console error (CSP). Screenshots go to
the test's directory, and to docs/console/ with SKIPTRACE_CONSOLE_SCREENSHOTS=1."""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from skiptrace import rings as rings_lib
from skiptrace.console import create_app
from skiptrace.ingest import load
from skiptrace.store import SQLiteStore

from test_console import (BORROWER, DEMO, PASSWORD, XSS, _hostile_world, phones_of,  # noqa: F401
                          users)

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs" / "console"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """The console under uvicorn in a thread, on 127.0.0.1:<free port>."""

    def __init__(self, app) -> None:
        self.port = _free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, name="console", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the console did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _shot(visit, tmp_path: Path, name: str) -> None:
    path = visit.screenshot(tmp_path / f"{name}.png", full_page=False)
    if os.environ.get("SKIPTRACE_CONSOLE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS / path.name)


def _login(visit, name: str) -> None:
    page = visit.page
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button")
    page.wait_for_load_state()


def test_investigator_tour_in_a_real_browser(open_page, users, tmp_path):
    store = SQLiteStore(tmp_path / "demo.db")
    load(store, DEMO)
    rings_lib.save(store, rings_lib.detect(store))
    with _Server(create_app(store, users, secret="browser")) as base:
        visit = open_page(f"{base}/borrowers/{BORROWER}")
        page = visit.page
        assert "/login" in page.url  # no session: the login page first
        _shot(visit, tmp_path, "login")
        _login(visit, "ivy")
        assert page.url.endswith(f"/borrowers/{BORROWER}")

        # search by the borrower's phone, in national notation
        phone = phones_of(store, BORROWER)[0]
        page.goto(f"{base}/")
        page.fill("input[name=q]", f"{phone[3:6]} {phone[6:10]} {phone[10:]}")
        page.click("form.search button")
        page.wait_for_load_state()
        assert page.locator("ul.results a", has_text=BORROWER).count() == 1
        _shot(visit, tmp_path, "search")
        page.locator("ul.results a", has_text=BORROWER).first.click()
        page.wait_for_load_state()

        # the borrower page: facts, ranked contacts (masked), the drawing
        assert page.locator("h1 .borrower-id").inner_text() == BORROWER
        rows = page.locator("table.candidates tbody tr")
        assert rows.count() >= 3
        first = rows.first.locator("td.phone").inner_text()
        assert "****" in first
        assert page.locator("figure.graph svg circle[data-kind=member]").count() >= 1
        assert page.locator("figure.graph svg rect[data-kind=identifier]").count() >= 3
        assert page.locator("figure.graph svg line[data-kind=link]").count() >= 3
        _shot(visit, tmp_path, "borrower")

        # reveal number 1 with a purpose
        page.select_option("form.reveal select[name=which]", "1")
        page.fill("form.reveal input[name=purpose]", "case 42: confirm the parent's number")
        page.click("form.reveal button")
        page.wait_for_load_state()
        shown = page.locator("table.candidates tbody tr").first.locator("td.phone").inner_text()
        assert "****" not in shown and shown[:6] == first[:6] and shown[-4:] == first[-4:]
        assert "****" in page.locator("table.candidates tbody tr").nth(1).locator("td.phone").inner_text()
        assert "case 42" in page.locator("p.revealed").inner_text()
        _shot(visit, tmp_path, "revealed")

        # the plan
        page.goto(f"{base}/borrowers/{BORROWER}/plan")
        assert page.locator("h2", has_text="Allowed actions").count() == 1
        _shot(visit, tmp_path, "plan")

        # rings: the list, then the biggest ring
        page.goto(f"{base}/rings")
        links = page.locator("table.rings tbody tr td:first-child a")
        assert links.count() >= 1
        _shot(visit, tmp_path, "rings")
        links.first.click()
        page.wait_for_load_state()
        size = int(page.locator("[data-fact=size] dd").inner_text())
        assert page.locator("figure.graph svg circle[data-kind=member]").count() == size
        assert page.locator("ol.evidence li").count() >= 1
        _shot(visit, tmp_path, "ring")

        # the auditor sees the reveal with its purpose
        aud = open_page(f"{base}/login")
        _login(aud, "aud")
        assert aud.page.url.endswith("/audit")
        row = aud.page.locator("table.audit tr.revealed").first
        assert "case 42" in row.inner_text() and "ivy" in row.inner_text()
        _shot(aud, tmp_path, "audit")
        # an analyst cannot reveal, and sees no reveal form
        ann = open_page(f"{base}/login")
        _login(ann, "ann")
        ann.page.goto(f"{base}/borrowers/{BORROWER}")
        assert ann.page.locator("form.reveal").count() == 0
        for v in (visit, aud, ann):
            assert v.dialogs == [] and v.blocked == [] and v.page_errors == []
            assert v.console_errors == []  # nothing refused by the CSP
    store.close()


def test_hostile_world_opens_no_dialog(open_page, users, tmp_path):
    store = SQLiteStore(tmp_path / "x.db")
    load(store, _hostile_world(tmp_path))
    with _Server(create_app(store, users, secret="browser")) as base:
        visit = open_page(f"{base}/login?next=/borrowers/B1")
        _login(visit, "ivy")
        page = visit.page
        page.fill("form.reveal input[name=purpose]", XSS[0])
        page.select_option("form.reveal select[name=which]", "all")
        page.click("form.reveal button")
        page.wait_for_load_state()
        assert XSS[0] in page.locator("h1 .name").inner_text()  # shown as text
        assert page.locator("main script, main img").count() == 0
        for path in ("/borrowers/B2", "/search?q=" + XSS[1], "/rings"):
            page.goto(base + path)
        assert visit.dialogs == [] and visit.blocked == [] and visit.page_errors == []
    store.close()
