"""Reporting-checklist figures from project data: COREQ items 17, 21, 25, 26 and the SRQR checklist.

COREQ: Tong, Sainsbury & Craig 2007 (Int J Qual Health Care 19:349-357), 32 items. SRQR: O'Brien et
al. 2014 (Acad Med 89:1245-1251), 21 standards. Only what the project's files support is filled in;
the rest needs the team's own account. Codes are counted as applied (in a coder's file or the
consensus), per codebook and origin: an unused deductive codebook says nothing about a study's
coding tree.
"""
from __future__ import annotations

from typing import Any

from qualkit.io.naming import plural_s
from qualkit.reporting.study import Section, Study

__all__ = ["applied_codes", "coreq_rows", "interview_durations", "srqr_rows"]

Row = dict[str, str]


def _row(item: str, figure: str, value: str, detail: str = "") -> Row:
    return {"item": item, "figure": figure, "value": value, "detail": detail}


def applied_codes(study: Study, used: dict[str, set[str]]) -> list[dict[str, Any]]:
    """Per codebook: codes applied, by origin (deductive / inductive), and its size."""
    out = []
    for book in study.codebooks():
        applied = [c for c in book.codes if c.id in used]
        out.append({"id": book.id, "name": book.name, "codes": len(book.codes), "applied": len(applied),
                    "deductive": sum(1 for c in applied if c.origin == "deductive"),
                    "inductive": sum(1 for c in applied if c.origin == "inductive")})
    return out


def interview_durations(study: Study) -> dict[str, float]:
    """Minutes per transcript from its turns' timestamps (first to last turn); none without timestamps."""
    out = {}
    for t in study.transcripts:
        n, first, last = study.timestamps(t)  # counted as ingest read the transcript, not read again
        if n >= 2 and first is not None and last is not None and last > first:
            out[t.id] = (last - first) / 60
    return out


def coreq_rows(study: Study, used: dict[str, set[str]]) -> list[Row]:
    """COREQ 17 (guide), 21 (duration), 25 (coding tree: codes applied) and 26 (origin of applied codes)."""
    rows = []
    guide = study.ws.config.interview_guide or []
    if guide:
        labels = [str(q.get("label") or q.get("id") or "") if isinstance(q, dict) else str(q) for q in guide]
        rows.append(_row("17 Interview guide", "Guide questions", str(len(guide)),
                         "qualkit.yaml interview_guide: " + "; ".join(labels)))
    minutes = interview_durations(study)
    if minutes:
        vals = sorted(minutes.values())
        mid = vals[len(vals) // 2] if len(vals) % 2 else (vals[len(vals) // 2 - 1] + vals[len(vals) // 2]) / 2
        rows.append(_row("21 Duration", "Recorded length (minutes, from turn timestamps)",
                         f"median {mid:.0f} (range {vals[0]:.0f}–{vals[-1]:.0f})",
                         f"{len(vals)} of {len(study.transcripts)} transcript{plural_s(len(study.transcripts))} have timestamps; first to last turn"))
    books = applied_codes(study, used)
    applied = [b for b in books if b["applied"]]
    if books:
        rows.append(_row("25 Description of the coding tree", "Codes applied", str(sum(b["applied"] for b in books)),
                         "; ".join(f"{b['name']}: {b['applied']} of {b['codes']} applied" for b in books)))
        unused = [b["name"] for b in books if not b["applied"]]
        rows.append(_row("26 Derivation of themes", "Applied codes by origin (deductive / inductive)",
                         f"{sum(b['deductive'] for b in applied)} / {sum(b['inductive'] for b in applied)}",
                         "; ".join(f"{b['name']}: {b['deductive']} / {b['inductive']}" for b in applied)
                         + (f"; codebooks not used: {', '.join(unused)}" if unused else "")))
    return rows


def srqr_rows(study: Study, sections: dict[str, Section], coreq: list[Row]) -> list[Row]:
    """The SRQR standards that project data supports (8, 11, 12, 14, 15, 17), from the COREQ figures."""
    by_item: dict[str, list[Row]] = {}
    for r in coreq:
        by_item.setdefault(r["item"].split()[0], []).append(r)

    def pick(*items: str) -> str:
        return "; ".join(f"{r['figure']}: {r['value']}" for i in items for r in by_item.get(i, []))

    approach = getattr(getattr(study.ws.config, "analysis", None), "approach", "") or ""
    rows = [_row("8 Sampling strategy", "Sample and saturation", pick("12", "22")),
            _row("11 Data collection instruments", "Interview guide, recording", pick("17", "21")),
            _row("12 Units of study", "Participants by role", pick("16")),
            _row("14 Data analysis", "Codebook and themes", pick("25", "26")
                 + (f"; analysis approach: {approach}" if approach else "")),
            _row("15 Techniques to enhance trustworthiness", "Coders, agreement, consensus", pick("24")),
            _row("17 Links to empirical data", "Quotes", "attributed quotes in the themes tables"
                 if sections.get("themes") is not None and sections["themes"].ok else "")]
    return [r for r in rows if r["value"]]
