"""Finding speaker turns in plain text: which line starts a turn, and who speaks.

A line such as ``Note: the clinic closed`` looks like ``Maria: the clinic closed``. The rule that tells them
apart is the transcript's own convention: labels are accepted when they recur, when they have
the shape of an interview role (``Interviewer``, ``P3``, ``FG2-P3``, ``Speaker 1``), when the
workspace names them (participants.csv), or when a one-off label has the same style (case,
layout) as the file's recurring ones. A workspace can instead give one regular expression
(``speaker_pattern``) and then only that pattern makes a label.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, repeat
from operator import add, itemgetter, sub

from qualkit.errors import SpeakerPatternError  # noqa: F401  (defined with every other error in qualkit.errors)
from qualkit.transcripts.labels import PHRASE_LABEL as _PHRASE_LABEL
from qualkit.transcripts.labels import key as _key
from qualkit.transcripts.labels import plausible as _plausible
from qualkit.transcripts.labels import role_shaped as _role_shaped
from qualkit.transcripts.labels import style as _style
from qualkit.transcripts.model import Turn, count_words, turn_columns, turns_of_columns
from qualkit.transcripts.turnbuild import TS, build_turns_by_line, timed_unlabeled, trim_marks, turns_after_labels
from qualkit.transcripts.turnbuild import Candidate as _Candidate

# A label: up to 60 characters starting with a letter or digit (or the @ of a chat handle),
# no sentence punctuation.
LABEL = r"@?[^\W_][^:\n?!;\"“”\[\]*]{0,59}?"

# Each kind of label line; ``inline`` kinds carry content on the same line.
_PATTERNS: list[tuple[str, re.Pattern[str], bool]] = [
    # 00:00:03 <v Michael Kennedy>text   (WebVTT voice spans saved one cue per line)
    ("voice", re.compile(rf"(?:\[?(?P<ts>{TS})\]?[ \t]+)?<v(?:\.[\w.-]+)*[ \t]+(?P<label>[^>\n]{{1,60}})>[ \t]*"), True),
    # [00:01:23] Name: text   /   00:01:23 Name: text   /   00:05:07<TAB>Name:<TAB>text
    ("ts_label", re.compile(rf"\[?(?P<ts>{TS})\]?[ \t]+(?P<label>{LABEL})[ \t]?:(?=\s|$)[ \t]*"), True),
    # [12:04] [Speaker 3] text
    ("ts_bracket", re.compile(rf"\[(?P<ts>{TS})\][ \t]+\[(?P<label>[^\W_][^\]\n:]{{0,39}})\](?=\s|$)[ \t]*"), True),
    # Name (00:01:23): text
    ("label_ts", re.compile(rf"(?P<label>{LABEL})[ \t]*[(\[](?P<ts>{TS})[)\]][ \t]?:(?=\s|$)[ \t]*"), True),
    # Name [00:01:23] text   (Trint-style: a time in brackets after the name, no colon)
    ("label_bracket_ts", re.compile(rf"(?P<label>{LABEL})[ \t]+\[(?P<ts>{TS})\](?=\s|$)[ \t]*"), True),
    # **Name** text  /  **Name:** text  /  **Name**: text   (Markdown bold label)
    ("md_bold", re.compile(r"\*\*(?P<label>[^\W_][^*\n:]{0,59}?)[ \t]*(?::\*\*|\*\*[ \t]?:?)(?=\s|$)[ \t]*"), True),
    # ### Interviewer   (a Markdown heading naming the speaker of the paragraphs below)
    ("md_heading", re.compile(r"#{1,6}[ \t]+(?P<label>[^\W_][^:\n?!;\"“”\[\]*#]{0,59}?)[ \t]*:?[ \t]*$"), False),
    # Name: text   /  Interviewer1 : text   /  S01: [00:00:12] text
    ("label", re.compile(rf"(?P<label>{LABEL})[ \t]?:(?=\s|$)[ \t]*(?:\[(?P<ts>{TS})\][ \t]*)?"), True),
    # I:Q2  /  B:Das ...   (f4/f5: a short label with no space after the colon)
    ("label", re.compile(r"(?P<label>[A-ZÄÖÜ][A-Za-zÄÖÜäöü]{0,2}\d{0,2}):(?=[^\s\d/\\])"), True),
    # [Name] text   /   [Speaker 3] [12:04] text   (diarised ASR)
    ("bracket", re.compile(rf"\[(?P<label>[^\W_][^\]\n:]{{0,39}})\]:?(?=\s|$)[ \t]*(?:\[(?P<ts>{TS})\](?=\s|$)[ \t]*)?"), True),
    # Speaker 1  0:03   (Otter: label and time alone on a line, speech on the next lines)
    ("label_time_line", re.compile(rf"(?P<label>{LABEL})[ \t]+(?P<ts>{TS})[ \t]*$"), False),
    # 00:00:03 Speaker 1   (Word for the web / M365 Transcribe: time and label, speech below)
    ("time_label_line", re.compile(rf"\[?(?P<ts>{TS})\]?[ \t]+(?P<label>{LABEL})[ \t]*$"), False),
    # INTERVIEWER   (a label alone on its line, speech in the paragraphs below)
    ("label_line", re.compile(r"(?P<label>(?:(?i:dr|mr|mrs|ms|prof)\.[ \t]+)?[^\W_][^:\n?!;\"“”\[\]*.,]{0,39}?)[ \t]*$"),
     False),
]
# For each pattern above, what a line must hold for it to match: the kind of its first character
# (a label's letter or digit or "@", a time's digit or "[", ...) and one of a few substrings. A line
# is tried only against the patterns it could match: the regexes are most of the cost of a long file.
_FIRST = {"label": lambda c: c == "@" or c.isalnum(), "time": lambda c: c == "[" or c.isdigit(),
          "voice": lambda c: c in "[<" or c.isdigit(), "[": lambda c: c == "[", "*": lambda c: c == "*",
          "#": lambda c: c == "#", "f4": lambda c: c in "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÜ", "word": str.isalnum}
_NEEDS: list[tuple[str, tuple[str, ...]]] = [
    ("voice", ("<v",)), ("time", (":",)), ("[", ()), ("label", ("(", "[")), ("label", ("[",)), ("*", ("**",)),
    ("#", ()), ("label", (":",)), ("f4", (":",)), ("[", ()), ("label", (":",)), ("time", (":",)), ("word", ())]


@lru_cache(maxsize=512)
def _patterns_for(first: str) -> list[tuple[str, re.Pattern[str], bool, tuple[str, ...], bool, bool]]:
    """The patterns a line starting with ``first`` could match, in order: each with the substrings
    it needs, whether it has a time group, and whether its kind is delimited (_DELIMITED_KINDS)."""
    return [(kind, pat, inline, needs, "ts" in pat.groupindex, kind in _DELIMITED_KINDS)
            for (kind, pat, inline), (start, needs) in zip(_PATTERNS, _NEEDS) if _FIRST[start](first)]
_DELIMITED_KINDS = {"md_bold", "bracket", "ts_label", "label_ts", "label_time_line", "voice", "ts_bracket", "md_heading"}
_TIMED_KINDS = {"ts_label", "label_ts", "label_time_line", "ts_bracket", "label_bracket_ts"}
# Own-line labels that are easy to confuse with a heading or a timed line of speech: they need to
# recur, be known, or have a role's shape.
_OWN_LINE_KINDS = {"label_line", "md_heading", "time_label_line"}
_TS_LINE = re.compile(rf"\[?(?P<ts>{TS})\]?[ \t]*$")
_LINE_NUMBER = re.compile(r"[ \t]*\d{1,2}[ \t]+(?=\S)")
_NUMBERED_LINE = re.compile(r"\n[ \t]*\d{1,2}[ \t]+(?=\S)")  # the same, at each line start of "\n" + text





def compile_speaker_pattern(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    """Compile a user's speaker pattern; it must have a ``speaker`` group (``timestamp`` optional)."""
    if isinstance(pattern, re.Pattern):
        compiled = pattern
    else:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise SpeakerPatternError(f"speaker_pattern {pattern!r} is not a valid regular expression: {exc}") from None
    if "speaker" not in compiled.groupindex:
        raise SpeakerPatternError(f"speaker_pattern {compiled.pattern!r} needs a named group (?P<speaker>...)")
    return compiled


def segment(
    text: str,
    *,
    speaker_pattern: str | re.Pattern[str] | None = None,
    known_speakers: Iterable[str] = (),
) -> tuple[list[Turn], list[str]]:
    """Split normalized ``text`` into speaker turns; returns (turns, warnings).

    ``known_speakers`` (labels from participants.csv or bold runs in a .docx) are always
    accepted as labels. With ``speaker_pattern`` only that regular expression makes a label.
    Text before the first label, and every paragraph of a file with no labels, becomes an
    unlabeled turn (speaker ``None``).
    """
    turns, columns, warnings, _words = _segment(text, speaker_pattern, known_speakers)
    return (turns if turns is not None else turns_of_columns(columns)), warnings  # type: ignore[arg-type]


def segment_columns(
    text: str,
    *,
    speaker_pattern: str | re.Pattern[str] | None = None,
    known_speakers: Iterable[str] = (),
) -> tuple[list[list], list[str], int | None]:
    """:func:`segment`'s turns as columns (:func:`~qualkit.transcripts.model.turn_columns`), its
    warnings, and the words of the turns when they were counted on the way (else None): in the usual
    file no Turn object is made and the words are counted over the whole text at once."""
    turns, columns, warnings, words = _segment(text, speaker_pattern, known_speakers)
    return (columns if columns is not None else turn_columns(turns)), warnings, words  # type: ignore[arg-type]


def _segment(text: str, speaker_pattern: str | re.Pattern[str] | None,
             known_speakers: Iterable[str]) -> tuple[list[Turn] | None, list[list] | None, list[str], int | None]:
    """(turns or None, their columns or None, warnings, words or None): one of turns and columns is given."""
    known = {_key(s) for s in known_speakers if s}
    if speaker_pattern is None:
        quick = _quick(text, known)
        if quick is not None:
            return quick
    lines, starts = _lines(text)
    if speaker_pattern is not None:
        accepted, ts_lines = _match_user_pattern(lines, starts, compile_speaker_pattern(speaker_pattern))
    else:
        candidates, ts_lines = _find_candidates(lines, starts, text)
        accepted = _accept(candidates, known)
    turns, warnings = _turns_of(text, lines, starts, accepted, ts_lines)
    return turns, None, warnings, None


def _lines(text: str) -> tuple[list[str], list[int]]:
    """The lines of ``text`` and the offset of each."""
    lines = text.split("\n")
    starts: list[int] = []
    pos = 0
    for ln in lines:
        starts.append(pos)
        pos += len(ln) + 1
    return lines, starts


def _turns_of(text: str, lines: list[str], starts: list[int], accepted: list[_Candidate],
              ts_lines: dict[int, str]) -> tuple[list[Turn], list[str]]:
    """The turns and warnings of :func:`segment` once the label lines are decided (``accepted``)."""
    warnings: list[str] = []
    timed = timed_unlabeled(lines, starts) if not accepted else None
    turns = trim_marks(text, timed if timed is not None else build_turns_by_line(text, lines, starts, accepted, ts_lines))
    if not accepted and any(t for t in turns):
        warnings.append("no speaker labels found: each paragraph is an unlabeled turn")
    _warn_case_variants([c.label for c in accepted], warnings)
    return turns, warnings


_TS_HINT = re.compile(r":\d\d")  # in every time (TS)
_TS_RX = re.compile(TS)


def _possible(text: str) -> tuple[int, ...] | None:
    """Which alternatives of :func:`_splitter` (_PATTERNS numbered from 1, in order) could match some
    line of ``text``, when only those a regex over the whole text
    tries about as cheaply as the line-by-line search rules them out could (md_bold, md_heading, label,
    f4, label_line); None when a time, "[" or "<v" somewhere lets any other kind match a line, and the
    line-by-line search, which looks for those only on a line that holds them, is quicker. (A
    one-character search runs at memory speed: "<" is looked for before "<v".)"""
    if "[" in text or ("<" in text and "<v" in text) or _TS_HINT.search(text) is not None:
        return None
    colon = ":" in text
    could = ("*" in text and "**" in text, "#" in text, colon, colon, True)
    return tuple(n for n, yes in zip((6, 7, 8, 9, 13), could) if yes)


@lru_cache(maxsize=64)
def _splitter(alternatives: tuple[int, ...], numbered: bool = False) -> tuple[re.Pattern[str], int, list[tuple[int, str, bool]]]:
    """The tries of :func:`_find_candidates` on a line as one regex over ``"\n" + text``: of _PATTERNS
    (numbered from 1 in ``alternatives``), those given, in that order (an alternation takes the first
    alternative that matches, as the loop takes the first pattern that does). Its split (C speed) gives,
    for each line it matches, the whole match (from the newline before the line), each alternative's
    label group (None but the one that matched), then the text up to the next such line. Returns the
    regex, the number of pieces per line matched, and each alternative's label group, kind and whether
    it is inline. (No time group: a file with a time is read line by line, see :func:`_possible`.) The
    "Name:" label takes everything up to the colon at once (:data:`_TO_COLON`), not a character at a time.
    ``numbered``: first, a line that starts with a line number (:data:`_NUMBERED_LINE`) in a group of
    its own, the first after the whole match (the split counts them, instead of a pass of its own)."""
    parts = [(pat.pattern.replace(_LAZY_TO_COLON, _TO_COLON) if kind == "label" else pat.pattern)
             .replace("(?P<label>", f"(?P<label{n}>").replace("(?P<ts>", "(?:") for n in alternatives for kind, pat, _ in (_PATTERNS[n - 1],)]
    if numbered:
        parts.insert(0, r"(\d{1,2}[ \t]+(?=\S))")  # (_NUMBERED_LINE after its newline and blanks)
    rx = re.compile(r"(\n[ \t]*(?=\S)(?:" + "|".join(parts) + "))", re.M)  # (?=\S): a blank line tries none
    return rx, rx.groups + 1, [(rx.groupindex[f"label{n}"], *_PATTERNS[n - 1][::2]) for n in alternatives]


# The "Name:" label of _PATTERNS, and the same match with the label taken greedily: as far as the colon
# (a label cannot hold one), one space or tab before it included, which :func:`_judged` then leaves out
# as the shortest label the lazy pattern takes would (at most 60 characters, 61 with that space).
_LAZY_TO_COLON = rf"(?P<label>{LABEL})[ \t]?:"
_TO_COLON = r"(?P<label>@?[^\W_](?:[^:\n?!;\"“”\[\]*]{0,59}|[^:\n?!;\"“”\[\]*]{59}[ \t])):"


def _judged(raw_label: str, kind: str) -> str | None:
    """The label of a line ``kind`` matched, or None when it is no label (as :func:`_find_candidates` judges)."""
    if kind == "label" and raw_label[-1] in " \t":  # (see _TO_COLON; no other "label" pattern ends so)
        raw_label = raw_label[:-1]
    label = raw_label.strip()
    # "HUMAN SERVICES, ET AL.,        :" (a caption box) is not "Name:".
    if raw_label != raw_label.rstrip() or not _plausible(label, kind in _DELIMITED_KINDS):
        return None
    if kind == "bracket" and _TS_RX.search(label):
        return None
    return label


def _labelled(pieces: list[str | None], stride: int, groups: list[tuple[int, str, bool]]) -> tuple[list[str], list[str | None], list[bool]]:
    """The kind, the label (None when :func:`_judged` finds it is none) and whether it is inline of each
    line a split by :func:`_splitter` found; each distinct label judged once."""
    columns = [(pieces[g::stride], kind, inline) for g, kind, inline in groups]
    n = len(columns[0][0])
    one = next(((raw, kind, inline) for raw, kind, inline in columns if None not in raw), None)
    if one is not None:  # the usual file: every line is of one kind
        raws, kind, inline = one
        verdict = {raw: _judged(raw, kind) for raw in set(raws)}  # type: ignore[arg-type]
        return [kind] * n, list(map(verdict.__getitem__, raws)), [inline] * n
    kinds: list[str] = []
    labels: list[str | None] = []
    inlines: list[bool] = []
    judged: dict[tuple[str, str], str | None] = {}
    for row in zip(*(raw for raw, _, _ in columns)):
        k = next(i for i, raw in enumerate(row) if raw is not None)
        raw, kind, inline = row[k], columns[k][1], columns[k][2]
        label = judged.get((raw, kind), "")
        if label == "":
            label = judged[raw, kind] = _judged(raw, kind)
        kinds.append(kind)
        labels.append(label)
        inlines.append(inline)
    return kinds, labels, inlines


def _quick(text: str, known: set[str]) -> tuple[list[Turn] | None, list[list] | None, list[str], int | None] | None:
    """:func:`segment` from the label lines found by one regex over the whole text (:func:`_splitter`,
    split at C speed); None for a file that may number its lines or holds a time, "[" or "<v" (read
    line by line). The candidates are those :func:`_find_candidates` finds. In the usual file
    :func:`_accept` would accept every one (each rule depends on a candidate's kind, label and time
    only, so it is checked once per such shape), and the turns are those of build_turns_by_line, made
    from the split's pieces (:func:`~qualkit.transcripts.turnbuild.turns_after_labels`). Otherwise (a
    label only its style can make one, no label) :func:`_accept` and the line-by-line turns take the
    candidates found."""
    could = _possible(text)
    if could is None:
        return None
    lined = "\n" + text  # (each line, the first too, after a newline)
    rx, stride, groups = _splitter(could, True)
    pieces = rx.split(lined)
    numbers = pieces[2::stride]  # (the lines that start with a number, as _NUMBERED_LINE finds them)
    if len(numbers) != numbers.count(None):
        if len(numbers) - numbers.count(None) >= 13:
            return None  # (it may number its lines: see _numbered)
        rx, stride, groups = _splitter(could)  # (a few: split without them)
        pieces = rx.split(lined)
    after: list[str] = pieces[stride::stride]
    matches: list[str] = pieces[1::stride]
    head = pieces[0]
    assert head is not None
    # In text: where each line found begins (after its newline), and after the last, the text's end + 1;
    # where its label ends; its 0-based line.
    n = len(after)
    if "".join(matches).count("\n") != n:
        return None  # (cannot be: each piece found is one line's start, with its one newline; line by line if so)
    widths = list(map(len, matches))
    begins = list(accumulate(map(add, widths, map(len, after)), initial=len(head)))
    begins.pop()  # (the text's end + 1)
    # (each line found: the newlines in the head and in the pieces before it, plus one for each match before it)
    lines = list(accumulate(map(add, map(str.count, after, repeat("\n")), repeat(1)), initial=head.count("\n")))
    lines.pop()
    kinds, labels, inlines = _labelled(pieces, stride, groups)
    label_ends = list(map(add, begins, map(sub, widths, repeat(1))))
    if False in inlines or "" in after or "\n" in "".join(map(itemgetter(0), after)):  # some text starts below its label
        starts = [e if inline and rest and rest[0] != "\n" else None for e, inline, rest in zip(label_ends, inlines, after)]
    else:
        starts = label_ends
    if None in labels:  # a line that is no label: its text is part of the turn before
        keep = [i for i, label in enumerate(labels) if label is not None]
        matches = [matches[i] for i in keep]
        kinds, labels, lines, starts = [kinds[i] for i in keep], [labels[i] for i in keep], [lines[i] for i in keep], [starts[i] for i in keep]
        begins, label_ends = [begins[i] for i in keep], [label_ends[i] for i in keep]
        after = [text[e:b] for e, b in zip(label_ends, [*begins[1:], len(text)])]
    taken: list[str] = labels  # type: ignore[assignment]
    if taken and _all_accepted(Counter({(kinds[0], label, False): k for label, k in Counter(taken).items()})
                               if kinds.count(kinds[0]) == len(kinds) else Counter(zip(kinds, taken, repeat(False))), known):
        columns = turns_after_labels(text, begins, label_ends, starts, after, taken, lines)
        if "#" in text or "]" in text or ">" in text:  # a layout mark may end a turn
            return trim_marks(text, turns_of_columns(columns)), None, _case_variants(taken), None
        return None, columns, _case_variants(taken), _words_beside(text, matches)
    lines_, line_starts = _lines(text)
    turns, warnings = _turns_of(text, lines_, line_starts, _accept(list(map(_Candidate, lines, kinds, taken, repeat(None), starts)), known), {})
    return turns, None, warnings, None


def _words_beside(text: str, labels: list[str]) -> int:
    """The words of the turns :func:`_quick` found: those of the whole text less those of the ``labels``
    (each label line's match, from its newline to where its text starts). Between two turns there is
    only white space and a label, which begins after a newline and ends with a colon, a space or the
    line's end: no word runs across the edge of a turn, so each word is in a turn or in a label."""
    return count_words(text) - sum(_label_words(label) * k for label, k in Counter(labels).items())


@lru_cache(maxsize=4096)  # a study's files share a few labels
def _label_words(label: str) -> int:
    return count_words(label)


def _all_accepted(shapes: dict[tuple[str, str, bool], int], known: set[str]) -> bool:
    """Whether :func:`_accept` keeps every candidate, given how many there are of each (kind, label,
    timed) in order of first use: each is strong (known, role-shaped, timed or recurring) and no kind
    is one the file barely uses."""
    by_label: Counter[str] = Counter()
    for (_kind, label, _timed), k in shapes.items():
        by_label[_key(label)] += k
    kinds: Counter[str] = Counter()
    for (kind, label, timed), k in shapes.items():
        key = _key(label)
        if kind in _OWN_LINE_KINDS:
            styled = kind != "label_line" or _style(label) in ("upper", "code")
            strong = key in known or _role_shaped(label) or (by_label[key] >= 2 and styled)
        else:
            strong = key in known or _role_shaped(label) or _timed_kind(kind, timed) or by_label[key] >= 2
        if not strong:
            return False
        kinds[kind] += k
    main_kind, main_n = kinds.most_common(1)[0]
    floor = max(2, main_n // 10)
    return main_n < 5 or all(kind == main_kind or _key(label) in known or kinds[kind] >= floor for kind, label, _ in shapes)


def _match_user_pattern(lines, starts, pattern):
    cands: list[_Candidate] = []
    for i, ln in enumerate(lines):
        m = pattern.match(ln)
        if not m or not m.group("speaker"):
            continue
        ts = m.groupdict().get("timestamp")
        rest = m.end()
        while rest < len(ln) and ln[rest] in " \t":
            rest += 1
        inline = rest < len(ln)
        cands.append(_Candidate(i, "pattern", m.group("speaker").strip(), ts, starts[i] + rest if inline else None))
    return cands, {}


def _numbered(lines: list[str], text: str | None) -> bool:
    """Court-reporter transcripts number every line (over 60% of at least 20 non-blank lines start
    with a number); the number is not part of a label. Numbered lines are counted in one scan of
    ``text`` (the lines joined) when given: the lines are looked at one by one only if 13 or more are."""
    if text is not None and len(_NUMBERED_LINE.findall("\n" + text)) < 13:  # 13 > 0.6 x 20: cannot be
        return False
    nonblank = [ln for ln in lines if ln.strip()]
    return len(nonblank) >= 20 and sum(1 for ln in nonblank if _LINE_NUMBER.match(ln)) > 0.6 * len(nonblank)


def _find_candidates(lines: list[str], starts: list[int], text: str | None = None) -> tuple[list[_Candidate], dict[int, str]]:
    """Every line that could start a turn, with its kind; plus timestamp-only lines. ``text``:
    the lines joined by newlines, when the caller has it (a quicker check for numbered lines)."""
    numbered = _numbered(lines, text)
    cands: list[_Candidate] = []
    ts_lines: dict[int, str] = {}
    for i, ln in enumerate(lines):
        if not ln or ln.isspace():
            continue
        off = 0
        if numbered:
            m = _LINE_NUMBER.match(ln)
            if m:
                off = m.end()
        if ln[off] in " \t":
            while off < len(ln) and ln[off] in " \t":
                off += 1
        body = ln[off:] if off else ln
        first = body[0]
        if not (first.isalnum() or first in "[*@#<"):
            continue
        if first == "[" or first.isdigit():  # a time-only line starts with one of these
            m = _TS_LINE.match(body)
            if m:
                ts_lines[i] = m.group("ts")
                continue
        for kind, pat, inline, needs, timed, delimited in _patterns_for(first):
            if needs and needs[0] not in body and (len(needs) == 1 or needs[1] not in body):
                continue
            m = pat.match(body)
            if not m:
                continue
            raw_label = m.group("label")
            label = raw_label.strip()
            # "HUMAN SERVICES, ET AL.,        :" (a caption box) is not "Name:".
            if raw_label != raw_label.rstrip() or not _plausible(label, delimited):
                break
            if kind == "bracket" and re.search(TS, label):
                break
            content = None
            if inline:
                c = off + m.end()
                content = starts[i] + c if c < len(ln) else None
            cands.append(_Candidate(i, kind, label, m.group("ts") if timed else None, content))
            break
    return cands, ts_lines


def _timed_mark(c: _Candidate) -> bool:
    """A time or voice tag next to the label marks it as a speaker (``[00:01:23] Name:``, ``<v Name>``,
    ``Name: [00:01:23]``); ``Name [00:01:23] text`` must also recur, since a sentence can open that way."""
    return _timed_kind(c.kind, bool(c.ts))


def _timed_kind(kind: str, timed: bool) -> bool:
    """:func:`_timed_mark` of a candidate of ``kind``, with a time or not."""
    return (kind in _TIMED_KINDS and kind != "label_bracket_ts") or kind == "voice" or (kind == "label" and timed)


def _accept(cands: list[_Candidate], known: set[str]) -> list[_Candidate]:
    """Keep the candidates that fit the file's convention (see the module docstring)."""
    if not cands:
        return []
    keys = [_key(c.label) for c in cands]
    by_label = Counter(keys)
    strong: list[_Candidate] = []
    weak: list[_Candidate] = []
    for c, k in zip(cands, keys):
        # Own-line labels with no colon ("INTERVIEWER") are the easiest to confuse with headings:
        # recurring ones need an upper-case or code style; one-offs are judged like other one-offs.
        if c.kind in _OWN_LINE_KINDS:
            # A Markdown heading or a timed line is marked by its layout: recurring is enough.
            styled = c.kind != "label_line" or _style(c.label) in ("upper", "code")
            if k in known or _role_shaped(c.label) or (by_label[k] >= 2 and styled):
                strong.append(c)
            else:
                weak.append(c)
            continue
        # A time next to a label ("[00:01:23] Name:", "Name (00:01:23):") is a transcript's mark.
        if k in known or _role_shaped(c.label) or _timed_mark(c):
            strong.append(c)
        elif by_label[k] >= 2:
            strong.append(c)
        else:
            weak.append(c)
    if not strong:
        return []
    # The convention: the dominant kind and typographic style among accepted labels.
    kinds = Counter(c.kind for c in strong)
    main_kind, main_n = kinds.most_common(1)[0]
    styles: Counter[str] = Counter()
    for label, n in Counter(c.label for c in strong if c.kind == main_kind).items():  # each label's style once
        styles[_style(label)] += n
    main_style = styles.most_common(1)[0][0]
    accepted = list(strong)
    if len(strong) >= 2:
        # One-off speakers (a focus-group member who spoke once) in the file's own style. Where the
        # convention puts speech on the label's line, so must they: a lone "APPEARANCES:" is a heading.
        main = [c for c in strong if c.kind == main_kind]
        inline_convention = sum(c.content_start is not None for c in main) * 2 > len(main)
        for c in weak:
            # Common "word:" phrases ("Step 1:", "Answer:", "Mom:") are speech, not one-off speakers.
            if by_label[_key(c.label)] == 1 and _PHRASE_LABEL.match(c.label):
                continue
            if (c.content_start is not None or not inline_convention) and c.kind == main_kind and _style(c.label) == main_style and main_style != "other":
                accepted.append(c)
    # A kind that the file barely uses is noise when one convention dominates (e.g. a
    # "Date: ..." header line in a file of "[Name]" labels), unless the speaker is known.
    if main_n >= 5:
        accepted = [
            c for c in accepted
            if c.kind == main_kind or _key(c.label) in known or kinds[c.kind] >= max(2, main_n // 10)
        ]
    accepted.sort(key=_line_of)
    return accepted


def _line_of(c: _Candidate) -> int:
    return c.line


@dataclass(frozen=True)
class LineLabel:
    """A ``Label: text`` opening a line: the label, the column where the text starts, and
    whether the file's convention accepts it (see :func:`inline_labels`)."""

    line: int  # 0-based index into the lines given
    label: str
    column: int
    accepted: bool


def inline_labels(
    lines: list[str],
    *,
    speaker_pattern: str | re.Pattern[str] | None = None,
    known_speakers: Iterable[str] = (),
) -> list[LineLabel]:
    """Labels followed by text on the same line, for formats with their own line structure.

    Subtitle cues use this: the same acceptance as :func:`segment` (recurring, known,
    role-shaped, or a one-off in the file's style), but only for inline labels, since a cue
    line alone ("Okay", "INTERVIEWER") is speech. Rejected candidates are returned too
    (``accepted=False``) so a caller with structural evidence can weigh them.
    """
    starts: list[int] = []
    pos = 0
    for ln in lines:
        starts.append(pos)
        pos += len(ln) + 1
    if speaker_pattern is not None:
        cands, _ = _match_user_pattern(lines, starts, compile_speaker_pattern(speaker_pattern))
    else:
        cands, _ = _find_candidates(lines, starts)
    cands = [c for c in cands if c.content_start is not None]
    if speaker_pattern is not None:
        accepted = {c.line for c in cands}
    else:
        accepted = {c.line for c in _accept(cands, {_key(s) for s in known_speakers if s})}
    return [LineLabel(c.line, c.label, c.content_start - starts[c.line], c.line in accepted) for c in cands]


def _case_variants(labels: Iterable[str]) -> list[str]:
    """The warnings of :func:`_warn_case_variants`."""
    warnings: list[str] = []
    _warn_case_variants(labels, warnings)
    return warnings


def _warn_case_variants(labels: Iterable[str], warnings: list[str]) -> None:
    """Labels (of the accepted lines) that differ only in case or spacing are often one person typed two ways."""
    variants: dict[str, set[str]] = {}
    for label in dict.fromkeys(labels):  # each label once, in order of first use
        variants.setdefault(_key(label), set()).add(label)
    for forms in variants.values():
        if len(forms) > 1:
            warnings.append("speaker written several ways: " + ", ".join(sorted(forms)) + " (map them in participants.csv)")
