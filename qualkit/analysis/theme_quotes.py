"""A theme's quote candidates and the analyst's pins (`qualkit themes quote THEME [--pin CODING]`).

A pinned coding is written into the theme's ``quotes:`` list in themes.yaml ("transcript:start-end")
and always comes first in that theme's row of every table, whatever the automatic rule would pick:
the choice of an illustrative quote is the analyst's (Lingard 2019, "Beyond the default colon").
themes.yaml is edited as text (comments and layout kept), backed up first, written atomically.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.analysis.sources import Excerpt, load_excerpts
from qualkit.errors import ThemesError

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["QuoteCandidates", "coding_ref", "pin_quote", "theme_quotes"]

_REF = re.compile(r"^(?P<t>[^:\s]+):(?P<a>\d+)-(?P<b>\d+)$")


def coding_ref(e: Excerpt) -> str:
    """"int1_sheriff:118-190": how a coding is named for --pin."""
    return f"{e.transcript}:{e.start}-{e.end}"


@dataclass
class QuoteCandidates:
    """The theme's coded passages (pinned first) and the refs pinned in themes.yaml."""

    theme: str
    excerpts: list[Excerpt]
    pinned: list[str]


def _theme(workspace: Workspace, theme_id: str, path: Path | None = None) -> tuple[Any, Path]:
    from qualkit.analysis.themes import load_themes, themes_path

    path = path or themes_path(workspace)
    themeset = load_themes(path)
    theme = next((t for t in themeset if t.id == theme_id or t.name.casefold() == theme_id.casefold()), None)
    if theme is None:
        raise ThemesError(f"no theme {theme_id!r} (themes: {', '.join(t.id for t in themeset)})", path)
    return theme, path


def theme_quotes(workspace: Workspace, theme_id: str, coder: str | None = None) -> QuoteCandidates:
    """Every coded passage of the theme (one per span), pinned ones first, longest next."""
    from qualkit.analysis.matrices.cells import distinct

    theme, _ = _theme(workspace, theme_id)
    ex = load_excerpts(workspace, coder)
    mine = distinct(e for e in ex.excerpts if e.code in theme.codes)
    pins = [r for r in theme.quotes]
    rank = {r: i for i, r in enumerate(pins)}
    mine.sort(key=lambda e: (rank.get(coding_ref(e), len(rank)), -len(e.text), e.transcript, e.start))
    return QuoteCandidates(theme.id, mine, pins)


def pin_quote(workspace: Workspace, theme_id: str, coding: str, coder: str | None = None) -> Path:
    """Pin ``coding`` ("transcript:start-end", as `themes quote THEME` lists it) as THEME's first quote."""
    from qualkit.io.atomic import atomic_write_text, backup

    m = _REF.match(coding.strip())
    if not m:
        raise ThemesError(f"--pin {coding!r}: write the coding as transcript:start-end (e.g. int1:118-190), "
                          "as `qualkit themes quote THEME` lists it")
    theme, path = _theme(workspace, theme_id)
    ref = coding.strip()
    if ref not in {coding_ref(e) for e in theme_quotes(workspace, theme.id, coder).excerpts}:
        raise ThemesError(f"{ref} is not a coded passage of theme {theme.id!r} "
                          f"(`qualkit themes quote {theme.id}` lists them)", path)
    refs = [ref, *[r for r in theme.quotes if r != ref]]
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    flow = "[" + ", ".join(f'"{r}"' for r in refs) + "]"
    if "quotes" in theme.lines:
        i = theme.lines["quotes"] - 1
        indent = re.match(r"\s*", lines[i]).group(0)  # type: ignore[union-attr]
        lines[i] = f"{indent}quotes: {flow}\n"
    else:  # right after the one-line "id:" key, at its column
        i = (theme.lines.get("id") or theme.line or 1) - 1
        col = lines[i].find("id:")
        lines.insert(i + 1, " " * max(col, 0) + f"quotes: {flow}\n")
    backup(path, workspace.root / ".qualkit" / "backups")
    atomic_write_text(path, "".join(lines))
    return path
