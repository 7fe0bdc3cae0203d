"""The wheel ships every package under skiptrace-specific names, with the schema."""
from __future__ import annotations

import configparser
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_library_package_is_listed_in_setup_cfg():
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    listed = set(cfg["options"]["packages"].split())
    on_disk = {".".join(p.parent.relative_to(REPO).parts)
               for p in (REPO / "skiptrace").rglob("__init__.py")}
    assert on_disk <= listed, f"missing from setup.cfg: {sorted(on_disk - listed)}"
    assert {"skiptrace_cli", "skiptrace_schema"} <= listed
    assert not listed & {"cli", "graph_schema"}  # nothing generic lands in site-packages


def test_schema_files_ship_as_package_data():
    import skiptrace_schema

    assert skiptrace_schema.version() >= 1
    assert any("borrower_id" in s for s in skiptrace_schema.constraints_cypher())
