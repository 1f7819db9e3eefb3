"""Which codings a table is built from, and the excerpts they make once laid onto the turns.

One :class:`CodingSource` (consensus, one coder, or coders pooled) and one :class:`Excerpt` (a coded
passage as a reader sees it) for matrices, theme checks, summary templates, rapid matrices and the
report, so that "the consensus codings" and "a quote" mean the same thing everywhere.

Codings: ``coder=None`` or ``"consensus"`` uses codings/consensus.csv (plus each transcript only one
coder coded, as that coder left it); when it does not exist the coders of qualkit.yaml's
``coders:`` are pooled (union of their codings; overlapping spans of the same code merged into one
excerpt) with a warning. ``coder="pooled"`` pools on purpose; any other name uses that coder.
"""
from __future__ import annotations

import bisect
import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.analysis.quote_text import DEFAULT_LIMIT, QUOTE_MARKS, attribution, focus_quote, trim_quote
from qualkit.coding.anchoring import anchored_codings
from qualkit.errors import MatrixError
from qualkit.io.naming import natural_key, plural_s
from qualkit.workspace.codings import Coding, held_quote, quote_source, read_back
from qualkit.workspace.ingest import TranscriptsById

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["CONSENSUS", "EXEMPLAR_WORD", "POOLED", "CodingSource", "Excerpt", "ExcerptSet",
           "load_codings", "load_excerpts", "provenance", "resolve_codings"]

CONSENSUS = "consensus"
POOLED = "pooled"
EXEMPLAR_WORD = "exemplar"

Pair = tuple[Any, tuple[str, ...]]   # (Coding, the coders who applied it)


# ============================================================================ the two types

@dataclass
class CodingSource:
    """Which codings a table is built from: their label, coders and files, and what a reader should know.

    ``codings`` holds the codings themselves (each span and code once) when the source was read
    with them; ``description`` is how a summary template's header names the source.
    """

    label: str                      # "consensus", "ana", "pooled: ana, ben"
    coders: list[str]
    files: list[Path] = field(default_factory=list)
    pooled: bool = False
    warnings: list[str] = field(default_factory=list)
    codings: list[Any] = field(default_factory=list)
    description: str = ""
    _by_transcript: dict[str, list[Any]] | None = field(default=None, init=False, repr=False, compare=False)

    def codings_of(self, transcript_id: str) -> list[Any]:
        """The codings of one transcript, in file order: grouped in one pass, so a loop over
        transcripts costs one pass over the codings, not one pass per transcript."""
        if self._by_transcript is None:
            grouped: dict[str, list[Any]] = {}
            for c in self.codings:
                grouped.setdefault(c.transcript, []).append(c)
            self._by_transcript = grouped
        return self._by_transcript.get(transcript_id, [])


@dataclass(slots=True)  # one per coded passage (hundreds of thousands in a large study): slots keep each small
class Excerpt:
    """One coded passage: the participant's words, who said them and the code(s) put on them.

    ``attributes`` may be one dict shared by every excerpt of the same turn: read it, never change it."""

    transcript: str
    start: int
    end: int
    code: str
    text: str                                   # the quoted words (whitespace as in the transcript)
    memo: str = ""
    participant: str | None = None              # who said the quoted words (None: unidentified)
    participants: tuple[str, ...] = ()          # every participant in the coded span (facilitators left out)
    speaker: str | None = None                  # the speaker label in the transcript
    attributes: dict[str, str] = field(default_factory=dict)  # the participant's role, site, ...
    coders: tuple[str, ...] = ()                # who applied the code (several when pooled)
    turn: int | None = None                     # 0-based index of the quoted turn
    codes: tuple[str, ...] = ()                 # every code of a merged passage (empty: just ``code``)
    time: str | None = None                     # the turn's timestamp as written in a template
    _order: Any = field(default=None, init=False, repr=False, compare=False)  # quotes._order_key's cache

    @property
    def exemplar(self) -> bool:
        """The coder's memo marks this passage as an exemplar quote."""
        return EXEMPLAR_WORD in (self.memo or "").casefold()

    @property
    def span(self) -> tuple[str, int, int]:
        return (self.transcript, self.start, self.end)

    @property
    def all_codes(self) -> tuple[str, ...]:
        return self.codes or (self.code,)

    def quote(self, limit: int | None = DEFAULT_LIMIT, terms: Sequence[str] = ()) -> str:
        """The text, trimmed to ``limit`` characters (None: whole, whitespace collapsed); with ``terms``
        (the code's name, keywords, examples) the sentences that carry them are kept."""
        return focus_quote(self.text, terms, limit) if terms else trim_quote(self.text, limit)

    def attribution(self, fields: Sequence[str] = ("role",), fallback: str | None = None) -> str:
        """"(FG1-P3, medical)"; an unidentified speaker is named by ``fallback`` (default: the transcript)."""
        return attribution(self.participant, self.attributes, fields,
                           fallback=self.transcript if fallback is None else fallback)

    def formatted(self, limit: int | None = DEFAULT_LIMIT, fields: Sequence[str] = ("role",),
                  fallback: str | None = None, terms: Sequence[str] = ()) -> str:
        """“quote” (FG1-P3, medical)"""
        who = self.attribution(fields, fallback)
        text = f"{QUOTE_MARKS[0]}{self.quote(limit, terms)}{QUOTE_MARKS[1]}"
        return f"{text} {who}" if who else text

    def locator(self) -> str:
        """"turn 4, 00:03:12 · code_a, code_b": where a template's excerpt comes from."""
        number = (self.turn or 0) + 1
        where = f"turn {number}" + (f", {self.time}" if self.time else "")
        return f"{where} · {', '.join(self.all_codes)}"

    def as_dict(self, limit: int | None = DEFAULT_LIMIT, fields: Sequence[str] = ("role",)) -> dict[str, Any]:
        return {"transcript": self.transcript, "start": self.start, "end": self.end, "code": self.code,
                "participant": self.participant, "attributes": dict(self.attributes), "coders": list(self.coders),
                "memo": self.memo, "exemplar": self.exemplar, "quote": self.quote(limit),
                "attribution": self.attribution(fields)}


# ============================================================================ resolving codings

def _consensus_view(workspace: Workspace, known: list[str]) -> tuple[list[Pair], CodingSource]:
    """Consensus codings where there is a consensus, and each single-coded transcript as its coder left it.

    Reconciliation only covers transcripts that every coder coded; without this, a study's
    single-coded transcripts would vanish from every matrix and summary once reconciling starts.
    """
    consensus = anchored_codings(workspace, CONSENSUS)
    coders = [c for c in dict.fromkeys(workspace.config.coders) if c in known and c != CONSENSUS]
    per = {c: anchored_codings(workspace, c) for c in coders}
    coded = [{x.transcript for x in per[c]} for c in coders]
    reconciled = (set.intersection(*coded) if len(coded) >= 2 else set()) | {c.transcript for c in consensus}
    agreed = (CONSENSUS,)
    pairs: list[Pair] = [(c, agreed) for c in consensus]
    seen = {c.key for c in consensus}
    single: dict[str, str] = {}
    for name in coders:
        who = (name,)
        for c in per[name]:
            if c.transcript not in reconciled and c.key not in seen:
                seen.add(c.key)
                pairs.append((c, who))
                single.setdefault(c.transcript, name)
    files = [workspace.coder_file(CONSENSUS)]
    if single:
        contributors = sorted(set(single.values()))
        files += [workspace.coder_file(c) for c in contributors]
        listed = ", ".join(f"{t} ({single[t]})" for t in sorted(single))
        warns = [f"codings/{CONSENSUS}.csv covers the transcripts every coder coded; {len(single)} transcript{plural_s(len(single))} "
                 f"coded by one coder use that coder's codings: {listed}"]
        return pairs, CodingSource(f"{CONSENSUS} + single-coded", [CONSENSUS, *contributors], files, warnings=warns)
    return pairs, CodingSource(CONSENSUS, [CONSENSUS], files)


def _merge_text(a: Any, b: Any) -> str:
    """The words of two overlapping spans joined (each text is the transcript's text[start:end])."""
    if b.end <= a.end:
        return a.text
    return a.text + b.text[max(a.end - b.start, 0):] if len(b.text) == b.end - b.start else a.text


def _merged(a: Any, b: Any, memo: str) -> Any:
    """``a`` widened over ``b`` (same transcript and code, overlapping). When both quotes are read back
    from the same text, so is the merged one (its text[a.start:end]: what :func:`_merge_text` joins)."""
    end = max(a.end, b.end)
    source = quote_source(a)
    if source is not None and (other := quote_source(b)) is not None and other.digest == source.digest:
        return read_back(replace(a, end=end, text="", memo=memo), source)
    return replace(a, end=end, text=_merge_text(a, b), memo=memo)


def _pool(workspace: Workspace, coders: list[str]) -> list[Pair]:
    """The union of the coders' codings, overlapping spans of the same code merged into one excerpt.

    Two coders marking the same idea with different boundaries is one passage, not two: counting
    both would inflate a pooled count past either coder's. The merged excerpt spans both and lists
    every coder who applied it."""
    by_code: dict[tuple[str, str], list[tuple[Any, str]]] = {}
    for c_name in coders:
        for c in anchored_codings(workspace, c_name):
            by_code.setdefault((c.transcript, c.code), []).append((c, c_name))
    out: list[Pair] = []
    teams: dict[tuple[str, ...], tuple[str, ...]] = {}  # a few distinct coder tuples, one object each
    for items in by_code.values():
        items.sort(key=lambda x: (x[0].start, -x[0].end))
        cur, who = items[0][0], [items[0][1]]
        for c, name in items[1:]:
            if c.start < cur.end or c.key == cur.key:  # overlap (or the same span): one passage
                memo = cur.memo if not c.memo or c.memo in cur.memo else (f"{cur.memo} | {c.memo}" if cur.memo else c.memo)
                cur = _merged(cur, c, memo)
                if name not in who:
                    who.append(name)
                continue
            out.append((cur, teams.setdefault(tuple(who), tuple(who))))
            cur, who = c, [name]
        out.append((cur, teams.setdefault(tuple(who), tuple(who))))
    order = {t: natural_key(t) for t in {p[0].transcript for p in out}}  # once per transcript, not per coding
    out.sort(key=lambda p: (order[p[0].transcript], p[0].start, p[0].end, p[0].code))
    return out


def _pooled_view(workspace: Workspace, name: str, known: list[str]) -> tuple[list[Pair], CodingSource]:
    """The configured coders pooled: on purpose (``pooled``) or for want of a consensus (with a warning)."""
    configured = list(dict.fromkeys(workspace.config.coders))
    coders = [c for c in configured if c in known]
    missing = [c for c in configured if c not in known]
    origin = "qualkit.yaml 'coders:'"
    if not configured:
        coders = [c for c in known if c != CONSENSUS and not c.startswith("adjudication")]
        origin = "every codings/*.csv file"
    warns = []
    if missing:
        warns.append(f"no codings file yet for coder(s) {', '.join(missing)} (qualkit.yaml 'coders:')")
    if name == CONSENSUS:
        if coders:
            warns.insert(0, f"codings/{CONSENSUS}.csv does not exist yet: pooling the codings of {', '.join(coders)} "
                            f"({origin}; their union, overlapping spans of one code merged). Reconcile first "
                            "(`qualkit reconcile`) or pick one coder with --coder NAME.")
        else:
            warns.insert(0, f"codings/{CONSENSUS}.csv does not exist yet and there are no coders' files to pool")
    label = f"pooled: {', '.join(coders)}" if coders else "pooled: no coders"
    files = [workspace.coder_file(c) for c in coders]
    return _pool(workspace, coders), CodingSource(label, coders, files, pooled=True, warnings=warns)


def resolve_codings(workspace: Workspace, coder: str | None = None) -> tuple[list[Pair], CodingSource]:
    """The codings to analyse and where they come from: ``([(Coding, coders)], CodingSource)``;
    the source warns about transcripts a coder has only partly coded."""
    from qualkit.coding.coverage import partly_coded

    pairs, source = _resolve(workspace, coder)
    warning = partly_coded(workspace, [c for c in source.coders if c != CONSENSUS])
    return pairs, (replace(source, warnings=[*source.warnings, warning]) if warning else source)


def _resolve(workspace: Workspace, coder: str | None = None) -> tuple[list[Pair], CodingSource]:
    name = (coder or CONSENSUS).strip()
    known = workspace.coders()
    if name == CONSENSUS and CONSENSUS in known:
        return _consensus_view(workspace, known)
    if name in (CONSENSUS, POOLED, "all"):
        return _pooled_view(workspace, name, known)
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise MatrixError(f"no codings file for coder {name!r} (known: {', '.join(known) or 'none'}; "
                          f"or use 'consensus' or 'pooled'){hint}", workspace.codings_dir)
    who = (name,)  # one tuple shared by every pair
    return [(c, who) for c in anchored_codings(workspace, name)], CodingSource(name, [name], [workspace.coder_file(name)])


def _consensus_state(workspace: Workspace) -> str:
    """"complete: all 129 disagreements decided" or "partial: 119 of 129 disagreements undecided"."""
    from qualkit.analysis.reconcile import reconcile
    from qualkit.errors import QualkitError

    coders = [c for c in dict.fromkeys(workspace.config.coders) if c != CONSENSUS]
    if len(coders) != 2 or not all(workspace.coder_file(c).exists() for c in coders):
        return "status unknown: reconciliation compares two coders"
    try:
        st = reconcile(workspace, coders, dry_run=True)
    except QualkitError:
        return "status unknown"
    if not st.undecided:
        return f"complete: all {st.disagreements} disagreement{plural_s(st.disagreements)} of {coders[0]} and {coders[1]} decided"
    return (f"partial: {len(st.undecided)} of {st.disagreements} disagreement{plural_s(st.disagreements)} of {coders[0]} and {coders[1]} "
            "undecided; their passages are in no table yet")


def provenance(workspace: Workspace, source: CodingSource) -> str:
    """What a table was built from, as its footnote says it: consensus (complete, or partial: N of M
    undecided), one coder, or coders merged. A reviewer reads counts differently in each case."""
    if source.label.startswith(CONSENSUS):
        text = f"Built from the consensus codings ({_consensus_state(workspace)})"
        if len(source.coders) > 1:
            text += f"; transcripts coded by one coder use that coder's codings ({', '.join(source.coders[1:])})"
        return text + "."
    if source.pooled:
        who = ", ".join(source.coders) or "no coders"
        return (f"Built from the codings of {who} merged (no consensus): overlapping passages of the same code "
                "count once.")
    return f"Built from one coder's codings ({source.label}); not a consensus."


def load_codings(workspace: Workspace, coder: str | Iterable[str] | None = CONSENSUS) -> CodingSource:
    """The codings that pre-fill summary templates (``.codings``, each span and code once).

    ``consensus`` (the default) is codings/consensus.csv, read as :func:`resolve_codings` reads it;
    when that file does not exist the coders in qualkit.yaml ``coders:`` are pooled (union; the
    same code on the same span counted once) with a warning. ``"ana,ben"`` or a list pools those coders.
    """
    from qualkit.workspace.codings import CodingError

    if coder is None:
        coder = CONSENSUS
    names = [c.strip() for c in coder.split(",")] if isinstance(coder, str) else [str(c).strip() for c in coder]
    names = [n for n in names if n]
    warnings: list[str] = []
    if names == [CONSENSUS] and workspace.coder_file(CONSENSUS).exists():
        pairs, source = resolve_codings(workspace, CONSENSUS)
        desc = f"codings/{CONSENSUS}.csv"
        if len(source.coders) > 1:
            desc += f" + single-coded transcripts ({', '.join(source.coders[1:])})"
        return replace(source, codings=[c for c, _ in pairs], description=desc, warnings=list(source.warnings))
    if names == [CONSENSUS]:
        pooled = [c for c in workspace.config.coders if workspace.coder_file(c).exists()]
        if not pooled:
            warnings.append("no codings/consensus.csv and no coder files for qualkit.yaml 'coders:', so the templates "
                            "have no pre-filled excerpts")
            return CodingSource("pooled: no coders", [], pooled=True, warnings=warnings,
                                description="none (no codings yet)")
        missing = [c for c in workspace.config.coders if c not in pooled]
        warnings.append(f"no codings/consensus.csv yet: excerpts pool the coders {', '.join(pooled)} (union, duplicates "
                        "removed); reconcile them (`qualkit reconcile`) for consensus excerpts"
                        + (f"; no file for {', '.join(missing)}" if missing else ""))
        names = pooled
    for n in names:
        if not workspace.coder_file(n).exists():
            known = ", ".join(workspace.coders()) or "none"
            raise CodingError(f"no codings file for coder {n!r} (known: {known})", workspace.coder_file(n))
    seen: set = set()
    codings = []
    for n in names:
        for c in anchored_codings(workspace, n):
            if c.key not in seen:
                seen.add(c.key)
                codings.append(c)
    desc = f"codings/{names[0]}.csv" if len(names) == 1 else f"pooled {', '.join(names)} (codings/{{{','.join(names)}}}.csv)"
    label = names[0] if len(names) == 1 else f"pooled: {', '.join(names)}"
    from qualkit.coding.coverage import partly_coded

    if (partial := partly_coded(workspace, names)):
        warnings.append(partial)
    return CodingSource(label, names, [workspace.coder_file(n) for n in names], pooled=len(names) > 1,
                        warnings=warnings, codings=codings, description=desc)


# ============================================================================ excerpts on turns

@dataclass
class ExcerptSet:
    """Every coding as an :class:`Excerpt`, with the transcripts and people behind them."""

    excerpts: list[Excerpt]
    source: CodingSource
    transcripts: Mapping[str, Any]                   # id -> Transcript (the coded ones, natural order; read when asked for)
    participants: dict[str, list[str]]               # transcript -> participants (team left out), first-turn order
    codings: list[Pair]                              # (Coding, coders) as read
    warnings: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # transcripts with no coding in this source
    facilitator_only: int = 0                        # codings left out: only research-team words
    include_facilitators: bool = False

    def source_label(self) -> str:
        return _source_label(self.source)

    def source_text(self) -> str:
        return _source_text(len(self.excerpts), self.source, len(self.transcripts))


def _source_label(source: CodingSource) -> str:
    if source.label == f"{CONSENSUS} + single-coded":
        return f"the consensus codings and single-coded transcripts ({', '.join(source.coders[1:])})"
    return "consensus codings" if source.label == CONSENSUS else (
        f"codings {source.label}" if source.pooled else f"{source.label}'s codings")


def _source_text(n: int, source: CodingSource, transcripts: int) -> str:
    return f"{n} coded excerpt{'s' if n != 1 else ''} from {_source_label(source)} in {transcripts} transcript{plural_s(transcripts)}"


def _speakers(transcript: Any, table: Any, include_facilitators: bool) -> list[str]:
    """The transcript's participants in first-turn order (research team left out unless included)."""
    people: list[str] = []
    for turn in transcript.turns:
        if turn.participant and turn.participant not in people and (
                include_facilitators or not table.is_facilitator(turn.participant)):
            people.append(turn.participant)
    return people


def _segments(t: Any, starts: list[int], c: Any) -> list[tuple[Any, int, int]]:
    """(turn, start, end) of each turn the coding covers part of (``starts``: the turns' starts)."""
    segments = []
    i = max(bisect.bisect_right(starts, c.start) - 1, 0)
    while i < len(t.turns) and t.turns[i].start < c.end:
        turn = t.turns[i]
        s, e = max(c.start, turn.start), min(c.end, turn.end)
        if e > s:
            segments.append((turn, s, e))
        i += 1
    return segments


def _lay_onto_turns(t: Any, starts: list[int], c: Any, who: tuple[str, ...], table: Any,
                    include_facilitators: bool, attrs: Any = None, shared: dict | None = None) -> Excerpt | None:
    """One coding as an excerpt of the transcript's turns; None when it holds only research-team words.

    Its quote is its longest remaining turn segment, said by that turn's participant; every
    participant it touches counts as having said it."""
    tid = c.transcript
    segments = _segments(t, starts, c)
    if not segments:  # between turns (a label, a header): keep it, unattributed
        return Excerpt(tid, c.start, c.end, c.code, _words(t, c, c.start, c.end), c.memo, coders=who,
                       attributes=attrs(t, None, c.start) if attrs is not None else {})
    kept = [seg for seg in segments if include_facilitators or not table.is_facilitator(seg[0].participant)]
    if not kept:
        return None
    turn, s, e = max(kept, key=lambda seg: (seg[2] - seg[1], -seg[1]))
    people_here = tuple(dict.fromkeys(seg[0].participant for seg in kept if seg[0].participant))
    if shared is not None:
        people_here = shared.setdefault(people_here, people_here)
    attributes = (attrs(t, turn) if attrs is not None
                  else table.attributes(turn.participant) if turn.participant else {})
    return Excerpt(tid, c.start, c.end, c.code, _words(t, c, s, e), c.memo, turn.participant, people_here, turn.speaker,
                   attributes, who, turn.index)


def _words(t: Any, c: Any, start: int, end: int) -> str:
    """The transcript's text[start:end]: the coding's own quote object when it holds one and it is those
    words (a passage within one turn), so the excerpt and its coding share one string, not two copies."""
    words = t.text[start:end]
    quote = held_quote(c) if isinstance(c, Coding) else getattr(c, "text", None)  # a quote read back: no copy to share
    return quote if type(quote) is str and quote == words else words


def _by_transcript(workspace: Workspace, pairs: list[Pair], paths: Mapping[str, Path]) -> dict[str, list[Pair]]:
    from qualkit.workspace.codings import CodingError

    by_t: dict[str, list[Pair]] = {}
    for c, who in pairs:
        if c.transcript not in paths:
            raise CodingError(f"transcript {c.transcript!r} is not in transcripts/", workspace.coder_file(who[0]), c.line)
        by_t.setdefault(c.transcript, []).append((c, who))
    return by_t


def load_excerpts(workspace: Workspace, coder: str | None = None, include_facilitators: bool = False) -> ExcerptSet:
    """Read the codings (see :func:`resolve_codings`) and lay them onto the transcripts' turns.

    A coding's words in research-team turns are left out (unless ``include_facilitators``); a coding
    that holds only such words is dropped. Its quote is its longest remaining turn segment, said by
    that turn's participant; every participant it touches counts as having said it.
    """
    return workspace.derived(("excerpts", coder, include_facilitators),
                             lambda: _load_excerpts(workspace, coder, include_facilitators))


def _load_excerpts(workspace: Workspace, coder: str | None, include_facilitators: bool) -> ExcerptSet:
    pairs, source = resolve_codings(workspace, coder)
    warns = list(source.warnings)
    paths = {p.stem: p for p in workspace.transcript_paths()}
    table = workspace.participant_table
    index = workspace.code_index()
    by_t = _by_transcript(workspace, pairs, paths)
    unknown = sorted({c.code for c, _ in pairs if c.code not in index})
    if unknown:
        warns.append(f"code(s) in no codebook: {', '.join(unknown)} (`qualkit codebook validate`)")
    left_out = [tid for tid in sorted(paths, key=natural_key) if tid not in by_t]
    transcripts: dict[str, Path] = {}
    participants: dict[str, list[str]] = {}
    excerpts: list[Excerpt] = []
    dropped = 0
    known: dict[tuple, dict[str, str]] = {}
    alike: dict[tuple, dict[str, str]] = {}
    shared: dict[tuple, tuple] = {}  # equal participant tuples: one object
    tables = (workspace.documents, workspace.cases)  # their files' state checked once, not per passage

    def attrs(t: Any, turn: Any = None, offset: int | None = None) -> dict[str, str]:
        # A passage's attributes depend on its turn (or offset) only: looked up once per turn, not per coding,
        # and the one dict shared by the turn's excerpts (a copy each was 75 MB at 5,000 interviews).
        key = (t.id, turn.index if turn is not None else None, offset)
        found = known.get(key)
        if found is None:
            got = workspace.attributes_at(t, turn, offset, tables=tables)
            found = known[key] = alike.setdefault(tuple(got.items()), got)  # a participant's turns: one dict
        return found

    from qualkit.io.progress import track

    for tid in track(sorted(by_t, key=natural_key), "Collecting excerpts"):
        t = workspace.read(paths[tid])
        known.clear()  # keyed by transcript: what the last one looked up is not asked for again
        transcripts[tid] = paths[tid]
        participants[tid] = _speakers(t, table, include_facilitators)
        starts = [turn.start for turn in t.turns]
        for c, who in sorted(by_t[tid], key=lambda cw: (cw[0].start, cw[0].end, cw[0].code)):
            excerpt = _lay_onto_turns(t, starts, c, who, table, include_facilitators, attrs, shared)
            if excerpt is None:
                dropped += 1
            else:
                excerpts.append(excerpt)
    if dropped:
        warns.append(f"{dropped} coding{plural_s(dropped)} hold only interviewer/moderator words and are left out")
    return ExcerptSet(excerpts, source, TranscriptsById(workspace, transcripts), participants, pairs, warns, left_out, dropped,
                      include_facilitators)
