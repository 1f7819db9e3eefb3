"""Code saturation: new codes per transcript in interview order, and Guest, Namey & Chen's (2020) assessment.

Base size (default 4), run length (default 2), new-information threshold (default ≤ 5%). Starting
from the base, the codes new in the next run are divided by the unique codes in the base; the base
grows one transcript at a time until the ratio is at or below the threshold, reported as
"saturation at B+R" (base + run). (The growing base is qualkit's reading of the method, which
reports results as "6+2"; check it against the paper before describing it in a manuscript.)
Order: ``order`` if given, else interview dates (a date / interview_date / session_date column of
participants.csv, or a "Date:" line at the top of every transcript), else natural id order.
``by="participant"`` counts focus-group participants one by one instead of sessions. Code
saturation is not meaning saturation (Hennink et al. 2017).
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
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
from qualkit.io.naming import natural_key

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


def transcript_dates(workspace: Workspace, transcripts: dict[str, Any]) -> tuple[dict[str, date], str]:
    """Interview dates per transcript and where they came from: a date column of participants.csv
    (date, interview_date or session_date; the first filled row of each transcript), else a
    "Date: ..." line above the first speaker turn of the transcript."""
    table = workspace.participant_table
    col = next((c for c in DATE_COLUMNS if c in table.attribute_columns), None)
    dates: dict[str, date] = {}
    sources: list[str] = []
    if col:
        for row in table.rows:
            tid, value = row.get("transcript"), (row.get(col) or "").strip()
            if tid in transcripts and value and tid not in dates:
                d = parse_date(value)
                if d:
                    dates[tid] = d
        if dates:
            sources.append(f"participants.csv '{col}' column")
    from_text = 0
    for tid, t in transcripts.items():
        if tid in dates:
            continue
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
    """Guest et al. (2020) on codes per unit in order: (rows, summary fields). Pure; no workspace."""
    rows = []
    seen: set[str] = set()
    cumulative = []
    for pos, (name, codes) in enumerate(sequence, start=1):
        new = sorted(codes - seen)
        seen |= codes
        cumulative.append(set(seen))
        rows.append({"position": pos, "name": name, "codes": len(codes), "new": len(new), "new_codes": ", ".join(new),
                     "cumulative": len(seen), "run": "", "new_in_run": None, "new_info": None, "saturated": None})
    reached_at = None
    for b in range(base, len(sequence) - run + 1):
        in_base = cumulative[b - 1]
        if not in_base:
            continue
        run_codes: set[str] = set().union(*(codes for _, codes in sequence[b:b + run]))
        new_in_run = len(run_codes - in_base)
        ratio = new_in_run / len(in_base)
        ok = ratio <= threshold + 1e-12
        row = rows[b - 1]
        row.update({"run": f"{b + 1}–{b + run}" if run > 1 else str(b + 1), "new_in_run": new_in_run,
                    "new_info": round(ratio, 4), "saturated": ok})
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
    ids = list(ex.transcripts)
    dates, where = transcript_dates(workspace, ex.transcripts)
    if ids and all(t in dates for t in ids):
        ids.sort(key=lambda t: (dates[t], natural_key(t)))
        return ids, dates, f"interview date ({where})"
    order_source = "natural id order"
    if dates:
        order_source += f" (dates for only {sum(1 for t in ids if t in dates)} of {len(ids)} transcripts)"
    return ids, dates, order_source


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
        statement = (head + f"reached at {at}+{run}: the {run} {unit_word}(s) after the first {at} added {r['new_in_run']} "
                     f"new code(s), {r['new_info']:.0%} of the {rows[at - 1]['cumulative']} codes in the base.")
    else:
        last = next((r for r in reversed(rows) if r["new_info"] is not None), None)
        tail = (f" The last run ({unit_word}s {last['run']}) added {last['new_in_run']} new code(s), {last['new_info']:.0%} "
                f"of the {last['cumulative']} codes in its base.") if last else ""
        statement = head + "not reached." + tail
    total = rows[-1]["cumulative"] if rows else 0
    return statement + f" {total} distinct codes in {n} {unit_word}s; order: {order_source}."


def _frame(rows: list[dict[str, Any]], unit_word: str) -> Any:
    import pandas as pd

    frame = pd.DataFrame([{**{k: v for k, v in r.items() if k != "name"}, unit_word: r["name"]} for r in rows],
                         columns=["position", unit_word, "codes", "new", "new_codes", "cumulative", "run", "new_in_run",
                                  "new_info", "saturated"])
    frame["new_in_run"] = frame["new_in_run"].astype("Int64")
    frame["new_info"] = frame["new_info"].astype("Float64")
    frame["saturated"] = frame["saturated"].astype("boolean")
    return frame


def saturation_matrix(workspace: Workspace, ex: ExcerptSet, by: str, level: str, order: Sequence[str] | str | None,
                      base: int, run: int, threshold: float, params: dict[str, Any]) -> MatrixResult:
    """New codes per transcript (or participant) in order, and where saturation was reached."""
    from qualkit.render.tables import Table

    check_choice(by, ("transcript", "participant"), "by for saturation")
    if base < 1 or run < 1:
        raise MatrixError("base and run must be at least 1")
    if not 0 <= threshold < 1:
        raise MatrixError("threshold is a share between 0 and 1 (e.g. 0.05 for 5%)")
    lv = level_mapper(workspace, level)
    warns: list[str] = []
    ids, dates, order_source = _order(workspace, ex, order, warns)
    sequence = _sequence(ex, ids, by, lv)
    rows, at = saturation_table(sequence, base, run, threshold)
    total = rows[-1]["cumulative"] if rows else 0
    unit_word = "transcript" if by == "transcript" else "participant"
    pct = f"{threshold:.0%}" if threshold * 100 == int(threshold * 100) else f"{threshold:.1%}"
    statement = _statement(rows, at, len(sequence), base, run, pct, unit_word, order_source)
    summary = SaturationSummary(base, run, threshold, at is not None, at, f"{at}+{run}" if at is not None else None,
                                unit_word, total, len(sequence), order_source, statement)
    frame = _frame(rows, unit_word)
    if by == "transcript" and dates and order_source.startswith("interview date"):
        frame.insert(2, "date", [dates[t].isoformat() for t in ids])
    notes = [statement, _CAVEAT]
    if ex.left_out:
        notes.append(f"Not coded in {ex.source_label()}, left out: {', '.join(ex.left_out)}.")
    defs = ("codes: distinct codes in the " + unit_word + "; new: codes not seen before; cumulative: distinct codes so far; "
            "run/new_in_run/new_info: the next run's new codes ÷ the codes in the base (the first `position` "
            f"{unit_word}s); saturated: new_info ≤ {pct}.")
    params.update({"by": by, "level": level, "base": base, "run": run, "threshold": threshold,
                   "order": [r["name"] for r in rows], "order_source": order_source})
    tables = [Table("saturation", frame, "Code saturation (Guest, Namey & Chen 2020)", " ".join([statement, defs, _CAVEAT]))]
    return MatrixResult("saturation", frame, tables, "Code saturation", warns, notes, params, saturation=summary)
