"""Server-side checks on the console's signed session cookies.

A session cookie is signed, not stored, so on its own it would stay valid until it expires even
after a logout. Each session therefore carries a random id (``sid``) and the user's
:meth:`~skiptrace.console.users.Users.fingerprint` from its login, and every request checks:

- the id was not logged out: logging out revokes it here and appends ``console logout`` with
  the id's digest (``session:<sha-256 prefix>``, never the id) to the store's audit trail, which
  is read back when a console starts, so a restart (with a kept ``$SKIPTRACE_CONSOLE_SECRET``)
  does not bring a logged-out cookie back;
- the fingerprint still matches: a new password or role (``skiptrace users add`` over the
  user) or a removed user ends every session of that user.

Revocations are kept until the cookie they revoke would have expired anyway.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time

from skiptrace import audit as audit_lib
from skiptrace.store.base import GraphStore

log = logging.getLogger(__name__)
#: the audit command of a logout (its subject is the session id's digest)
LOGOUT_COMMAND = "console logout"
_PREFIX = "session:"


def session_digest(sid: str) -> str:
    """What the audit trail holds of a session id: a digest, useless as a cookie."""
    return _PREFIX + hashlib.sha256(sid.encode("utf-8")).hexdigest()[:32]


class Sessions:
    """Logged-out session ids of one console, until they would have expired (module docstring)."""

    def __init__(self, lifetime_seconds: float) -> None:
        self.lifetime = float(lifetime_seconds)
        self._revoked: dict[str, float] = {}  # digest -> when it may be forgotten (wall clock)
        self._lock = threading.Lock()

    def load(self, store: GraphStore) -> int:
        """Read the logouts of the last session lifetime from ``store``'s audit trail; returns
        how many sessions are revoked."""
        since = f"{int(self.lifetime) + 1}s"
        now = time.time()
        with self._lock:
            for e in audit_lib.events(store, since=since):
                if e.command == LOGOUT_COMMAND:
                    for s in e.subjects:
                        if s.startswith(_PREFIX):
                            self._revoked[s] = now + self.lifetime
            return len(self._revoked)

    def revoke(self, sid: str) -> str:
        """Revoke ``sid``; returns its digest (for the audit record)."""
        digest = session_digest(sid)
        now = time.time()
        with self._lock:
            self._revoked[digest] = now + self.lifetime
            for d in [d for d, until in self._revoked.items() if until < now]:
                del self._revoked[d]
        return digest

    def revoked(self, sid: str) -> bool:
        with self._lock:
            return session_digest(sid) in self._revoked


__all__ = ["LOGOUT_COMMAND", "Sessions", "session_digest"]
