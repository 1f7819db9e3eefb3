"""Cutting a matrix by case: participant, transcript, or any case attribute (role, site, source_type...).

The codes matrix, the themes matrix, saturation, the joint display and the rapid matrix all take
``by`` and read it here, so a cut by site gives the same sites, with the same values, in each.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TYPE_CHECKING

from qualkit.analysis.matrices.common import NOT_SET, UNIDENTIFIED, MatrixError
from qualkit.analysis.sources import Excerpt, ExcerptSet

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["case_cut"]


def case_cut(workspace: Workspace, ex: ExcerptSet, by: str) -> tuple[list[str], Callable[[Excerpt], set[str]]]:
    """The case values of ``by`` in order, and a function excerpt -> the values it belongs to.

    ``by`` is ``participant``, ``transcript``, a participants.csv column (role, site, ...) or a
    documents.csv / cases.csv column or section heading key: a passage takes its participant's value,
    else its document's, section's or case's (field notes have no participant). Every matrix that
    can be cut by case attribute goes through here, so ``by="site"`` means the same everywhere."""
    table = workspace.participant_table
    if by == "transcript":
        return list(ex.transcripts), lambda e: {e.transcript}
    people = [p for tid in ex.transcripts for p in ex.participants[tid]]
    people = list(dict.fromkeys(people))
    unidentified = any(not (e.participants or e.participant) for e in ex.excerpts)

    def who(e: Excerpt) -> tuple:
        return e.participants or ((e.participant,) if e.participant else ())

    if by == "participant":
        cases = people + ([UNIDENTIFIED] if unidentified else [])
        return cases, lambda e: set(who(e)) or {UNIDENTIFIED}
    columns = table.attribute_columns
    extra = [c for c in workspace.case_columns() if c not in columns]
    if by not in columns and by not in extra:
        choices = ["participant", "transcript", *columns, *extra]
        close = difflib.get_close_matches(by, choices, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise MatrixError(f"cannot break down by {by!r}: use participant, transcript, a participants.csv column "
                          f"({', '.join(columns) or 'none'}) or a documents.csv/cases.csv column or section heading "
                          f"({', '.join(extra) or 'none'}){hint}")

    known: dict[str, str] = {}

    def value(p: str) -> str:
        found = known.get(p)
        if found is None:  # once per participant, not once per excerpt
            found = known[p] = (table.attributes(p).get(by) or "").strip() or NOT_SET
        return found

    def values_of(e: Excerpt) -> set[str]:
        # a participant's own value first; a passage with no participant (field notes) or a column that
        # is not a participant's takes the passage's document, section or case value
        found = {value(p) for p in who(e)} - {NOT_SET} if by in columns else set()
        if not found:
            found = {(e.attributes.get(by) or "").strip() or NOT_SET}
        return found

    seen = {v for e in ex.excerpts for v in values_of(e)}
    if by in columns:
        seen |= {value(p) for p in people}
    values = sorted(seen, key=lambda v: (v == NOT_SET, v.casefold()))
    return values, values_of
