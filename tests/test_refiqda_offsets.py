"""Selection positions from other tools: code points vs UTF-16 units, CRLF as one or two characters."""
from __future__ import annotations

from qualkit.refiqda.offsets import READINGS, STANDARD, Selection, SourceText, detect

RAW = "Nurse: We saw 😀 three clients today.\r\nChief: The 🚑 crew found 💊 pills again.\r\nNurse: Same as last week.\r\n"
WORDS = ["three clients", "crew found", "pills again", "last week"]


def utf16(raw: str, i: int) -> int:
    return len(raw[:i].encode("utf-16-le")) // 2


def crlf1(raw: str, i: int) -> int:
    return i - raw[:i].count("\r\n")


def selections(convert, names=True):
    out = []
    for w in WORDS:
        i = RAW.index(w)
        out.append(Selection(convert(RAW, i), convert(RAW, i + len(w)), w if names else ""))
    return out


def check(sel_list, reading, st):
    for sel, word in zip(sel_list, WORDS):
        s, e = st.convert(sel.start, reading), st.convert(sel.end, reading)
        assert st.text[s:e] == word


def test_text_is_normalized_and_standard_positions_map_through_crlf():
    st = SourceText(RAW)
    assert "\r" not in st.text and st.text.count("\n") == 3
    sels = selections(lambda raw, i: i)
    d = detect([(st, sels)])
    assert d.reading == STANDARD and d.decided
    check(sels, d.reading, st)


def test_nvivo_utf16_units_are_detected_and_converted():
    st = SourceText(RAW)
    sels = selections(utf16)
    d = detect([(st, sels)])
    assert d.reading.utf16 and not d.reading.crlf_as_one
    assert "UTF-16" in d.note and "4 of 4" in d.note
    check(sels, d.reading, st)


def test_crlf_as_one_character_is_detected_from_word_boundaries_alone():
    st = SourceText(RAW)
    sels = selections(crlf1, names=False)
    d = detect([(st, sels)])
    assert d.reading.crlf_as_one and not d.reading.utf16
    check(sels, d.reading, st)


def test_utf16_and_crlf_as_one_together():
    st = SourceText(RAW)
    sels = selections(lambda raw, i: utf16(raw.replace("\r\n", "\n"), crlf1(raw, i)))
    d = detect([(st, sels)])
    assert d.reading == READINGS[3]
    check(sels, d.reading, st)


def test_plain_ascii_lf_text_has_nothing_to_decide():
    st = SourceText("A: hello there\nB: hi\n")
    d = detect([(st, [Selection(3, 8, "hello")])])
    assert not d.decided and d.reading == STANDARD and d.note == ""


def test_position_inside_a_surrogate_pair_or_past_the_end_is_rejected():
    st = SourceText("a😀b")
    utf = READINGS[2]
    assert st.convert(2, utf) is None  # between the two halves of the emoji
    assert st.convert(3, utf) == 2 and st.convert(4, utf) == 3
    assert st.convert(5, utf) is None and st.convert(-1) is None


def test_decomposed_text_maps_onto_nfc():
    raw = "Cafe\u0301 noir, cafe\u0301 au lait"
    st = SourceText(raw)
    assert st.text == "Café noir, café au lait"
    i = raw.index("noir")
    assert st.text[st.convert(i):st.convert(i + 4)] == "noir"
