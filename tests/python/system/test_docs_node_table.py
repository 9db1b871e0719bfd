"""docs/MANIFEST.md's table of node types and parameters is the registry's (scripts/node_table.py
writes it; issue 12: it once covered 2 of 17 node types)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("node_table", REPO / "scripts" / "node_table.py")
node_table = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(node_table)


def test_the_manifest_doc_lists_every_registered_node_type_with_its_parameters():
    text = (REPO / "docs" / "MANIFEST.md").read_text(encoding="utf-8")
    assert node_table.documented(text) == node_table.section(), "run: python scripts/node_table.py --write"


def test_the_table_has_a_row_per_node_type():
    from remotemedia.core import registry

    rows = node_table.table().splitlines()[2:]
    builtin = [s for s in registry.node_types() if s.node_class.__module__.startswith("remotemedia.")]
    assert len(rows) == len(builtin) >= 17
    assert any(r.startswith("| `EnergyVADNode` |") and "`hangover_ms`" in r for r in rows)
