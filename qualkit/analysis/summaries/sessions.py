"""What a summary template is made of besides its domains: the session's facts and the coded excerpts.

A coding is clipped to the turn it starts in and widened to whole words; facilitators' turns are
left out; within a domain, overlapping excerpts of the same turn are merged (their codes listed
together). Excerpts are :class:`qualkit.analysis.sources.Excerpt` and are trimmed by the one quote
trimmer, as in every matrix.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.analysis.quote_text import DEFAULT_LIMIT, word_stems
from qualkit.analysis.sources import Excerpt
from qualkit.analysis.summaries.guide import DomainSet

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["MAX_EXCERPT_CHARS", "SUMMARIES_DIR", "Session", "describe_participant", "guide_excerpts", "session_info", "summaries_dir",
           "template_quote", "transcript_excerpts"]

SUMMARIES_DIR = "summaries"
MAX_EXCERPT_CHARS = DEFAULT_LIMIT


def summaries_dir(workspace: Workspace) -> Path:
    """The folder of the summary templates: summaries/ in the workspace."""
    return Path(workspace.root) / SUMMARIES_DIR


def template_quote(excerpt: Excerpt, max_chars: int | None = MAX_EXCERPT_CHARS) -> str:
    """“passage” (FG1-P3, medical): trimmed as in every table; an unmapped speaker named by their label."""
    limit = max_chars if max_chars is not None and max_chars > 0 else None
    return excerpt.formatted(limit, ("role",), fallback=excerpt.speaker or "unknown speaker")


def _word_bounds(text: str, start: int, end: int, lo: int, hi: int) -> tuple[int, int]:
    """Widen ``[start, end)`` to whole words (within ``[lo, hi)``) and trim whitespace."""
    while start > lo and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < hi and end > 0 and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def transcript_excerpts(workspace: Workspace, transcript: Any, codings: Iterable[Any], domains: DomainSet,
                        include_facilitators: bool = False) -> dict[str, list[Excerpt]]:
    """Domain id -> excerpts of one transcript, in text order. A coding is clipped to the turn it
    starts in and widened to whole words; facilitators' turns are left out; within a domain,
    overlapping excerpts of the same turn are merged (their codes listed together)."""
    import bisect

    from qualkit.transcripts.render import format_timestamp

    table = workspace.participant_table
    text = transcript.text
    turns = transcript.turns
    ends = [t.end for t in turns]
    raw: dict[str, list[tuple[int, int, int, str]]] = {d.id: [] for d in domains.domains}
    for c in codings:
        if c.transcript != transcript.id or c.end > len(text) or c.start >= len(text):
            continue
        i = bisect.bisect_right(ends, c.start)
        if i >= len(turns):
            continue
        turn = turns[i]
        if c.start < turn.start and c.end <= turn.start:
            continue  # in a speaker label or between turns
        if not include_facilitators and table.is_facilitator(turn.participant):
            continue
        s, e = _word_bounds(text, max(c.start, turn.start), min(c.end, turn.end), turn.start, turn.end)
        if e <= s:
            continue
        for did in domains.domains_of(c.code):
            raw[did].append((i, s, e, c.code))
    out: dict[str, list[Excerpt]] = {}
    for did, spans in raw.items():
        merged: list[list] = []
        for i, s, e, code in sorted(spans):
            if merged and merged[-1][0] == i and s < merged[-1][2]:
                merged[-1][2] = max(merged[-1][2], e)
                if code not in merged[-1][3]:
                    merged[-1][3].append(code)
            else:
                merged.append([i, s, e, [code]])
        items = []
        for i, s, e, codes in merged:
            turn = turns[i]
            attrs = table.attributes(turn.participant) if turn.participant else {}
            time = format_timestamp(turn.timestamp) if turn.timestamp is not None else None
            items.append(Excerpt(transcript.id, s, e, codes[0], text[s:e], participant=turn.participant,
                                 speaker=turn.speaker, attributes=dict(attrs), turn=i, codes=tuple(codes), time=time))
        out[did] = items
    return out


# ------------------------------------------------------------------------------ session facts
@dataclass
class Session:
    """What a template's header says about a transcript."""

    id: str
    path: Path | None
    format: str
    kind: str                               # "interview" or "focus group"
    participants: list[str]                 # participant ids (not facilitators), in order
    facilitators: list[str]
    date: str = ""
    turns: int = 0
    words: int = 0
    group: str = ""                         # focus group label (participants.csv `group`, else the id)

    @property
    def name(self) -> str:
        """How the session is named in a matrix: the participant id (interview) or the group."""
        if self.kind == "interview":
            return self.participants[0] if self.participants else self.id
        return self.group or self.id


_DATE_RE = re.compile(r"(?im)^[ \t]*(?:interview |session |focus group )?date[ \t]*:[ \t]*(.+?)(?=[ \t]{2,}|\t|[ \t]*$)")


def session_info(workspace: Workspace, transcript: Any, path: Path | None = None) -> Session:
    """Participants (participants.csv rows for the transcript, then anyone else who speaks), the
    kind of session (more than one participant: focus group), and the date (a ``date`` column in
    participants.csv, else a ``Date:`` line before the first labelled turn)."""
    table = workspace.participant_table
    people: list[str] = []
    facilitators: list[str] = []
    for row in table.rows_for(transcript.id):  # the transcript's own rows, not a scan of every row
        pid = row["participant_id"]
        target = facilitators if table.is_facilitator(pid) else people
        if pid not in target:
            target.append(pid)
    for turn in transcript.turns:
        pid = turn.participant
        if pid is None:
            continue
        target = facilitators if table.is_facilitator(pid) else people
        if pid not in target:
            target.append(pid)
    date = ""
    for pid in people:
        attrs = table.attributes(pid)
        date = attrs.get("date") or attrs.get("interview_date") or ""
        if date:
            break
    if not date:
        first = next((t.start for t in transcript.turns if t.speaker), len(transcript.text))
        m = _DATE_RE.search(transcript.text[:first])
        date = m.group(1).strip() if m else ""
    kind = "focus group" if len(people) > 1 else "interview"
    groups = {table.attributes(p).get("group", "") for p in people}
    group = groups.pop() if len(groups) == 1 and kind == "focus group" else ""
    if not group or group.lower() == "interview":
        group = transcript.id
    return Session(transcript.id, path, transcript.source_format, kind, people, facilitators, date,
                   len(transcript.turns), getattr(transcript, "word_count", 0), group)


def describe_participant(workspace: Workspace, pid: str) -> str:
    """"FG1-P3 (role: medical; site: Calder)": a participant with the attributes that are filled in."""
    attrs = workspace.participant_table.attributes(pid)
    parts = [f"{k}: {v}" for k, v in attrs.items() if v]
    return f"{pid} ({'; '.join(parts)})" if parts else pid


# ------------------------------------------------------------------------------ guide answers
_MIN_SHARED = 2  # word stems an interviewer turn must share with a prompt to count as asking it


def guide_excerpts(workspace: Workspace, transcript: Any, domains: DomainSet) -> dict[str, list[Excerpt]]:
    """Domain id -> the participant turns answering that domain's guide question (prompt matched in
    an interviewer/moderator turn), in text order; domains whose question is not found get none."""
    table = workspace.participant_table
    turns = transcript.turns
    prompts = {d.id: word_stems(d.prompt) for d in domains.domains if d.prompt}
    starts: list[tuple[int, str]] = []
    taken: set[str] = set()
    for i, turn in enumerate(turns):
        if not table.is_facilitator(turn.participant):
            continue
        words = word_stems(transcript.text[turn.start:turn.end])
        best = max(((len(words & p), did) for did, p in prompts.items() if did not in taken), default=(0, ""))
        if best[0] >= _MIN_SHARED:
            starts.append((i, best[1]))
            taken.add(best[1])
    out: dict[str, list[Excerpt]] = {d.id: [] for d in domains.domains}
    for k, (i, did) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(turns)
        for j in range(i + 1, end):
            turn = turns[j]
            if table.is_facilitator(turn.participant):
                continue
            attrs = table.attributes(turn.participant) if turn.participant else {}
            out[did].append(Excerpt(transcript.id, turn.start, turn.end, did, transcript.text[turn.start:turn.end],
                                    participant=turn.participant, speaker=turn.speaker, attributes=dict(attrs),
                                    turn=j, codes=(f"answer to '{did}'",)))
    return out
