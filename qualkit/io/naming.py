"""Names made from names: code ids from code names, file stems from titles, natural sort order.

One implementation each, so an id made from the same name is the same whatever the entry point
(`qualkit code`'s ``+ Name``, `codebook add`, a spreadsheet import, a REFI-QDA import).
"""
from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path

__all__ = ["MAX_NAME_BYTES", "RESERVED_NAMES", "file_kind", "file_stem", "name_problem", "natural_key", "plural_s", "slugify",
           "unique_id"]

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
    return list(_natural_key(str(text)))


@functools.lru_cache(maxsize=1 << 16)
def _natural_key(text: str) -> tuple[int | str, ...]:
    # The same few thousand transcript ids are sorted over and over (every coding is keyed by one).
    return tuple(int(part) if part.isdigit() else part.casefold() for part in _DIGITS.split(text))


def file_stem(name: str, fallback: str = "table") -> str:
    """A file-name stem from a table or column name: ASCII letters and digits joined by '_', lower case.

    Unlike :func:`slugify` it spells nothing out, so export file names stay as they always were."""
    return re.sub(r"[^A-Za-z0-9]+", "_", str(name)).strip("_").lower() or fallback


# Names Windows refuses for a file whatever its extension (CON.csv is CON), and the longest name
# most file systems take (255 bytes: ext4, APFS, NTFS counts UTF-16 units, so bytes is the safe bound).
RESERVED_NAMES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                            *(f"lpt{i}" for i in range(1, 10))})
MAX_NAME_BYTES = 255
_BAD_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


def name_problem(name: str, extension: str = "") -> str | None:
    """Why ``name`` (plus ``extension``) cannot be a file name on Windows, macOS and Linux alike, or None.

    A study folder moves between colleagues' computers, so a name only one system takes is refused."""
    if not name or name in (".", ".."):
        return "is empty"
    if name.split(".")[0].casefold() in RESERVED_NAMES:
        return f"is a name Windows reserves for a device ({name.split('.')[0].upper()})"
    bad = _BAD_CHARS.search(name)
    if bad:
        return f"contains {bad.group()!r}, which Windows does not allow in file names"
    if name.endswith((".", " ")):
        return "ends with a dot or a space, which Windows drops"
    if len((name + extension).encode("utf-8")) > MAX_NAME_BYTES:
        return f"is longer than {MAX_NAME_BYTES} bytes, the limit of most file systems"
    return None


def file_kind(path: str | Path) -> str:
    """How a message names a file's type: "a '.txt' file", or "a file with no extension" (never "'.'")."""
    suffix = Path(path).suffix
    return f"a '{suffix}' file" if suffix else "a file with no extension"


def plural_s(n: int | float) -> str:
    """The ending of a counted noun: ``f"{n} turn{plural_s(n)}"`` reads "1 turn", "0 turns", "2 turns"."""
    return "" if n == 1 else "s"
