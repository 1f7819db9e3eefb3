"""Decisions carry forward: regenerating an adjudication file keeps every decision already taken.

``qualkit disagreements --out FILE`` on an existing file keeps each decision written in it, fills
in the decisions already applied to the consensus (the audit log's decisions in force), and only
adds rows for new disagreements. A decision whose disagreement changed since it was decided (the
coders' codes on the unit differ, or the disagreement is gone) is kept and marked for re-review in
the ``review`` column; `qualkit reconcile` leaves marked rows alone until the team clears the mark.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qualkit.analysis.adjudication import Adjudication, coder_header, read_adjudication
from qualkit.analysis.audit import AuditLog, decisions_in_force
from qualkit.errors import QualkitError

__all__ = ["REVIEW_PREFIX", "carry_forward", "needs_review"]

REVIEW_PREFIX = "re-review"
CHECKED = ("code", "applied_by")


def needs_review(cells: dict[str, str]) -> bool:
    """True when a row is marked for re-review (reconcile leaves it alone until the mark is cleared)."""
    return cells.get("review", "").strip().casefold().startswith(REVIEW_PREFIX)


def _norm(text: object) -> str:
    return " ".join(str(text or "").split()).casefold()


def _read_existing(path: Path, coders: Sequence[str], force: bool) -> Adjudication | None:
    if not path.exists():
        return None
    try:
        adj = read_adjudication(path)
    except QualkitError as exc:
        if force:
            return None
        raise QualkitError(f"could not be read as an adjudication file ({exc}); fix it, write to another file, or "
                           "--force replaces it and keeps a backup beside it", path) from None
    if adj.coders != list(coders):
        if force:
            return None
        raise QualkitError(f"this file compares {adj.coders[0]} and {adj.coders[1]}, not {coders[0]} and {coders[1]}; "
                           "write to another file, or --force replaces it (a backup is kept)", path)
    return adj


def carry_forward(items: Any, path: Path, rows: list[dict[str, Any]], force: bool = False
                  ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """``rows`` (one per current disagreement, decisions empty) with the decisions already taken filled
    in, plus every decided row whose disagreement is gone (marked for re-review); and counts of
    what was ``kept``, ``applied`` (from the consensus), ``review`` and ``new``."""
    a, b = items.coders
    adj = _read_existing(path, items.coders, force)
    old = {r.key: r for r in adj.rows} if adj is not None else {}
    comp = items.comparison
    in_force = decisions_in_force(AuditLog(comp.ws.root).read(), items.coders, items.unit_kind, "consensus")
    counts = {"kept": 0, "applied": 0, "review": 0, "new": 0}
    now_ids = {d.key: d.codes for d in items}
    current = set()
    for row in rows:
        key = str(row["key"])
        current.add(key)
        prev = old.get(key)
        if prev is not None and (prev.decision is not None or prev.cells.get("rationale", "").strip()):
            for col in ("decision", "rationale", "decided_by", "review"):
                row[col] = prev.cells.get(col, "")
            counts["kept"] += 1
            changed = [c for c in (*CHECKED, coder_header("A", a), coder_header("B", b))
                       if _norm(prev.cells.get(c, "")) != _norm(row.get(c, ""))]
            if changed and not needs_review(row):
                row["review"] = (f"{REVIEW_PREFIX}: the codings changed since this was decided (was A: "
                                 f"{prev.cells.get(coder_header('A', a), '')!r}, B: {prev.cells.get(coder_header('B', b), '')!r})")
        elif key in in_force:
            dec = in_force[key]
            row.update({"decision": str(dec.decision), "rationale": dec.rationale, "decided_by": dec.who})
            counts["applied"] += 1
            was = dec.record.get("disagreement", {}).get("codes") or {}
            now = {a: row.get(coder_header("A", a)), b: row.get(coder_header("B", b))}
            if was and any(sorted(was.get(c) or []) != sorted(now_ids.get(key, {}).get(c) or []) for c in (a, b)):
                row["review"] = f"{REVIEW_PREFIX}: the codings changed since this was decided (now {now})"
        else:
            counts["new"] += 1
        counts["review"] += needs_review(row)
    for key, prev in old.items():
        if key in current or (prev.decision is None and not prev.cells.get("rationale", "").strip()):
            continue
        kept = dict(prev.cells)
        if not needs_review(kept):
            kept["review"] = (f"{REVIEW_PREFIX}: no longer a disagreement between {a} and {b} (the codings changed "
                              "since this was decided)")
        rows.append(kept)
        counts["kept"] += 1
        counts["review"] += 1
    for key, dec in in_force.items():  # applied to the consensus, but the disagreement is gone
        if key in current or key in old:
            continue
        dis = dec.record.get("disagreement") or {}
        rows.append({"key": key, "transcript": dis.get("transcript", ""), "unit": dis.get("unit", ""),
                     "text": dis.get("text", ""), "code": dis.get("code", ""), "applied_by": dis.get("applied_by", ""),
                     "decision": str(dec.decision), "rationale": dec.rationale, "decided_by": dec.who,
                     "review": f"{REVIEW_PREFIX}: applied to the consensus, but no longer a disagreement between "
                               f"{a} and {b} (the codings changed since this was decided)"})
        counts["applied"] += 1
        counts["review"] += 1
    return rows, counts

