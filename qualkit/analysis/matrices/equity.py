"""Themes by health-equity domain (HEIF 2021's three equity domains), and the footnote every table
gives framework items whose names were not verified against the published source.

Woodward et al. 2021 (Implement Sci Commun 2:61) recommend adding three health-equity domains to any
determinant framework: culturally relevant factors of recipients, the clinical encounter, and
societal context. Framework files mark them ``equity_domain: true``; this table puts each theme
under the equity domain its mapped items fall in (an item belongs to its nearest marked ancestor).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qualkit.analysis.matrices.cells import cell

__all__ = ["UNVERIFIED_MARK", "equity_frame", "marked_label", "unverified_footnote"]

UNVERIFIED_MARK = "†"
NO_EQUITY = "No equity domain"


def marked_label(item: Any, frameworks: dict) -> str:
    """The item's label as tables print it, with † when its name is not verified in the source."""
    from qualkit.analysis.themes import item_label

    return item_label(item, frameworks) + ("" if item.verified else UNVERIFIED_MARK)


def unverified_footnote(items: Sequence[Any]) -> str:
    """The footnote for the † items among ``items`` ('' when every one is verified)."""
    shown = {i.ref: i for i in items if not i.verified}
    if not shown:
        return ""
    fws = sorted({i.framework for i in shown.values()})
    inherited = any(i.status == "inherited" for i in shown.values())
    why = ("inherited from the parent framework (e.g. i-PARIHS) or not read in the published source"
           if inherited else "not read in the published source")
    return (f"{UNVERIFIED_MARK} Name not verified against the framework's source ({why}); see "
            + ", ".join(f"`qualkit frameworks show {f}`" for f in fws) + ".")


def equity_frame(themeset: Any, mappings: dict[str, Any], frameworks: dict, main_fw: str | None,
                 theme_excerpts: dict[str, list], cells: str, quotes: int, quote_chars: int | None,
                 attributes: Sequence[str]) -> tuple[Any, list[Any]]:
    """Theme x equity domain of ``main_fw`` (with a last column for themes outside them), and the items shown.

    Each cell lists the theme's determinants in that domain (with † marks) and its excerpts there
    in the matrix's ``cells`` form."""
    import pandas as pd

    fw = frameworks.get(main_fw) if main_fw else None
    domains = fw.equity_domains() if fw is not None else []
    labels = [d.label + ("" if d.verified else UNVERIFIED_MARK) for d in domains]
    rows, shown = [], []
    used: set = set()  # no quote twice in the table (cells.py), as in the themes x domains matrix
    for theme in themeset:
        m = mappings[theme.id]
        row: dict[str, Any] = {"theme": theme.id, "name": theme.name, "valence": theme.valence or ""}
        placed: dict[str, list] = {}
        for item in m.items:
            dom = fw.equity_domain_of(item) if fw is not None and item.framework == fw.id else None
            placed.setdefault(dom.id if dom is not None else "", []).append(item)
        for dom, label in zip(domains, labels):
            items = placed.get(dom.id, [])
            shown += items
            text = "; ".join(("(the domain itself)" if i is dom else i.label + ("" if i.verified else UNVERIFIED_MARK))
                             for i in items)
            body: Any = ""
            if items:  # a domain the theme does not touch has no cell to fill
                codes = {c for c in theme.codes if any(i in items for i in m.items_for_code(c))}
                inside = [e for e in theme_excerpts.get(theme.id, []) if e.code in codes]
                body = cell(inside, cells, quotes, quote_chars, attributes, used)
            row[label] = "\n".join(x for x in (text, str(body) if body not in ("", None) else "") if x)
        row[NO_EQUITY] = "yes" if not any(placed.get(d.id) for d in domains) else ""
        rows.append(row)
    return pd.DataFrame(rows, columns=["theme", "name", "valence", *labels, NO_EQUITY]), shown
