"""The web console: a Starlette application over one store (``create_app``).

Security model (docs/console.md):

- no anonymous access: every page but the login page needs a session
  (HTML: a redirect to ``/login``; ``/api/*``: 401); a role without the
  right gets 403 (:data:`skiptrace.console.users.PERMISSIONS`);
- sessions live in a signed cookie (itsdangerous, via Starlette's
  ``SessionMiddleware``: HttpOnly, SameSite=Strict, 8 hours); logging in
  starts a new session; each request also checks it on the server
  (:mod:`skiptrace.console.sessions`: not logged out, same password and role);
- failed logins are throttled per user name and client address
  (:mod:`skiptrace.console.throttle`: 429 with Retry-After, audited);
- every POST carries the session's CSRF token (form field ``csrf`` or header
  ``X-CSRF-Token``), compared in constant time; missing or wrong: 403;
- every value from the data is escaped (Jinja2 autoescape; the drawings are
  escaped by :mod:`skiptrace.rings.render`); no page has a script, and the
  Content-Security-Policy forbids one;
- masked by default; a reveal is a POST with a purpose by an investigator,
  written to the audit trail before anything unmasked is computed; when the
  audit cannot be written nothing is revealed (503). Every look at a borrower
  or a ring is audited as the CLI does, with the user as actor.
"""
from __future__ import annotations

import functools
import hmac
import logging
import math
import os
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from skiptrace import audit as audit_lib
from skiptrace.audit import AuditError
from skiptrace.console import views
from skiptrace.console.sessions import Sessions
from skiptrace.console.throttle import LoginThrottle, Verdict, mask_address
from skiptrace.console.users import User, Users
from skiptrace.contacts.ego import UnknownBorrower
from skiptrace.errors import SkiptraceError
from skiptrace.privacy import pseudonym, store_key
from skiptrace.rings.model import TYPOLOGIES
from skiptrace.store.base import GraphStore

#: the environment variable holding the session-signing secret (default: random per process)
SECRET_ENV = "SKIPTRACE_CONSOLE_SECRET"
SESSION_HOURS = 8
log = logging.getLogger(__name__)
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cache-control", b"no-store"),
]
_HERE = os.path.dirname(__file__)


class SecurityHeaders:
    """Pure ASGI middleware: the security headers on every HTTP response, and
    ``Server-Timing: app;dur=MS``, the server's time until the response starts (what
    bench/console.py reports)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                took = f"app;dur={(time.perf_counter() - t0) * 1e3:.1f}".encode()
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in SECURITY_HEADERS if k not in names] + [(b"server-timing", took)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Console:
    """The state behind the routes: the store (one request at a time), users, planner."""

    def __init__(self, store: GraphStore, users: Users, *, planner: views.Planner | None = None,
                 region: str = "CN", policy: str = "auto",
                 throttle: LoginThrottle | None = None) -> None:
        self.store = store
        self.users = users
        self.throttle = throttle or LoginThrottle()
        self.sessions = Sessions(SESSION_HOURS * 3600)
        self.planner = planner or views.Planner(policy=policy)
        self.region = region
        self.policy = policy
        self.lock = threading.RLock()
        self._key: str | None = None

    def key(self) -> str:
        if self._key is None:
            self._key = store_key(self.store)
        return self._key

    def audit_login(self, name: str, address: str | None, verdict: Verdict, *,
                    refused: bool) -> None:
        """Record a throttled login in the audit trail: the user name if it is a user's (else a
        keyed pseudonym: a mistyped password may be in that field), the client's network
        (:func:`~skiptrace.console.throttle.mask_address`), never a password. A failed audit
        write is logged and the login stays refused."""
        with self.lock:
            try:
                who = f"user:{name}" if self.users.get(name) else \
                    f"user:~{pseudonym(name, self.key())[:12]}"
                why = (f"attempt refused: locked by {verdict.key}, {verdict.retry_after} s left"
                       if refused else
                       f"{verdict.failures} failed logins by this {verdict.key} within "
                       f"{self.throttle.window:g} s: locked for {verdict.retry_after} s")
                audit_lib.record(self.store, "console login throttled",
                                 [who, f"client:{mask_address(address)}"], actor="(login)",
                                 purpose=why)
            except (AuditError, SkiptraceError) as exc:
                log.warning("console: a throttled login could not be audited: %s", exc)

    def audit(self, user: User, command: str, subjects: list[str], *, revealed: bool = False,
              purpose: str | None = None) -> None:
        audit_lib.record(self.store, f"console {command}", subjects, revealed=revealed,
                         purpose=purpose, actor=user.name)


# ----------------------------------------------------------------------------- helpers

def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def _csrf_ok(request: Request, sent: str) -> bool:
    """The token sent matches the session's (constant time); no session token: never."""
    expected = request.session.get("csrf") or ""
    return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


def _user(request: Request) -> User | None:
    """The session's user, if the session is still good: a user of the (current) users file,
    not logged out, and logged in with the user's current password and role
    (:mod:`skiptrace.console.sessions`)."""
    session = request.session
    name, sid = session.get("user"), session.get("sid")
    if not name or not sid:
        return None
    console: Console = request.app.state.console
    user = console.users.get(name)
    if user is None or console.sessions.revoked(sid) or not hmac.compare_digest(
            str(session.get("fp") or ""), console.users.fingerprint(name) or "-"):
        return None
    return user


def _deny(request: Request, status: int, message: str) -> Response:
    if _is_api(request):
        return JSONResponse({"error": message}, status_code=status)
    return _page(request, "error.html", {"status": status, "message": message}, status=status)


def _page(request: Request, name: str, context: dict, *, status: int = 200) -> Response:
    ctx = {"user": _user(request), "csrf": _csrf_token(request), **context}
    return request.app.state.templates.TemplateResponse(request, name, ctx, status_code=status)


def _safe_next(target: str | None) -> str:
    """Only a local path may follow the login (no open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return "/"
    return target


def route(permission: str | None = None, *, post: bool = False) -> Callable:
    """Decorate an endpoint ``fn(request, console, user, **form)``: a session is needed (HTML:
    redirect to the login; API: 401), the role must have ``permission`` (else 403), and a POST
    must carry the session's CSRF token (else 403) before the endpoint runs. The store is used
    by one request at a time."""
    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        async def endpoint(request: Request) -> Response:
            form: dict[str, str] = {}
            if post:
                data = await request.form()
                form = {k: v for k, v in data.items() if isinstance(v, str)}
                sent = form.pop("csrf", None) or request.headers.get("x-csrf-token") or ""
                if not _csrf_ok(request, sent):
                    return _deny(request, 403, "missing or wrong CSRF token; reload the page")
            user = _user(request)
            if user is None:
                if _is_api(request):
                    return JSONResponse({"error": "log in first"}, status_code=401)
                nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(nxt)}", status_code=303)
            if permission and not user.may(permission):
                return _deny(request, 403, f"the {user.role} role may not do this")
            console: Console = request.app.state.console

            def run() -> Response:
                with console.lock:
                    try:
                        return fn(request, console, user, **form)
                    except AuditError as exc:  # no look without its audit record
                        return _deny(request, 503, str(exc))

            from starlette.concurrency import run_in_threadpool

            return await run_in_threadpool(run)

        return endpoint

    return decorate


def _int(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _float(value: str | None, default: float = 0.0) -> float:
    try:
        v = float(value) if value not in (None, "") else default
    except ValueError:
        return default
    return min(1.0, max(0.0, v))


# ----------------------------------------------------------------------------- login

async def login_form(request: Request) -> Response:
    return _page(request, "login.html", {"next": _safe_next(request.query_params.get("next")),
                                         "error": None})


async def login(request: Request) -> Response:
    form = await request.form()
    if not _csrf_ok(request, str(form.get("csrf") or "")):
        return _deny(request, 403, "missing or wrong CSRF token; reload the page")
    name, password = str(form.get("username") or ""), str(form.get("password") or "")
    nxt = _safe_next(str(form.get("next") or ""))
    from starlette.concurrency import run_in_threadpool

    console: Console = request.app.state.console
    address = request.client.host if request.client else None
    verdict = console.throttle.check(name, address)
    if not verdict.allowed:  # locked: the password is not even checked
        if verdict.first:  # one record per lockout, not one per refused attempt
            await run_in_threadpool(console.audit_login, name, address, verdict, refused=True)
        return _throttled(request, nxt, verdict)
    user = await run_in_threadpool(console.users.authenticate, name, password)
    if user is None:
        verdict = console.throttle.failure(name, address)
        if not verdict.allowed:
            log.warning("console: too many failed logins for a %s; locked for %d s",
                        "user name" if verdict.key == "user" else "client address",
                        verdict.retry_after)
            await run_in_threadpool(console.audit_login, name, address, verdict, refused=False)
        return _page(request, "login.html", {"next": nxt, "error": "wrong user name or password"},
                     status=401)
    console.throttle.success(name)
    request.session.clear()  # a new session: no fixation
    request.session["user"] = user.name
    request.session["sid"] = secrets.token_urlsafe(24)
    request.session["fp"] = console.users.fingerprint(user.name)
    request.session["csrf"] = secrets.token_urlsafe(32)
    if user.role == "auditor" and nxt == "/":
        nxt = "/audit"
    return RedirectResponse(nxt, status_code=303)


def _throttled(request: Request, nxt: str, verdict: Verdict) -> Response:
    wait = verdict.retry_after
    text = f"{wait} seconds" if wait < 120 else f"{math.ceil(wait / 60)} minutes"
    r = _page(request, "login.html", {"next": nxt, "error": "too many failed logins: try again in "
                                      f"{text}"}, status=429)
    r.headers["Retry-After"] = str(wait)
    return r


@route(post=True)
def logout(request: Request, console: Console, user: User, **_: str) -> Response:
    """End the session here (its id is revoked, and the revocation audited so that it outlives
    a restart), not only in the browser."""
    digest = console.sessions.revoke(request.session["sid"])
    try:
        console.audit(user, "logout", [digest])
    except AuditError as exc:  # revoked in this process all the same
        log.warning("console: a logout could not be audited (it holds until a restart): %s", exc)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def session_info(request: Request) -> Response:
    """``{"user", "role", "csrf_token"}``: what a JSON client needs to POST."""
    user = _user(request)
    return JSONResponse({"user": user.name if user else None, "role": user.role if user else None,
                         "csrf_token": _csrf_token(request)})


# ----------------------------------------------------------------------------- pages

@route()
def home(request: Request, console: Console, user: User) -> Response:
    if user.role == "auditor":
        return RedirectResponse("/audit", status_code=303)
    return _page(request, "search.html", {"result": None})


@route("view")
def search(request: Request, console: Console, user: User) -> Response:
    q = request.query_params.get("q", "")
    res = views.search(console.store, q, region=console.region)
    if res["borrower"]:
        return RedirectResponse(f"/borrowers/{quote(res['borrower'], safe='')}", status_code=303)
    found = res["holders"] + res["listed_by"]
    if found:
        console.audit(user, "search", found)
    return _page(request, "search.html", {"result": res})


def _revealing(request: Request, console: Console, user: User, command: str, purpose: str,
               show: Callable[[str], Response]) -> Response:
    """The one reveal flow (every page that reveals goes through it): a purpose is required
    (else 400), the audit record (``console COMMAND``, revealed, the purpose, the user) is
    written before anything unmasked is computed (if it cannot be: 503, nothing shown), and
    only then ``show(purpose)`` makes the unmasked answer. The role and the CSRF token were
    checked by :func:`route` (``route("reveal", post=True)``)."""
    purpose = purpose.strip()
    if not purpose:
        return _deny(request, 400, "revealing needs a purpose (why you need the number); "
                                   "it is kept in the audit trail")
    bid = request.path_params["borrower_id"]
    try:  # the audit record first: nothing is shown that the trail does not hold
        console.audit(user, command, [bid], revealed=True, purpose=purpose)
    except AuditError as exc:
        return _deny(request, 503, str(exc))
    return show(purpose)


def _borrower(request: Request, console: Console, user: User, *, reveal_rank: int | None = None,
              reveal_all: bool = False, purpose: str | None = None) -> Response:
    """The borrower page (audited by the caller: :func:`borrower` or :func:`_revealing`)."""
    bid = request.path_params["borrower_id"]
    page = views.borrower_page(console.store, bid, reveal_rank=reveal_rank, reveal_all=reveal_all,
                               key=console.key(), policy=console.policy)
    if page is None:
        return _deny(request, 404, f"no borrower {bid!r}")
    choices = [(c["rank"], f"#{c['rank']} {c['phone']}") for c in page.find["candidates"]]
    return _page(request, "borrower.html", {"page": page, "purpose": purpose,
                                            "may_reveal": user.may("reveal"),
                                            "reveal_choices": choices})


@route("view")
def borrower(request: Request, console: Console, user: User) -> Response:
    console.audit(user, "find", [request.path_params["borrower_id"]])
    return _borrower(request, console, user)


@route("reveal", post=True)
def reveal(request: Request, console: Console, user: User, purpose: str = "", which: str = "all",
           **_: str) -> Response:
    rank = _int(which)
    return _revealing(request, console, user, "find", purpose, lambda why: _borrower(
        request, console, user, reveal_rank=rank, reveal_all=rank is None, purpose=why))


def _plan(request: Request, console: Console, user: User, *, reveal: bool = False,
          purpose: str | None = None) -> Response:
    """The plan page (audited by the caller: :func:`plan_page` or :func:`_revealing`)."""
    bid = request.path_params["borrower_id"]
    try:
        plan = console.planner.plan(console.store, bid, reveal=reveal)
    except UnknownBorrower:
        return _deny(request, 404, f"no borrower {bid!r}")
    return _page(request, "plan.html", {"plan": plan, "borrower_id": bid,
                                        "cscore": console.planner.cscore is not None,
                                        "may_reveal": user.may("reveal"),
                                        "revealed": "all" if reveal else "", "purpose": purpose})


@route("view")
def plan_page(request: Request, console: Console, user: User) -> Response:
    console.audit(user, "plan", [request.path_params["borrower_id"]])
    return _plan(request, console, user)


@route("reveal", post=True)
def plan_reveal(request: Request, console: Console, user: User, purpose: str = "",
                **_: str) -> Response:
    return _revealing(request, console, user, "plan", purpose,
                      lambda why: _plan(request, console, user, reveal=True, purpose=why))


def _ring_filters(request: Request) -> dict:
    q = request.query_params
    typology = q.get("typology") or None
    return {"min_risk": _float(q.get("min_risk")),
            "typology": typology if typology in TYPOLOGIES else None,
            "min_size": _int(q.get("min_size")), "max_size": _int(q.get("max_size")),
            "include_unflagged": q.get("all") in ("1", "on", "true")}


@route("view")
def rings_page(request: Request, console: Console, user: User) -> Response:
    filters = _ring_filters(request)
    stored, rings = views.rings_list(console.store, key=console.key(), **filters)
    console.audit(user, "rings list", [r["ring_id"] for r in rings])
    return _page(request, "rings.html", {"stored": stored, "rings": rings, "filters": filters,
                                         "typologies": TYPOLOGIES})


@route("view")
def ring_page(request: Request, console: Console, user: User) -> Response:
    rid = request.path_params["ring_id"]
    console.audit(user, "rings show", [rid])
    ring = views.ring_page(console.store, rid, key=console.key())
    if ring is None:
        return _deny(request, 404, f"no ring {rid!r} (rings are stored by `skiptrace rings detect`)")
    return _page(request, "ring_detail.html", {"view": ring})


def _audit_events(request: Request, console: Console) -> list:
    q = request.query_params
    return audit_lib.events(console.store, since=q.get("since") or None, actor=q.get("actor") or None,
                            subject=q.get("subject") or None)


@route("audit")
def audit_page(request: Request, console: Console, user: User) -> Response:
    try:
        found = _audit_events(request, console)
    except SkiptraceError as exc:
        return _deny(request, 400, str(exc))
    return _page(request, "audit.html", {"events": list(reversed(found)),
                                         "filters": dict(request.query_params)})


# ----------------------------------------------------------------------------- JSON

@route("view")
def api_find(request: Request, console: Console, user: User) -> Response:
    bid = request.path_params["borrower_id"]
    console.audit(user, "find", [bid])
    d = views.find_json(console.store, bid, policy=console.policy)
    return JSONResponse(d) if d is not None else _deny(request, 404, f"no borrower {bid!r}")


@route("reveal", post=True)
def api_reveal(request: Request, console: Console, user: User, purpose: str = "",
               **_: str) -> Response:
    bid = request.path_params["borrower_id"]

    def show(why: str) -> Response:
        d = views.find_json(console.store, bid, reveal=True, policy=console.policy)
        return JSONResponse(d) if d is not None else _deny(request, 404, f"no borrower {bid!r}")

    return _revealing(request, console, user, "find",
                      purpose.strip() or request.headers.get("x-purpose", ""), show)


@route("view")
def api_plan(request: Request, console: Console, user: User) -> Response:
    bid = request.path_params["borrower_id"]
    console.audit(user, "plan", [bid])
    try:
        return JSONResponse(console.planner.plan(console.store, bid))
    except UnknownBorrower:
        return _deny(request, 404, f"no borrower {bid!r}")


@route("reveal", post=True)
def api_plan_reveal(request: Request, console: Console, user: User, purpose: str = "",
                    **_: str) -> Response:
    bid = request.path_params["borrower_id"]

    def show(why: str) -> Response:
        try:
            return JSONResponse(console.planner.plan(console.store, bid, reveal=True))
        except UnknownBorrower:
            return _deny(request, 404, f"no borrower {bid!r}")

    return _revealing(request, console, user, "plan",
                      purpose.strip() or request.headers.get("x-purpose", ""), show)


@route("view")
def api_rings(request: Request, console: Console, user: User) -> Response:
    _, rings = views.rings_list(console.store, key=console.key(), **_ring_filters(request))
    console.audit(user, "rings list", [r["ring_id"] for r in rings])
    return JSONResponse({"rings": rings})


@route("view")
def api_ring(request: Request, console: Console, user: User) -> Response:
    rid = request.path_params["ring_id"]
    console.audit(user, "rings show", [rid])
    ring = views.ring_page(console.store, rid, key=console.key())
    return JSONResponse(ring["ring"]) if ring else _deny(request, 404, f"no ring {rid!r}")


@route("audit")
def api_audit(request: Request, console: Console, user: User) -> Response:
    try:
        return JSONResponse({"audit": [e.to_dict() for e in _audit_events(request, console)]})
    except SkiptraceError as exc:
        return _deny(request, 400, str(exc))


async def _http_error(request: Request, exc: HTTPException) -> Response:
    return _deny(request, exc.status_code, exc.detail if isinstance(exc.detail, str) else "error")


def create_app(store: GraphStore, users: Users, *, secret: str | None = None,
               cscore: Any = None, region: str = "CN", policy: str = "auto",
               https_only: bool = False, throttle: LoginThrottle | None = None) -> Starlette:
    """The console over ``store`` for ``users``.

    ``secret`` signs the session cookies (default ``$SKIPTRACE_CONSOLE_SECRET``, else random:
    sessions end when the process does); ``cscore`` a C-score model (path) for plans;
    ``region`` parses phone searches without a ``+``; ``policy`` the compliance pack
    (``auto``: by the borrower's region); ``https_only`` marks the cookie Secure (behind TLS);
    ``throttle`` limits failed logins (default: :class:`LoginThrottle` with its defaults).
    """
    secret = secret or os.environ.get(SECRET_ENV) or secrets.token_urlsafe(32)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(_HERE, "templates")),
                             autoescape=True)
    env.filters["num"] = _num_filter
    routes = [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", home),
        Route("/search", search),
        Route("/borrowers/{borrower_id}", borrower),
        Route("/borrowers/{borrower_id}/reveal", reveal, methods=["POST"]),
        Route("/borrowers/{borrower_id}/plan", plan_page),
        Route("/borrowers/{borrower_id}/plan/reveal", plan_reveal, methods=["POST"]),
        Route("/rings", rings_page),
        Route("/rings/{ring_id}", ring_page),
        Route("/audit", audit_page),
        Route("/api/session", session_info),
        Route("/api/borrowers/{borrower_id}/find", api_find),
        Route("/api/borrowers/{borrower_id}/find/reveal", api_reveal, methods=["POST"]),
        Route("/api/borrowers/{borrower_id}/plan", api_plan),
        Route("/api/borrowers/{borrower_id}/plan/reveal", api_plan_reveal, methods=["POST"]),
        Route("/api/rings", api_rings),
        Route("/api/rings/{ring_id}", api_ring),
        Route("/api/audit", api_audit),
        Mount("/static", app=StaticFiles(directory=os.path.join(_HERE, "static")), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=secret, session_cookie="skiptrace_session",
                   max_age=SESSION_HOURS * 3600, same_site="strict", https_only=https_only),
    ], exception_handlers={HTTPException: _http_error})
    app.state.console = Console(store, users, planner=views.Planner(cscore=cscore, policy=policy),
                                region=region, policy=policy, throttle=throttle)
    app.state.console.sessions.load(store)  # logouts before a restart stay logged out
    app.state.templates = Jinja2Templates(env=env)
    return app


def _num_filter(value: Any, digits: int = 3) -> str:
    from skiptrace.rings.render import _fmt

    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:,.0f}"
    return _fmt(value)
