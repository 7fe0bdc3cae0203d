"""The web console (skiptrace.console): every page and JSON endpoint on both stores, masking and
the audited reveal, and the hostile cases: XSS payloads in every text field, CSRF without or with
a wrong token, a role without the right, no session, a failed audit write."""
from __future__ import annotations

import csv
import json
import re
import shutil
import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message=".*httpx.*")
from starlette.testclient import TestClient  # noqa: E402

from skiptrace import audit as audit_lib  # noqa: E402
from skiptrace import rings as rings_lib  # noqa: E402
from skiptrace.console import create_app, load_users  # noqa: E402
from skiptrace.console.users import Users, add_user, hash_password, verify_password  # noqa: E402
from skiptrace.ingest import load  # noqa: E402
from skiptrace.rings.model import Binding, Ring  # noqa: E402
from skiptrace.store import SQLiteStore  # noqa: E402
from skiptrace.store.base import node_id, split_id  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo"
MINI = REPO / "fixtures" / "mini"
PASSWORD = "correct horse"
XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']
BORROWER = "B000004"


@pytest.fixture(scope="module")
def users() -> Users:
    return Users({name: {"role": role, "password": hash_password(PASSWORD)}
                  for name, role in [("ivy", "investigator"), ("ann", "analyst"), ("aud", "auditor")]})


def client_for(store, users) -> TestClient:
    return TestClient(create_app(store, users, secret="test-secret"), follow_redirects=False)


def csrf(client: TestClient) -> str:
    return client.get("/api/session").json()["csrf_token"]


def login(client: TestClient, name: str, password: str = PASSWORD):
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    return client.post("/login", data={"csrf": token, "username": name, "password": password,
                                       "next": "/"})


def as_user(store, users, name: str) -> TestClient:
    c = client_for(store, users)
    assert login(c, name).status_code == 303
    return c


def phones_of(store, borrower_id: str) -> list[str]:
    bid = node_id("Borrower", borrower_id)
    return sorted(split_id(e.other(bid))[1] for e in store.incident_edges([bid], ["HAS_PHONE"]))


def reveals(store) -> list:
    return [e for e in audit_lib.events(store) if e.revealed]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """The demo world (rings stored) in one SQLite file shared by the security tests."""
    s = SQLiteStore(tmp_path_factory.mktemp("console") / "demo.db")
    load(s, DEMO)
    rings_lib.save(s, rings_lib.detect(s))
    yield s
    s.close()


@pytest.fixture
def demo(store, demo_db):
    """The demo world with its rings stored, on each store (the rings detected once, on SQLite:
    tests/test_rings.py shows both stores detect the same ones)."""
    load(store, DEMO)
    rings_lib.save(store, rings_lib.load(demo_db))
    return store


# ----------------------------------------------------------------------------- the pages, both stores

def test_every_page_and_endpoint_on_both_stores(demo, users):
    ivy = as_user(demo, users, "ivy")
    # search: by id (straight to the borrower) and by phone in national notation
    r = ivy.get("/search", params={"q": BORROWER})
    assert r.status_code == 303 and r.headers["location"] == f"/borrowers/{BORROWER}"
    phone = phones_of(demo, BORROWER)[0]
    r = ivy.get("/search", params={"q": f"{phone[3:6]} {phone[6:10]} {phone[10:]}"})
    assert r.status_code == 200 and f'href="/borrowers/{BORROWER}"' in r.text
    assert phone not in r.text and phone[:6] + "****" + phone[-4:] in r.text
    assert "not a phone number" in ivy.get("/search", params={"q": "nobody"}).text

    # the borrower: facts, ranked contacts, evidence, eligibility, the drawing; masked
    r = ivy.get(f"/borrowers/{BORROWER}")
    assert r.status_code == 200
    page = r.text
    for fact in ("status", "days_past_due", "balance"):
        assert f'data-fact="{fact}"' in page
    assert page.count('<tr data-rank="') >= 3
    assert "<svg" in page and 'data-kind="member"' in page and 'data-kind="identifier"' in page
    assert "<script" not in page.lower()
    found = ivy.get(f"/api/borrowers/{BORROWER}/find").json()
    assert set(found) == {"borrower_id", "as_of", "candidates"}
    top = found["candidates"][0]
    assert "****" in top["phone"] and top["phone"] in page
    assert top["evidence"][0]["why"].split(" ")[0] in page
    if not all(c["eligible"] for c in found["candidates"]):
        blocked = next(c for c in found["candidates"] if not c["eligible"])
        assert blocked["blocked_by"][0] in page

    # reveal one number with a purpose: audited first, then shown; the others stay masked
    before = len(reveals(demo))
    r = ivy.post(f"/borrowers/{BORROWER}/reveal",
                 data={"csrf": csrf(ivy), "which": "1", "purpose": "case 42: verify contact"})
    assert r.status_code == 200
    full = ivy.post(f"/api/borrowers/{BORROWER}/find/reveal",
                    data={"purpose": "case 42 api"}, headers={"X-CSRF-Token": csrf(ivy)}).json()
    assert full["candidates"][0]["phone"] in r.text and "****" not in full["candidates"][0]["phone"]
    assert full["candidates"][1]["phone"] not in r.text
    assert 'data-revealed="rank 1"' in r.text
    new = reveals(demo)[before:]
    assert [(e.actor, e.command, e.subjects, e.purpose) for e in new] == [
        ("ivy", "console find", [BORROWER], "case 42: verify contact"),
        ("ivy", "console find", [BORROWER], "case 42 api")]

    # the plan: allowed actions with windows and EV, blocked ones with rule ids
    r = ivy.get(f"/borrowers/{BORROWER}/plan")
    plan = ivy.get(f"/api/borrowers/{BORROWER}/plan").json()
    assert r.status_code == 200 and {"borrower_id", "c_score", "segment", "p_repay_30d", "policy",
                                     "actions", "blocked"} <= set(plan)
    assert "no C-score model" in r.text
    for a in plan["actions"]:
        assert a["not_before"][:10] in r.text and f"{a['expected_value']:.2f}" in r.text
        assert a["target_phone"] is None or "****" in a["target_phone"]
    for b in plan["blocked"]:
        assert f'<code class="rule">{b["rule"]}</code>' in r.text

    # rings: the list with its filters, a ring page with its drawing and evidence
    listed = ivy.get("/api/rings").json()["rings"]
    assert listed and all(r_["typology"] in ("fraud", "anti_collection") for r_ in listed)
    r = ivy.get("/rings")
    assert r.status_code == 200 and all(f'data-ring="{x["ring_id"]}"' in r.text for x in listed)
    assert ivy.get("/api/rings", params={"min_risk": "1.01"}).json()["rings"] == listed[:0] + [
        x for x in listed if x["risk"] >= 1.0]
    everything = ivy.get("/api/rings", params={"all": "1"}).json()["rings"]
    assert len(everything) >= len(listed)
    big = max(listed, key=lambda x: x["size"])
    assert [x["ring_id"] for x in ivy.get("/api/rings", params={"min_size": big["size"]}).json()["rings"]] \
        == [x["ring_id"] for x in listed if x["size"] >= big["size"]]
    assert "No ring matches" in ivy.get("/rings", params={"typology": "fraud", "min_size": 10_000}).text
    ring = ivy.get(f"/api/rings/{big['ring_id']}").json()
    assert ring["ring_id"] == big["ring_id"] and set(ring["members"]) == set(big["members"])
    r = ivy.get(f"/rings/{big['ring_id']}")
    assert r.status_code == 200 and r.text.count('data-kind="member"') == big["size"]
    assert all(x.replace("'", "&#39;").replace('"', "&#34;") in r.text for x in ring["evidence"][:2])
    assert ivy.get("/rings/R-nope").status_code == 404
    assert ivy.get("/borrowers/B-nope").status_code == 404
    assert ivy.get("/api/borrowers/B-nope/find").status_code == 404

    # the audit trail: for auditors only; it lists the looks and the reveal with its purpose
    aud = as_user(demo, users, "aud")
    r = aud.get("/audit")
    assert r.status_code == 200 and "case 42: verify contact" in r.text and "REVEALED" in r.text
    trail = aud.get("/api/audit", params={"subject": BORROWER}).json()["audit"]
    assert {"console find", "console plan"} <= {e["command"] for e in trail}
    assert {"console rings list", "console rings show", "console search"} <= {
        e["command"] for e in aud.get("/api/audit").json()["audit"]}
    assert aud.get("/api/audit", params={"since": "not a time"}).status_code == 400


def test_a_store_without_rings_or_ledger_says_so(sqlite_store, users):
    load(sqlite_store, MINI)
    ivy = as_user(sqlite_store, users, "ivy")
    assert "No rings detected yet" in ivy.get("/rings").text
    assert ivy.get("/api/rings").json() == {"rings": []}
    r = ivy.get("/borrowers/B1/plan")
    assert r.status_code == 200


# ----------------------------------------------------------------------------- hostile input

def _hostile_world(tmp_path: Path) -> Path:
    """fixtures/mini with an XSS payload in every free-text field (names, contact names,
    addresses, employers, device ids)."""
    out = tmp_path / "hostile"
    shutil.copytree(MINI, out)
    fields = {"borrowers.csv": ["full_name"], "phonebook.csv": ["contact_name"],
              "borrower_addresses.csv": ["address"], "borrower_employers.csv": ["employer"],
              "borrower_devices.csv": ["device_id"]}
    for name, cols in fields.items():
        with open(out / name, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        for i, row in enumerate(rows):
            for c in cols:
                row[c] = f"{XSS[i % 2]} {row[c]}"
        with open(out / name, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    lines = (out / "emergency_contacts.jsonl").read_text(encoding="utf-8").splitlines()
    recs = [json.loads(x) for x in lines]
    for i, r in enumerate(recs):
        r["contact_name"] = XSS[i % 2] + r["contact_name"]
    (out / "emergency_contacts.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    return out


def _assert_inert(html: str) -> None:
    low = html.lower()
    assert "<script" not in low and "<img" not in low and "onerror=alert" not in low.replace(
        "onerror=alert(1)&gt;", ""), "a payload is live in the page"


def test_xss_payloads_in_every_text_field_render_as_text(store, users, tmp_path):
    load(store, _hostile_world(tmp_path))
    device = "dev-a1"
    hostile_device = f"{XSS[0]} {device}"
    rings_lib.save(store, [Ring("R-x", "fraud", 0.9, ["B1", "B2"],
                                binding=[Binding("device", hostile_device, 2)],
                                evidence=[f"both use device {hostile_device}", XSS[1]])])
    ivy = as_user(store, users, "ivy")
    pages = [ivy.get("/borrowers/B1"), ivy.get("/borrowers/B2"), ivy.get("/rings"),
             ivy.get("/rings/R-x"), ivy.get("/search", params={"q": XSS[1]})]
    if store.kind == "sqlite":  # the plan shows no free text of the input; its model fit is slow on Neo4j
        pages.append(ivy.get("/borrowers/B1/plan"))
    revealed = ivy.post("/borrowers/B1/reveal", data={"csrf": csrf(ivy), "which": "all",
                                                      "purpose": XSS[0]})
    pages.append(revealed)
    aud = as_user(store, users, "aud")
    pages.append(aud.get("/audit"))
    for r in pages:
        assert r.status_code == 200, r.url
        _assert_inert(r.text)
    # revealed, the payloads are there as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in revealed.text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in revealed.text
    assert "&lt;script&gt;" in pages[3].text and "&lt;script&gt;" in pages[-1].text
    assert f"<script>alert(1)</script> {device}" not in pages[3].text


# ----------------------------------------------------------------------------- access, CSRF, reveal

def test_no_session_redirects_to_login_or_401(demo_db, users):
    c = client_for(demo_db, users)
    for path in ("/", f"/borrowers/{BORROWER}", "/rings", "/audit", f"/borrowers/{BORROWER}/plan"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    for path in (f"/api/borrowers/{BORROWER}/find", "/api/rings", "/api/audit",
                 f"/api/borrowers/{BORROWER}/plan", "/api/rings/R1"):
        assert c.get(path).status_code == 401
    r = c.post(f"/api/borrowers/{BORROWER}/find/reveal", data={"purpose": "x"},
               headers={"X-CSRF-Token": csrf(c)})
    assert r.status_code == 401
    assert c.get("/login").status_code == 200


def test_login_wrong_password_unknown_user_and_no_open_redirect(demo_db, users):
    c = client_for(demo_db, users)
    assert login(c, "ivy", "wrong").status_code == 401
    assert login(c, "mallory").status_code == 401
    assert c.get("/").status_code == 303  # still logged out
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"username": "ivy", "password": PASSWORD})
    assert r.status_code == 403  # the login form needs its token too
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        r = c.post("/login", data={"csrf": token, "username": "ivy", "password": PASSWORD,
                                   "next": evil})
        assert r.status_code == 303 and r.headers["location"] == "/"
        token = csrf(c)
    r = c.get("/")
    assert r.status_code == 200 and "ivy" in r.text
    assert c.post("/logout", data={"csrf": csrf(c)}).status_code == 303
    assert c.get("/").status_code == 303


def test_cookie_and_security_headers(demo_db, users):
    c = client_for(demo_db, users)
    r = login(c, "ivy")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert PASSWORD not in r.headers["set-cookie"]
    for path in ("/", f"/borrowers/{BORROWER}", "/login", "/static/console.css", "/api/rings"):
        h = c.get(path).headers
        csp = h["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY"
        assert h["referrer-policy"] == "no-referrer" and h["cache-control"] == "no-store"
    # a forged cookie is no session
    c2 = client_for(demo_db, users)
    c2.cookies.set("skiptrace_session", "eyJ1c2VyIjogIml2eSJ9.forged.sig")
    assert c2.get("/").status_code == 303


def test_every_post_needs_the_csrf_token(demo_db, users):
    ivy = as_user(demo_db, users, "ivy")
    app = ivy.app
    posts = [r.path.replace("{borrower_id}", BORROWER) for r in app.routes
             if "POST" in (getattr(r, "methods", None) or ())]
    assert {"/login", "/logout", f"/borrowers/{BORROWER}/reveal",
            f"/api/borrowers/{BORROWER}/find/reveal"} <= set(posts)
    before = len(reveals(demo_db))
    for path in posts:
        for token in (None, "wrong", ""):
            data = {"purpose": "case 1", "which": "all", "username": "ivy", "password": PASSWORD}
            if token is not None:
                data["csrf"] = token
            r = ivy.post(path, data=data)
            assert r.status_code == 403, (path, token)
            r = ivy.post(path, data={k: v for k, v in data.items() if k != "csrf"},
                         headers={"X-CSRF-Token": token or "x"})
            assert r.status_code == 403, (path, token)
    assert len(reveals(demo_db)) == before
    assert ivy.get("/").status_code == 200  # still logged in: logout without a token did nothing


def test_roles(demo_db, users):
    ann = as_user(demo_db, users, "ann")
    r = ann.get(f"/borrowers/{BORROWER}")
    assert r.status_code == 200 and 'class="reveal"' not in r.text and "****" in r.text
    before = len(reveals(demo_db))
    assert ann.post(f"/borrowers/{BORROWER}/reveal",
                    data={"csrf": csrf(ann), "purpose": "curious", "which": "all"}).status_code == 403
    assert ann.post(f"/api/borrowers/{BORROWER}/find/reveal", data={"purpose": "curious"},
                    headers={"X-CSRF-Token": csrf(ann)}).status_code == 403
    assert len(reveals(demo_db)) == before
    assert ann.get("/audit").status_code == 403 and ann.get("/api/audit").status_code == 403
    assert ann.get("/rings").status_code == 200
    aud = as_user(demo_db, users, "aud")
    assert aud.get("/").headers["location"] == "/audit"
    for path in (f"/borrowers/{BORROWER}", "/rings", f"/borrowers/{BORROWER}/plan", "/search?q=1"):
        assert aud.get(path).status_code == 403
    for path in (f"/api/borrowers/{BORROWER}/find", "/api/rings", f"/api/borrowers/{BORROWER}/plan"):
        r = aud.get(path)
        assert r.status_code == 403 and "error" in r.json()


def test_reveal_needs_a_purpose_and_an_audit_record(demo_db, users, monkeypatch):
    ivy = as_user(demo_db, users, "ivy")
    raw = ivy.post(f"/api/borrowers/{BORROWER}/find/reveal", data={"purpose": "setup"},
                   headers={"X-CSRF-Token": csrf(ivy)}).json()["candidates"][0]["phone"]
    before = len(reveals(demo_db))
    for purpose in ("", "   "):
        r = ivy.post(f"/borrowers/{BORROWER}/reveal",
                     data={"csrf": csrf(ivy), "which": "1", "purpose": purpose})
        assert r.status_code == 400 and raw not in r.text
    r = ivy.post(f"/api/borrowers/{BORROWER}/find/reveal", data={},
                 headers={"X-CSRF-Token": csrf(ivy)})
    assert r.status_code == 400 and raw not in r.text
    assert len(reveals(demo_db)) == before

    token = csrf(ivy)

    def broken(batch):
        raise OSError("disk full")

    monkeypatch.setattr(demo_db, "write", broken)
    r = ivy.post(f"/borrowers/{BORROWER}/reveal",
                 data={"csrf": token, "which": "all", "purpose": "case 7"})
    assert r.status_code == 503 and raw not in r.text and "audit" in r.text
    r = ivy.post(f"/api/borrowers/{BORROWER}/find/reveal", data={"purpose": "case 7"},
                 headers={"X-CSRF-Token": token})
    assert r.status_code == 503 and raw not in r.text
    for path in (f"/borrowers/{BORROWER}", f"/borrowers/{BORROWER}/plan", "/rings",
                 f"/api/borrowers/{BORROWER}/find"):
        assert ivy.get(path).status_code == 503, path  # no look without its record
    monkeypatch.undo()
    assert len(reveals(demo_db)) == before


# ----------------------------------------------------------------------------- users file, CLI

def test_users_file_hashes_passwords(tmp_path, monkeypatch):
    path = tmp_path / "users.json"
    add_user(path, "ivy", "investigator", "s3cret pass")
    add_user(path, "aud", "auditor", "other")
    text = path.read_text()
    assert "s3cret" not in text and "scrypt$" in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    stored = json.loads(text)
    assert stored["ivy"]["password"] != hash_password("s3cret pass")  # salted
    assert verify_password("s3cret pass", stored["ivy"]["password"])
    assert not verify_password("s3cret pas", stored["ivy"]["password"])
    users = load_users(path)
    assert users.authenticate("ivy", "s3cret pass").role == "investigator"
    assert users.authenticate("ivy", "nope") is None and users.authenticate("eve", "x") is None
    monkeypatch.setenv("SKIPTRACE_CONSOLE_USERS", text)
    assert load_users().authenticate("aud", "other").role == "auditor"
    from skiptrace.errors import SkiptraceError

    with pytest.raises(SkiptraceError):
        add_user(path, "x", "admin", "pw")
    with pytest.raises(SkiptraceError):
        load_users(tmp_path / "missing.json")


def test_cli_users_add_and_serve_help(tmp_path, monkeypatch):
    from skiptrace_cli.main import main

    monkeypatch.setenv("SKIPTRACE_CONSOLE_PASSWORD", "pw from env")
    path = tmp_path / "u.json"
    assert main(["users", "add", "ivy", "--role", "analyst", "--file", str(path)]) == 0
    assert load_users(path).authenticate("ivy", "pw from env").role == "analyst"
    assert main(["serve", "--help"]) == 0
    assert main(["serve", "--db", str(tmp_path / "none.db"), "--users", str(path)]) == 2


# ----------------------------------------------------------------------------- login throttling

class _Clock:
    """A monotonic clock the test moves by hand (no sleeping)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _throttled_client(store, users, clock, *, address="203.0.113.7", **limits) -> TestClient:
    from skiptrace.console.throttle import LoginThrottle

    throttle = LoginThrottle(clock=clock, **{"max_failures": 5, "max_failures_per_address": 20,
                                             "window": 900, "lockout": 60, **limits})
    return TestClient(create_app(store, users, secret="test-secret", throttle=throttle),
                      follow_redirects=False, client=(address, 50000))


def _throttle_events(store) -> list:
    return [e for e in audit_lib.events(store) if e.command == "console login throttled"]


def test_failed_logins_are_throttled_per_user_with_a_growing_back_off(sqlite_store, users, caplog):
    load(sqlite_store, MINI)
    clock = _Clock()
    c = _throttled_client(sqlite_store, users, clock)
    guesses = [f"guess-{i}-pw" for i in range(8)]
    for g in guesses[:5]:
        assert login(c, "ivy", g).status_code == 401
    r = login(c, "ivy")  # the right password, but ivy is locked: not even checked
    assert r.status_code == 429 and r.headers["retry-after"] == "60"
    assert "too many failed logins" in r.text and c.get("/").status_code == 303
    assert login(c, "ann").status_code == 303  # another user from the same place is not locked
    clock.t += 30
    assert login(c, "ivy").headers["retry-after"] == "30"
    clock.t += 31
    assert login(c, "ivy", guesses[5]).status_code == 401  # one more failure: twice as long
    assert login(c, "ivy").headers["retry-after"] == "120"
    clock.t += 121
    assert login(c, "ivy").status_code == 303  # a success resets ivy's count
    c.cookies.clear()
    for g in guesses[6:8]:
        assert login(c, "ivy", g).status_code == 401
    assert login(c, "ivy").status_code == 303
    clock.t += 901  # failures older than the window are forgotten, and so is a lock
    for g in guesses[:4]:
        assert login(c, "ann", g).status_code == 401
    assert login(c, "ann").status_code == 303

    # audited: each lock once, and the first refused attempt of each lock once; no password
    trail = _throttle_events(sqlite_store)
    assert len(trail) == 4 and all(e.subjects == ["user:ivy", "client:203.0.113.0/24"] and
                                   e.actor == "(login)" and not e.revealed for e in trail)
    assert "5 failed logins by this user within 900 s: locked for 60 s" in trail[0].purpose
    assert "refused" in trail[1].purpose and "locked for 120 s" in trail[2].purpose
    text = json.dumps([e.to_dict() for e in audit_lib.events(sqlite_store)]) + caplog.text
    assert not any(p in text for p in guesses + [PASSWORD]) and "203.0.113.7" not in text


def test_failed_logins_are_throttled_per_client_address(sqlite_store, users):
    load(sqlite_store, MINI)
    clock = _Clock()
    c = _throttled_client(sqlite_store, users, clock, max_failures_per_address=3)
    typed = ["mallory", "correct horse battery", "root"]  # a password typed as a user name
    for name in typed:
        assert login(c, name, "x").status_code == 401
    r = login(c, "ivy")  # locked by address: every name from there waits
    assert r.status_code == 429 and r.headers["retry-after"] == "60"
    other = _throttled_client(sqlite_store, users, clock, address="198.51.100.1")
    assert login(other, "ivy").status_code == 303  # another place is not locked
    trail = _throttle_events(sqlite_store)
    assert trail and "by this address" in trail[0].purpose
    assert all(s.startswith(("user:~", "user:ivy", "client:")) for e in trail for s in e.subjects)
    assert not any(n in json.dumps([e.to_dict() for e in trail]) for n in typed)
    from skiptrace.console.throttle import LoginThrottle

    with pytest.raises(ValueError):
        LoginThrottle(max_failures=0)


# ----------------------------------------------------------------------------- reveal on the plan page

def test_plan_page_reveal_is_audited_first_and_for_investigators_only(demo_db, users, monkeypatch):
    from skiptrace.console import views

    app = create_app(demo_db, users, secret="test-secret")  # one app: the response model is fitted once
    clients = {}
    for name in ("ivy", "ann", "aud"):
        clients[name] = TestClient(app, follow_redirects=False)
        assert login(clients[name], name).status_code == 303
    ivy, ann, aud = clients["ivy"], clients["ann"], clients["aud"]
    path, api = f"/borrowers/{BORROWER}/plan", f"/api/borrowers/{BORROWER}/plan"

    masked = ivy.get(path)
    assert masked.status_code == 200 and f'action="{path}/reveal"' in masked.text
    assert 'data-revealed' not in masked.text
    planned = app.state.console.planner.plan(demo_db, BORROWER, reveal=True)
    raw = sorted({a["target_phone"] for a in planned["actions"] + planned["blocked"]
                  if a["target_phone"]})
    assert raw, "the plan has no phone: the test could not see a leak"
    assert not any(p in masked.text or p in ivy.get(api).text for p in raw)
    assert f'action="{path}/reveal"' not in ann.get(path).text  # no reveal form for analysts

    before = len(reveals(demo_db))
    for who in (ann, aud):  # wrong role: 403, nothing recorded, nothing shown
        for url in (f"{path}/reveal", f"{api}/reveal"):
            r = who.post(url, data={"csrf": csrf(who), "purpose": "curious"},
                         headers={"X-CSRF-Token": csrf(who)})
            assert r.status_code == 403 and not any(p in r.text for p in raw)
    for token in (None, "", "wrong"):  # no or a wrong CSRF token: 403
        data = {"purpose": "case 9"} | ({} if token is None else {"csrf": token})
        r = ivy.post(f"{path}/reveal", data=data)
        assert r.status_code == 403 and not any(p in r.text for p in raw)
    assert ivy.post(f"{path}/reveal", data={"csrf": csrf(ivy), "purpose": "  "}).status_code == 400
    assert len(reveals(demo_db)) == before

    # the audit record is there before the unmasked plan is computed
    real_plan = views.Planner.plan
    at_compute = []

    def spy(self, store, borrower_id, *, reveal=False):
        if reveal:
            last = reveals(demo_db)[-1]
            at_compute.append((last.command, last.subjects, last.actor, last.purpose))
        return real_plan(self, store, borrower_id, reveal=reveal)

    monkeypatch.setattr(views.Planner, "plan", spy)
    r = ivy.post(f"{path}/reveal", data={"csrf": csrf(ivy), "purpose": "case 9: call the borrower"})
    assert r.status_code == 200 and 'data-revealed="all"' in r.text and "case 9: call the borrower" in r.text
    assert all(p in r.text for p in raw)
    j = ivy.post(f"{api}/reveal", data={"purpose": "case 9 api"}, headers={"X-CSRF-Token": csrf(ivy)})
    assert j.status_code == 200 and all(p in j.text for p in raw)
    assert at_compute == [("console plan", [BORROWER], "ivy", "case 9: call the borrower"),
                          ("console plan", [BORROWER], "ivy", "case 9 api")]
    assert len(reveals(demo_db)) == before + 2
    assert not any(p in ivy.get(path).text for p in raw)  # the next look is masked again

    def broken(batch):
        raise OSError("disk full")

    monkeypatch.setattr(demo_db, "write", broken)  # the audit cannot be written: 503, nothing shown
    r = ivy.post(f"{path}/reveal", data={"csrf": csrf(ivy), "purpose": "case 10"})
    assert r.status_code == 503 and "audit" in r.text and not any(p in r.text for p in raw)
    assert len(at_compute) == 2


# ----------------------------------------------------------------------------- session revocation

def _cookie(client: TestClient) -> str:
    return client.cookies["skiptrace_session"]


def _with_cookie(app, cookie: str) -> TestClient:
    c = TestClient(app, follow_redirects=False)
    c.cookies.set("skiptrace_session", cookie)
    return c


def test_logout_ends_the_session_on_the_server_even_after_a_restart(sqlite_store, users):
    load(sqlite_store, MINI)
    app = create_app(sqlite_store, users, secret="test-secret")
    c, other = TestClient(app, follow_redirects=False), TestClient(app, follow_redirects=False)
    assert login(c, "ivy").status_code == 303 and login(other, "ivy").status_code == 303
    stolen = _cookie(c)  # a copy of the cookie taken before the logout
    assert _with_cookie(app, stolen).get("/").status_code == 200
    assert c.post("/logout", data={"csrf": csrf(c)}).status_code == 303
    assert _with_cookie(app, stolen).get("/").status_code == 303  # revoked here, not only in the browser
    assert _with_cookie(app, stolen).get("/api/rings").status_code == 401
    assert other.get("/").status_code == 200  # ivy's other session goes on
    logout = [e for e in audit_lib.events(sqlite_store) if e.command == "console logout"]
    assert len(logout) == 1 and logout[0].actor == "ivy" and logout[0].subjects[0].startswith("session:")
    assert stolen not in json.dumps(logout[0].to_dict())
    # the same secret in a new process: the logged-out cookie stays dead, the other one lives
    restarted = create_app(sqlite_store, users, secret="test-secret")
    assert _with_cookie(restarted, stolen).get("/").status_code == 303
    assert _with_cookie(restarted, _cookie(other)).get("/").status_code == 200


def test_a_new_password_or_role_ends_the_users_sessions(sqlite_store, tmp_path):
    load(sqlite_store, MINI)
    path = tmp_path / "users.json"
    add_user(path, "ivy", "investigator", PASSWORD)
    add_user(path, "ann", "analyst", PASSWORD)
    app = create_app(sqlite_store, load_users(path), secret="test-secret")
    ivy, ann = TestClient(app, follow_redirects=False), TestClient(app, follow_redirects=False)
    assert login(ivy, "ivy").status_code == 303 and login(ann, "ann").status_code == 303
    assert ivy.get("/").status_code == 200 and ann.get("/").status_code == 200
    add_user(path, "ivy", "investigator", "a new password")  # while the console runs
    assert ivy.get("/").status_code == 303 and ivy.get("/api/rings").status_code == 401
    assert ann.get("/").status_code == 200  # other users are not affected
    assert login(ivy, "ivy").status_code == 401 and login(ivy, "ivy", "a new password").status_code == 303
    add_user(path, "ann", "auditor", PASSWORD)  # a new role, same password
    assert ann.get("/audit").status_code == 303
    assert login(ann, "ann").status_code == 303 and ann.get("/audit").status_code == 200
    # an old-style cookie (no session id) is no session
    from itsdangerous import TimestampSigner
    import base64

    forged = TimestampSigner("test-secret").sign(
        base64.b64encode(json.dumps({"user": "ivy", "csrf": "x"}).encode())).decode()
    assert _with_cookie(app, forged).get("/").status_code == 303


def test_serve_passes_the_throttle_options(tmp_path, monkeypatch):
    import uvicorn
    from skiptrace_cli.main import main

    db, path = tmp_path / "book.db", tmp_path / "u.json"
    with SQLiteStore(db) as s:
        load(s, MINI)
    add_user(path, "ivy", "investigator", PASSWORD)
    got = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: got.update(t=app.state.console.throttle))
    assert main(["serve", "--db", str(db), "--users", str(path), "--login-failures", "3",
                 "--login-address-failures", "0", "--login-window", "600",
                 "--login-lockout", "30"]) == 0
    t = got["t"]
    assert (t.max_failures, t.max_failures_per_address, t.window, t.lockout) == (3, 0, 600, 30)
    assert main(["serve", "--db", str(db), "--users", str(path), "--login-failures", "0"]) == 2
