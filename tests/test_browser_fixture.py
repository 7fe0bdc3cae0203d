"""The browser fixtures themselves: outside requests are caught, local ones pass, dialogs are seen.

Without these, ``visit.blocked == []`` and ``visit.dialogs == []`` in other
tests could pass because nothing was listening.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from browser import allowed

pytestmark = pytest.mark.browser


def test_allowed_urls():
    assert allowed("file:///tmp/x.html") and allowed("data:image/png;base64,AA")
    assert allowed("http://127.0.0.1:8000/a") and allowed("ws://127.0.0.1:9/")
    assert not allowed("https://cdn.example.com/lib.js")
    assert not allowed("http://localhost.example.com/") and not allowed("http://10.0.0.1/")


def test_outside_requests_are_blocked_and_recorded(open_page, tmp_path: Path):
    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><html><head>'
                    '<link rel="stylesheet" href="https://cdn.example.invalid/site.css">'
                    '</head><body><img src="http://images.example.invalid/a.png"><p>hi</p></body></html>')
    visit = open_page(page)
    assert sorted(visit.blocked) == ["http://images.example.invalid/a.png",
                                     "https://cdn.example.invalid/site.css"]
    assert visit.page.locator("p").inner_text() == "hi"


def test_local_http_is_allowed(open_page, local_http, tmp_path: Path):
    (tmp_path / "index.html").write_text('<!DOCTYPE html><img id="i" src="dot.svg"><p>served</p>')
    (tmp_path / "dot.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    base = local_http(tmp_path)
    visit = open_page(base + "index.html")
    assert visit.blocked == []
    assert base + "dot.svg" in visit.requests
    assert visit.page.evaluate("document.getElementById('i').naturalWidth") == 4


def test_dialogs_and_page_errors_are_recorded(open_page, tmp_path: Path):
    page = tmp_path / "noisy.html"
    page.write_text("<!DOCTYPE html><script>alert('boo'); throw new Error('oops')</script>")
    visit = open_page(page)
    assert visit.dialogs == ["alert: boo"]
    assert any("oops" in e for e in visit.page_errors)
