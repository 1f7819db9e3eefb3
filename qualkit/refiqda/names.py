"""Names other tools give things, made into qualkit's: transcript ids and coder names (file names)."""
from __future__ import annotations

import re
import unicodedata

__all__ = ["coder_name", "transcript_id", "unique_name"]

_DOC_EXTENSIONS = {".txt", ".text", ".md", ".docx", ".doc", ".rtf", ".odt", ".pdf", ".htm", ".html", ".vtt", ".srt"}


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def unique_name(base: str, taken: set[str]) -> str:
    """``base``, else ``base_2``, ``base_3``... whichever is not in ``taken`` (case-folded); taken then."""
    name, n = base, 2
    while name.casefold() in taken:
        name = f"{base}_{n}"
        n += 1
    taken.add(name.casefold())
    return name


def transcript_id(name: str) -> str:
    """A file-safe transcript id from a source name ('Interview 1.txt' -> 'Interview 1')."""
    name = " ".join((name or "").split())
    stem, dot, ext = name.rpartition(".")
    if dot and stem and f".{ext.lower()}" in _DOC_EXTENSIONS:
        name = stem
    name = re.sub(r"[^\w.\- ]+", "_", name).strip(" ._-~$")
    return name[:120] or "source"


def coder_name(name: str) -> str:
    """A coder name (codings/<name>.csv) from a user name: letters, digits, _ . - only."""
    out = re.sub(r"[^A-Za-z0-9_.\-]+", "_", _ascii(name or "")).strip("_.-")
    return out[:64] or "user"
