"""`qualkit status`: the state of a study at a glance, like `git status` for a repository.

What changed and what is left: transcripts new, changed since coded or unreadable; per coder and
transcript done, in progress (turns coded / total) or not started; codings that drifted (found
again elsewhere) or were lost; codings only in interviewer/moderator turns; which transcripts
qualify for agreement; the consensus decided / undecided; the themes check; exports whose
manifest inputs changed since they were written; and the next command to run. Reads only (the
study: its answer is kept in the derived .qualkit/cache/ for the next status on an unchanged study).
"""
from __future__ import annotations

import json
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from qualkit.coding.anchoring import coder_anchoring
from qualkit.coding.coverage import coverage_counts, done_transcripts
from qualkit.coding.turn_layouts import kept_layouts
from qualkit.errors import QualkitError
from qualkit.io.naming import natural_key, plural_s
from qualkit.workspace.codings import content_hash
from qualkit.workspace.store import Workspace

__all__ = ["StudyStatus", "status"]

NOT_CODERS = ("consensus", "auto")


@dataclass
class StudyStatus:
    """Everything `qualkit status` reports; ``as_dict`` is its --json form, ``lines`` its text."""

    transcripts: dict[str, Any] = field(default_factory=dict)         # readable (count); new / changed / unreadable -> ids
    coverage: dict[str, dict[str, str]] = field(default_factory=dict)  # coder -> transcript -> state
    marks_done: dict[str, bool] = field(default_factory=dict)          # coder -> has a .done file
    drifted: dict[str, dict[str, int]] = field(default_factory=dict)   # coder -> transcript -> moved codings
    lost: dict[str, dict[str, int]] = field(default_factory=dict)      # coder -> transcript -> unplaceable codings
    facilitator_only: dict[str, int] = field(default_factory=dict)     # coder -> codings only in the team's turns
    agreement: dict[str, Any] = field(default_factory=dict)            # coders, qualifying, partial
    consensus: dict[str, Any] = field(default_factory=dict)            # decided, undecided, agreed (or why not)
    themes: str = ""
    stale_exports: list[str] = field(default_factory=list)
    next_command: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"transcripts": self.transcripts, "coverage": self.coverage, "marks_done": self.marks_done,
                "drifted": self.drifted, "lost": self.lost, "facilitator_only": self.facilitator_only,
                "agreement": self.agreement, "consensus": self.consensus, "themes": self.themes,
                "stale_exports": self.stale_exports, "next": self.next_command}

    def lines(self) -> list[str]:
        """The status as short lines of text (what `qualkit status` and the end of `qualkit run` print)."""
        out: list[str] = []
        t = self.transcripts
        out.append(f"Transcripts: {t.get('readable', 0)} readable" +
                   "".join(f"; {k.replace('_', ' ')}: {', '.join(v)}" for k, v in t.items() if k != "readable" and v))
        for coder, per in self.coverage.items():
            done = [k for k, v in per.items() if v == "done"]
            doing = [f"{k} ({v})" for k, v in per.items() if v.startswith("in progress")]
            rest = [k for k, v in per.items() if v == "not started"]
            note = "" if self.marks_done.get(coder) else " (marks none done: every coded transcript counts as done)"
            out.append(f"{coder}: done {len(done)}" + (f"; in progress: {', '.join(doing)}" if doing else "")
                       + (f"; not started: {', '.join(rest)}" if rest else "") + note)
        for label, data in (("drifted (re-anchored in memory)", self.drifted), ("LOST (cannot be placed)", self.lost)):
            for coder, counts in data.items():
                out.append(f"Codings {label}: {coder} " + ", ".join(f"{k} {n}" for k, n in counts.items()))
        if self.facilitator_only:
            out.append("Codings only in interviewer/moderator turns (kept, not counted): "
                       + ", ".join(f"{c} {n}" for c, n in self.facilitator_only.items()))
        a = self.agreement
        if a.get("coders"):
            out.append(f"Agreement ({', '.join(a['coders'])}): {len(a['qualifying'])} transcript{plural_s(len(a['qualifying']))} qualify"
                       + (f" ({', '.join(a['qualifying'])})" if a["qualifying"] else "")
                       + (f"; partly coded, left out: {', '.join(a['partial'])}" if a.get("partial") else ""))
        else:
            out.append(f"Agreement: {a.get('why', 'not configured')}")
        c = self.consensus
        out.append(f"Consensus: {c['decided']} of {c['disagreements']} disagreement{plural_s(c['disagreements'])} decided, {len(c['undecided'])} undecided"
                   if "decided" in c else f"Consensus: {c.get('why', '')}")
        if self.themes:
            out.append(f"Themes: {self.themes}")
        out.append("Stale exports (inputs changed since written): " + (", ".join(self.stale_exports) if self.stale_exports
                                                                        else "none"))
        out.append(f"Next: {self.next_command}")
        return out


def _coders(ws: Workspace) -> list[str]:
    return [c for c in ws.coders() if c not in NOT_CODERS and not c.startswith("adjudication")]


def _transcripts(ws: Workspace, st: StudyStatus, coded: dict[str, list]) -> list[str]:
    """The readable transcripts' ids, no transcript read twice: a file whose parse is cached for its
    state now is readable unread, and a text's hash comes from its coders' anchoring where that read
    it (the hash of the text their codings were all found in); only the rest are read, one at a time."""
    from qualkit.workspace.heads import cached_paths
    from qualkit.workspace.ingest import ingest

    stamped = {c.transcript for cs in coded.values() for c in cs if c.transcript_hash}
    hashes: dict[str, str] = {}  # one hash per transcript, not one per coding
    for coder in coded:
        try:
            hashes.update(coder_anchoring(ws, coder).read_back)  # anchored already: kept for this command
        except QualkitError:
            continue

    def visit(t: Any) -> None:
        if t.id in stamped and t.id not in hashes:
            hashes[t.id] = content_hash(t.text)

    known = cached_paths(ws, ws.transcript_paths()) if ws.reads_files_as_they_are else set()
    result = ingest(ws, summarize=False, visit=visit, known=known.__contains__)
    for t in result.transcripts:
        if t.id in stamped and t.id not in hashes and t.path is not None:  # held unread: its coders' codings moved or were lost
            hashes[t.id] = content_hash(ws.read_text(t.path))
    readable = [t.id for t in result.transcripts]
    unreadable = sorted({ws.rel(e.path) if getattr(e, "path", None) else str(e) for e in result.errors})
    touched = {c.transcript for cs in coded.values() for c in cs}
    marked = {tid for coder in coded for tid in (done_transcripts(ws, coder) or set())}
    changed = {c.transcript for cs in coded.values() for c in cs
               if c.transcript_hash and c.transcript in hashes and c.transcript_hash != hashes[c.transcript]}
    st.transcripts = {"readable": len(readable),
                      "new": sorted(set(readable) - touched - marked, key=natural_key),
                      "changed_since_coded": sorted(changed, key=natural_key), "unreadable": unreadable}
    return readable


def _coverage(ws: Workspace, st: StudyStatus, coded: dict[str, list], readable: list[str]) -> None:
    anchored = {coder: coder_anchoring(ws, coder) for coder in coded}  # codings where they are now (moved ones moved, lost ones out)
    progress, outside = coverage_counts(ws, {coder: a.codings for coder, a in anchored.items()}, readable)
    ids = sorted(readable, key=natural_key)
    for coder, a in anchored.items():
        marks = done_transcripts(ws, coder)
        st.marks_done[coder] = marks is not None
        prog = progress[coder]
        per: dict[str, str] = {}
        for tid in ids:
            p = prog.get(tid)
            is_done = tid in marks if marks is not None else bool(p and p.coded)
            per[tid] = "done" if is_done else (f"in progress ({p})" if p and p.coded else "not started")
        st.coverage[coder] = per
        if outside[coder]:  # codings that touch no participant turn (only interviewer/moderator words)
            st.facilitator_only[coder] = outside[coder]
        moved = {k: sum(v.values()) for k, v in a.moved.items()}
        if moved:
            st.drifted[coder] = moved
        if a.lost:
            st.lost[coder] = {k: len(v) for k, v in a.lost.items()}
        changed = set(st.transcripts["changed_since_coded"]) | set(a.moved) | set(a.lost)
        st.transcripts["changed_since_coded"] = sorted(changed, key=natural_key)


def _agreement(ws: Workspace, st: StudyStatus) -> None:
    coders = [c for c in (ws.config.coders or _coders(ws)) if c in st.coverage]
    if len(coders) < 2:
        st.agreement = {"coders": [], "why": "name two coders in qualkit.yaml `coders:` (or add codings/<coder>.csv)"}
        return
    tids = list(st.coverage[coders[0]])
    qualifying = [t for t in tids if all(st.coverage[c][t] == "done" for c in coders)]
    partial = [t for t in tids if t not in qualifying and any(st.coverage[c][t].startswith("in progress") for c in coders)]
    st.agreement = {"coders": coders, "qualifying": qualifying, "partial": partial}


def _consensus(ws: Workspace, st: StudyStatus) -> None:
    from qualkit.analysis.reconcile import reconcile

    coders = st.agreement.get("coders") or []
    if len(coders) != 2:
        st.consensus = {"why": "reconciliation needs exactly two coders"}
        return
    try:
        r = reconcile(ws, coders, dry_run=True)
    except QualkitError as exc:
        st.consensus = {"why": str(exc)}
        return
    st.consensus = {"agreed": r.agreed, "disagreements": r.disagreements, "decided": r.decided,
                    "undecided": list(r.undecided), "written": ws.coder_file(r.into).exists()}


def _turns_kept_for_themes(ws: Workspace) -> AbstractContextManager[None]:
    """The themes check counts coded excerpts from where the transcripts' turns lie: kept as the coverage
    pass reads each transcript (:mod:`qualkit.coding.turn_layouts`), so none is read again, unless
    this command holds the excerpts already (the end of `qualkit run`: they are counted instead)."""
    from qualkit.analysis.themes import themes_path

    if themes_path(ws).exists() and ws.derived(("excerpts", None, False), None) is None:
        return kept_layouts(ws)
    return nullcontext()


def _themes(ws: Workspace, st: StudyStatus) -> None:
    from qualkit.analysis.themes import check_themes, themes_path

    if not themes_path(ws).exists():
        return
    try:
        st.themes = check_themes(ws).summary()
    except QualkitError as exc:
        st.themes = str(exc)


def _stale(ws: Workspace, st: StudyStatus) -> None:
    from qualkit.io.manifest import sha256_file

    folder = ws.root / "exports"
    for m in sorted(folder.glob("*.manifest.json")) if folder.is_dir() else []:
        try:
            inputs = json.loads(m.read_text(encoding="utf-8")).get("inputs") or []
        except (OSError, ValueError):
            continue
        for item in inputs:
            p = ws.root / item.get("path", "")
            if not p.is_file() or sha256_file(p) != item.get("sha256"):
                st.stale_exports.append(ws.rel(m)[: -len(".manifest.json")])
                break


def _next(st: StudyStatus) -> str:
    if st.transcripts.get("unreadable"):
        return "qualkit ingest   (fix or remove the unreadable transcripts)"
    if st.lost:
        return "qualkit codings check   (codings that cannot be placed in changed transcripts)"
    if st.drifted:
        return "qualkit codings check --fix   (save the re-anchored positions)"
    if not st.transcripts.get("readable"):
        return "put transcripts in transcripts/ (speakers in participants.csv), then qualkit ingest"
    if not any(st.coverage.values()):
        return "qualkit code TRANSCRIPT --coder NAME   (or qualkit import sheet|word-comments FILE --coder NAME)"
    for coder, per in st.coverage.items():
        for tid, state in per.items():
            if state.startswith("in progress"):
                return f"qualkit code {tid} --coder {coder}   (then: qualkit codings done {tid} --coder {coder})"
    c = st.consensus
    if c.get("undecided"):
        return "qualkit disagreements --out adjudication.xlsx   (then qualkit reconcile --adjudication adjudication.xlsx)"
    if c.get("disagreements") is not None and not c.get("written"):
        return "qualkit reconcile"
    if st.stale_exports:
        return "qualkit run   (bring the exports up to date)"
    return "nothing pending: `qualkit report` writes the study report"


def _from_dict(d: dict[str, Any]) -> StudyStatus:
    """The StudyStatus whose ``as_dict`` is ``d`` (a result kept in the cache)."""
    return StudyStatus(transcripts=d["transcripts"], coverage=d["coverage"], marks_done=d["marks_done"],
                       drifted=d["drifted"], lost=d["lost"], facilitator_only=d["facilitator_only"],
                       agreement=d["agreement"], consensus=d["consensus"], themes=d["themes"],
                       stale_exports=d["stale_exports"], next_command=d["next"])


def _exports_stamp(ws: Workspace) -> list[Any]:
    """What the stale-exports check reads beyond the workspace's own files (which the results key
    stamps already): each manifest's bytes (hashed; a run writes them again unchanged) and the state
    of any input it names outside those files (in exports/, .git/, .qualkit/ or outside the study)."""
    import hashlib
    import os

    out: list[Any] = []
    folder = ws.root / "exports"
    for m in sorted(folder.glob("*.manifest.json")) if folder.is_dir() else []:
        try:
            raw = m.read_bytes()
            inputs = json.loads(raw).get("inputs") or []
        except (OSError, ValueError, AttributeError):
            out.append([m.name, None])
            continue
        extra = []
        for item in inputs:
            rel = str(item.get("path", "")) if isinstance(item, dict) else ""
            if rel.split("/", 1)[0] in ("exports", ".git", ".qualkit", "..", "") or os.path.isabs(rel) or ".." in rel:
                try:
                    st = (ws.root / rel).stat()
                    extra.append([rel, st.st_mtime_ns, st.st_size, st.st_ino])
                except OSError:
                    extra.append([rel, None])
        out.append([m.name, hashlib.sha256(raw).hexdigest(), extra])
    return out


def status(ws: Workspace) -> StudyStatus:
    """The study's status (see the module docstring); never raises on content, never writes the
    study. A study where nothing changed since the last status reads it back from .qualkit/cache/
    (keyed by every file's state, qualkit's code and the exports' manifests; see
    :mod:`qualkit.workspace.results`) instead of re-reading every coder's codings."""
    from qualkit.workspace.results import ResultCache

    cache = ResultCache(ws.root)
    key = cache.key("status", {"exports": _exports_stamp(ws), "allow_unanchored": ws.allow_unanchored})
    kept = cache.get("status", key)
    if kept is not None:
        try:
            st = _from_dict(kept)
            _replay_notices(ws, kept["notices"])
            return st
        except (KeyError, TypeError, ValueError):
            pass
    st = _compute(ws)
    notes = ws.anchor_state.get("_notes") or {}  # the changed-transcript lines as this state gives them
    cache.put("status", key, {**st.as_dict(), "notices": sorted(notes.items())}, [])
    return st


def _replay_notices(ws: Workspace, notices: list[list[str]]) -> None:
    """Send the kept changed-transcript lines to ``ws.notify`` as the re-anchoring would have: each
    once per workspace (a line this process already showed, e.g. during `run`, is not repeated)."""
    notes = ws.anchor_state.setdefault("_notes", {})
    for tid, line in notices:
        if notes.get(tid) != line:
            notes[tid] = line
            if ws.notify is not None:
                ws.notify(line)


def _compute(ws: Workspace) -> StudyStatus:
    with ws.derived_cache.steady():  # the inputs' stamp taken once per state, not at each step
        return _compute_steady(ws)


def _compute_steady(ws: Workspace) -> StudyStatus:
    st = StudyStatus()
    coded: dict[str, list] = {}
    bad: list[str] = []
    for coder in _coders(ws):
        try:
            coded[coder] = ws.codings(coder)
            coder_anchoring(ws, coder)  # anchored before the next file is read: checked quotes are not held
        except QualkitError as exc:
            bad.append(str(exc))
    readable = _transcripts(ws, st, coded)
    if bad:
        st.transcripts["unreadable_codings"] = bad
    with _turns_kept_for_themes(ws):  # let go before the consensus's dry run, status's peak
        _coverage(ws, st, coded, readable)
        _themes(ws, st)
    _agreement(ws, st)
    _consensus(ws, st)
    _stale(ws, st)
    st.next_command = _next(st)
    return st
