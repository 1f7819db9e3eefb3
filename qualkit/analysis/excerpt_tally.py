"""How many excerpts :func:`~qualkit.analysis.sources.load_excerpts` would give, per code and per set of
codes, without building them (their quotes, speakers and attributes): what a check that only counts
them needs (`qualkit status`, `themes check`).

Counted as the codings stream by, one transcript at a time: each code's excerpts, and each distinct
span once with the codes put on it. A span belongs to one transcript, so a transcript's spans are let
go when the next begins; a (code, span) pair per excerpt was 885,000 of them held at 5,000 interviews,
with a set of spans per code on top. A coding's turns come from :func:`~qualkit.coding.turn_layouts.layout_of`:
the layout status's coverage pass kept when it read the transcript, so no text is read a second time.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qualkit.analysis.sources import CodingSource, _by_transcript, _source_label, _source_text, resolve_codings
from qualkit.coding.turn_layouts import layout_of
from qualkit.io.naming import natural_key, plural_s

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["ExcerptTally", "excerpt_tally"]


@dataclass
class ExcerptTally:
    """The excerpts' counts (see the module docstring) and the same notes as the excerpts'."""

    source: CodingSource
    transcripts: int                                   # transcripts with a coding in this source
    warnings: list[str] = field(default_factory=list)
    excerpts: int = 0                                  # excerpts in all
    codes: dict[str, int] = field(default_factory=dict)           # code -> its excerpts
    spans: dict[frozenset[str], int] = field(default_factory=dict)  # the codes on a span -> distinct spans with those
    _tid: str | None = field(default=None, repr=False, compare=False)
    _here: dict[tuple[int, int], set[str]] = field(default_factory=dict, repr=False, compare=False)

    def add(self, transcript: str, code: str, start: int, end: int) -> None:
        """Count one excerpt; a transcript's excerpts come together (as the excerpts are made)."""
        if transcript != self._tid:
            self._close()
            self._tid = transcript
        self.excerpts += 1
        self.codes[code] = self.codes.get(code, 0) + 1
        self._here.setdefault((start, end), set()).add(code)

    def _close(self) -> None:
        """Count the spans of the transcript just done, and let them go."""
        for codes in self._here.values():
            key = frozenset(codes)
            self.spans[key] = self.spans.get(key, 0) + 1
        self._here = {}

    def done(self) -> ExcerptTally:
        self._close()
        self._tid = None
        return self

    def spans_with(self, codes: Iterable[str]) -> int:
        """Distinct spans that hold any of ``codes``."""
        wanted = set(codes)
        return sum(n for on, n in self.spans.items() if not wanted.isdisjoint(on))

    def source_label(self) -> str:
        return _source_label(self.source)

    def source_text(self) -> str:
        return _source_text(self.excerpts, self.source, self.transcripts)


def excerpt_tally(workspace: Workspace, coder: str | None = None, include_facilitators: bool = False) -> ExcerptTally:
    """The counts of the excerpts :func:`~qualkit.analysis.sources.load_excerpts` would give, and its
    notes; taken from the excerpts when this command has them."""
    built = workspace.derived(("excerpts", coder, include_facilitators), None)
    if built is not None:
        tally = ExcerptTally(built.source, len(built.transcripts), list(built.warnings))
        for e in built.excerpts:  # a transcript's excerpts together, transcripts in order
            tally.add(e.transcript, e.code, e.start, e.end)
        return tally.done()
    pairs, source = resolve_codings(workspace, coder)
    warns = list(source.warnings)
    paths = {p.stem: p for p in workspace.transcript_paths()}
    table = workspace.participant_table
    by_t = _by_transcript(workspace, pairs, paths)
    del pairs
    index = workspace.code_index()
    unknown = sorted({c.code for cs in by_t.values() for c, _ in cs if c.code not in index})
    if unknown:
        warns.append(f"code(s) in no codebook: {', '.join(unknown)} (`qualkit codebook validate`)")
    tally = ExcerptTally(source, len(by_t), warns)
    dropped = 0
    from qualkit.io.progress import track

    for tid in track(sorted(by_t, key=natural_key), "Counting excerpts"):
        layout = layout_of(workspace, paths[tid])
        for c, _who in by_t[tid]:
            if not include_facilitators and layout.only_team_words(c.start, c.end, table.is_facilitator):
                dropped += 1  # only research-team words: left out, as load_excerpts leaves it out
            else:
                tally.add(tid, c.code, c.start, c.end)
    if dropped:
        warns.append(f"{dropped} coding{plural_s(dropped)} hold only interviewer/moderator words and are left out")
    return tally.done()
