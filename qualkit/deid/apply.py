"""The one switch every export goes through: the redacted view of a workspace once deid.csv holds
a decision, the original with ``no_deid``; either way the manifest says which."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from qualkit.deid.redact import redacted_view
from qualkit.deid.table import DEID_CSV, read_table
from qualkit.io.naming import plural_s
from qualkit.workspace.store import Workspace

__all__ = ["export_view", "exporting"]


def export_view(ws: Workspace, *, no_deid: bool = False) -> tuple[Workspace, dict[str, str]]:
    """The workspace exports should read, and what to record in their manifests about it."""
    table = read_table(ws.root / DEID_CSV)  # as deid.scan.load_deid, without the detector every export would import
    if not table.rows:
        return ws, {}
    if no_deid:
        return ws, {"deid": "off (--no-deid): original transcript text exported"}
    if not table.active:
        return ws, {"deid": "not applied: deid.csv has no decision yet"}
    applied = sum(r.applied for r in table.rows)
    undecided = sum(not r.decision for r in table.rows)
    note = f"applied: {applied} span{plural_s(applied)} of deid.csv redacted ({undecided} still undecided, redacted too)"
    return redacted_view(ws, table), {"deid": note}


@contextmanager
def exporting(ws: Workspace, *, no_deid: bool = False) -> Iterator[Workspace]:
    """``with exporting(ws) as view:`` every manifest written inside records the deid state."""
    from qualkit.io.manifest import recorded

    view, note = export_view(ws, no_deid=no_deid)
    with recorded(**note):
        yield view
