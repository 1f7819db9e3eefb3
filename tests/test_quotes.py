"""Quotes as a manuscript needs them: chosen the same way every time, trimmed at a sentence or word
boundary (never inside a word), and attributed "(participant, role)"."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from qualkit.analysis.quotes import ELLIPSIS, Excerpt, attribution, format_quote, select_quotes, trim_quote

LONG = ("We get the fax, and then somebody has to type it into the spreadsheet. Which is a spreadsheet on a shared "
        "drive, it's not a database. EMS sends theirs by encrypted email, when they remember, and the police reports "
        "come a different way again. So there's three front doors and none of them talk to each other.")


def ex(text, participant="KP-1", role="medical", memo="", transcript="int1", start=0, code="fax"):
    return Excerpt(transcript, start, start + len(text), code, text, memo, participant, (participant,) if participant else (),
                   attributes={"role": role} if role else {})


# -- trimming ------------------------------------------------------------------------------------

def test_a_short_quote_is_kept_whole_with_its_line_breaks_collapsed():
    assert trim_quote("By fax,\n  days late.  ") == "By fax, days late."


def test_a_long_quote_is_cut_after_the_last_sentence_that_fits():
    out = trim_quote(LONG, 200)
    assert out == ("We get the fax, and then somebody has to type it into the spreadsheet. Which is a spreadsheet on a "
                   "shared drive, it's not a database. " + ELLIPSIS)
    assert len(out) <= 200


def test_without_a_sentence_end_in_reach_the_cut_is_at_a_word_boundary():
    text = "rides " * 10 + "and the bridge clinic is forty miles away from Pine Hollow with no bus at all"
    out = trim_quote(text, 60)
    assert out.endswith(ELLIPSIS) and len(out) <= 60
    kept = out[:-1]
    assert text.startswith(kept) and text[len(kept)] == " "  # the next character starts a new word


def test_a_trailing_comma_is_not_left_before_the_ellipsis():
    assert trim_quote("alpha beta gamma talks, delta epsilon zeta eta theta", 24) == "alpha beta gamma talks" + ELLIPSIS


def test_an_abbreviation_is_not_taken_for_the_end_of_a_sentence():
    text = "Then I talked to Dr. Nguyen about the whole consent process and the forms we fax over every single day " * 3
    out = trim_quote(text, 120)
    assert not out.startswith("Then I talked to Dr. " + ELLIPSIS)
    assert len(out) <= 120


def test_a_single_word_longer_than_the_limit_is_not_broken():
    word = "x" * 80
    assert trim_quote(word + " and more", 50) == word + ELLIPSIS


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["fax", "days", "late.", "Nobody", "talks,", "to", "anybody?", "The", "uniform",
                                 "scares", "people", "Dr.", "Nguyen", "—", "\n", "co-response"]), min_size=1, max_size=120),
       st.integers(min_value=40, max_value=200))
def test_a_trimmed_quote_is_a_whole_word_prefix_within_the_limit(words, limit):
    text = " ".join(words)
    collapsed = " ".join(text.split())
    out = trim_quote(text, limit)
    assert len(out) <= limit
    if out == collapsed:
        return
    kept = out[:-1].rstrip()
    assert out.endswith(ELLIPSIS) and collapsed.startswith(kept)
    assert not collapsed[len(kept)].isalnum()  # never inside a word (a trailing comma may be dropped)


# -- attribution ---------------------------------------------------------------------------------

def test_a_quote_is_attributed_with_participant_and_role():
    assert attribution("FG1-P3", {"role": "medical", "site": "Calder"}) == "(FG1-P3, medical)"
    assert attribution("FG1-P3", {"role": "medical", "site": "Calder"}, ("role", "site")) == "(FG1-P3, medical, Calder)"
    assert attribution("FG1-P3", {}) == "(FG1-P3)"
    assert attribution(None, {}, fallback="fg1") == "(fg1)"
    assert format_quote(ex("By fax, days late.")) == "\u201cBy fax, days late.\u201d (KP-1, medical)"


# -- selection -----------------------------------------------------------------------------------

def test_an_exemplar_memo_wins_over_a_longer_quote():
    long = ex("A much longer passage about faxes and spreadsheets and the whole mess.", "KP-1", start=0)
    short = ex("Three front doors.", "KP-2", memo="Exemplar: three front doors", start=200)
    assert [e.text for e in select_quotes([long, short], 1)] == ["Three front doors."]


def test_then_the_longest_quotes_one_per_participant_first():
    a1 = ex("Maria's long quote about referrals arriving by fax days late.", "KP-1", start=0)
    a2 = ex("Maria's second, also rather long quote.", "KP-1", start=100)
    b1 = ex("Sam's short one.", "KP-2", start=300, transcript="int2")
    picked = select_quotes([a2, b1, a1], 2)
    assert [e.text for e in picked] == [a1.text, b1.text]
    assert [e.text for e in select_quotes([a2, b1, a1], 3)] == [a1.text, b1.text, a2.text]


def test_the_same_passage_is_never_quoted_twice():
    first = ex("By fax, days late. Nobody talks to anybody.", "KP-1", start=10)
    overlapping = ex("Nobody talks to anybody.", "KP-1", start=29, code="partners")
    other = ex("Same words elsewhere.", "KP-2", start=500)
    picked = select_quotes([first, overlapping, other], 3)
    assert first in picked and other in picked and overlapping not in picked


def test_selection_does_not_depend_on_input_order():
    items = [ex(f"Quote number {i} " + "word " * (i % 4), f"P{i % 3}", start=i * 100) for i in range(9)]
    assert select_quotes(items, 4) == select_quotes(list(reversed(items)), 4)


def _fully_sorted_choice(items, n):
    """The rule of qualkit.analysis.quotes read literally: the whole pool sorted, then taken in order."""
    from qualkit.analysis.quote_text import collapse_whitespace
    from qualkit.io.naming import natural_key

    pool = sorted(items, key=lambda e: (-len(collapse_whitespace(e.text)), natural_key(e.transcript), e.start, e.end, e.code))
    chosen = []
    for group in ([e for e in pool if e.exemplar], [e for e in pool if not e.exemplar]):
        for new_voices_only in (True, False):
            for e in group:
                if len(chosen) >= n:
                    return chosen
                text = collapse_whitespace(e.text)
                if (e in chosen or not text or text.casefold() in {collapse_whitespace(c.text).casefold() for c in chosen}
                        or any(c.transcript == e.transcript and c.start < e.end and e.start < c.end for c in chosen)):
                    continue
                if new_voices_only and (e.participant or f"{e.transcript}:{e.speaker or '?'}") in {
                        c.participant or f"{c.transcript}:{c.speaker or '?'}" for c in chosen}:
                    continue
                chosen.append(e)
    return chosen


_piece = st.sampled_from(["a", "bb", "ccc ", "dd d", "e\n\n  e", "   ", "", "Exemplar"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.lists(_piece, max_size=4), st.sampled_from(["int1", "int2", "int10", "INT2"]),
                          st.integers(0, 30), st.integers(0, 8), st.sampled_from(["", "", "exemplar", "x"]),
                          st.sampled_from([None, "P1", "P2", "P3"]), st.sampled_from(["fax", "partners"])), max_size=25),
       st.integers(0, 4))
def test_a_cell_takes_the_quotes_a_full_sort_of_its_pool_would_give(rows, n):
    """Quotes are picked from a pool sorted only as far as needed (a cell takes one or two of thousands of
    passages): the picks, ties and runs of whitespace included, are those of sorting the whole pool."""
    items = [Excerpt(t, start, start + length, code, "".join(pieces), memo, who, (who,) if who else ())
             for pieces, t, start, length, memo, who, code in rows]
    items += items[:3]  # the same passage twice in a pool
    assert [id(e) for e in select_quotes(items, n)] == [id(e) for e in _fully_sorted_choice(items, n)]
