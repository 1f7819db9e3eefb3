"""Code saturation: new codes per transcript in interview order, and Guest, Namey & Chen's (2020) assessment.

Base size (default 4), run length (default 2), new-information threshold (default ≤ 5%). The
denominator is fixed: the number of unique codes in the ORIGINAL base (the first ``base``
interviews). Each run of ``run`` interviews is checked in turn (5-6, then 6-7, ...): the codes it adds
that no earlier interview had, divided by that fixed base count. The first run at or below the
threshold is reported as "saturation at N+R", N the interviews before that run (Guest, Namey & Chen
2020, PLoS ONE 15:e0232076). Order: ``order`` if given, else interview dates (a date /
interview_date / session_date column of participants.csv, or a "Date:" line at the top of every
transcript); without a date for every transcript the order must be given (file names are not an
interview order). Interviews and focus groups (two or more participants) are assessed separately
unless ``sessions="together"``. ``by="participant"`` counts focus-group participants one by one
instead of sessions. ``by`` a case attribute (``site``, ``role``, any column the codes matrix takes)
assesses each of its values apart: each site's transcripts in order, with only that site's codings
(interviews and focus groups together within a value). Code saturation is not meaning saturation
(Hennink et al. 2017).
"""
from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from qualkit.analysis.matrices.common import (
    UNIDENTIFIED,
    MatrixError,
    MatrixResult,
    SaturationSummary,
    check_choice,
    level_mapper,
)
from qualkit.analysis.sources import ExcerptSet
from qualkit.io.naming import natural_key, plural_s
from qualkit.workspace.heads import head_in
from qualkit.workspace.ingest import TranscriptsById

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["DATE_COLUMNS", "SaturationSummary", "parse_date", "saturation_matrix", "saturation_table",
           "transcript_dates"]

DATE_COLUMNS = ("date", "interview_date", "session_date")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%m/%d/%Y",
                 "%d.%m.%Y", "%A, %B %d, %Y", "%A %d %B %Y")
_DATE_LINE = re.compile(r"(?im)^\W*(?:interview |session |recording )?date\s*[:\-]\s*(.+?)\s*$")
_CAVEAT = ("Code saturation is not meaning saturation (Hennink et al. 2017: codes at 9 interviews, meaning at 16–24); "
           "the base and run defaults (4, 2) are a choice to report.")


def parse_date(text: str) -> date | None:
    """A date written in one of the usual ways ('2024-10-17', 'October 17, 2024', '14 March 2026')."""
    text = re.split(r"\s{2,}|\t|\s+\|\s+", str(text).strip())[0].strip().rstrip(".,;")
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def transcript_dates(workspace: Workspace, transcripts: Mapping[str, Any]) -> tuple[dict[str, date], str]:
    """Interview dates per transcript and where they came from: a date column of participants.csv
    (date, interview_date or session_date; the first filled row of each transcript), else a
    "Date: ..." line above the first speaker turn of the transcript (read from its header in the
    transcript cache, :mod:`qualkit.workspace.heads`: a study-wide pass decodes no turns)."""
    table = workspace.participant_table
    col = next((c for c in DATE_COLUMNS if c in table.attribute_columns), None)
    dates: dict[str, date] = {}
    sources: list[str] = []
    if col:
        for row in table.rows:
            tid, value = row.get("transcript"), (row.get(col) or "").strip()
            if tid is not None and tid in transcripts and value and tid not in dates:
                d = parse_date(value)
                if d:
                    dates[tid] = d
        if dates:
            sources.append(f"participants.csv '{col}' column")
    from_text = 0
    for tid in transcripts:  # not .items(): a transcript dated in participants.csv is not read
        if tid in dates:
            continue
        head = head_in(workspace, transcripts, tid).before_first_turn(2000)  # its header, not the whole parse
        if head is None:  # a preamble longer than a header holds
            t = transcripts[tid]
            first = next((turn for turn in t.turns if turn.speaker), None)
            head = t.text[: first.start] if first else t.text[:2000]
        m = _DATE_LINE.search(head)
        if m:
            d = parse_date(m.group(1))
            if d:
                dates[tid] = d
                from_text += 1
    if from_text:
        sources.append("'Date:' lines in the transcripts")
    return dates, " and ".join(sources) or "no dates found"


def saturation_table(sequence: Sequence[tuple[str, set[str]]], base: int = 4, run: int = 2,
                     threshold: float = 0.05) -> tuple[list[dict[str, Any]], int | None]:
    """Guest, Namey & Chen (2020) on codes per unit in order: (rows, base size at saturation). Pure.

    new_info for the run after position b = codes in the run not seen in positions 1..b, divided by
    the unique codes of the original base (positions 1..``base``), which does not grow."""
    rows = []
    seen: set[str] = set()
    cumulative = []
    for pos, (name, codes) in enumerate(sequence, start=1):
        new = sorted(codes - seen)
        seen |= codes
        cumulative.append(set(seen))
        rows.append({"position": pos, "name": name, "codes": len(codes), "new": len(new), "new_codes": ", ".join(new),
                     "cumulative": len(seen), "run": "", "new_in_run": None, "base_codes": None, "new_info": None, "saturated": None})
    reached_at = None
    base_codes = len(cumulative[base - 1]) if len(cumulative) >= base else 0
    for b in range(base, len(sequence) - run + 1):
        if not base_codes:
            break
        run_codes: set[str] = set().union(*(codes for _, codes in sequence[b:b + run]))
        new_in_run = len(run_codes - cumulative[b - 1])
        ratio = new_in_run / base_codes
        ok = ratio <= threshold + 1e-12
        row = rows[b - 1]
        row.update({"run": f"{b + 1}–{b + run}" if run > 1 else str(b + 1), "new_in_run": new_in_run,
                    "base_codes": base_codes, "new_info": round(ratio, 4), "saturated": ok})
        if ok and reached_at is None:
            reached_at = b
    return rows, reached_at


def _given_order(workspace: Workspace, ex: ExcerptSet, order: Sequence[str] | str,
                 warns: list[str]) -> list[str]:
    """The transcripts in the order the analyst gave (unknown or repeated ids are errors)."""
    ids = list(ex.transcripts)
    wanted = [o.strip() for o in (order.split(",") if isinstance(order, str) else order) if str(o).strip()]
    all_ids = [p.stem for p in workspace.transcript_paths()]
    for tid in wanted:
        if tid not in all_ids:
            close = difflib.get_close_matches(tid, all_ids, n=1)
            raise MatrixError(f"order: no transcript {tid!r}" + (f"; did you mean {close[0]!r}?" if close else "")
                              + f" (known: {', '.join(all_ids)})")
    dupes = sorted({t for t in wanted if wanted.count(t) > 1})
    if dupes:
        raise MatrixError(f"order names {', '.join(dupes)} twice")
    uncoded = [t for t in wanted if t not in ex.transcripts]
    if uncoded:
        warns.append(f"not coded in {ex.source_label()}, left out of the order: {', '.join(uncoded)}")
    missing = [t for t in ids if t not in wanted]
    if missing:
        warns.append(f"coded but not in the order given, left out: {', '.join(missing)}")
    return [t for t in wanted if t in ex.transcripts]


def _order(workspace: Workspace, ex: ExcerptSet, order: Sequence[str] | str | None,
           warns: list[str]) -> tuple[list[str], dict[str, date], str]:
    """Transcripts in interview order, their dates, and how the order was found."""
    if order:
        return _given_order(workspace, ex, order, warns), {}, "as given (--order)"
    documents = set(workspace.documents.rows)
    ids = [t for t in ex.transcripts if t not in documents]
    if len(ids) < len(ex.transcripts):  # field notes and reports are not data-collection sessions
        left = [t for t in ex.transcripts if t in documents]
        warns.append(f"left out {len(left)} document{plural_s(len(left))} of documents.csv ({', '.join(left[:6])}): saturation is "
                     "assessed over interviews and focus groups")
    chosen = ex.transcripts.subset(ids) if isinstance(ex.transcripts, TranscriptsById) else {t: ex.transcripts[t] for t in ids}
    dates, where = transcript_dates(workspace, chosen)  # each transcript read as it is looked at, not all held
    if ids and all(t in dates for t in ids):
        ids.sort(key=lambda t: (dates[t], natural_key(t)))
        return ids, dates, f"interview date ({where})"
    undated = [t for t in ids if t not in dates]
    raise MatrixError(f"saturation needs the interview order: no interview date for {len(undated)} of {len(ids)} "
                      f"transcripts ({', '.join(undated[:6])}{', ...' if len(undated) > 6 else ''}); add a 'date' column "
                      "to participants.csv (or a 'Date:' line at the top of each transcript), or give the order "
                      "(--order T1,T2,...)")


def _sequence(ex: ExcerptSet, ids: list[str], by: str, lv: Callable[[str], str]) -> list[tuple[str, set[str]]]:
    """(name, codes) per transcript, or per participant of each transcript, in order."""
    codes_by_t: dict[str, set[str]] = {t: set() for t in ids}
    codes_by_p: dict[tuple[str, str], set[str]] = {}
    for e in ex.excerpts:
        if e.transcript not in codes_by_t:
            continue
        codes_by_t[e.transcript].add(lv(e.code))
        for p in e.participants or ((e.participant,) if e.participant else (UNIDENTIFIED,)):
            codes_by_p.setdefault((e.transcript, p), set()).add(lv(e.code))
    if by == "transcript":
        return [(t, codes_by_t[t]) for t in ids]
    sequence = []
    for t in ids:
        people = list(ex.participants.get(t, []))
        if (t, UNIDENTIFIED) in codes_by_p:
            people.append(UNIDENTIFIED)
        sequence += [(p if p != UNIDENTIFIED else f"{t} {UNIDENTIFIED}", codes_by_p.get((t, p), set())) for p in people]
    return sequence


def _statement(rows: list[dict[str, Any]], at: int | None, n: int, base: int, run: int, pct: str, unit_word: str,
               order_source: str) -> str:
    """The assessment in one paragraph, for notes and the report."""
    head = f"Guest et al. (2020) saturation, base {base}, run {run}, new-information threshold ≤ {pct}, by {unit_word}: "
    if n < base + run:
        statement = head + f"not assessable: {n} {unit_word}s, fewer than base + run ({base + run})."
    elif at is not None:
        r = rows[at - 1]
        statement = (head + f"reached at {at}+{run}: the {run} {unit_word}{plural_s(run)} after the first {at} added {r['new_in_run']} "
                     f"new code{plural_s(r['new_in_run'])}, {r['new_info']:.0%} of the {r['base_codes']} code{plural_s(r['base_codes'])} in the base (the first {base}).")
    else:
        last = next((r for r in reversed(rows) if r["new_info"] is not None), None)
        tail = (f" The last run ({unit_word}s {last['run']}) added {last['new_in_run']} new code{plural_s(last['new_in_run'])}, {last['new_info']:.0%} "
                f"of the {last['base_codes']} code{plural_s(last['base_codes'])} in the base (the first {base}).") if last else ""
        statement = head + "not reached." + tail
    total = rows[-1]["cumulative"] if rows else 0
    return statement + f" {total} distinct code{plural_s(total)} in {n} {unit_word}s; order: {order_source}."


def _frame(rows: list[dict[str, Any]], unit_word: str) -> Any:
    import pandas as pd

    frame = pd.DataFrame([{**{k: v for k, v in r.items() if k != "name"}, unit_word: r["name"]} for r in rows],
                         columns=["position", unit_word, "codes", "new", "new_codes", "cumulative", "run", "new_in_run",
                                  "new_info", "saturated"])
    frame["new_in_run"] = frame["new_in_run"].astype("Int64")
    frame["new_info"] = frame["new_info"].astype("Float64")
    frame["saturated"] = frame["saturated"].astype("boolean")
    return frame


def _kinds(ex: ExcerptSet, ids: list[str], by: str, sessions: str) -> list[tuple[str, list[str]]]:
    """The transcripts to assess together: interviews and focus groups apart unless asked otherwise."""
    if sessions == "together" or by == "participant":
        return [("", ids)]
    groups: dict[str, list[str]] = {}
    for t in ids:
        groups.setdefault("focus group" if len(ex.participants.get(t, [])) > 1 else "interview", []).append(t)
    if len(groups) < 2:
        return [("", ids)]
    return [(k, groups[k]) for k in ("interview", "focus group")]


def _parts(workspace: Workspace, ex: ExcerptSet, ids: list[str], by: str, sessions: str,
           lv: Callable[[str], str]) -> list[tuple[str, list[tuple[str, set[str]]]]]:
    """(label, sequence) per assessment: one, interviews and focus groups apart, or one per case value."""
    if by in ("transcript", "participant"):
        return [(kind, _sequence(ex, group, by, lv)) for kind, group in _kinds(ex, ids, by, sessions)]
    from qualkit.analysis.matrices.bycase import case_cut

    values, case_of = case_cut(workspace, ex, by)
    codes: dict[tuple[str, str], set[str]] = {}
    for e in ex.excerpts:
        for v in case_of(e):
            codes.setdefault((v, e.transcript), set()).add(lv(e.code))
    return [(v, [(t, codes[(v, t)]) for t in ids if (v, t) in codes]) for v in values
            if any((v, t) in codes for t in ids)]


def saturation_matrix(workspace: Workspace, ex: ExcerptSet, by: str, level: str, order: Sequence[str] | str | None,
                      base: int, run: int, threshold: float, params: dict[str, Any],
                      sessions: str = "separate") -> MatrixResult:
    """New codes per transcript (or participant) in order, and where saturation was reached
    (Guest, Namey & Chen 2020; interviews and focus groups assessed apart unless ``sessions="together"``)."""
    from qualkit.render.tables import Table

    check_choice(sessions, ("separate", "together"), "sessions for saturation")
    if base < 1 or run < 1:
        raise MatrixError("base and run must be at least 1")
    if not 0 <= threshold < 1:
        raise MatrixError("threshold is a share between 0 and 1 (e.g. 0.05 for 5%)")
    lv = level_mapper(workspace, level)
    warns: list[str] = []
    ids, dates, order_source = _order(workspace, ex, order, warns)
    unit_word = "participant" if by == "participant" else "transcript"
    by_case = by not in ("transcript", "participant")
    pct = f"{threshold:.0%}" if threshold * 100 == int(threshold * 100) else f"{threshold:.1%}"
    summaries, frames, names = [], [], []
    for kind, sequence in _parts(workspace, ex, ids, by, sessions, lv):
        rows, at = saturation_table(sequence, base, run, threshold)
        word = unit_word if by_case else (kind or unit_word)
        statement = (f"{by.capitalize()} {kind}: " if by_case else "") + _statement(rows, at, len(sequence), base, run,
                                                                                    pct, word, order_source)
        summaries.append(SaturationSummary(base, run, threshold, at is not None, at,
                                           f"{at}+{run}" if at is not None else None, unit_word,
                                           rows[-1]["cumulative"] if rows else 0, len(sequence), order_source, statement,
                                           kind))
        frame = _frame(rows, unit_word)
        if by_case:
            frame.insert(1, by, kind)
        elif kind:
            frame.insert(1, "kind", kind)
        frames.append(frame)
        names += [r["name"] for r in rows]
    import pandas as pd

    if not frames:
        raise MatrixError(f"no interview or focus group has a {by} value with codings: nothing to assess")
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    main = summaries[0]
    if len(summaries) > 1:
        main = dataclasses.replace(main, statement=" ".join(s.statement for s in summaries), parts=tuple(summaries))
    if unit_word == "transcript" and dates and order_source.startswith("interview date"):
        frame.insert(2 + (len(summaries) > 1 or by_case), "date", [dates[t].isoformat() for t in names])
    notes = [main.statement, _CAVEAT]
    if ex.left_out:
        notes.append(f"Not coded in {ex.source_label()}, left out: {', '.join(ex.left_out)}.")
    defs = ("codes: distinct codes in the " + unit_word + "; new: codes not seen before; cumulative: distinct codes so far; "
            "run/new_in_run/new_info: the next run's codes not seen before ÷ the codes in the original base (the first "
            f"{base} {unit_word}s; Guest et al. 2020); saturated: new_info ≤ {pct}.")
    params.update({"by": by, "level": level, "base": base, "run": run, "threshold": threshold, "sessions": sessions,
                   "order": names, "order_source": order_source})
    tables = [Table("saturation", frame, "Code saturation (Guest, Namey & Chen 2020)", " ".join([main.statement, defs, _CAVEAT]))]
    return MatrixResult("saturation", frame, tables, "Code saturation", warns, notes, params, saturation=main)
