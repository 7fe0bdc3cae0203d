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
import os
import secrets
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


class Users:
    """The users of a console: ``authenticate(name, password) -> User | None``."""

    def __init__(self, entries: dict[str, dict]) -> None:
        for name, e in entries.items():
            if not isinstance(e, dict) or e.get("role") not in ROLES or not e.get("password"):
                raise SkiptraceError(f"users: {name!r} needs a role ({', '.join(ROLES)}) and a "
                                     "password hash (write it with `skiptrace users add`)")
        self._entries = entries
        # a hash to check against when the name is unknown, so both cases cost the same
        self._dummy = hash_password(secrets.token_hex(8))

    def __len__(self) -> int:
        return len(self._entries)

    def authenticate(self, name: str, password: str) -> User | None:
        e = self._entries.get(name)
        ok = verify_password(password, e["password"] if e else self._dummy)
        return User(name, e["role"]) if e and ok else None

    def get(self, name: str) -> User | None:
        e = self._entries.get(name)
        return User(name, e["role"]) if e else None


def load_users(path: str | os.PathLike | None = None) -> Users:
    """The users of ``path``, else of ``$SKIPTRACE_CONSOLE_USERS`` (a path or the JSON itself)."""
    source = str(path) if path else os.environ.get(USERS_ENV, "").strip()
    if not source:
        raise SkiptraceError(f"no console users: give --users FILE or set ${USERS_ENV} "
                             "(create one with `skiptrace users add`)")
    try:
        text = source if source.startswith("{") else Path(source).read_text(encoding="utf-8")
        entries = json.loads(text)
    except OSError as exc:
        raise SkiptraceError(f"cannot read the users file {source}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise SkiptraceError(f"the users file is not JSON: {exc}") from None
    if not isinstance(entries, dict) or not entries:
        raise SkiptraceError("the users file holds no users")
    return Users(entries)


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
