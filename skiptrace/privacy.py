"""Masking of personal data in output (phones and names), unless revealed.

Masking protects a screen or a report from casual exposure; it is not
anonymisation (a phone number's hash can be reversed by enumeration).
"""
from __future__ import annotations

import hashlib


def mask_phone(e164: str) -> str:
    """``+8613812345678`` -> ``+86138****5678``: country code and prefix, last four."""
    if len(e164) <= 8:
        return "*" * len(e164)
    return f"{e164[:-8]}****{e164[-4:]}"


def mask_name(name: str) -> str:
    """``Li Wei`` -> ``L* W**``; each word keeps its first character."""
    return " ".join(w[:1] + "*" * (len(w) - 1) for w in name.split())


def pseudonym(value: str) -> str:
    """A stable short stand-in for an identifier, for masked exports."""
    return hashlib.blake2b(value.encode("utf-8"), digest_size=6).hexdigest()
