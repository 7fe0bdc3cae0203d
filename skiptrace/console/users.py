"""Console users: names, roles and hashed passwords, kept in a JSON file.

A users file maps each user name to a role and a password hash::

    {"alice": {"role": "investigator", "password": "scrypt$16384$8$1$<salt>$<hash>"}}

The hash is :func:`hashlib.scrypt` (stdlib) with a random 16-byte salt per
user; a password is checked in constant time. Roles:

- ``investigator``: borrowers, rings, plans; may reveal a number (audited);
- ``analyst``: the same pages, masked only;
- ``auditor``: the audit trail only.

The file is named by ``--users`` or ``$SKIPTRACE_CONSOLE_USERS`` (which may
also hold the JSON itself). ``skiptrace users add`` writes it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from skiptrace.errors import SkiptraceError

#: the environment variable naming the users file (or holding its JSON)
USERS_ENV = "SKIPTRACE_CONSOLE_USERS"
ROLES = ("investigator", "analyst", "auditor")
#: what each role may do
PERMISSIONS = {
    "investigator": frozenset({"view", "reveal"}),
    "analyst": frozenset({"view"}),
    "auditor": frozenset({"audit"}),
}
_N, _R, _P = 2 ** 14, 8, 1
log = logging.getLogger(__name__)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (hex) of ``password`` under a fresh random salt."""
    if not password:
        raise ValueError("a password may not be empty")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True if ``password`` matches ``stored`` (a :func:`hash_password` string); constant time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                             p=int(p), dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def may(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


def _checked(entries: dict[str, dict]) -> dict[str, dict]:
    for name, e in entries.items():
        if not isinstance(e, dict) or e.get("role") not in ROLES or not e.get("password"):
            raise SkiptraceError(f"users: {name!r} needs a role ({', '.join(ROLES)}) and a "
                                 "password hash (write it with `skiptrace users add`)")
    return entries


class Users:
    """The users of a console: ``authenticate(name, password) -> User | None``.

    Read from ``path`` (a users file), they are read again when the file changes (``skiptrace
    users add`` while the console runs), so a new password or role takes effect at once and
    :meth:`fingerprint` changes, which ends that user's sessions."""

    def __init__(self, entries: dict[str, dict], *, path: str | os.PathLike | None = None) -> None:
        self._entries = _checked(entries)
        self._path = Path(path) if path else None
        self._stamp = self._file_stamp()
        self._lock = threading.Lock()
        # a hash to check against when the name is unknown, so both cases cost the same
        self._dummy = hash_password(secrets.token_hex(8))

    def __len__(self) -> int:
        return len(self._entries)

    def _file_stamp(self) -> tuple | None:
        try:
            st = os.stat(self._path) if self._path else None
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino) if st else None

    def refresh(self) -> None:
        """Read the users file again if it changed (one ``stat`` when it did not). A file that
        cannot be read now keeps the users read before (and says so in the log)."""
        if self._path is None:
            return
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            try:
                entries = _checked(_read_entries(str(self._path)))
            except SkiptraceError as exc:
                log.warning("console users: %s; keeping the users read before", exc)
            else:
                self._entries = entries
            self._stamp = stamp

    def authenticate(self, name: str, password: str) -> User | None:
        self.refresh()
        e = self._entries.get(name)
        ok = verify_password(password, e["password"] if e else self._dummy)
        return User(name, e["role"]) if e and ok else None

    def get(self, name: str) -> User | None:
        self.refresh()
        e = self._entries.get(name)
        return User(name, e["role"]) if e else None

    def fingerprint(self, name: str) -> str | None:
        """A digest of the user's role and password hash (None: no such user): a session
        carries the one of its login and ends when it changes (a new password or role)."""
        self.refresh()
        e = self._entries.get(name)
        if e is None:
            return None
        return hashlib.sha256(f"skiptrace-session\x1f{e['role']}\x1f{e['password']}".encode()
                              ).hexdigest()[:32]


def _read_entries(source: str) -> dict:
    try:
        text = source if source.startswith("{") else Path(source).read_text(encoding="utf-8")
        entries = json.loads(text)
    except OSError as exc:
        raise SkiptraceError(f"cannot read the users file {source}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise SkiptraceError(f"the users file is not JSON: {exc}") from None
    if not isinstance(entries, dict) or not entries:
        raise SkiptraceError("the users file holds no users")
    return entries


def load_users(path: str | os.PathLike | None = None) -> Users:
    """The users of ``path``, else of ``$SKIPTRACE_CONSOLE_USERS`` (a path or the JSON itself)."""
    source = str(path) if path else os.environ.get(USERS_ENV, "").strip()
    if not source:
        raise SkiptraceError(f"no console users: give --users FILE or set ${USERS_ENV} "
                             "(create one with `skiptrace users add`)")
    return Users(_read_entries(source), path=None if source.startswith("{") else source)


def add_user(path: str | os.PathLike, name: str, role: str, password: str) -> None:
    """Add (or replace) ``name`` in the users file at ``path`` (created if missing, mode 0600)."""
    if role not in ROLES:
        raise SkiptraceError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not name or not name.strip() or name != name.strip():
        raise SkiptraceError("a user name may not be empty or padded with spaces")
    p = Path(path)
    entries = json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}
    entries[name] = {"role": role, "password": hash_password(password)}
    tmp = p.with_name(f".{p.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(entries, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, p)


__all__ = ["PERMISSIONS", "ROLES", "USERS_ENV", "User", "Users", "add_user", "hash_password",
           "load_users", "verify_password"]
