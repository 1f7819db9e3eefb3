"""Analytic memos and the reflexive journal: Markdown files in memos/, each with a small header.

A memo is the analyst's written thinking about codes, themes, cases or the team's own position
(Birks, Chapman & Francis 2008 on memoing; reflexive journals as an audit-trail element, Lincoln &
Guba 1985). Each file is plain Markdown that diffs well in git::

    ---
    title: Police presence cuts both ways
    kind: memo                      # memo | reflexive
    author: ana
    date: 2026-03-30
    links: [theme:police_presence, code:police_at_visits, transcript:fg1_calder]
    ---
    The body, in Markdown.

Links say what a memo is about (``code:ID``, ``theme:ID``, ``transcript:ID``, ``case:NAME``); the
report's audit trail lists the memos with them.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.errors import WorkspaceError

__all__ = ["KINDS", "LINK_KINDS", "MEMOS_DIR", "Memo", "add_memo", "list_memos", "read_memo"]

MEMOS_DIR = "memos"
KINDS = ("memo", "reflexive")
LINK_KINDS = ("code", "theme", "transcript", "case")


@dataclass
class Memo:
    """One memo file: its header fields and its Markdown body."""

    path: Path
    title: str
    kind: str = "memo"
    author: str = ""
    date: str = ""
    links: list[str] = field(default_factory=list)
    body: str = ""

    @property
    def id(self) -> str:
        return self.path.stem

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "kind": self.kind, "author": self.author, "date": self.date,
                "links": list(self.links), "body": self.body, "path": self.path.name}


def _check_links(links: list[str], path: Path) -> list[str]:
    out = []
    for link in links:
        kind, sep, target = str(link).partition(":")
        if not sep or kind.strip() not in LINK_KINDS or not target.strip():
            raise WorkspaceError(f"link {link!r} must be one of {', '.join(k + ':ID' for k in LINK_KINDS)}", path)
        out.append(f"{kind.strip()}:{target.strip()}")
    return out


def read_memo(path: str | Path) -> Memo:
    """One memo file; a broken header names the file and line."""
    import yaml

    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    head: dict[str, Any] = {}
    body = text
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end < 0:
            raise WorkspaceError("the header starting on line 1 has no closing '---'", path, 1)
        try:
            head = yaml.safe_load(text[4:end]) or {}
        except yaml.YAMLError as exc:
            from qualkit.io.yamlfile import yaml_error_where

            line, problem = yaml_error_where(exc, text[4:end], first_line=2)
            raise WorkspaceError(f"header is not valid YAML ({problem})", path, line or 1) from None
        if not isinstance(head, dict):
            raise WorkspaceError("the header must be 'key: value' lines", path, 2)
        body = text[end + 4:].lstrip("\n")
    kind = str(head.get("kind") or "memo")
    if kind not in KINDS:
        raise WorkspaceError(f"kind {kind!r} must be one of {', '.join(KINDS)}", path, 1)
    links = head.get("links") or []
    links = _check_links(links if isinstance(links, list) else [links], path)
    return Memo(path, str(head.get("title") or path.stem), kind, str(head.get("author") or ""),
                str(head.get("date") or ""), links, body.rstrip("\n"))


def list_memos(root: str | Path, link: str | None = None, kind: str | None = None) -> list[Memo]:
    """The memos of a workspace (memos/*.md) by date then name; only those linked to ``link`` or of ``kind``."""
    folder = Path(root) / MEMOS_DIR
    memos = [read_memo(p) for p in sorted(folder.glob("*.md"))] if folder.is_dir() else []
    if link:
        memos = [m for m in memos if link in m.links]
    if kind:
        memos = [m for m in memos if m.kind == kind]
    return sorted(memos, key=lambda m: (m.date, m.id))


def add_memo(root: str | Path, title: str, body: str = "", *, kind: str = "memo", author: str = "",
             links: list[str] | tuple[str, ...] = (), date: str | None = None) -> Memo:
    """Write memos/<date>-<slug>.md (never over an existing file) and return it."""
    import yaml

    from qualkit.io.atomic import atomic_write_text
    from qualkit.io.naming import slugify

    if not str(title).strip():
        raise WorkspaceError("a memo needs a title", Path(root) / MEMOS_DIR)
    if kind not in KINDS:
        raise WorkspaceError(f"kind {kind!r} must be one of {', '.join(KINDS)}", Path(root) / MEMOS_DIR)
    folder = Path(root) / MEMOS_DIR
    when = date or _dt.date.today().isoformat()
    checked = _check_links(list(links), folder)
    base = f"{when}-{slugify(title)[:50]}"
    path = folder / f"{base}.md"
    n = 2
    while path.exists():
        path = folder / f"{base}-{n}.md"
        n += 1
    head = {"title": title.strip(), "kind": kind, "author": author, "date": when, "links": checked}
    text = "---\n" + yaml.safe_dump(head, sort_keys=False, allow_unicode=True) + "---\n" + body.strip() + "\n"
    folder.mkdir(exist_ok=True)
    atomic_write_text(path, text)
    return read_memo(path)
