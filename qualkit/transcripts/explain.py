"""Why speakers came out as they did: the convention detected in a transcript, each label candidate
accepted or rejected with the reason, and the first lines no speaker was attributed to.

This re-runs the decisions of :mod:`qualkit.transcripts.speakers` on a file's text and says, for each,
which rule made it; it is what a researcher reads when speakers come out wrong.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from qualkit.io.naming import plural_s
from qualkit.transcripts.labels import NON_SPEECH as _NON_SPEECH
from qualkit.transcripts.labels import PHRASE_LABEL as _PHRASE_LABEL
from qualkit.transcripts.labels import ROLE_SHAPE as _ROLE_SHAPE
from qualkit.transcripts.labels import STOP_LABELS as _STOP_LABELS
from qualkit.transcripts.labels import key as _key
from qualkit.transcripts.labels import style as _style
from qualkit.transcripts.model import Transcript
from qualkit.transcripts.speakers import (
    _OWN_LINE_KINDS,
    _accept,
    _find_candidates,
    _match_user_pattern,
    _timed_mark,
    compile_speaker_pattern,
)

__all__ = ["Candidate", "Explanation", "explain_transcript", "KIND_NAMES"]

# What each kind of label line looks like, as the explanation names it.
KIND_NAMES = {
    "voice": "WebVTT voice lines (00:00:03 <v Name>text)",
    "ts_label": "time then label ([00:01:23] Name: text)",
    "ts_bracket": "time then bracketed label ([12:04] [Name] text)",
    "label_ts": "label then time (Name (00:01:23): text)",
    "label_bracket_ts": "label then bracketed time (Name [00:01:23] text)",
    "md_bold": "Markdown bold labels (**Name** text)",
    "md_heading": "Markdown heading labels (### Name, speech below)",
    "label": "Name: text (f4/f5 I:/B: included)",
    "bracket": "bracketed labels ([Name] text, diarised [Speaker 3] [12:04] text)",
    "label_time_line": "Otter layout (Name  0:03 on its own line, speech below)",
    "time_label_line": "Word Transcribe layout (00:00:03 Name on its own line, speech below)",
    "label_line": "a label alone on its line (INTERVIEWER, speech below)",
    "pattern": "the workspace's speaker pattern",
}
MAX_UNATTRIBUTED = 10
_STRUCTURED = {"vtt": "subtitle cues", "srt": "subtitle cues"}


@dataclass
class Candidate:
    """A line that could start a turn: its 1-based line, the label, the kind, and the verdict."""

    line: int
    label: str
    kind: str
    accepted: bool
    reason: str


@dataclass
class Explanation:
    """The answer to "why these speakers?" for one transcript."""

    id: str
    source_format: str
    rule: str  # where the labelling rule came from (speakers.rules, speakers.pattern, learned)
    convention: str  # the detected convention, in words
    why: str
    candidates: list[Candidate] = field(default_factory=list)
    unattributed: list[tuple[int | None, str]] = field(default_factory=list)  # (line, text) of unlabeled turns
    speakers: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "format": self.source_format, "rule": self.rule, "convention": self.convention,
                "why": self.why, "speakers": self.speakers,
                "candidates": [vars(c) for c in self.candidates],
                "unattributed": [{"line": ln, "text": text} for ln, text in self.unattributed]}


def _reason(c, accepted: bool, counts: Counter, known: set[str], main: tuple[str, str] | None) -> str:
    k = _key(c.label)
    n = counts[k]
    if accepted:
        if k in known:
            return "known speaker (participants.csv, or a bold label in the Word file)"
        if _ROLE_SHAPE.match(c.label):
            return "has the shape of an interview role"
        if _timed_mark(c):
            return "a time or voice tag marks it as a speaker"
        if n >= 2:
            return f"recurs ({n} times)"
        return "a one-off in the file's own label style"
    if n == 1 and _PHRASE_LABEL.match(c.label):
        return "a common 'word:' phrase that occurs once (speech, not a speaker)"
    if main is not None and c.kind != main[0] and n >= 2:
        return f"a layout the file barely uses ({KIND_NAMES.get(c.kind, c.kind)}) next to its main one"
    if c.kind in _OWN_LINE_KINDS:
        return ("a line on its own that does not recur in capitals or as a code (a heading?)" if c.kind == "label_line"
                else "occurs once and is not a known or role-shaped label (a heading?)")
    if main is not None and (c.kind != main[0] or _style(c.label) != main[1]):
        return f"occurs once, in another style than the file's labels ({_style(c.label)}, not {main[1]})"
    return "occurs once, and the file has no recurring labels to compare it with"


def explain_transcript(transcript: Transcript, *, speaker_pattern: str | None = None,
                       known_speakers: Iterable[str] = (), rule: str = "learned from the file") -> Explanation:
    """Explain how ``transcript``'s speakers were found (read with ``speaker_pattern``/``known_speakers``)."""
    t = transcript
    out = Explanation(t.id, t.source_format, rule, "", "", speakers=t.speakers)
    out.unattributed = [(x.line, " ".join(t.turn_text(x).split())[:100]) for x in t.turns if x.speaker is None][:MAX_UNATTRIBUTED]
    if t.source_format in _STRUCTURED or t.layout:
        out.convention = t.layout or _STRUCTURED[t.source_format]
        out.why = "the speakers come from the file's structure (cue voices, table columns, Teams entries)"
        return out
    lines = t.text.split("\n")
    starts, pos = [], 0
    for ln in lines:
        starts.append(pos)
        pos += len(ln) + 1
    known = {_key(s) for s in known_speakers if s}
    if speaker_pattern is not None:
        cands, _ = _match_user_pattern(lines, starts, compile_speaker_pattern(speaker_pattern))
        out.convention, out.why = KIND_NAMES["pattern"], f"{rule} decides alone: {speaker_pattern}"
        out.candidates = [Candidate(c.line + 1, c.label, "pattern", True, "matches the pattern") for c in cands]
        return out
    cands, _ = _find_candidates(lines, starts)
    accepted = {c.line for c in _accept(cands, known)}
    counts = Counter(_key(c.label) for c in cands)
    # Lines shaped "Word: ..." that never became candidates: listed (and counted) too, since they look like labels.
    seen = {c.line for c in cands}
    shaped = [(i, m.group(1).strip()) for i, ln in enumerate(lines)
              if (m := _COLON_SHAPED.match(ln)) and i not in seen]
    listed = len(cands) + len(shaped)
    strong = [c for c in cands if c.line in accepted]
    kinds = Counter(c.kind for c in strong)
    main = None
    if kinds:
        kind, n = kinds.most_common(1)[0]
        style = Counter(_style(c.label) for c in strong if c.kind == kind).most_common(1)[0][0]
        main = (kind, style)
        out.convention = KIND_NAMES.get(kind, kind)
        out.why = (f"{n} of {len(strong)} accepted labels are of this kind, mostly in {style} style; "
                   f"{len(counts)} distinct label{plural_s(len(counts))} among {listed} candidate line{plural_s(listed)}")
    else:
        out.convention = "no speaker labels"
        out.why = (f"none of {listed} candidate line{plural_s(listed)} recurs, is known or role-shaped: each paragraph is an "
                   "unlabeled turn" if cands else "no line looks like a label: each paragraph is an unlabeled turn")
    out.candidates = [Candidate(c.line + 1, c.label, c.kind, c.line in accepted,
                                _reason(c, c.line in accepted, counts, known, main)) for c in cands]
    out.candidates += [Candidate(i + 1, label, "label", False, _not_a_name(label)) for i, label in shaped]
    out.candidates.sort(key=lambda c: c.line)
    return out


_COLON_SHAPED = re.compile(r"[ \t]*([^\W_][^:\n]{0,59}):(?:\s|$)")


def _not_a_name(label: str) -> str:
    if label.lower().rstrip(".") in _STOP_LABELS or _NON_SPEECH.match(label):
        return "a header or annotation word (Note, Date, Location, inaudible...), never a speaker"
    if len(label.split()) > 6 or len(label) > 60:
        return "too long for a name"
    return "sentence-like (lower-case words), not a name"
