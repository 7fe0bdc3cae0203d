"""Login throttling for the console: failed logins counted per user name and per client address.

A key (a user name, or a client address) that has failed ``max_failures`` times within
``window`` seconds is locked: for ``lockout`` seconds after that failure, doubling with each
further failure (``lockout * 2**k``, at most ``max_lockout``). While a key is locked every
login attempt on it is refused with its time left (HTTP 429 with ``Retry-After``) and the
password is not even checked, so guessing stops and costs the server nothing. Failures older
than ``window`` are forgotten; a successful login forgets the user name's failures (not the
address's: one valid account must not reset the count of guesses at others from one place).

State is in memory, per process (a restart forgets it), and bounded: at most
:data:`MAX_KEYS` keys are kept, the stalest dropped first.
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

#: keys kept at most (a flood of made-up user names cannot grow the state without bound)
MAX_KEYS = 50_000
#: a user name is kept to this many characters as a key
MAX_NAME = 256


@dataclass
class _Entry:
    failures: list[float] = field(default_factory=list)  # times of failures within the window
    locked_until: float = 0.0
    announced: float = 0.0  # the locked_until whose refusals were last reported (audited)


@dataclass(frozen=True)
class Verdict:
    """What the throttle says about an attempt: ``retry_after`` seconds to wait (0: go on),
    the key that is locked (``"user"`` or ``"address"``), and whether this is the first
    refusal of that lockout (worth one audit record, not one per refused attempt)."""

    retry_after: int = 0
    key: str | None = None
    first: bool = False
    failures: int = 0

    @property
    def allowed(self) -> bool:
        return self.retry_after <= 0


class LoginThrottle:
    """Counts failed logins per user name and per client address (module docstring).

    ``max_failures`` per user name, ``max_failures_per_address`` per client address (0: no
    limit by address), both within ``window`` seconds; ``lockout`` the first lock in seconds,
    doubling per further failure up to ``max_lockout``; ``clock`` a monotonic clock in seconds.
    """

    def __init__(self, *, max_failures: int = 5, max_failures_per_address: int = 20,
                 window: float = 900.0, lockout: float = 60.0, max_lockout: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_failures < 1:
            raise ValueError(f"max_failures must be at least 1, not {max_failures}")
        if max_failures_per_address < 0:
            raise ValueError("max_failures_per_address must be 0 (no limit) or more, "
                             f"not {max_failures_per_address}")
        if not window > 0 or not lockout > 0 or max_lockout < lockout:
            raise ValueError("window and lockout must be positive, max_lockout at least lockout")
        self.max_failures = max_failures
        self.max_failures_per_address = max_failures_per_address
        self.window = float(window)
        self.lockout = float(lockout)
        self.max_lockout = float(max_lockout)
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()

    def _keys(self, name: str, address: str | None) -> list[tuple[tuple[str, str], int]]:
        keys = [(("user", name[:MAX_NAME]), self.max_failures)]
        if address and self.max_failures_per_address:
            keys.append((("address", address), self.max_failures_per_address))
        return keys

    def check(self, name: str, address: str | None) -> Verdict:
        """Before checking a password: may this attempt go on?"""
        now = self.clock()
        worst, locked = Verdict(), None
        with self._lock:
            for key, _limit in self._keys(name, address):
                e = self._entries.get(key)
                if e is None or e.locked_until <= now:
                    continue
                left = math.ceil(e.locked_until - now)
                if left > worst.retry_after:
                    worst = Verdict(left, key[0], e.announced != e.locked_until, len(e.failures))
                    locked = e
            if locked is not None:  # one report per lockout, whichever attempt meets it first
                locked.announced = locked.locked_until
        return worst

    def failure(self, name: str, address: str | None) -> Verdict:
        """A failed login: count it; the verdict says whether it locked a key, and for how long."""
        now = self.clock()
        worst = Verdict()
        with self._lock:
            for key, limit in self._keys(name, address):
                e = self._entries.pop(key, None) or _Entry()
                self._entries[key] = e  # most recently used last
                e.failures = [t for t in e.failures if t > now - self.window] + [now]
                over = len(e.failures) - limit
                if over >= 0:
                    e.locked_until = now + min(self.max_lockout, self.lockout * 2 ** min(over, 32))
                    left = math.ceil(e.locked_until - now)
                    if left > worst.retry_after:
                        worst = Verdict(left, key[0], True, len(e.failures))
            self._prune(now)
        return worst

    def success(self, name: str) -> None:
        """A successful login forgets the user name's failures."""
        with self._lock:
            self._entries.pop(("user", name[:MAX_NAME]), None)

    def _prune(self, now: float) -> None:
        if len(self._entries) <= MAX_KEYS:
            return
        for key in [k for k, e in self._entries.items()
                    if e.locked_until <= now and (not e.failures or e.failures[-1] <= now - self.window)]:
            del self._entries[key]
        while len(self._entries) > MAX_KEYS:
            self._entries.popitem(last=False)


def mask_address(address: str | None) -> str:
    """A client address for the audit trail, coarsened: an IPv4 address to its /24, an IPv6
    one to its /48 (where it comes from, not who); anything else (a socket name) as ``other``."""
    import ipaddress

    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "other"
    return str(ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 48}", strict=False))


__all__ = ["LoginThrottle", "MAX_KEYS", "Verdict", "mask_address"]
