"""The skiptrace data contract as data (installed as ``skiptrace_schema``).

``schema.toml`` holds the input layout, the graph model and the version;
``constraints.cypher`` holds the Neo4j constraints and indexes. This package
only loads them; all logic lives in :mod:`skiptrace`.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    """Return the parsed schema.toml (cached; treat as read-only)."""
    text = resources.files(__name__).joinpath("schema.toml").read_text("utf-8")
    return tomllib.loads(text)


def constraints_cypher() -> list[str]:
    """Return the Cypher DDL statements, one per list item, comments removed."""
    text = resources.files(__name__).joinpath("constraints.cypher").read_text("utf-8")
    lines = [ln for ln in text.splitlines() if not ln.strip().startswith("//")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def version() -> int:
    return int(load()["version"])
