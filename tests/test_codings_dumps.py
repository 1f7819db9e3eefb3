"""A coder's file is written exactly as the csv module writes it, whatever the quotes and memos hold
(commas, quotes, line breaks, carriage returns, unicode), though each distinct field is escaped once."""
from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from qualkit.workspace.codings import COLUMNS, Coding, codings_csv_chunks, dumps_codings

TEXT = st.text(st.sampled_from(['a', 'B', ' ', ',', '"', '\n', '\r', '\t', 'é', '—', "'"]), max_size=12)


def by_the_csv_module(codings):
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for c in sorted(codings, key=lambda c: (c.transcript, c.start, c.end, c.code)):
        writer.writerow([str(getattr(c, k)) for k in COLUMNS])
    return buf.getvalue()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.builds(Coding, transcript=st.sampled_from(["int1", "int,2", 'i"3']), start=st.integers(0, 9),
                          end=st.integers(0, 9), code=st.sampled_from(["c1", "c 2"]), text=TEXT, memo=TEXT,
                          coded_at=st.sampled_from(["", "2026-01-01T00:00:00"]), transcript_hash=TEXT), max_size=12))
def test_a_codings_file_is_byte_for_byte_what_the_csv_module_writes(codings):
    assert dumps_codings(codings) == by_the_csv_module(codings)
    for rows in (1, 2, 5):  # written in pieces (auto-coding's large files): the same text
        pieces = list(codings_csv_chunks(codings, rows))
        assert "".join(pieces) == by_the_csv_module(codings)
        assert len(pieces) == max(1, -(-(len(codings) + 1) // rows))


def test_a_quote_shared_by_many_codings_is_written_in_each_row():
    quote = 'She said, "fax it"\nthen left.'
    codings = [Coding("int1", 0, 30, f"c{i}", quote, "autocode: \"fax\" exact", "now") for i in range(3)]
    assert dumps_codings(codings) == by_the_csv_module(codings)
    assert dumps_codings(codings).count('"She said, ""fax it""\nthen left."') == 3
