"""Masking of personal data in output (phones, names, addresses, employers), unless revealed.

Two tools:

- masks (:func:`mask_phone`, :func:`mask_name`, :func:`mask_text`) hide most
  of a value for a screen or a report;
- keyed pseudonyms (:func:`pseudonym`) stand in for an identifier where a
  masked export still needs to tell two values apart (a graph's node ids).
  A pseudonym is an HMAC-SHA-256 of the value under a secret key kept with
  the store (:func:`store_key`), so it is stable inside one store, differs
  between stores, and cannot be reversed by enumerating candidate values
  (a phone's 10,000 possible hidden digits) without the key.

A masked phone keeps its country code, the next three digits and the last
four (``+86138****5678``): on its own the four hidden digits are not secret
against a determined reader, but nothing else in a masked output lets a
guess be checked, since the only other handle on the number is its keyed
pseudonym.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from skiptrace.store.base import GraphStore

#: the environment variable that overrides the store's pseudonym key
KEY_ENV = "SKIPTRACE_PSEUDONYM_KEY"
#: the store metadata entry holding the key (hex)
KEY_META = "pseudonym_key"
#: hex digits of a pseudonym (64 bits: collisions are negligible below ~10^8 values)
PSEUDONYM_HEX = 16


def mask_phone(e164: str) -> str:
    """``+8613812345678`` -> ``+86138****5678``: country code and prefix, last four.

    A number of eight characters or fewer is masked whole.

    >>> mask_phone("+8613812345678")
    '+86138****5678'
    """
    if len(e164) <= 8:
        return "*" * len(e164)
    return f"{e164[:-8]}****{e164[-4:]}"


def mask_name(name: str) -> str:
    """``Li Wei`` -> ``L* W**``; each word keeps its first character (a
    one-character word is hidden whole, as it would be shown entire).

    >>> mask_name("Li Wei")
    'L* W**'
    """
    return " ".join(w[:1] + "*" * (len(w) - 1) if len(w) > 1 else "*" for w in name.split())


def mask_text(text: str) -> str:
    """Free text (an address, a raw input cell) hidden but for its first
    character and its length class: ``'12 Main St'`` -> ``'1*********'``.
    Used where no structure of the value is worth keeping.

    >>> mask_text("12 Main St")
    '1*********'
    """
    text = str(text)
    if len(text) <= 1:
        return "*" * len(text)
    return text[0] + "*" * min(len(text) - 1, 12)


def mask_cell(text: str) -> str:
    """A raw input cell for an error message: phones-like values as a phone
    mask, anything else as :func:`mask_text`, always quoted.

    >>> mask_cell("138 0013 8000")
    "'138****8000'"
    """
    text = str(text)
    digits = sum(ch.isdigit() for ch in text)
    if digits >= 7 and digits * 2 >= len(text.replace(" ", "")):
        compact = "".join(ch for ch in text if ch.isdigit() or ch == "+")
        return repr(mask_phone(compact))
    return repr(mask_text(text))


def new_key() -> str:
    """A fresh random pseudonym key (256 bits, hex)."""
    return secrets.token_hex(32)


def _key_bytes(key: str | bytes) -> bytes:
    return key if isinstance(key, bytes) else key.encode("utf-8")


def pseudonym(value: str, key: str | bytes) -> str:
    """A stable stand-in for ``value`` under ``key``: the first
    :data:`PSEUDONYM_HEX` hex digits of HMAC-SHA-256(key, value).

    Parameters
    ----------
    value : the identifier (an E.164 phone, an address key, an employer key).
    key : the store's secret (:func:`store_key`); without it the pseudonym
        cannot be recomputed, so enumerating candidate values reveals nothing.

    Cost: one HMAC, O(len(value)).

    >>> pseudonym("+8613812345678", "k") == pseudonym("+8613812345678", "k")
    True
    >>> pseudonym("+8613812345678", "k") == pseudonym("+8613812345678", "other")
    False
    """
    if not key:
        raise ValueError("a pseudonym needs a non-empty key")
    mac = hmac.new(_key_bytes(key), str(value).encode("utf-8"), hashlib.sha256)
    return mac.hexdigest()[:PSEUDONYM_HEX]


def store_key(store: "GraphStore") -> str:
    """The pseudonym key of ``store``: ``$SKIPTRACE_PSEUDONYM_KEY`` when set,
    else the random key kept in the store's metadata (created on first use
    when an older store has none)."""
    env = os.environ.get(KEY_ENV)
    if env:
        return env
    # read first: a write would wait for a running load's write lock
    return store.get_meta(KEY_META) or store.put_meta(KEY_META, new_key(), replace=False)


__all__ = ["KEY_ENV", "mask_cell", "mask_name", "mask_phone", "mask_text", "new_key",
           "pseudonym", "store_key"]
