"""Applying deid.csv on the way out: redacted text, offsets remapped, and a Workspace view that
every export reads through, so transcripts and codings on disk are never touched.

The view overrides the two places exports get transcript content from, ``read`` (text, turns,
speaker labels) and ``codings`` (offsets and quoted text), so matrices, quotes, summary templates,
the report, turns.csv and the QDPX project all see the redacted study without knowing it.
"""
from __future__ import annotations

import bisect
import copy
import re
from dataclasses import dataclass, replace
from typing import Any

from qualkit.deid.table import DeidRow, DeidTable
from qualkit.workspace.store import Workspace

__all__ = ["Redaction", "is_redacted", "label_safe_text", "redact_free_text", "redacted_view", "redaction_for"]


@dataclass
class Redaction:
    """One transcript's applied spans (sorted, no overlaps), its redacted text and the offset map."""

    text: str
    spans: list[tuple[int, int, str]]  # original start, end, replacement
    _starts: list[int]
    _shift: list[int]  # cumulative length change after each span

    def offset(self, pos: int, *, end: bool = False) -> int:
        """Where original offset ``pos`` lands; inside a span: its replacement's start (or end)."""
        i = bisect.bisect_right(self._starts, pos) - 1
        if i < 0:
            return pos
        s, e, rep = self.spans[i]
        new_start = s + (self._shift[i - 1] if i else 0)
        if pos == s:
            return new_start
        if pos < e:
            return new_start + (len(rep) if end else 0)
        return pos + self._shift[i]


def _place(row: DeidRow, original: str) -> tuple[int, int, str] | None:
    """Where a row's text is: at its offsets, else (the transcript was edited since the scan) its
    nearest occurrence; None when it is gone."""
    rep = row.replacement or "[Redacted]"
    if original[row.start:row.end] == row.text:
        return row.start, row.end, rep
    found = [m.start() for m in re.finditer(re.escape(row.text), original)]
    if not found:
        return None
    start = min(found, key=lambda s: abs(s - row.start))
    return start, start + len(row.text), rep


def redaction_for(original: str, rows: list[DeidRow]) -> Redaction:
    """The redacted text of ``original`` with every applied row (accepted or undecided) replaced."""
    spans: list[tuple[int, int, str]] = []
    placed = sorted((p for p in (_place(r, original) for r in rows if r.applied) if p is not None),
                    key=lambda p: (p[0], -p[1]))
    for start, end, rep in placed:
        if spans and start < spans[-1][1]:
            continue  # inside an earlier span
        spans.append((start, end, rep))
    pieces, shift, total, pos = [], [], 0, 0
    for s, e, rep in spans:
        pieces += [original[pos:s], rep]
        total += len(rep) - (e - s)
        shift.append(total)
        pos = e
    pieces.append(original[pos:])
    return Redaction("".join(pieces), spans, [s for s, _, _ in spans], shift)


def _label_regions(text: str, turns: list[Any]) -> list[tuple[int, int]]:
    """Where each turn's speaker label is in ``text``: from the start of the line its content starts on
    to the content; when the content starts a line, the line above (a label on its own line)."""
    regions = []
    for t in turns:
        if not t.speaker:
            continue
        line = text.rfind("\n", 0, t.start) + 1
        if line < t.start:
            regions.append((line, t.start))
        elif line > 1:
            top = text[:line - 1].rstrip("\n")
            regions.append((top.rfind("\n") + 1, len(top)))
    return regions


def label_safe_text(original: str, turns: list[Any], red: Redaction) -> str:
    """The redacted text of a transcript, for a copy that is read again as a transcript: a placeholder
    inside a speaker label loses its brackets (``Sheriff [KP-1]:`` is written ``Sheriff KP-1:``), since
    brackets are not part of a label and the turn would otherwise be lost when the copy is read."""
    regions = _label_regions(original, turns)
    starts = [a for a, _ in regions]
    pieces, pos = [], 0
    for s, e, rep in red.spans:
        i = bisect.bisect_right(starts, s) - 1
        if i >= 0 and e <= regions[i][1]:
            rep = rep.strip("[]") or rep
        pieces += [original[pos:s], rep]
        pos = e
    pieces.append(original[pos:])
    return "".join(pieces)


def redact_free_text(text: str, table: DeidTable) -> str:
    """Free text (a memo, a codebook example) with every applied entity's words replaced, whole words."""
    cached = getattr(table, "_free_text", None)
    if cached is None or cached[0] != len(table.rows):
        pairs = {r.text: r.replacement or "[Redacted]" for r in table.rows if r.applied and len(r.text) > 1}
        alts = "|".join(re.escape(t) for t in sorted(pairs, key=len, reverse=True))
        cached = (len(table.rows), pairs, re.compile(rf"(?<!\w)(?:{alts})(?!\w)") if pairs else None)
        table._free_text = cached  # type: ignore[attr-defined]
    _, pairs, pattern = cached
    if not text or pattern is None:
        return text
    return pattern.sub(lambda m: pairs[m.group()], text)


class _RedactedMixin:
    """Overrides of the store's content getters; mixed in front of the workspace's own class."""

    deid_table: DeidTable
    _redactions: dict[str, Redaction]

    def _redaction(self, transcript_id: str, original: str) -> Redaction:
        red = self._redactions.get(transcript_id)
        if red is None:
            red = redaction_for(original, self.deid_table.for_transcript(transcript_id))
            self._redactions[transcript_id] = red
        return red

    def read(self, path: Any) -> Any:
        original = super().read(path)  # type: ignore[misc]
        red = self._redaction(original.id, original.text)
        turns = [replace(t, start=red.offset(t.start), end=red.offset(t.end, end=True),
                         speaker=(t.participant or redact_free_text(t.speaker, self.deid_table)) if t.speaker else t.speaker)
                 for t in original.turns]
        return replace(original, text=red.text, turns=turns, warnings=list(original.warnings))

    def codings(self, coder: str) -> list:
        out = []
        texts: dict[str, str] = {}
        for c in super().codings(coder):  # type: ignore[misc]
            if c.transcript not in texts:
                try:
                    texts[c.transcript] = self.transcript(c.transcript).text  # type: ignore[attr-defined]
                except Exception:  # noqa: BLE001 - an unknown transcript is reported by the caller as before
                    texts[c.transcript] = ""
            red = self._redactions.get(c.transcript)
            if red is None:
                out.append(replace(c, memo=redact_free_text(c.memo, self.deid_table)))
                continue
            s, e = red.offset(c.start), red.offset(c.end, end=True)
            out.append(replace(c, start=s, end=e, text=red.text[s:e], memo=redact_free_text(c.memo, self.deid_table)))
        return out


    def export_text(self, text: str) -> str:
        return redact_free_text(text, self.deid_table)

    @property
    def participant_table(self) -> Any:
        """participants.csv with its attribute values (a site, a town) redacted; labels and ids kept."""
        from qualkit.workspace.participants import Participants

        cached = self.__dict__.get("_redacted_participants")
        if cached is not None:
            return cached
        table = super().participant_table  # type: ignore[misc]
        keep = {"transcript", "speaker", "participant_id", "role"}
        rows = [{k: (v if k in keep else redact_free_text(v, self.deid_table)) for k, v in row.items()} for row in table.rows]
        redacted = Participants(table.path, list(table.columns), rows, list(table.warnings), table.facilitator_roles)
        # lookups were built from the labels as transcripts write them; the rows others list show them redacted
        redacted.rows = [{**row, "speaker": redact_free_text(row["speaker"], self.deid_table)} for row in rows]
        self._redacted_participants = redacted
        return redacted

    def codebooks(self) -> list:
        """Codebooks with their texts (definitions, examples: quotes, often) redacted like memos."""
        def clean(x: str) -> str:
            return redact_free_text(x, self.deid_table)

        return [replace(b, description=clean(b.description),
                        codes=[replace(c, brief=clean(c.brief), definition=clean(c.definition), include=clean(c.include),
                                       exclude=clean(c.exclude), examples=[clean(x) for x in c.examples],
                                       keywords=[clean(x) for x in c.keywords])
                               for c in b.codes])
                for b in super().codebooks()]  # type: ignore[misc]


_CLASSES: dict[type, type] = {}


def redacted_view(ws: Workspace, table: DeidTable) -> Workspace:
    """A copy of ``ws`` whose transcripts and codings read redacted (the originals stay as they are)."""
    cls = type(ws)
    if cls not in _CLASSES:
        _CLASSES[cls] = type(f"Redacted{cls.__name__}", (_RedactedMixin, cls), {})
    view = copy.copy(ws)
    view.__class__ = _CLASSES[cls]
    view._cache = type(ws._cache)()
    view.deid_table = table  # type: ignore[attr-defined]
    view._redactions = {}  # type: ignore[attr-defined]
    # What the store derives from codings and text is the view's own (copy.copy shared the dicts): the
    # original's excerpts or anchored codings, computed first, would put identifiers in exports. Notices
    # of changed transcripts stay shared, so that each is shown once.
    view.derived_cache = type(ws.derived_cache)()
    view.anchor_state = {"_notes": ws.anchor_state.setdefault("_notes", {})}
    view.__dict__.pop("_redacted_participants", None)
    return view


def is_redacted(ws: Workspace) -> bool:
    """Whether ``ws`` is a redacted view."""
    return isinstance(ws, _RedactedMixin)
