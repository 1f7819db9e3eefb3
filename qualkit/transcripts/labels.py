"""What a speaker label looks like, whatever the transcript's convention: words that are never
speakers (headers, stage directions, phrases that open a line of speech), the shape of an interview
role, and a label's typographic style; each label judged once (a file has a few labels on thousands
of lines). Used by qualkit.transcripts.speakers to accept label lines and by explain to say why."""
from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["NAME_PARTICLES", "NON_SPEECH", "PHRASE_LABEL", "ROLE_SHAPE", "STOP_LABELS", "key", "plausible", "role_shaped", "style"]

# Bracketed or colon-ended words that are not speakers.
NON_SPEECH = re.compile(
    r"^(inaudible|unintelligible|unclear|indistinct|crosstalk|cross-talk|cross talk|laughter|laughs?|"
    r"laughing|pause|long pause|silence|music|applause|noise|background noise|cough(s|ing)?|sighs?|"
    r"overlapping|overtalk|phone rings|break|end|start|end of (recording|interview|transcript)|"
    r"redacted|name|place|location|organization|sic|\?+|\.\.\.|…)\b",
    re.IGNORECASE,
)
STOP_LABELS = {
    "note", "notes", "nb", "n.b", "ps", "p.s", "http", "https", "www", "ftp", "mailto", "re", "fw", "fwd",
    "subject", "date", "time", "duration", "location", "place", "venue", "title", "file", "filename",
    "audio file", "recording", "transcript", "transcription", "transcribed by", "tags", "keywords",
    "summary", "source", "url", "link", "email", "e-mail", "tel", "phone", "page", "example", "e.g", "i.e",
    "warning", "caution", "important", "todo", "update", "edit", "edited", "translation", "language",
    "participants", "attendees", "present", "absent", "agenda", "topic", "topics", "meeting date", "total",
    # header metadata of transcription services and study files
    "length", "transcriber", "transcribed", "transcriptionist", "project", "study", "session",
    "recorded", "recording date", "interview date", "interview", "focus group", "format", "mode", "setting",
    "facility", "organisation", "organization", "department", "version", "status", "id", "case", "code",
    "start time", "end time", "audio", "video", "speakers", "copyright", "confidential", "pages",
}
# Words that often start a line of speech with a colon; never one-off speakers (recurring ones,
# as in "Question: ... Answer: ..." transcripts, are still labels).
PHRASE_LABEL = re.compile(
    r"^(answer|reason|question|step|stage|site|part|phase|point|example|problem|issue|result|results|goal|"
    r"plan|option|rule|lesson|tip|quote|definition|fact|key|thing|story|reminder|correction|clarification|"
    r"bottom line|first|second|third|finally|also|so|well|ok|okay|yes|no|mom|dad|mother|father|wife|husband|"
    r"son|daughter|brother|sister|grandma|grandpa|friend|boss)(\s*\d+)?$",
    re.IGNORECASE,
)
# Labels with the shape of an interview role are accepted even when they occur once.
ROLE_SHAPE = re.compile(
    r"^(interviewer|interviewee|moderator|co-?moderator|facilitator|co-?facilitator|note-?taker|"
    r"respondent|participant|speaker|researcher|int|iv|mod|fac|resp|[pirqa]|s|spk|pt|fg\d*[-_ ]?p)"
    r"[ \t_-]?\d*[a-z]?$",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)  # a file has a few labels on thousands of lines: judge each label once
def style(label: str) -> str:
    """A coarse typographic style: 'upper', 'title', 'code' (P3, TN10, S01) or 'other'."""
    letters = [c for c in label if c.isalpha()]
    if re.fullmatch(r"[A-Za-z]{1,4}[-_]?\d{1,4}(?:[-_][A-Za-z]{1,4}\d{1,4})?", label):
        return "code"
    if letters and all(c.isupper() for c in letters):
        return "upper"
    words = [w for w in re.split(r"[ \t]+", label) if w]
    if words and all(w[0].isupper() or w[0].isdigit() or w.lower() in NAME_PARTICLES for w in words):
        return "title"
    return "other"


NAME_PARTICLES = {"de", "da", "del", "della", "di", "van", "von", "der", "den", "la", "le", "du", "dos", "das", "bin", "al", "|", "&", "and"}


@lru_cache(maxsize=4096)
def plausible(label: str, delimited: bool = False) -> bool:
    """Cheap shape checks that apply to every convention.

    ``delimited`` labels (``**Name**``, ``[Name]``, or after a timestamp) are marked as labels by
    their layout, so lower-case user names such as ``jochem-brouwer (backup)`` are allowed.
    """
    if len(label) > 60 or not label.lstrip("@")[:1].isalnum():
        return False
    words = label.split()
    if len(words) > 6:
        return False
    lower = label.lower().rstrip(".")
    if lower in STOP_LABELS or NON_SPEECH.match(label):
        return False
    # "please the Court:" is the end of a wrapped sentence, not a name.
    if not delimited and len(words) >= 2 and words[0][0].islower() and words[0].lower() not in NAME_PARTICLES:
        return False
    # Sentence-like text ("we said", "the point is") has lower-case words after the first.
    if len(words) >= 3 and sum(1 for w in words[1:] if w[0].islower() and w.lower() not in NAME_PARTICLES) >= 2:
        return False
    return True


@lru_cache(maxsize=4096)
def key(label: str) -> str:
    return " ".join(label.split()).casefold()


@lru_cache(maxsize=4096)
def role_shaped(label: str) -> bool:
    """``label`` has the shape of an interview role (ROLE_SHAPE), judged once per label."""
    return ROLE_SHAPE.match(label) is not None
