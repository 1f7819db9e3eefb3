"""`qualkit deid accept|reject`: record the team's decisions in deid.csv, by id, kind or all at once,
and `qualkit deid export DIR`: redacted copies of the transcripts plus the mapping kept apart."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from qualkit.errors import DeidError
from qualkit.io.jsonlog import locked
from qualkit.workspace.store import Workspace

__all__ = ["DecideResult", "DeidExport", "deid_decide", "deid_export"]


@dataclass
class DecideResult:
    """How many rows a decision touched, and where deid.csv is."""

    path: Path
    changed: int
    matched: int
    undecided: int


def deid_decide(ws: Workspace, decision: str, ids: Iterable[str] = (), *, kind: str | None = None,
                transcript: str | None = None, everything: bool = False, redecide: bool = False) -> DecideResult:
    """Set ``decision`` (accept, reject or '' to undo) on rows named by id, by kind, or on all.

    Without ``redecide`` only undecided rows change when selecting by kind or all, so a bulk
    accept never overturns a rejection the team made one by one."""
    from qualkit.deid.table import DEID_CSV, read_table, write_table

    if decision not in ("accept", "reject", ""):
        raise DeidError(f"decision {decision!r} must be accept, reject or empty")
    ids = list(ids)
    if not ids and kind is None and transcript is None and not everything:
        raise DeidError("name the spans: ID..., --kind KIND, --transcript ID or --all")
    path = ws.root / DEID_CSV
    with locked(path, what="deid.csv"):
        table = read_table(path)
        if not table.rows:
            raise DeidError("no proposals yet: run `qualkit deid scan` first", path)
        by_id = table.by_id()
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise DeidError(f"no span with id {', '.join(map(repr, unknown))} (ids are in the first column)", path)
        chosen = [by_id[i] for i in ids] if ids else [
            r for r in table.rows if (kind is None or r.kind == kind) and (transcript is None or r.transcript == transcript)
            and (redecide or not r.decision)]
        changed = 0
        for row in chosen:
            if row.decision != decision:
                row.decision = decision
                changed += 1
        if changed:
            write_table(table, ws.backup_dir)
    return DecideResult(path, changed, len(chosen), sum(not r.decision for r in table.rows))


@dataclass
class DeidExport:
    """The redacted copies written, and the mapping file kept beside (not inside) them."""

    files: list[Path]
    mapping: Path


def deid_export(ws: Workspace, out_dir: str | Path) -> DeidExport:
    """Write each transcript's redacted text to ``out_dir/<id>.txt``; the mapping (replacement ->
    original) goes to ``<out_dir>.mapping.csv`` beside the folder, so sharing the folder leaks nothing."""
    import csv
    import io

    from qualkit.deid.redact import label_safe_text, redacted_view
    from qualkit.deid.scan import load_deid
    from qualkit.io.atomic import atomic_write_text

    table = load_deid(ws)
    if not table.rows:
        raise DeidError("no proposals yet: run `qualkit deid scan` first", ws.root / "deid.csv")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    view = redacted_view(ws, table)
    files = []
    for t in ws.transcripts():
        path = out / f"{t.id}.txt"
        text = label_safe_text(t.text, t.turns, view._redaction(t.id, t.text))  # type: ignore[attr-defined]
        atomic_write_text(path, text if text.endswith("\n") else text + "\n")
        files.append(path)
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["transcript", "id", "replacement", "original", "kind", "decision"])
    for r in table.rows:
        if r.applied:
            writer.writerow([r.transcript, r.id, r.replacement, r.text, r.kind, r.decision or "undecided"])
    mapping = out.parent / f"{out.name}.mapping.csv"
    atomic_write_text(mapping, buf.getvalue())
    return DeidExport(files, mapping)
