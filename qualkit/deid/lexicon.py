"""Word lists for de-identification: census names, common English words, titles, and the words that
must never be redacted (weekdays, months, drug names, insurers, acronyms).

The names are the 1990 US Census first and last name lists (public domain), shipped in
``qualkit/data/deid/``; the English vocabulary is spaCy's English lemma table from
spacy-lookups-data (already a dependency). Both load once, offline, in about 0.2 s.
"""
from __future__ import annotations

import functools
from pathlib import Path

__all__ = ["ALLOW_DEFAULT", "TITLES", "common_word", "first_names", "last_names", "name_is_common_word"]

_DATA = Path(__file__).resolve().parents[1] / "data" / "deid"

# Titles and ranks before a surname or given name: `Dr. Nguyen`, `Deputy Hale`, `Pastor Jim`.
TITLES = (
    "Dr", "Doctor", "Mr", "Mrs", "Ms", "Miss", "Mx", "Prof", "Professor", "Deputy", "Sheriff", "Chief",
    "Captain", "Capt", "Lieutenant", "Lt", "Sergeant", "Sgt", "Officer", "Trooper", "Detective", "Det",
    "Corporal", "Cpl", "Pastor", "Reverend", "Rev", "Father", "Fr", "Sister", "Brother", "Rabbi", "Imam",
    "Judge", "Justice", "Mayor", "Commissioner", "Senator", "Representative", "Rep", "Governor", "Coach",
    "Nurse", "Aunt", "Uncle", "Grandma", "Grandpa", "Granny", "Cousin", "Ranger", "Marshal", "Director",
    "Superintendent", "Principal", "Councilman", "Councilwoman", "Councilmember", "Elder", "Deacon",
)

# Words never redacted, whatever a list says: calendar words, drugs and programs people name in
# interviews about substance use care, insurers, and the acronyms of the field. Extended by
# deid.yaml's `allow:`.
ALLOW_DEFAULT = frozenset(w.casefold() for w in (
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July "
    "August September October November December Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec "
    "Christmas Thanksgiving Easter Halloween Ramadan Hanukkah God Lord Jesus Christ Bible Internet "
    "Narcan naloxone Suboxone buprenorphine Subutex Sublocade Vivitrol naltrexone methadone fentanyl "
    "heroin oxycodone OxyContin Percocet Vicodin hydrocodone morphine meth methamphetamine Xanax "
    "Adderall Ativan Klonopin gabapentin Neurontin Tylenol Advil Kratom Brixadi Zubsolv "
    "Medicaid Medicare Tricare Aetna Cigna Humana Anthem Kaiser Humira BlueCross Blue Cross Shield "
    "UnitedHealthcare Ambetter Molina Centene Obamacare ACA CHIP SNAP WIC SSI SSDI TANF VA "
    "HIPAA EMS EMT ER ED ICU CAD PORT SAMHSA CDC HRSA NIH FDA DEA MOUD MAT OUD SUD AA NA CPS DHHS HHS "
    "GED DUI DWI CRT QRT CIT PD Zoom Teams Facebook Google Uber Lyft Walmart Narcotics Anonymous "
    "Alcoholics COVID English Spanish American Americans Black Hispanic Latino Latina Latinx Native "
    "Indian Catholic Baptist Methodist Christian Muslim OK Okay Yeah Yes No Um Uh Hmm Mm "
    "Interviewer Moderator Facilitator Respondent Participant Speaker Oh Hey Hi Hello Bye Ah Aw Wow Gee Huh Yep Nope "
    # Safe Harbor allows states and countries: they are no identifier (and many are census names).
    "Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia Hawaii Idaho "
    "Illinois Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts Michigan Minnesota "
    "Mississippi Missouri Montana Nebraska Nevada Hampshire Jersey Mexico York Carolina Dakota Ohio Oklahoma "
    "Oregon Pennsylvania Rhode Island Tennessee Texas Utah Vermont Virginia Washington Wisconsin Wyoming "
    "New North South West East America Canada England Britain Scotland Wales Ireland France Germany Spain "
    "Italy China India Europe Africa Asia Australia").split())


def _read_list(name: str) -> frozenset[str]:
    lines = (_DATA / name).read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@functools.cache
def first_names() -> frozenset[str]:
    """Given names of the 1990 US Census (5,163), title case."""
    return _read_list("first_names.txt")


@functools.cache
def last_names() -> frozenset[str]:
    """The 20,000 most frequent surnames of the 1990 US Census, title case."""
    return _read_list("last_names.txt")


@functools.cache
def _common_word_names() -> frozenset[str]:
    return _read_list("common_word_names.txt")


@functools.cache
def _english_vocabulary() -> frozenset[str]:
    """Lowercase English words: spaCy's English lemma lookup table, forms and lemmas."""
    import gzip
    import json

    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lemma_lookup.json.gz"
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            table = json.load(f)
    except OSError:  # a broken install: fall back to the frequent words shipped with qualkit
        table = {}
    return frozenset(table) | frozenset(table.values()) | _read_list("common_words_extra.txt")


def name_is_common_word(word: str) -> bool:
    """A census name that is also an everyday word (White, Young, Hope, Will): needs more evidence."""
    return word in _common_word_names() or word.casefold() in _english_vocabulary()


def common_word(word: str) -> bool:
    """An English word (any case), e.g. the capitalised word after a title: `Deputy Sheriff` is no name."""
    return word.casefold() in _english_vocabulary() or word in _common_word_names()
