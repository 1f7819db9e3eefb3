"""The reconciliation audit log, ``.qualkit/audit.log``, and the decisions in force it records.

JSON lines, append-only (see :mod:`qualkit.analysis.reconcile` for the records and how runs use
them). Appends go through :mod:`qualkit.io.jsonlog`'s cross-platform lock, each batch fsync'ed
before ``append`` returns; a partial last line (a crash mid-write) is left out on read.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qualkit.analysis.adjudication import DECISION_KINDS, Decision
from qualkit.io.jsonlog import JsonLog
from qualkit.workspace.codings import now_iso

__all__ = ["AUDIT_LOG", "AUDIT_VERSION", "AuditLog", "Decided", "audit_record", "decisions_in_force", "default_user",
           "same_pair"]

AUDIT_LOG = Path(".qualkit") / "audit.log"
AUDIT_VERSION = 1

Record = dict[str, Any]


class AuditLog(JsonLog):
    """``.qualkit/audit.log`` of a workspace: append-only JSON lines, each batch fsync'ed before append returns."""

    def __init__(self, root: str | Path):
        super().__init__(Path(root) / AUDIT_LOG, what="audit log")


def same_pair(rec: Record, coders: Sequence[str]) -> bool | None:
    """True for records of (A, B), False for (B, A), None for other coders."""
    rc = rec.get("coders")
    if rc == list(coders):
        return True
    if rc == list(coders)[::-1]:
        return False
    return None


@dataclass
class Decided:
    """A decision in force: the decision (in terms of the current A/B order) and its record."""

    decision: Decision
    record: Record

    @property
    def rationale(self) -> str:
        return self.record.get("rationale") or ""

    @property
    def who(self) -> str:
        return self.record.get("who") or ""


def decisions_in_force(records: Sequence[Record], coders: Sequence[str], unit_kind: str,
                       into: str) -> dict[str, Decided]:
    """Per key, the last ``decide`` record not undone, for these coders, unit kind and consensus."""
    history: dict[str, list[Decided]] = {}
    for rec in records:
        if rec.get("into") != into or rec.get("unit_kind") != unit_kind:
            continue
        order = same_pair(rec, coders)
        if order is None:
            continue
        key = rec.get("key")
        if rec.get("action") == "decide" and key:
            try:
                dec = Decision(str(rec["decision"]), tuple(rec.get("codes") or ()))
            except KeyError:
                continue
            if dec.kind not in DECISION_KINDS:
                continue
            history.setdefault(key, []).append(Decided(dec if order else dec.swapped(), rec))
        elif rec.get("action") == "undo" and key:
            h = history.get(key, [])
            for i in range(len(h) - 1, -1, -1):
                if h[i].record.get("id") == rec.get("undoes"):
                    del h[i]
                    break
    return {k: h[-1] for k, h in history.items() if h}


def audit_record(action: str, *, who: str, coders: Sequence[str], unit_kind: str, into: str, **extra: Any) -> Record:
    """A new audit record (``v``, a fresh ``id``, ``when`` now) with the fields every record has, then ``extra``."""
    return {"v": AUDIT_VERSION, "id": uuid.uuid4().hex[:16], "action": action, "who": who, "when": now_iso(),
            "coders": list(coders), "unit_kind": unit_kind, "into": into, **extra}


def default_user() -> str:
    """Who decides when --by is not given: the operating-system user."""
    import getpass

    try:
        return getpass.getuser() or "unknown"
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "unknown"
