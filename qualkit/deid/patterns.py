"""Pattern detectors: HIPAA Safe Harbor identifiers (45 CFR 164.514(b)(2)) that have a shape, and
place names that announce themselves (`X County`, `St. X's Hospital`, `Route 9`, `12 Elm Street`).

Safe Harbor lists dates more specific than a year, phone and fax numbers, e-mail addresses, URLs,
IP addresses, record and account numbers, ZIP codes, street addresses and ages over 89. Each
detector is a regular expression with a little context so common numbers survive (a 5-digit
number is a ZIP code only after a state or the word ZIP).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Candidate", "pattern_candidates"]


@dataclass(frozen=True)
class Candidate:
    """A span a detector proposes: ``text[start:end]`` is an identifier of ``kind``."""

    start: int
    end: int
    kind: str
    detector: str
    entity: str = ""  # who or what it is, when known (a participant id); else its kind and text


_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
          r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?")
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
_WORD_DAY = (r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
             r"thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|"
             r"twenty-\w+|thirtieth|thirty-first)")
_STREET = (r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way|Highway|Hwy|"
           r"Pike|Place|Pl|Circle|Cir|Trail|Parkway|Pkwy|Terrace|Alley|Loop|Run|Hollow Road)")
_CAP = r"[A-Z][a-z]+(?:['’][a-z]+)?"
_STATES = ("AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
           "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC").split()
_NUMBER_WORDS = r"(?:ninety|one hundred|a hundred|hundred)(?:[\s-](?:and[\s-])?(?:one|two|three|four|five|six|seven|eight|nine|ten))?"

_PATTERNS: list[tuple[str, str, re.Pattern[str]]] = [
    ("email", "email", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("url", "url", re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+[^\s<>\"')\].,;:!?]"
                              r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|gov|edu|us|info|io|co)\b(?:/[^\s<>\"')\]]*[^\s<>\"')\].,;:!?])?")),
    ("ip", "ip", re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b")),
    ("number", "ssn", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    ("phone", "phone", re.compile(r"(?<![\w.:/-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}\b"
                                  r"|(?<![\w.:/$-])\d{3}-\d{4}\b")),
    ("date", "date", re.compile(
        rf"\b{_MONTH}\s+{_DAY}\b(?:,?\s+{_YEAR}\b)?"          # March 14, 2026 / March 14th
        rf"|\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR}\b)?"  # 14 March 2026 / 14th of March
        rf"|\bthe\s+{_WORD_DAY}\s+of\s+{_MONTH}"              # the fourteenth of March
        rf"|\b{_MONTH}\s+(?:the\s+)?{_WORD_DAY}\b"            # March the fourteenth
        rf"|\b(?:{_MONTH}|(?:early|mid|late)[\s-]{_MONTH})\s+(?:of\s+)?{_YEAR}\b"  # March 2026
        r"|\b(?:0?[1-9]|1[0-2])[/.-](?:0?[1-9]|[12]\d|3[01])[/.-](?:\d{4}|\d\d)\b"  # 3/14/2026
        r"|\b(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])\b(?!/)"   # 3/14
        r"|\b(?:19|20)\d\d-[01]\d-[0-3]\d\b")),                    # 2026-03-14
    ("number", "record number", re.compile(
        r"\b(?:MRN|medical record(?: number)?|record(?: number)?|chart(?: number)?|case(?: number)?|account(?: number)?"
        r"|acct|policy(?: number)?|member ID|member number|ID(?: number)?|license(?: number)?|licence(?: number)?"
        r"|badge(?: number)?|plate(?: number)?|claim(?: number)?|Medicaid (?:ID|number)|patient (?:ID|number)"
        r"|SSN|social security(?: number)?)\s*(?:no\.?|number|#)?\s*(?:is|was)?\s*[:#]?\s*"
        r"(?P<value>(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,})\b", re.IGNORECASE)),
    ("number", "record number", re.compile(r"(?<![\w$])#\s?(?P<value>\d{4,})\b")),
    ("age", "age over 89", re.compile(
        rf"\b(?P<value>(?:9\d|1[01]\d)|{_NUMBER_WORDS})(?:[\s-]+(?:years?|yrs?)(?:[\s-]+old)?|[\s-]year[\s-]old)\b"
        rf"|\b(?:age|aged|turned|turning)\s+(?P<value2>9\d|1[01]\d|{_NUMBER_WORDS})\b", re.IGNORECASE)),
    ("zip", "zip code", re.compile(rf"\b(?:{'|'.join(_STATES)}|[Zz]ip(?: [Cc]ode)?|ZIP(?: [Cc]ode)?)\.?\s+(?P<value>\d{{5}}(?:-\d{{4}})?)\b")),
    ("address", "street address", re.compile(
        rf"\b\d{{1,5}}\s+(?:[NSEW]\.?\s+)?(?:{_CAP}\s+){{1,3}}{_STREET}\b\.?"
        rf"|\b(?:{_CAP}\s+){{1,2}}(?:Street|Road|Avenue|Lane|Drive|Boulevard)\b"
        r"|\b(?:P\.?\s?O\.?\s+Box|Box)\s+\d+\b")),
    ("place", "road number", re.compile(r"\b(?:Route|Rte\.?|Rt\.?|Highway|Hwy\.?|Interstate|State Road|State Route|"
                                        r"County Road|Farm Road|US|SR|CR)\s?-?\d{1,4}[A-Z]?\b|\bI-\d{1,3}\b")),
    ("place", "county", re.compile(rf"\b(?:{_CAP}\s+){{1,2}}(?:County|Parish|Township|Borough)\b"
                                   rf"|\b(?:City|Town|Village|County) of (?:{_CAP}\s?){{1,2}}\b")),
    ("organisation", "institution", re.compile(
        rf"\b(?:St\.?|Saint|Mount|Mt\.?)\s+{_CAP}(?:['’]s)?(?:\s+{_CAP})*\s+"
        r"(?:Hospital|Medical Center|Medical Centre|Clinic|Church|School|Health|Regional|Memorial)\b"
        rf"|\b{_CAP}\s+(?:Baptist|Methodist|Presbyterian|Lutheran|Pentecostal|Episcopal|Catholic)\b(?:\s+Church)?"
        rf"|\b(?:{_CAP}\s+){{1,3}}(?:Hospital|Medical Center|Medical Centre|Health System|Healthcare|Church|"
        r"High School|Elementary|Middle School|Police Department|Fire Department|Detention Center|"
        r"Treatment Center|Recovery Center|Memorial|University|College|Pharmacy|Motel|Hotel|Inn|Lodge|"
        r"Campground|Diner|Cafe|Café|Tavern|Restaurant|Baptist Church|Mission|Shelter|Apartments|Trailer Park|"
        r"Mobile Home Park|State Park)\b")),
]

# Leading words a capitalised-word pattern must not swallow: `The Calder County` -> `Calder County`.
_LEAD = re.compile(r"^(?:(?:The|A|An|And|Or|But|So|At|In|On|To|From|Of|Our|Their|His|Her|My|Your|With|"
                   r"Over|Out|Up|Down|By|For|Like|Then|Now|Even|Just|Over|Into|Near|Call|Called|Everybody|"
                   r"Whole|All|Every|That|This|Some|Um|Uh|Well|Oh|Yeah|Also|Here|There)\s+)+")
_GENERIC_ORG = re.compile(r"^(?:(?:Local|Regional|Community|General|County|State|Emergency|Mental|Behavioral|"
                          r"Public|Private|Rural|Recovery|Treatment|Health|Medical|Our|The)\s+)+"
                          r"(?:Hospital|Health|Clinic|Church|School|Pharmacy|Memorial|University|College|Motel|Hotel|Inn|Shelter|"
                          r"Mission|Lodge|Diner|Cafe|Restaurant|Apartments|Campground)$")


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop sentence words a pattern of capitalised words caught at its front."""
    m = _LEAD.match(text[start:end])
    return (start + m.end(), end) if m and start + m.end() < end else (start, end)


def pattern_candidates(text: str) -> Iterator[Candidate]:
    """Every pattern match in ``text``; overlaps are resolved later, across detectors."""
    for kind, detector, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            groups = m.groupdict()
            value = next((g for g in ("value", "value2") if groups.get(g)), None)
            start, end = m.span(value) if value else m.span()
            if kind in ("place", "organisation", "address") and not value:
                start, end = _trim(text, start, end)
                if kind == "organisation" and _GENERIC_ORG.match(text[start:end]):
                    continue  # "the County Hospital", "Community Health": generic, not a name
            if end > start:
                yield Candidate(start, end, kind, detector)
