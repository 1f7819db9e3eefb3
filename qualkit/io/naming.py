"""Names made from names: code ids from code names, file stems from titles, natural sort order.

One implementation each, so an id made from the same name is the same whatever the entry point
(`qualkit code`'s ``+ Name``, `codebook add`, a spreadsheet import, a REFI-QDA import).
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

__all__ = ["file_stem", "natural_key", "slugify", "unique_id"]

_DIGITS = re.compile(r"(\d+)")


def slugify(name: str, max_len: int = 48, fallback: str = "code") -> str:
    """A snake_case id from a name: 'Inter-partner data sharing' -> 'inter_partner_data_sharing'.

    Accents are folded to ASCII, '&' reads as 'and' and '+' as 'plus' (so 'Fear & shame' is
    'fear_and_shame', never 'fear_shame'), and long ids are cut at a word boundary."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii").lower()
    text = text.replace("&", " and ").replace("+", " plus ")
    slug = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    if len(slug) > max_len:
        cut = slug[:max_len]
        slug = cut.rsplit("_", 1)[0] if "_" in cut else cut
    return slug or fallback


def unique_id(base: str, taken: set[str] | list[str] | tuple[str, ...] | frozenset[str]) -> str:
    """``base``, or ``base_2``, ``base_3``... whichever is not taken."""
    taken = set(taken)
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def natural_key(text: str | Path) -> list[int | str]:
    """Sort key that orders numbers by value and ignores case: 'int2' before 'int10'."""
    return [int(part) if part.isdigit() else part.casefold() for part in _DIGITS.split(str(text))]


def file_stem(name: str, fallback: str = "table") -> str:
    """A file-name stem from a table or column name: ASCII letters and digits joined by '_', lower case.

    Unlike :func:`slugify` it spells nothing out, so export file names stay as they always were."""
    return re.sub(r"[^A-Za-z0-9]+", "_", str(name)).strip("_").lower() or fallback
