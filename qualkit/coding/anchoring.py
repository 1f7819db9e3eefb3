"""Anchoring as an invariant: every command that reads codings for results reads them through here.

A coding's offsets point into the transcript text it was coded against (its ``transcript_hash``).
When the transcript changed since, the codings are re-anchored in memory exactly as
``qualkit codings check`` does (exact, normalised, fuzzy: :mod:`qualkit.coding.reanchor`) and one
line per changed transcript says what happened. A coding that cannot be placed is never used at
its old, wrong position: reading it raises :class:`UnanchoredError` (the CLI exits 1 naming the
transcript and the count) unless the workspace allows unanchored codings, in which case it is
left out and every notice says so. Nothing is written: ``codings check --fix`` persists.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from qualkit.coding.anchoring_cache import AnchoringVerdicts, file_state
from qualkit.errors import CodingError, QualkitError
from qualkit.io.naming import plural_s
from qualkit.workspace.codings import Coding, QuoteSource, RecentTexts, content_hash, read_back

if TYPE_CHECKING:
    from qualkit.coding.reanchor import Reanchored
    from qualkit.workspace.store import Workspace

__all__ = ["CoderAnchoring", "UnanchoredError", "anchored_codings", "anchoring_notes", "coder_anchoring",
           "unanchored_summary"]


class UnanchoredError(CodingError):
    """Codings whose transcript changed can no longer be placed; results would be wrong."""


@dataclass
class CoderAnchoring:
    """One coder's codings placed in the current transcripts: ``codings`` (moved ones updated,
    lost ones left out), and per transcript the count of each re-anchoring status."""

    coder: str
    codings: list[Coding] = field(default_factory=list)
    lost: dict[str, list[Coding]] = field(default_factory=dict)        # transcript -> unplaceable codings
    moved: dict[str, Counter] = field(default_factory=dict)            # transcript -> Counter(moved/fuzzy)
    changed: set[str] = field(default_factory=set)                      # transcripts whose hash changed
    past_end: dict[str, list[Coding]] = field(default_factory=dict)    # transcript -> quote-less codings past its end
    # transcript -> the hash of the text all its codings' quotes were found in at their offsets (read back from it)
    read_back: dict[str, str] = field(default_factory=dict)


def _compute(ws: Workspace, coder: str) -> CoderAnchoring:
    from qualkit.coding.reanchor import reanchor_codings
    from qualkit.workspace.ingest import iter_texts
    from qualkit.workspace.store import Workspace as Store

    file = ws.coder_file(coder)
    # A view whose codings are not the file's rows (the de-identified one) keeps its quotes: should its
    # transcript change, the file's words could not stand in for them.
    file_stamp = _file_state(file) if type(ws).codings is Store.codings else None
    paths = {p.stem: p for p in ws.transcript_paths()}
    recent = ws.anchor_state.setdefault("_recent", RecentTexts())
    early = _EarlyCheck(ws, paths, file, file_stamp, recent)
    raw = ws.codings(coder, each=early) if file_stamp is not None else ws.codings(coder)
    rows: dict[str, list[int]] = {}
    for i, c in enumerate(raw):
        if c.transcript not in early.exact:
            rows.setdefault(c.transcript, []).append(i)
    out = CoderAnchoring(coder)
    found_in_place = early.found_in_place()
    out.changed.update(t for t, (_h, changed) in found_in_place.items() if changed)
    # One transcript at a time (re-anchoring never looks across transcripts), so the texts of the
    # whole study are never held at once. Codings of missing or unreadable transcripts are kept as
    # they are: they match no transcript a command reads, and `status` / `codings check` report them.
    # Only the codings found elsewhere or lost are kept apart; those still at their place are as read,
    # their quotes read back from the transcript from now on instead of held (the same words).
    placed: dict[int, Reanchored] = {}
    for tid, text in iter_texts(ws, rows):
        h = content_hash(text)
        mine = rows[tid]
        if any(raw[i].transcript_hash and raw[i].transcript_hash != h for i in mine):
            out.changed.add(tid)
        source = QuoteSource(partial(_text_of, ws, paths[tid]), h, file, file_stamp, recent)
        exact = True
        for i, found in zip(mine, reanchor_codings([raw[i] for i in mine], {tid: text})):
            if found.status == "unchanged":
                if file_stamp is not None:
                    read_back(raw[i], source)
            else:
                exact = False
                if found.status == "lost" or found.changed:
                    placed[i] = found
        if exact and file_stamp is not None:
            found_in_place[tid] = (h, False)
    out.read_back = {tid: found_in_place[tid][0] for tid in sorted(found_in_place)}  # in id order, as the texts are read
    for i, c in enumerate(raw):
        r = placed.get(i)
        if r is None:
            out.codings.append(c)
            continue
        if r.status == "lost":
            # a quote not found, or no quote and a span past the end of the text: either way
            # there is nothing in the transcript to put this coding on
            out.lost.setdefault(c.transcript, []).append(c)
            out.changed.add(c.transcript)
            if not c.text:
                out.past_end.setdefault(c.transcript, []).append(c)
        elif r.changed:
            out.moved.setdefault(c.transcript, Counter())[r.status] += 1
            out.changed.add(c.transcript)
            out.codings.append(r.updated())
        else:
            out.codings.append(c)
    return out


class _EarlyCheck:
    """Checks each coding as the coder's file is read (``Workspace.codings``' ``each``) against the current text
    of its transcript, one transcript at a time, and lets a quote found at its offsets be read back from the
    text at once: the file's quotes are never all held (200 MB of auto.csv at 5,000 interviews). A transcript
    all of whose codings are so found needs no re-anchoring; the others are re-anchored as before."""

    def __init__(self, ws: Workspace, paths: dict[str, Path], file: Path, file_stamp: tuple[int, int] | None,
                 recent: RecentTexts) -> None:
        from qualkit.workspace.ingest import text_reader

        self.ws, self.paths, self.file, self.file_stamp, self.recent = ws, paths, file, file_stamp, recent
        self.read = text_reader(ws)[0]
        self.exact: dict[str, list] = {}  # transcript whose codings are all in place so far -> [its hash, a stamp differs]
        self.failed: set[str] = set()  # transcripts with a coding not found in place (or no text): re-anchored
        self._tid: str | None = None
        self._text: str | None = None
        self._source: QuoteSource | None = None

    def __call__(self, c: Coding) -> None:
        tid = c.transcript
        if tid in self.failed:
            return
        if tid != self._tid:
            if tid in self.exact:  # back after another transcript's rows (a file sorted by code): re-anchored
                self._fail(tid)  # with the others rather than its text read and hashed again at each switch
                return
            self._tid, self._text = tid, self.read(tid)
            if self._text is None:  # missing, duplicated or unreadable: left as it is, as the re-anchoring leaves it
                self._fail(tid)
                return
            h = content_hash(self._text)
            entry = self.exact.setdefault(tid, [h, False])
            self._source = QuoteSource(partial(_text_of, self.ws, self.paths[tid]), h, self.file, self.file_stamp,
                                       self.recent)
        entry = self.exact[tid]
        quote = c.text
        if not quote or self._text is None or self._text[c.start:c.end] != quote:
            self._fail(tid)
            return
        if c.transcript_hash and c.transcript_hash != entry[0]:
            entry[1] = True
        read_back(c, self._source)  # type: ignore[arg-type]

    def _fail(self, tid: str) -> None:
        self.failed.add(tid)
        self.exact.pop(tid, None)
        if self._tid == tid:
            self._tid = self._text = self._source = None

    def found_in_place(self) -> dict[str, tuple[str, bool]]:
        """Transcript -> (its text's hash, whether a coding's stamped hash differs), for those all of whose
        codings were found at their offsets."""
        return {tid: (h, changed) for tid, (h, changed) in self.exact.items()}


def _text_of(ws: Workspace, path: Path) -> str:
    return ws.read_text(path)


def _file_state(path: Path) -> tuple[int, int] | None:
    """(mtime in ns, size) of a coder's file: what a :class:`QuoteSource` checks before reading it again."""
    state = file_state(path)
    return None if state is None else state[:2]


def _stamp(ws: Workspace, coder: str) -> tuple:
    """What the cached anchoring depends on: the coder's file and the transcripts' files."""
    prefix = str(ws.root / "_")[:-1]  # paths inside the workspace are named from its root: a copied study still matches
    return (file_state(ws.coder_file(coder)),
            tuple((name[len(prefix):] if (name := str(p)).startswith(prefix) else name, file_state(p))
                  for p in ws.transcript_paths()))


def _verdicts(ws: Workspace) -> AnchoringVerdicts | None:
    """This workspace object's store of clean verdicts (one connection per command); None for a view
    whose codings are not its files' rows (the de-identified one), which always checks."""
    from qualkit.workspace.store import Workspace as Store

    if type(ws).codings is not Store.codings:
        return None
    found = ws.anchor_state.get("_verdicts")
    if found is None:
        found = ws.anchor_state["_verdicts"] = AnchoringVerdicts(ws.root, [ws.root / "qualkit.yaml",
                                                                           ws.root / "participants.csv"])
    return found


def _get(ws: Workspace, coder: str) -> CoderAnchoring:
    stamp = _stamp(ws, coder)
    cached = ws.anchor_state.get(coder)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    verdicts = _verdicts(ws)
    key = verdicts.key(coder, stamp) if verdicts is not None else ""
    verdict = verdicts.clean(coder, key) if verdicts is not None else None
    if verdict is not None:  # found in place last time, and nothing it depends on changed since
        result = _as_found(ws, coder, verdict)
    else:
        result = _compute(ws, coder)
        if verdicts is not None and not result.lost and not result.moved:
            verdicts.record(coder, key, result.changed, result.read_back)
    ws.anchor_state[coder] = (stamp, result)
    return result


def _as_found(ws: Workspace, coder: str, verdict: dict) -> CoderAnchoring:
    """The coder's codings as a clean verdict says they are: in place, the quotes of every transcript
    whose codings were all found at their offsets read back from it (each read checks the text's hash)."""
    file = ws.coder_file(coder)
    file_stamp = _file_state(file)
    digests: dict[str, str] = verdict["read_back"]
    if file_stamp is None or not digests:
        return CoderAnchoring(coder, ws.codings(coder), changed=set(verdict["changed"]), read_back=dict(digests))
    paths = {p.stem: p for p in ws.transcript_paths()}
    recent = ws.anchor_state.setdefault("_recent", RecentTexts())
    sources: dict[str, QuoteSource | None] = {}
    seen = [0]  # codings ``placed`` was given as their rows were read

    def placed(c: Coding) -> None:
        seen[0] += 1
        source = sources.get(c.transcript, False)
        if source is False:
            h, path = digests.get(c.transcript), paths.get(c.transcript)
            source = sources[c.transcript] = (None if h is None or path is None else
                                              QuoteSource(partial(_text_of, ws, path), h, file, file_stamp, recent))
        if source is not None:
            read_back(c, source)  # type: ignore[arg-type]

    raw = ws.codings(coder, each=placed)  # each quote let go of as its row is read
    if seen[0] < len(raw):  # the file was parsed before (Workspace.codings kept it): placed here, once
        for c in raw:
            placed(c)
    return CoderAnchoring(coder, raw, changed=set(verdict["changed"]), read_back=dict(digests))


def _in_place(ws: Workspace, coder: str) -> bool:
    """Whether ``coder``'s codings are known to be in place, without reading any file but the verdicts."""
    cached = ws.anchor_state.get(coder)
    stamp = _stamp(ws, coder)
    if cached is not None and cached[0] == stamp:
        return not cached[1].lost and not cached[1].moved
    verdicts = _verdicts(ws)
    return verdicts is not None and verdicts.clean(coder, verdicts.key(coder, stamp)) is not None


def coder_anchoring(ws: Workspace, coder: str) -> CoderAnchoring:
    """The coder's codings re-anchored against the current transcripts (cached until a file changes).

    The other coders' files are re-anchored too, so that the notice for a changed transcript is
    one line covering every coder."""
    result = _get(ws, coder)
    for other in ws.coders():
        if other != coder and other != "auto":
            if _in_place(ws, other):
                continue  # nothing of theirs moved or was lost: no notice to add, no need to read their file
            try:
                _get(ws, other)
            except QualkitError:
                continue  # that coder's own command reports its file's problem
    _notify(ws)
    return result


def _notify(ws: Workspace) -> None:
    """One line per changed transcript, across coders, sent to ``ws.notify`` when it is new."""
    per: dict[str, list[str]] = {}
    moved_any: set[str] = set()
    for coder, entry in sorted((k, v) for k, v in ws.anchor_state.items() if not k.startswith("_")):
        a: CoderAnchoring = entry[1]
        for tid in sorted(set(a.moved) | set(a.lost)):  # a changed text whose codings all still match: nothing to say
            per.setdefault(tid, []).append(_part(ws, coder, tid, a))
            moved_any.update(a.moved)
    notes = ws.anchor_state.setdefault("_notes", {})
    for tid, parts in sorted(per.items()):
        fix = "; `qualkit codings check --fix` saves the new positions" if tid in moved_any else ""
        line = f"{tid} changed since it was coded: {'; '.join(parts)}{fix}"
        if notes.get(tid) == line:
            continue
        notes[tid] = line
        if ws.notify is not None:
            ws.notify(line)


def _part(ws: Workspace, coder: str, tid: str, a: CoderAnchoring) -> str:
    moved = a.moved.get(tid, Counter())
    lost = len(a.lost.get(tid, []))
    bits = []
    if moved:
        how = ", ".join(f"{n} {s}" for s, n in sorted(moved.items()))
        bits.append(f"{sum(moved.values())} re-anchored in memory ({how})")
    if lost:
        past = len(a.past_end.get(tid, []))
        why = f" ({past} with no quote and a span past the end of the transcript)" if past else ""
        bits.append(f"{lost} cannot be placed{why}"
                    + (" and are LEFT OUT (--allow-unanchored)" if ws.allow_unanchored else ""))
    return f"{coder} " + ", ".join(bits)


def anchored_codings(ws: Workspace, coder: str, *, keep_past_end: bool = False) -> list[Coding]:
    """``coder``'s codings at their current positions, for computing or exporting results.

    Raises :class:`UnanchoredError` naming the transcript(s) and count when some cannot be
    placed, unless ``ws.allow_unanchored`` (then they are left out, and the notices say so).
    ``keep_past_end``: quote-less codings whose span lies past the end of the text are returned as
    they are, for a caller that checks spans itself and leaves them out with its own warning
    (the REFI-QDA export)."""
    a = coder_anchoring(ws, coder)
    past = {id(c) for cs in a.past_end.values() for c in cs} if keep_past_end else set()
    lost = {t: kept for t, cs in a.lost.items() if (kept := [c for c in cs if id(c) not in past])}
    if lost and not ws.allow_unanchored:
        n_past = sum(1 for cs in lost.values() for c in cs if not c.text)
        n_lost = sum(len(cs) for cs in lost.values())
        why = ("the transcript changed since it was coded" if not n_past else
               f"{'it has' if n_past == 1 else 'they have'} no quoted text and a span past the end of the transcript"
               if n_past == n_lost else
               f"the transcript changed since it was coded ({n_past} with no quote and a span past its end)")
        raise UnanchoredError(
            f"{unanchored_summary({coder: lost})} can no longer be placed: {why}. See them with "
            "`qualkit codings check`, fix the quotes or the transcript, or pass --allow-unanchored to leave them "
            "out", ws.coder_file(coder))
    return a.codings + [c for cs in a.past_end.values() for c in cs] if past else a.codings


def unanchored_summary(lost: dict[str, dict[str, list[Coding]]]) -> str:
    """"int1: 3 codings of ana, int2: 1 coding of ben" from coder -> transcript -> lost codings."""
    parts = [f"{tid}: {len(cs)} coding{plural_s(len(cs))} of {coder}" for coder, per in sorted(lost.items())
             for tid, cs in sorted(per.items())]
    return ", ".join(parts)


def anchoring_notes(ws: Workspace) -> list[str]:
    """Every anchoring notice given so far in this workspace object (for JSON and file outputs)."""
    return [line for _, line in sorted(ws.anchor_state.get("_notes", {}).items())]
