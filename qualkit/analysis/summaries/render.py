"""Writing summary templates: one per transcript, in Markdown or Word, with a fingerprint.

Each template has a header (who, when, what kind of session), then per domain a ``## <label>``
heading, the guide question, the coded excerpts as a starting point (Markdown block quotes, or
Word's *Quote* style) and a ``Summary:`` area with empty bullets. A template carries a fingerprint
of what qualkit wrote, so any edit marks it as started and qualkit will not replace it (unless
asked to, after a backup).
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.analysis.sources import CodingSource, Excerpt, load_codings
from qualkit.analysis.summaries.guide import Domain, DomainSet, load_domains
from qualkit.analysis.summaries.sessions import (
    MAX_EXCERPT_CHARS,
    Session,
    describe_participant,
    guide_excerpts,
    session_info,
    summaries_dir,
    template_quote,
    transcript_excerpts,
)
from qualkit.errors import QualkitError, SummaryError
from qualkit.io.naming import plural_s

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["EMPTY_BULLETS", "FORMATS", "INSTRUCTIONS", "TemplateResult", "TemplateRun", "render_docx",
           "render_markdown", "template_state", "write_templates"]

FORMATS = ("md", "docx")
EMPTY_BULLETS = 3
_FINGERPRINT_RE = re.compile(r"fingerprint ([0-9a-f]{12})")
_PLACEHOLDER = "0" * 12


@dataclass
class TemplateResult:
    """What ``write_templates`` did for one transcript: ``status`` is written, updated, unchanged,
    kept (the analyst has started it; not replaced) or replaced (``--overwrite``; backed up)."""

    transcript: str
    path: Path
    status: str
    excerpts: int = 0
    backup: Path | None = None
    removed: Path | None = None     # a template in the other format that was replaced
    reason: str = ""                # why a template was kept, when not because the analyst started it

    def as_dict(self) -> dict:
        return {"transcript": self.transcript, "path": str(self.path), "status": self.status,
                "excerpts": self.excerpts, "backup": str(self.backup) if self.backup else None,
                "removed": str(self.removed) if self.removed else None, "reason": self.reason or None}


@dataclass
class TemplateRun:
    results: list[TemplateResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[QualkitError] = field(default_factory=list)
    domains: DomainSet | None = None
    codings: CodingSource | None = None

    def as_dict(self) -> dict:
        return {"domains": self.domains.source if self.domains else None,
                "codings": self.codings.description if self.codings else None,
                "templates": [r.as_dict() for r in self.results], "warnings": list(self.warnings),
                "errors": [str(e) for e in self.errors]}


def _template_model(workspace: Workspace, transcript: Any, session: Session, domains: DomainSet,
                    source: CodingSource, analyst: str = "") -> tuple[list[tuple[str, str]], list[tuple[Domain, list[Excerpt]]]]:
    """The header fields and each domain's excerpts, shared by the Markdown and Word writers."""
    excerpts = transcript_excerpts(workspace, transcript, source.codings_of(transcript.id), domains)
    by_guide = domains.source == "guide" and not any(excerpts.values())
    if by_guide:  # no codes yet: each guide question's answer (Hamilton's rapid analysis starts from the guide)
        excerpts = guide_excerpts(workspace, transcript, domains)
    try:
        rel = Path(session.path).resolve().relative_to(Path(workspace.root).resolve()) if session.path else Path(transcript.id)
    except ValueError:
        rel = Path(session.path or transcript.id)
    kind = session.kind + (f", {len(session.participants)} participant{plural_s(len(session.participants))}" if session.kind == "focus group" else "")
    header = [("Transcript", transcript.id), ("Session", kind), ("Date", session.date or ""),
              ("Source", f"{rel.as_posix()} ({session.format}, {session.turns} turn{plural_s(session.turns)}, {session.words} word{plural_s(session.words)})")]
    if session.facilitators:
        header.append(("Facilitators", ", ".join(describe_participant(workspace, p) for p in session.facilitators)))
    label = "Participants" if session.kind == "focus group" else "Participant"
    header.append((label, "" if session.kind == "focus group" else
                   (describe_participant(workspace, session.participants[0]) if session.participants else "(not in participants.csv)")))
    header += [("Domains", f"{domains.source} — {domains.description}"),
               ("Excerpts", "answers to each guide question (no codings yet)" if by_guide else f"{source.description}"),
               ("Analyst", analyst), ("Summarised on", "")]
    return header, [(d, excerpts.get(d.id, [])) for d in domains.domains]


INSTRUCTIONS = ("Write your summary as bullets under "
                "'Summary:' in each domain, 2-4 short paraphrases per domain; in a focus group, name the "
                "participant(s) a point comes from, e.g. '(FG1-P3)'. The quoted excerpts are a starting point "
                "from the codings and are never collected. Keep the domain headings and the 'Transcript:' line "
                "as they are; fill in Analyst and Summarised on.")


def render_markdown(workspace: Workspace, transcript: Any, session: Session, domains: DomainSet, source: CodingSource,
                    max_chars: int | None = MAX_EXCERPT_CHARS, bullets: int = EMPTY_BULLETS,
                    analyst: str = "") -> tuple[str, int]:
    """The Markdown template text (with its fingerprint) and the number of excerpts in it."""
    header, sections = _template_model(workspace, transcript, session, domains, source, analyst)
    lines = [f"# Rapid analysis summary: {transcript.id}", "",
             f"<!-- qualkit summary template (fingerprint {_PLACEHOLDER}). {INSTRUCTIONS} -->", ""]
    for key, value in header:
        lines.append(f"- {key}: {value}".rstrip())
        if key == "Participants":
            lines += [f"  - {describe_participant(workspace, p)}" for p in session.participants]
    n = 0
    for d, items in sections:
        lines += ["", f"## {d.label}", ""]
        if d.prompt:
            lines += [f"*{'Guide question' if domains.source == 'guide' else 'Definition'}:* {d.prompt}", ""]
        if items:
            lines += [("The answer to this guide question" if items[0].all_codes[0].startswith("answer to")
                       else "Coded excerpts") + " (a starting point; not collected):", ""]
            for ex in items:
                lines.append(f"> {template_quote(ex, max_chars)} · {ex.locator()}")
                lines.append(">")
            lines.pop()
            n += len(items)
        else:
            lines.append("No coded excerpts fall in this domain; summarise from the transcript.")
        lines += ["", "Summary:", ""] + ["- "] * max(bullets, 1)
    text = "\n".join(lines) + "\n"
    return _stamp(text), n


def _normalize(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _FINGERPRINT_RE.sub(f"fingerprint {_PLACEHOLDER}", text, count=1)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip() + "\n"


def _digest(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]


def _stamp(text: str) -> str:
    return text.replace(f"fingerprint {_PLACEHOLDER}", f"fingerprint {_digest(_normalize(text))}", 1)


def _docx_payload(doc) -> str:
    from qualkit.render.docx_styles import ParagraphStyles

    styles = ParagraphStyles(doc)  # p.style scans every style of the document, per paragraph
    return "\n".join(f"{styles.name(p)}\t{p.text.rstrip()}" for p in doc.paragraphs).strip()


def render_docx(workspace: Workspace, transcript: Any, session: Session, domains: DomainSet, source: CodingSource,
                max_chars: int | None = MAX_EXCERPT_CHARS, bullets: int = EMPTY_BULLETS) -> tuple[Any, int]:
    """The Word template (a python-docx Document, fingerprint in its Comments property) and the
    number of excerpts. Domains are *Heading 2*, excerpts *Quote*, summary bullets *List Bullet*."""
    import docx

    from qualkit.render.docx_styles import ParagraphStyles

    header, sections = _template_model(workspace, transcript, session, domains, source)
    doc = docx.Document()
    styled = ParagraphStyles(doc)  # each style name resolved once, not per paragraph (4 ms each)
    styled.add_heading(f"Rapid analysis summary: {transcript.id}", level=1)
    note = doc.add_paragraph()
    note.add_run(f"qualkit summary template. {INSTRUCTIONS}").italic = True
    for key, value in header:
        p = doc.add_paragraph()
        p.add_run(f"{key}:").bold = True
        if value:
            p.add_run(f" {value}")
        if key == "Participants":
            for pid in session.participants:
                styled.add_paragraph(describe_participant(workspace, pid), style="List Bullet 2")
    n = 0
    for d, items in sections:
        styled.add_heading(d.label, level=2)
        if d.prompt:
            p = doc.add_paragraph()
            p.add_run(f"{'Guide question' if domains.source == 'guide' else 'Definition'}: ").italic = True
            p.add_run(d.prompt)
        if items:
            doc.add_paragraph("Coded excerpts (a starting point; not collected):")
            for ex in items:
                styled.add_paragraph(f"{template_quote(ex, max_chars)} · {ex.locator()}", style="Quote")
            n += len(items)
        else:
            doc.add_paragraph("No coded excerpts fall in this domain; summarise from the transcript.")
        p = doc.add_paragraph()
        p.add_run("Summary:").bold = True
        for _ in range(max(bullets, 1)):
            styled.add_paragraph("", style="List Bullet")
    doc.core_properties.title = f"Rapid analysis summary: {transcript.id}"
    doc.core_properties.comments = f"qualkit summary template; fingerprint {_digest(_docx_payload(doc))}"
    return doc, n


def _docx_bytes(workspace: Workspace, transcript: Any, session: Session, domains: DomainSet, source: CodingSource,
                max_chars: int | None, bullets: int) -> tuple[bytes, int]:
    """:func:`render_docx` saved as bytes; the Document's cycles are freed here, also under a paused collector."""
    import io

    from qualkit.io.collector import collected_after

    buf = io.BytesIO()
    with collected_after():
        doc, n = render_docx(workspace, transcript, session, domains, source, max_chars, bullets)
        doc.save(buf)
        del doc  # unreachable before the block ends, so that its collection frees it
    return buf.getvalue(), n


def excerpt_count(path: Path) -> int:
    """How many pre-filled excerpts a template holds (Markdown block quotes, Word *Quote* paragraphs)."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".docx":
            from qualkit.io.collector import collected_after

            with collected_after():  # the Document's cycles freed now, also under a paused collector
                return _docx_quotes(path)
        text = path.read_text(encoding="utf-8-sig")
    except Exception:  # noqa: BLE001 - an unreadable file is someone's work; template_state keeps it
        return 0
    return sum(1 for line in text.splitlines() if line.startswith("> ") and line[2:].strip())


def _docx_quotes(path: Path) -> int:
    import docx

    from qualkit.render.docx_styles import ParagraphStyles

    doc = docx.Document(str(path))
    styles = ParagraphStyles(doc)
    return sum(1 for p in doc.paragraphs if styles.name(p) == "Quote" and p.text.strip())


def template_state(path: Path) -> str:
    """``pristine`` (exactly as qualkit wrote it), ``started`` (edited by an analyst) or ``unreadable``."""
    path = Path(path)
    if path.suffix.lower() == ".docx":
        from qualkit.io.collector import collected_after

        with collected_after():  # the Document's cycles freed now, also under a paused collector
            return _docx_state(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return "unreadable"
    m = _FINGERPRINT_RE.search(text)
    return "pristine" if m and m.group(1) == _digest(_normalize(text)) else "started"



def _docx_state(path: Path) -> str:
    try:
        import docx

        from qualkit.io.safezip import SafeZip

        SafeZip(path, kind="a Word .docx file", error_cls=SummaryError).close()
        doc = docx.Document(str(path))
    except Exception:  # noqa: BLE001 - a damaged file is treated as someone's work
        return "unreadable"
    m = _FINGERPRINT_RE.search(doc.core_properties.comments or "")
    return "pristine" if m and m.group(1) == _digest(_docx_payload(doc)) else "started"


def _unplaced_codes(source: CodingSource, dset: DomainSet, known_ids: set[str]) -> list[str]:
    """A warning naming the codes used in these transcripts that fall in no domain (their excerpts are left out)."""
    unplaced = sorted({c.code for c in source.codings if c.transcript in known_ids and not dset.domains_of(c.code)})
    if not unplaced:
        return []
    return [f"{len(unplaced)} code{plural_s(len(unplaced))} fall in no {dset.source} domain, so their excerpts are not in the "
            f"templates: {', '.join(unplaced)}"]


def write_templates(workspace: Workspace, domains: str | DomainSet | None = None, format: str = "md",
                    coder: str | Iterable[str] | None = "consensus", overwrite: bool = False,
                    transcripts: Iterable[str] | None = None, max_chars: int | None = MAX_EXCERPT_CHARS,
                    bullets: int = EMPTY_BULLETS, folder: Path | None = None, analyst: str = "") -> TemplateRun:
    """One summary template per transcript in summaries/ (``<id>.md`` or ``<id>.docx``); ``folder``
    and ``analyst`` for an analyst's own calibration copy (:mod:`.calibration`).

    A template the analyst has started (anything changed since qualkit wrote it) is never
    replaced unless ``overwrite``; even then the old file is copied to .qualkit/backups/ first. A
    template that is still as qualkit wrote it is brought up to date (new codings, new guide).
    A template in the other format counts as the transcript's template too.
    """
    from qualkit.io.atomic import atomic_write_bytes, atomic_write_text, backup

    if format not in FORMATS:
        raise SummaryError(f"--format must be md or docx, not {format!r}")
    run = TemplateRun()
    dset = domains if isinstance(domains, DomainSet) else load_domains(workspace, domains)
    run.domains = dset
    run.warnings += dset.warnings
    source = load_codings(workspace, coder)
    run.codings = source
    run.warnings += source.warnings
    wanted = list(transcripts) if transcripts is not None else None
    if wanted is not None:
        result = workspace.ingest([_path_of(workspace, t) for t in wanted])
    else:
        result = workspace.ingest()
    run.errors += result.errors
    paths = {r.id: r.path for r in result.rows}
    run.warnings += _unplaced_codes(source, dset, {t.id for t in result.transcripts})
    folder = Path(folder) if folder is not None else summaries_dir(workspace)
    folder.mkdir(parents=True, exist_ok=True)
    from qualkit.io.progress import track

    for t in track(result.transcripts, "Writing summary templates"):
        session = session_info(workspace, t, paths.get(t.id))
        target = folder / f"{t.id}.{format}"
        other = folder / f"{t.id}.{'docx' if format == 'md' else 'md'}"
        existing = [p for p in (target, other) if p.exists()]
        states = {p: template_state(p) for p in existing}
        content: Any
        if format == "md":
            content, n = render_markdown(workspace, t, session, dset, source, max_chars, bullets, analyst)
        else:
            content, n = _docx_bytes(workspace, t, session, dset, source, max_chars, bullets)
        started = [p for p in existing if states[p] != "pristine"]
        if started and not overwrite:
            run.results.append(TemplateResult(t.id, started[0], "kept", n))
            continue
        had = max((excerpt_count(p) for p in existing), default=0)
        if had > n and not overwrite:  # codings went missing (a coder only started, a consensus not yet made)
            run.results.append(_kept_fewer(t.id, existing[0], had, n))
            continue
        res = TemplateResult(t.id, target, "written", n)
        if had > n:
            started = existing  # replacing more excerpts with fewer: back the old one up first
        if started:
            for p in started:
                saved = backup(p, workspace.backup_dir)
                res.backup = res.backup or saved
            res.status = "replaced"
        elif target.exists():
            if format == "md" and target.read_text(encoding="utf-8-sig") == content:
                run.results.append(TemplateResult(t.id, target, "unchanged", n))
                continue
            res.status = "updated"
        if format == "md":
            atomic_write_text(target, content)
        else:
            atomic_write_bytes(target, content)
        if other.exists():
            other.unlink()
            res.removed = other
        run.results.append(res)
    return run


def _kept_fewer(tid: str, path: Path, had: int, n: int) -> TemplateResult:
    return TemplateResult(tid, path, "kept", n, reason=f"it has {had} excerpt{plural_s(had)} and the codings now give {n}; "
                                                       "--overwrite replaces it after a backup")


def _path_of(workspace: Workspace, transcript_id: str) -> Any:
    paths = workspace.transcript_paths()
    for p in paths:
        if p.stem == transcript_id or p.name == transcript_id:
            return p
    return workspace.transcript(transcript_id)  # raises with the known ids

