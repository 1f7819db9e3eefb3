"""Matrices: themes × framework domains, codes × cases, code co-occurrence and saturation.

``matrix(workspace, kind, ...)`` returns a pandas DataFrame; ``build_matrix`` returns a
:class:`MatrixResult` with every table of that kind (for exports), warnings, notes and the
parameters and input files that go into an export's manifest.

Kinds
-----
``themes``
    Rows are the themes of themes.yaml, columns the framework domains they map onto (``level``:
    ``domain``, ``subdomain`` = the nearest domain or sub-domain, the default, or ``item`` = the
    ref as written). A theme with ``domains`` puts all its excerpts under each of them; a theme
    whose mapping comes from its codes' refs puts each excerpt under its own code's domains.
    ``table="results"`` gives the manuscript table instead (HEIF papers' layout): Theme | HEIF
    domain | Description | Illustrative quotes, in sections: facilitators, barriers, then mixed
    themes in a section of their own (a mixed theme is neither, and listing it twice would count
    it twice), then themes with no valence yet.
``codes``
    Codes × cases (``by``: participant, transcript, or any participants.csv column such as role or
    site), the Framework Method's chart (``transpose=True`` puts cases in rows, as Gale et al. 2013).
``cooccurrence``
    Code × code over units (``unit``: turn by default, or sentence, paragraph, question, document):
    raw counts of units coded with both, and the coefficient c = n12 / (n1 + n2 − n12), the
    Jaccard index of the two codes' unit sets; it is the formula of ATLAS.ti's c-coefficient
    (ATLAS.ti counts overlapping quotations, qualkit counts units, so figures can differ).
    ``cells``: ``count`` (square, diagonal = units with the code), ``coefficient`` (square), or
    ``pairs`` (one row per pair with n1, n2, n12 and c side by side).
``saturation``
    New codes per transcript in interview order and Guest, Namey & Chen's (2020) assessment: base
    size (default 4), run length (default 2), new-information threshold (default ≤ 5%). Starting
    from the base, the codes new in the next run are divided by the unique codes in the base; the
    base grows one transcript at a time until the ratio is at or below the threshold, reported as
    "saturation at B+R" (base + run). (The growing base is qualkit's reading of the method, which
    reports results as "6+2"; check it against the paper before describing it in a manuscript.) Order: ``order`` if given, else interview dates (a date /
    interview_date / session_date column of participants.csv, or a "Date:" line at the top of every
    transcript), else natural id order. ``by="participant"`` counts focus-group participants one by
    one instead of sessions. Code saturation is not meaning saturation (Hennink et al. 2017).

Cells (themes and codes): ``count`` (excerpts), ``presence`` (0/1), ``participants`` (distinct
participants), ``quotes`` (illustrative quotes, see qualkit.analysis.quotes), ``summary`` ("n excerpts /
n participants" and the best quote). An excerpt is a coded span; the same span with two codes of
one theme counts once for that theme. Within a row, a quote already shown in an earlier cell is
passed over while the cell has others (a theme mapped onto several domains would otherwise repeat
its best quote in each).

Codings: ``coder=None`` or ``"consensus"`` uses codings/consensus.csv; when it does not exist the
coders of qualkit.yaml's ``coders:`` are pooled (union of their codings, the same span and code
counted once) with a warning. ``coder="pooled"`` pools on purpose; any other name uses that coder.
Interviewer and moderator turns (participants.csv roles in ``facilitator_roles``) are left out.
"""
from __future__ import annotations

import bisect
import difflib
import re
import warnings as _warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from qualkit.analysis.quotes import DEFAULT_LIMIT, Excerpt, quote_rule, select_quotes

KINDS = ("themes", "codes", "cooccurrence", "saturation")
CELLS = ("count", "presence", "participants", "quotes", "summary")
COOC_CELLS = ("count", "coefficient", "pairs")
DEFAULT_CELLS = {"themes": "summary", "codes": "count", "cooccurrence": "count"}
CONSENSUS = "consensus"
POOLED = "pooled"
UNIDENTIFIED = "(unidentified)"
NOT_SET = "(not set)"
DATE_COLUMNS = ("date", "interview_date", "session_date")
SECTIONS = (("facilitator", "Facilitators"), ("barrier", "Barriers"), ("mixed", "Mixed (facilitator and barrier)"),
            (None, "Valence not set"))
FRAMEWORK_SHORT = {"heif": "HEIF", "cfir2": "CFIR 2.0", "cfir2009": "CFIR", "iparihs": "i-PARIHS", "reaim": "RE-AIM",
                   "epis": "EPIS"}


from qualkit.errors import MatrixError  # noqa: F401  (defined with every other error in qualkit.errors)


class MatrixWarning(UserWarning):
    """Something the reader of a matrix should know (e.g. coders pooled for want of a consensus)."""


# ============================================================================ codings and excerpts

@dataclass
class CodingSource:
    """Which codings a matrix is built from."""

    label: str                      # "consensus", "ana", "pooled: ana, ben"
    coders: list[str]
    files: list[Path]
    pooled: bool = False
    warnings: list[str] = field(default_factory=list)


def _consensus_view(workspace, known: list[str]):
    """Consensus codings where there is a consensus, and each single-coded transcript as its coder left it.

    Reconciliation only covers transcripts that every coder coded; without this, a study's
    single-coded transcripts would vanish from every matrix and summary once reconciling starts.
    """
    consensus = workspace.codings(CONSENSUS)
    coders = [c for c in dict.fromkeys(workspace.config.coders) if c in known and c != CONSENSUS]
    per = {c: workspace.codings(c) for c in coders}
    coded = [{x.transcript for x in per[c]} for c in coders]
    reconciled = (set.intersection(*coded) if len(coded) >= 2 else set()) | {c.transcript for c in consensus}
    pairs = [(c, (CONSENSUS,)) for c in consensus]
    seen = {c.key for c in consensus}
    single: dict[str, str] = {}
    for name in coders:
        for c in per[name]:
            if c.transcript not in reconciled and c.key not in seen:
                seen.add(c.key)
                pairs.append((c, (name,)))
                single.setdefault(c.transcript, name)
    files = [workspace.coder_file(CONSENSUS)]
    warns: list[str] = []
    if single:
        contributors = sorted(set(single.values()))
        files += [workspace.coder_file(c) for c in contributors]
        listed = ", ".join(f"{t} ({single[t]})" for t in sorted(single))
        warns.append(f"codings/{CONSENSUS}.csv covers the transcripts every coder coded; {len(single)} transcript(s) "
                     f"coded by one coder use that coder's codings: {listed}")
        return pairs, CodingSource(f"{CONSENSUS} + single-coded", [CONSENSUS, *contributors], files, warnings=warns)
    return pairs, CodingSource(CONSENSUS, [CONSENSUS], files)


def resolve_codings(workspace, coder: str | None = None):
    """The codings to analyse and where they come from: ``([(Coding, coders)], CodingSource)``."""
    name = (coder or CONSENSUS).strip()
    known = workspace.coders()
    if name == CONSENSUS and CONSENSUS in known:
        return _consensus_view(workspace, known)
    if name in (CONSENSUS, POOLED, "all"):
        configured = list(dict.fromkeys(workspace.config.coders))
        coders = [c for c in configured if c in known]
        missing = [c for c in configured if c not in known]
        origin = "qualkit.yaml 'coders:'"
        if not configured:
            coders = [c for c in known if c != CONSENSUS and not c.startswith("adjudication")]
            origin = "every codings/*.csv file"
        warns = []
        if missing:
            warns.append(f"no codings file yet for coder(s) {', '.join(missing)} (qualkit.yaml 'coders:')")
        if name == CONSENSUS:
            if coders:
                warns.insert(0, f"codings/{CONSENSUS}.csv does not exist yet: pooling the codings of {', '.join(coders)} "
                                f"({origin}; their union, the same span and code counted once). Reconcile first "
                                "(`qualkit reconcile`) or pick one coder with --coder NAME.")
            else:
                warns.insert(0, f"codings/{CONSENSUS}.csv does not exist yet and there are no coders' files to pool")
        pooled: dict[tuple, list] = {}
        for c_name in coders:
            for c in workspace.codings(c_name):
                entry = pooled.get(c.key)
                if entry is None:
                    pooled[c.key] = [c, [c_name]]
                else:
                    if c_name not in entry[1]:
                        entry[1].append(c_name)
                    if c.memo and c.memo not in entry[0].memo:
                        from dataclasses import replace

                        entry[0] = replace(entry[0], memo=f"{entry[0].memo} | {c.memo}" if entry[0].memo else c.memo)
        label = f"pooled: {', '.join(coders)}" if coders else "pooled: no coders"
        files = [workspace.coder_file(c) for c in coders]
        return ([(c, tuple(who)) for c, who in pooled.values()],
                CodingSource(label, coders, files, pooled=True, warnings=warns))
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise MatrixError(f"no codings file for coder {name!r} (known: {', '.join(known) or 'none'}; "
                          f"or use 'consensus' or 'pooled'){hint}", workspace.codings_dir)
    return [(c, (name,)) for c in workspace.codings(name)], CodingSource(name, [name], [workspace.coder_file(name)])


@dataclass
class ExcerptSet:
    """Every coding as an :class:`~qualkit.analysis.quotes.Excerpt`, with the transcripts and people behind them."""

    excerpts: list[Excerpt]
    source: CodingSource
    transcripts: dict[str, Any]                      # id -> Transcript (the coded ones, natural order)
    participants: dict[str, list[str]]               # transcript -> participants (team left out), first-turn order
    codings: list[tuple]                             # (Coding, coders) as read
    warnings: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # transcripts with no coding in this source
    facilitator_only: int = 0                        # codings left out: only research-team words
    include_facilitators: bool = False

    def source_label(self) -> str:
        return "consensus codings" if self.source.label == CONSENSUS else (
            f"codings {self.source.label}" if self.source.pooled else f"{self.source.label}'s codings")

    def source_text(self) -> str:
        n = len(self.excerpts)
        return f"{n} coded excerpt{'s' if n != 1 else ''} from {self.source_label()} in {len(self.transcripts)} transcript(s)"


def _natural(text: str):
    return [int(p) if p.isdigit() else p.casefold() for p in re.split(r"(\d+)", str(text))]


def load_excerpts(workspace, coder: str | None = None, include_facilitators: bool = False) -> ExcerptSet:
    """Read the codings (see :func:`resolve_codings`) and lay them onto the transcripts' turns.

    A coding's words in research-team turns are left out (unless ``include_facilitators``); a coding
    that holds only such words is dropped. Its quote is its longest remaining turn segment, said by
    that turn's participant; every participant it touches counts as having said it.
    """
    from qualkit.workspace.codings import CodingError

    pairs, source = resolve_codings(workspace, coder)
    warns = list(source.warnings)
    paths = {p.stem: p for p in workspace.transcript_paths()}
    table = workspace.participant_table
    index = workspace.code_index()
    by_t: dict[str, list[tuple]] = {}
    for c, who in pairs:
        if c.transcript not in paths:
            raise CodingError(f"transcript {c.transcript!r} is not in transcripts/", workspace.coder_file(who[0]), c.line)
        by_t.setdefault(c.transcript, []).append((c, who))
    unknown = sorted({c.code for c, _ in pairs if c.code not in index})
    if unknown:
        warns.append(f"code(s) in no codebook: {', '.join(unknown)} (`qualkit codebook validate`)")
    coded = sorted(by_t, key=_natural)
    left_out = [tid for tid in sorted(paths, key=_natural) if tid not in by_t]
    transcripts: dict[str, Any] = {}
    participants: dict[str, list[str]] = {}
    excerpts: list[Excerpt] = []
    dropped = 0
    for tid in coded:
        t = workspace.read(paths[tid])
        transcripts[tid] = t
        people: list[str] = []
        for turn in t.turns:
            if turn.participant and turn.participant not in people and (
                    include_facilitators or not table.is_facilitator(turn.participant)):
                people.append(turn.participant)
        participants[tid] = people
        starts = [turn.start for turn in t.turns]
        for c, who in sorted(by_t[tid], key=lambda cw: (cw[0].start, cw[0].end, cw[0].code)):
            segments = []
            i = max(bisect.bisect_right(starts, c.start) - 1, 0)
            while i < len(t.turns) and t.turns[i].start < c.end:
                turn = t.turns[i]
                s, e = max(c.start, turn.start), min(c.end, turn.end)
                if e > s:
                    segments.append((turn, s, e))
                i += 1
            if not segments:  # between turns (a label, a header): keep it, unattributed
                excerpts.append(Excerpt(tid, c.start, c.end, c.code, t.text[c.start:c.end], c.memo, coders=who))
                continue
            kept = [seg for seg in segments if include_facilitators or not table.is_facilitator(seg[0].participant)]
            if not kept:
                dropped += 1
                continue
            turn, s, e = max(kept, key=lambda seg: (seg[2] - seg[1], -seg[1]))
            people_here = tuple(dict.fromkeys(seg[0].participant for seg in kept if seg[0].participant))
            excerpts.append(Excerpt(tid, c.start, c.end, c.code, t.text[s:e], c.memo, turn.participant, people_here,
                                    turn.speaker, table.attributes(turn.participant) if turn.participant else {},
                                    who, turn.index))
    if dropped:
        warns.append(f"{dropped} coding(s) hold only interviewer/moderator words and are left out")
    return ExcerptSet(excerpts, source, transcripts, participants, pairs, warns, left_out, dropped, include_facilitators)


# ============================================================================ result

@dataclass
class MatrixResult:
    """One kind of matrix: the main ``frame``, every table for export, and what a reader should know."""

    kind: str
    frame: Any                                         # pandas.DataFrame
    tables: list = field(default_factory=list)         # qualkit.render.tables.Table
    title: str = ""
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    inputs: list[Path] = field(default_factory=list)
    saturation: SaturationSummary | None = None
    root: Path | None = None
    display: Any = None          # a compact frame for the terminal (numbers, or "excerpts/participants")

    def table(self, name: str):
        return next(t for t in self.tables if t.name == name)

    def to_dict(self) -> dict[str, Any]:
        import json

        def rows(frame):
            return json.loads(frame.to_json(orient="records", force_ascii=False))

        out = {"kind": self.kind, "title": self.title, "parameters": self.parameters, "warnings": list(self.warnings),
               "notes": list(self.notes),
               "tables": [{"name": t.name, "title": t.title, "notes": t.notes, "columns": [str(c) for c in t.frame.columns],
                           "rows": rows(t.frame)} for t in self.tables]}
        if self.saturation is not None:
            out["saturation"] = self.saturation.as_dict()
        return out


def _inputs(workspace, ex: ExcerptSet | None, themes: bool = False) -> list[Path]:
    files = [workspace.config.path, workspace.root / "participants.csv"]
    if ex is not None:
        files += list(ex.source.files)
        files += [p for p in workspace.transcript_paths() if p.stem in ex.transcripts]
    if workspace.codebooks_dir.is_dir():
        files += sorted([*workspace.codebooks_dir.glob("*.yaml"), *workspace.codebooks_dir.glob("*.yml")])
    files.append(workspace.root / "themes.yaml")
    if themes and (workspace.root / "frameworks").is_dir():
        files += sorted((workspace.root / "frameworks").glob("*.y*ml"))
    return [Path(p) for p in dict.fromkeys(files) if Path(p).is_file()]


def _check_choice(value, choices, what: str):
    if value not in choices:
        close = difflib.get_close_matches(str(value), list(choices), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise MatrixError(f"{what} must be one of {', '.join(choices)}, not {value!r}{hint}")
    return value


def build_matrix(workspace, kind: str, *, by: str | None = None, cells: str | None = None, coder: str | None = None,
                 unit: str = "turn", level: str | None = None, framework: str | None = None, table: str = "matrix",
                 order: Sequence[str] | str | None = None, base: int = 4, run: int = 2, threshold: float = 0.05,
                 quotes: int = 2, quote_chars: int | None = DEFAULT_LIMIT, attributes: Sequence[str] = ("role",),
                 include_facilitators: bool = False, transpose: bool = False, themes_file: str | Path | None = None
                 ) -> MatrixResult:
    """Build a matrix of ``kind`` (see the module docstring) with every table for export."""
    _check_choice(kind, KINDS, "kind")
    if quotes < 0:
        raise MatrixError("quotes must be 0 or more")
    if quote_chars is not None and quote_chars < 40:
        raise MatrixError("quote_chars must be at least 40 (or None for whole quotes)")
    attributes = tuple(attributes)
    if cells is not None and kind == "saturation":
        raise MatrixError("cells do not apply to saturation (it has one layout)")
    if kind == "cooccurrence":
        cells = _check_choice(cells or DEFAULT_CELLS[kind], COOC_CELLS, "cells for cooccurrence")
    elif kind != "saturation":
        cells = _check_choice(cells or DEFAULT_CELLS[kind], CELLS, f"cells for {kind}")
    ex = load_excerpts(workspace, coder, include_facilitators)
    params: dict[str, Any] = {"kind": kind, "coder": coder or CONSENSUS, "codings": ex.source.label,
                              "excerpts": len(ex.excerpts), "include_facilitators": include_facilitators}
    if kind == "themes":
        result = _themes(workspace, ex, cells, level or "subdomain", framework, table, quotes, quote_chars, attributes,
                         themes_file, params)
    elif kind == "codes":
        result = _codes(workspace, ex, by or "participant", cells, level or "code", quotes, quote_chars, attributes,
                        transpose, params)
    elif kind == "cooccurrence":
        result = _cooccurrence(workspace, ex, unit, cells, level or "code", params)
    else:
        result = _saturation(workspace, ex, by or "transcript", level or "code", order, base, run, threshold, params)
    result.warnings[:0] = ex.warnings
    result.inputs = _inputs(workspace, ex, themes=kind == "themes")
    result.root = workspace.root
    return result


def matrix(workspace, kind: str, **options):
    """The matrix of ``kind`` as a DataFrame (options as :func:`build_matrix`).

    What a reader must know (e.g. coders pooled for want of a consensus) is issued as a
    :class:`MatrixWarning`; ``frame.attrs`` holds the warnings, notes and parameters too.
    """
    result = build_matrix(workspace, kind, **options)
    for w in result.warnings:
        _warnings.warn(w, MatrixWarning, stacklevel=2)
    frame = result.frame
    frame.attrs.update({"kind": kind, "warnings": list(result.warnings), "notes": list(result.notes),
                        "parameters": dict(result.parameters)})
    if result.saturation is not None:
        frame.attrs["saturation"] = result.saturation.as_dict()
    return frame


def export_matrix(result: MatrixResult, path: str | Path, workspace=None, tables: Sequence[str] | None = None) -> list[Path]:
    """Write the result's tables (or the named ones) through qualkit.render.tables, manifest beside."""
    from qualkit.render.tables import export_tables

    chosen = [t for t in result.tables if tables is None or t.name in tables]
    if not chosen:
        raise MatrixError(f"no table to export (tables: {', '.join(t.name for t in result.tables)})")
    return export_tables(chosen, path, title=result.title, workspace=workspace, inputs=result.inputs,
                         parameters={"command": "matrix", **result.parameters,
                                     "warnings": list(result.warnings)})


# ============================================================================ cell helpers

def _distinct(excerpts: Iterable[Excerpt]) -> list[Excerpt]:
    """One excerpt per span (a passage with two codes of a theme is one excerpt of that theme)."""
    seen: dict[tuple, Excerpt] = {}
    for e in excerpts:
        seen.setdefault(e.span, e)
    return list(seen.values())


def _people(excerpts: Iterable[Excerpt]) -> set[str]:
    return {p for e in excerpts for p in (e.participants or ((e.participant,) if e.participant else ()))}


def _counts_text(excerpts: list[Excerpt]) -> str:
    n, p = len(excerpts), len(_people(excerpts))
    return f"{n} excerpt{'s' if n != 1 else ''} / {p} participant{'s' if p != 1 else ''}"


def _cell(excerpts: list[Excerpt], cells: str, quotes: int, quote_chars, attributes, used: set | None = None):
    """One cell's value. ``used``: spans already quoted in this row, avoided while others remain
    (a theme mapped onto several domains would otherwise show the same quote in each)."""
    excerpts = _distinct(excerpts)
    if cells == "compact":  # terminal view: "excerpts/participants"
        return f"{len(excerpts)}/{len(_people(excerpts))}" if excerpts else ""
    if cells == "count":
        return len(excerpts)
    if cells == "presence":
        return 1 if excerpts else 0
    if cells == "participants":
        return len(_people(excerpts))
    if not excerpts:
        return ""
    fresh = [e for e in excerpts if used is None or e.span not in used]
    picked = select_quotes(fresh, quotes)
    if len(picked) < min(quotes, len(excerpts)):
        picked += [e for e in select_quotes(excerpts, quotes + len(picked)) if e not in picked][: quotes - len(picked)]
    if used is not None:
        used.update(e.span for e in picked[: quotes if cells == "quotes" else 1])
    chosen = [e.formatted(quote_chars, attributes) for e in picked]
    if cells == "quotes":
        return "\n".join(chosen)
    return "\n".join([_counts_text(excerpts), *chosen[:1]])


def _cells_note(cells: str) -> str:
    return {"count": "cells: number of coded excerpts", "presence": "cells: 1 = coded at least once, 0 = never",
            "participants": "cells: number of distinct participants",
            "quotes": "cells: illustrative quotes", "summary": "cells: excerpts / participants and the best quote"}[cells]


# ============================================================================ themes

def _fw_name(fw_id: str, frameworks: dict) -> str:
    return FRAMEWORK_SHORT.get(fw_id) or (fw_id.upper() if len(fw_id) <= 6 else frameworks[fw_id].name)


def _themes(workspace, ex: ExcerptSet, cells: str, level: str, framework: str | None, table: str, quotes: int,
            quote_chars, attributes, themes_file, params) -> MatrixResult:
    import pandas as pd

    from qualkit.analysis.themes import (
        LEVELS,
        ThemeProblem,
        at_level,
        item_label,
        load_themes,
        theme_mappings,
        themes_path,
    )
    from qualkit.frameworks.catalog import get_framework
    from qualkit.render.tables import Table

    _check_choice(level, LEVELS, "level for themes")
    _check_choice(table, ("matrix", "results"), "table")
    path = Path(themes_file) if themes_file else themes_path(workspace)
    themeset = load_themes(path)
    frameworks = workspace.frameworks()
    if framework:
        framework = get_framework(framework, frameworks=frameworks).id
    problems: list[ThemeProblem] = []
    mappings = theme_mappings(workspace, themeset, frameworks, problems)
    errors = [p for p in problems if p.is_error]
    if errors:
        raise MatrixError(errors[0].message + " (`qualkit themes check` lists every problem)", errors[0].path, errors[0].line)
    warns = [str(p.message) for p in problems]
    main_fw = workspace.config.framework
    by_code: dict[str, list[Excerpt]] = {}
    for e in ex.excerpts:
        by_code.setdefault(e.code, []).append(e)

    # columns
    columns: list = []
    for m in mappings.values():
        for item in m.items:
            col = at_level(item, frameworks, level)
            if framework and col.framework != framework:
                continue
            if all(c is not col for c in columns):
                columns.append(col)
    fw_order = {fid: i for i, fid in enumerate(frameworks)}

    def col_key(item):
        fw = frameworks[item.framework]
        pos = next((i for i, x in enumerate(fw.items()) if x is item), 0)
        return (item.framework != main_fw, fw_order.get(item.framework, 99), pos)

    columns.sort(key=col_key)
    several = len({c.framework for c in columns}) > 1
    labels = []
    for c in columns:
        label = item_label(c, frameworks)
        labels.append(f"{_fw_name(c.framework, frameworks)}: {label}" if several else label)
    labels = _unique_labels(labels)

    rows, compact = [], []
    theme_excerpts: dict[str, list[Excerpt]] = {}
    for theme in themeset:
        m = mappings[theme.id]
        mine = [e for code in theme.codes for e in by_code.get(code, [])]
        places = {code: {id(at_level(i, frameworks, level)) for i in m.items_for_code(code)} for code in theme.codes}
        theme_excerpts[theme.id] = mine
        row: dict[str, Any] = {"theme": theme.id, "name": theme.name, "valence": theme.valence or ""}
        used: set = set()
        for col, label in zip(columns, labels):
            inside = [e for e in mine if id(col) in places[e.code]]
            row[label] = _cell(inside, cells, quotes, quote_chars, attributes, used)
        row["all domains"] = _cell(mine, cells, quotes, quote_chars, attributes) if cells != "summary" else _counts_text(_distinct(mine))
        rows.append(row)
        crow = {"theme": theme.id, "name": theme.name, "valence": theme.valence or ""}
        for col, label in zip(columns, labels):
            inside = [e for e in mine if id(col) in places[e.code]]
            crow[label] = _cell(inside, "compact", 0, None, ())
        crow["all domains"] = _cell(mine, "compact", 0, None, ())
        compact.append(crow)
    matrix_df = pd.DataFrame(rows, columns=["theme", "name", "valence", *labels, "all domains"])

    # the manuscript table
    fws_used = {i.framework for m in mappings.values() for i in m.items if not framework or i.framework == framework}
    if framework:
        header_fw = framework
    elif len(fws_used) == 1:
        header_fw = next(iter(fws_used))
    else:
        header_fw = main_fw if not fws_used and main_fw in frameworks else None
    fw_title = _fw_name(header_fw, frameworks) if header_fw else "framework"
    domain_header = f"{fw_title} domain" if header_fw else "Framework domains"
    quote_header = "Illustrative quotes (participant, " + ", ".join(attributes) + ")" if attributes else "Illustrative quotes (participant)"
    res_rows = []
    for valence, section in SECTIONS:
        for theme in themeset:
            if theme.valence != valence:
                continue
            items = [i for i in mappings[theme.id].items if not framework or i.framework == framework]
            dom = "\n".join((f"{_fw_name(i.framework, frameworks)}: " if len(fws_used) > 1 else "") + item_label(i, frameworks)
                            for i in items)
            chosen = select_quotes(_distinct(theme_excerpts[theme.id]), quotes) if quotes else []
            res_rows.append({"Section": section, "Theme": theme.name, domain_header: dom, "Description": theme.description,
                             quote_header: "\n".join(e.formatted(quote_chars, attributes) for e in chosen)})
    results_df = pd.DataFrame(res_rows, columns=["Section", "Theme", domain_header, "Description", quote_header])

    notes = [f"{len(themeset)} themes; {_cells_note(cells)}; columns: {level} level; {ex.source_text()}."]
    mapped_from_codes = [t.id for t in themeset if mappings[t.id].from_codes and t.codes]
    if mapped_from_codes:
        notes.append("Mapped through their codes' framework refs (no 'domains' given): " + ", ".join(mapped_from_codes) + ".")
    if main_fw in frameworks and (not framework or framework == main_fw):
        fw = frameworks[main_fw]
        touched = [i for m in mappings.values() for i in m.items if i.framework == fw.id]
        gaps = [d.label for d in fw.domains() if not any(t.path == d.path or t.path.startswith(d.path + ".") for t in touched)]
        if gaps and len(themeset):
            notes.append(f"No theme maps onto these {_fw_name(fw.id, frameworks)} domains: " + ", ".join(gaps) + ".")
    quote_note = quote_rule(quote_chars)
    tables = [Table("themes_by_domain", matrix_df, f"Themes × {fw_title} domains ({_cells_note(cells)})",
                    " ".join(notes) + (" " + quote_note if cells in ("quotes", "summary") else ""))]
    for valence, section in SECTIONS:
        part = results_df[results_df["Section"] == section].drop(columns=["Section"]).reset_index(drop=True)
        if len(part):
            tables.append(Table(_slug(section.split(" (")[0]), part, f"{section}: themes mapped onto {fw_title}", quote_note))
    if framework and not columns and len(themeset):
        warns.append(f"no theme maps onto {framework}: the matrix has no domain columns")
    no_valence = [t.id for t in themeset if t.valence is None]
    if no_valence:
        warns.append(f"theme(s) with no valence: {', '.join(no_valence)} (results table: section 'Valence not set')")
    params.update({"cells": cells, "level": level, "framework": framework, "table": table, "quotes": quotes,
                   "quote_chars": quote_chars, "attributes": list(attributes), "themes": str(path.name),
                   "quote_rule": quote_note})
    frame = matrix_df if table == "matrix" else results_df
    title = f"Themes and {fw_title} domains"
    result = MatrixResult("themes", frame, tables, title, warns, notes, params)
    result.display = matrix_df if cells in ("count", "presence", "participants") else pd.DataFrame(compact, columns=matrix_df.columns)
    return result


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _unique_labels(labels: list[str]) -> list[str]:
    out, seen = [], {}
    for label in labels:
        n = seen.get(label, 0)
        seen[label] = n + 1
        out.append(label if n == 0 else f"{label} ({n + 1})")
    return out


# ============================================================================ codes × cases

def _code_order(workspace, used: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """Codes to show: every active code of the default codebook and every code used; codebook order."""
    books = workspace.codebooks()
    default = workspace.config.codebook
    used = set(used)
    order: list[str] = []
    names: dict[str, str] = {}
    for book in books:
        for code in book.codes:
            names.setdefault(code.id, code.name)
            if code.id in used or (book.id == default and code.status == "active"):
                if code.id not in order:
                    order.append(code.id)
    order += sorted(c for c in used if c not in order)
    return order, names


def _top_map(workspace) -> dict[str, str]:
    """Code id -> its top-level ancestor's id."""
    out = {}
    for book in workspace.codebooks():
        for code in book.codes:
            out.setdefault(code.id, book.path_of(code)[0].id)
    return out


def _apply_level(ex_or_codes, workspace, level: str):
    _check_choice(level, ("code", "top"), "level for codes")
    if level == "code":
        return lambda code: code
    top = _top_map(workspace)
    return lambda code: top.get(code, code)


def _cases(workspace, ex: ExcerptSet, by: str) -> tuple[list[str], Any]:
    """Case labels in order and a function excerpt -> the cases it belongs to."""
    table = workspace.participant_table
    if by == "transcript":
        return list(ex.transcripts), lambda e: {e.transcript}
    people = [p for tid in ex.transcripts for p in ex.participants[tid]]
    people = list(dict.fromkeys(people))
    unidentified = any(not (e.participants or e.participant) for e in ex.excerpts)

    def who(e: Excerpt) -> tuple:
        return e.participants or ((e.participant,) if e.participant else ())

    if by == "participant":
        cases = people + ([UNIDENTIFIED] if unidentified else [])
        return cases, lambda e: set(who(e)) or {UNIDENTIFIED}
    columns = table.attribute_columns
    if by not in columns:
        choices = ["participant", "transcript", *columns]
        close = difflib.get_close_matches(by, choices, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise MatrixError(f"cannot break down by {by!r}: use participant, transcript or a participants.csv column "
                          f"({', '.join(columns) or 'none'}){hint}")

    def value(p: str) -> str:
        v = (table.attributes(p).get(by) or "").strip()
        return v or NOT_SET

    values = sorted({value(p) for p in people}, key=lambda v: (v == NOT_SET, v.casefold()))
    if unidentified and NOT_SET not in values:
        values.append(NOT_SET)
    return values, lambda e: {value(p) for p in who(e)} or {NOT_SET}


def _codes(workspace, ex: ExcerptSet, by: str, cells: str, level: str, quotes: int, quote_chars, attributes,
           transpose: bool, params) -> MatrixResult:
    import pandas as pd

    from qualkit.render.tables import Table

    lv = _apply_level(ex, workspace, level)
    cases, case_of = _cases(workspace, ex, by)
    order, names = _code_order(workspace, {e.code for e in ex.excerpts})
    if level == "top":
        order = list(dict.fromkeys(lv(c) for c in order))
    grid: dict[tuple[str, str], list[Excerpt]] = {}
    per_code: dict[str, list[Excerpt]] = {}
    for e in ex.excerpts:
        code = lv(e.code)
        per_code.setdefault(code, []).append(e)
        for case in case_of(e):
            grid.setdefault((code, case), []).append(e)
    rows, compact = [], []
    for code in order:
        row: dict[str, Any] = {"code": code, "name": names.get(code, "")}
        crow = {"code": code, "name": names.get(code, "")}
        used: set = set()
        for case in cases:
            row[case] = _cell(grid.get((code, case), []), cells, quotes, quote_chars, attributes, used)
            crow[case] = _cell(grid.get((code, case), []), "compact", 0, None, ())
        crow["total"] = _cell(per_code.get(code, []), "compact", 0, None, ())
        compact.append(crow)
        mine = _distinct(per_code.get(code, []))
        if cells == "presence":
            row["total"] = sum(1 for case in cases if row[case])
        elif cells in ("count", "participants"):
            row["total"] = _cell(mine, cells, quotes, quote_chars, attributes)
        else:
            row["total"] = _counts_text(mine) if mine else ""
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["code", "name", *cases, "total"])
    display = frame if cells in ("count", "presence", "participants") else pd.DataFrame(compact, columns=frame.columns)
    if transpose:
        frame, display = _transpose(frame, cases, by), _transpose(display, cases, by)
    total_note = {"presence": "total: number of cases with the code", "count": "total: distinct excerpts",
                  "participants": "total: distinct participants"}.get(cells, "total: excerpts / participants")
    note = (f"{len(order)} codes × {len(cases)} {by} cases; {_cells_note(cells)}; {total_note}; "
            f"a coding that touches several participants counts for each; {ex.source_text()}.")
    if ex.left_out:
        note += f" Not coded, left out: {', '.join(ex.left_out)}."
    title = f"Codes × {by}" + (" (cases in rows)" if transpose else "")
    params.update({"by": by, "cells": cells, "level": level, "transpose": transpose, "quotes": quotes,
                   "quote_chars": quote_chars, "attributes": list(attributes)})
    if cells in ("quotes", "summary"):
        params["quote_rule"] = quote_rule(quote_chars)
    tables = [Table(f"codes_by_{_slug(by)}", frame, f"{title} ({_cells_note(cells)})", note)]
    notes = [note]
    return MatrixResult("codes", frame, tables, title, [], notes, params, display=display)


def _transpose(frame, cases: list[str], by: str):
    """Cases in rows, codes in columns (the Framework Method's layout)."""
    body = frame.set_index("code")[cases].T
    body.index.name = by
    out = body.reset_index()
    out.columns.name = None
    return out


# ============================================================================ co-occurrence

def cooccurrence_counts(unit_codes: Sequence[set[str]], codes: Sequence[str]):
    """(n per code, n12 per pair) over units, each unit a set of codes: the input of the coefficient."""
    n = {c: 0 for c in codes}
    both: dict[tuple[str, str], int] = {}
    for s in unit_codes:
        present = [c for c in codes if c in s]
        for c in present:
            n[c] += 1
        for i, a in enumerate(present):
            for b in present[i + 1:]:
                both[(a, b)] = both.get((a, b), 0) + 1
    return n, both


def c_coefficient(n1: int, n2: int, n12: int) -> float | None:
    """n12 / (n1 + n2 − n12): the Jaccard index of two unit sets (ATLAS.ti's c-coefficient formula)."""
    denom = n1 + n2 - n12
    return n12 / denom if denom > 0 else None


def _cooccurrence(workspace, ex: ExcerptSet, unit: str, cells: str, level: str, params) -> MatrixResult:
    import pandas as pd

    from qualkit.coding.units import UNIT_KINDS, coded_units, split_units
    from qualkit.render.tables import Table

    _check_choice(unit, UNIT_KINDS, "unit")
    lv = _apply_level(ex, workspace, level)
    table = workspace.participant_table

    def is_fac(turn) -> bool:
        return table.is_facilitator(turn.participant)

    spans_by: dict[str, list[tuple[int, int, str]]] = {}
    for c, _ in ex.codings:
        spans_by.setdefault(c.transcript, []).append((c.start, c.end, lv(c.code)))
    unit_sets: list[set[str]] = []
    n_units = 0
    for tid, t in ex.transcripts.items():
        units = split_units(t, unit, is_facilitator=is_fac)
        if not ex.include_facilitators and unit not in ("question", "document"):
            units = [u for u in units if u.turn is None or not is_fac(t.turns[u.turn])]
        n_units += len(units)
        unit_sets.extend(coded_units(units, spans_by.get(tid, [])))
    order, names = _code_order(workspace, {lv(c.code) for c, _ in ex.codings})
    if level == "top":
        order = list(dict.fromkeys(lv(c) for c in order))
    used = [c for c in order if any(c in s for s in unit_sets)]
    n, both = cooccurrence_counts(unit_sets, used)
    pos = {c: i for i, c in enumerate(used)}

    def n12(a: str, b: str) -> int:
        if a == b:
            return n[a]
        key = (a, b) if pos[a] < pos[b] else (b, a)
        return both.get(key, 0)

    counts = pd.DataFrame([[n12(a, b) for b in used] for a in used], index=used, columns=used)
    coef = pd.DataFrame([[round(c_coefficient(n[a], n[b], n12(a, b)) or 0.0, 3) for b in used] for a in used],
                        index=used, columns=used)
    pair_rows = []
    for (a, b), k in both.items():
        pair_rows.append({"code_a": a, "code_b": b, "n_a": n[a], "n_b": n[b], "n_both": k,
                          "c": round(c_coefficient(n[a], n[b], k), 3)})
    pairs = pd.DataFrame(pair_rows, columns=["code_a", "code_b", "n_a", "n_b", "n_both", "c"])
    if len(pairs):
        pairs = pairs.sort_values(["c", "n_both", "code_a", "code_b"], ascending=[False, False, True, True]).reset_index(drop=True)
    counts_df = counts.rename_axis("code").reset_index()
    coef_df = coef.rename_axis("code").reset_index()
    note = (f"{n_units} {unit} units in {len(ex.transcripts)} transcripts"
            + ("" if ex.include_facilitators or unit in ("question", "document") else " (interviewer/moderator turns left out)")
            + f"; {len(used)} codes used; c = n12 / (n1 + n2 − n12), the Jaccard index of the units coded with each code "
            "(the formula of ATLAS.ti's c-coefficient; ATLAS.ti counts quotations, not units); "
            f"{ex.source_text()}.")
    tables = [Table("cooccurrence_counts", counts_df, f"Code co-occurrence: units coded with both (diagonal: with the code), per {unit}", note),
              Table("cooccurrence_c", coef_df, "Code co-occurrence: c = n12 / (n1 + n2 − n12)", note),
              Table("cooccurrence_pairs", pairs, "Code pairs that co-occur, strongest first", note)]
    frame = {"count": counts_df, "coefficient": coef_df, "pairs": pairs}[cells]
    params.update({"unit": unit, "cells": cells, "level": level, "coefficient": "c = n12/(n1+n2-n12) (Jaccard)",
                   "units": n_units})
    return MatrixResult("cooccurrence", frame, tables, f"Code co-occurrence by {unit}", [], [note], params)


# ============================================================================ saturation

@dataclass
class SaturationSummary:
    """Guest et al. (2020) assessment: whether and where saturation was reached."""

    base: int
    run: int
    threshold: float
    reached: bool
    at: int | None              # the base size at which the next run added ≤ threshold new information
    label: str | None           # "6+2"
    unit: str                   # transcript | participant
    total_codes: int
    n: int                      # transcripts (or participants) assessed
    order_source: str
    statement: str

    def as_dict(self) -> dict[str, Any]:
        return {"base": self.base, "run": self.run, "threshold": self.threshold, "reached": self.reached, "at": self.at,
                "label": self.label, "unit": self.unit, "total_codes": self.total_codes, "n": self.n,
                "order": self.order_source, "statement": self.statement}


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%m/%d/%Y",
                 "%d.%m.%Y", "%A, %B %d, %Y", "%A %d %B %Y")
_DATE_LINE = re.compile(r"(?im)^\W*(?:interview |session |recording )?date\s*[:\-]\s*(.+?)\s*$")


def parse_date(text: str) -> date | None:
    """A date written in one of the usual ways ('2024-10-17', 'October 17, 2024', '14 March 2026')."""
    text = re.split(r"\s{2,}|\t|\s+\|\s+", str(text).strip())[0].strip().rstrip(".,;")
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def transcript_dates(workspace, transcripts: dict[str, Any]) -> tuple[dict[str, date], str]:
    """Interview dates per transcript and where they came from: a date column of participants.csv
    (date, interview_date or session_date; the first filled row of each transcript), else a
    "Date: ..." line above the first speaker turn of the transcript."""
    table = workspace.participant_table
    col = next((c for c in DATE_COLUMNS if c in table.attribute_columns), None)
    dates: dict[str, date] = {}
    sources: list[str] = []
    if col:
        for row in table.rows:
            tid, value = row.get("transcript"), (row.get(col) or "").strip()
            if tid in transcripts and value and tid not in dates:
                d = parse_date(value)
                if d:
                    dates[tid] = d
        if dates:
            sources.append(f"participants.csv '{col}' column")
    from_text = 0
    for tid, t in transcripts.items():
        if tid in dates:
            continue
        first = next((turn for turn in t.turns if turn.speaker), None)
        head = t.text[: first.start] if first else t.text[:2000]
        m = _DATE_LINE.search(head)
        if m:
            d = parse_date(m.group(1))
            if d:
                dates[tid] = d
                from_text += 1
    if from_text:
        sources.append("'Date:' lines in the transcripts")
    return dates, " and ".join(sources) or "no dates found"


def saturation_table(sequence: Sequence[tuple[str, set[str]]], base: int = 4, run: int = 2, threshold: float = 0.05):
    """Guest et al. (2020) on codes per unit in order: (rows, summary fields). Pure; no workspace."""
    rows = []
    seen: set[str] = set()
    cumulative = []
    for pos, (name, codes) in enumerate(sequence, start=1):
        new = sorted(codes - seen)
        seen |= codes
        cumulative.append(set(seen))
        rows.append({"position": pos, "name": name, "codes": len(codes), "new": len(new), "new_codes": ", ".join(new),
                     "cumulative": len(seen), "run": "", "new_in_run": None, "new_info": None, "saturated": None})
    reached_at = None
    for b in range(base, len(sequence) - run + 1):
        in_base = cumulative[b - 1]
        if not in_base:
            continue
        run_codes = set().union(*(codes for _, codes in sequence[b:b + run]))
        new_in_run = len(run_codes - in_base)
        ratio = new_in_run / len(in_base)
        ok = ratio <= threshold + 1e-12
        row = rows[b - 1]
        row.update({"run": f"{b + 1}–{b + run}" if run > 1 else str(b + 1), "new_in_run": new_in_run,
                    "new_info": round(ratio, 4), "saturated": ok})
        if ok and reached_at is None:
            reached_at = b
    return rows, reached_at


def _saturation(workspace, ex: ExcerptSet, by: str, level: str, order, base: int, run: int, threshold: float,
                params) -> MatrixResult:
    import pandas as pd

    from qualkit.render.tables import Table

    _check_choice(by, ("transcript", "participant"), "by for saturation")
    if base < 1 or run < 1:
        raise MatrixError("base and run must be at least 1")
    if not 0 <= threshold < 1:
        raise MatrixError("threshold is a share between 0 and 1 (e.g. 0.05 for 5%)")
    lv = _apply_level(ex, workspace, level)
    warns: list[str] = []
    ids = list(ex.transcripts)
    dates: dict[str, date] = {}
    if order:
        wanted = [o.strip() for o in (order.split(",") if isinstance(order, str) else order) if str(o).strip()]
        all_ids = [p.stem for p in workspace.transcript_paths()]
        for tid in wanted:
            if tid not in all_ids:
                close = difflib.get_close_matches(tid, all_ids, n=1)
                raise MatrixError(f"order: no transcript {tid!r}" + (f"; did you mean {close[0]!r}?" if close else "")
                                  + f" (known: {', '.join(all_ids)})")
        dupes = sorted({t for t in wanted if wanted.count(t) > 1})
        if dupes:
            raise MatrixError(f"order names {', '.join(dupes)} twice")
        uncoded = [t for t in wanted if t not in ex.transcripts]
        if uncoded:
            warns.append(f"not coded in {ex.source_label()}, left out of the order: {', '.join(uncoded)}")
        missing = [t for t in ids if t not in wanted]
        if missing:
            warns.append(f"coded but not in the order given, left out: {', '.join(missing)}")
        ids = [t for t in wanted if t in ex.transcripts]
        order_source = "as given (--order)"
    else:
        dates, where = transcript_dates(workspace, ex.transcripts)
        if ids and all(t in dates for t in ids):
            ids.sort(key=lambda t: (dates[t], _natural(t)))
            order_source = f"interview date ({where})"
        else:
            order_source = "natural id order"
            if dates:
                order_source += f" (dates for only {sum(1 for t in ids if t in dates)} of {len(ids)} transcripts)"
    codes_by_t: dict[str, set[str]] = {t: set() for t in ids}
    codes_by_p: dict[tuple[str, str], set[str]] = {}
    for e in ex.excerpts:
        if e.transcript not in codes_by_t:
            continue
        codes_by_t[e.transcript].add(lv(e.code))
        for p in e.participants or ((e.participant,) if e.participant else (UNIDENTIFIED,)):
            codes_by_p.setdefault((e.transcript, p), set()).add(lv(e.code))
    if by == "transcript":
        sequence = [(t, codes_by_t[t]) for t in ids]
    else:
        sequence = []
        for t in ids:
            people = list(ex.participants.get(t, []))
            if (t, UNIDENTIFIED) in codes_by_p:
                people.append(UNIDENTIFIED)
            sequence += [(p if p != UNIDENTIFIED else f"{t} {UNIDENTIFIED}", codes_by_p.get((t, p), set())) for p in people]
    rows, at = saturation_table(sequence, base, run, threshold)
    total = rows[-1]["cumulative"] if rows else 0
    unit_word = "transcript" if by == "transcript" else "participant"
    pct = f"{threshold:.0%}" if threshold * 100 == int(threshold * 100) else f"{threshold:.1%}"
    head = f"Guest et al. (2020) saturation, base {base}, run {run}, new-information threshold ≤ {pct}, by {unit_word}: "
    if len(sequence) < base + run:
        statement = head + f"not assessable: {len(sequence)} {unit_word}s, fewer than base + run ({base + run})."
    elif at is not None:
        r = rows[at - 1]
        statement = (head + f"reached at {at}+{run}: the {run} {unit_word}(s) after the first {at} added {r['new_in_run']} "
                     f"new code(s), {r['new_info']:.0%} of the {rows[at - 1]['cumulative']} codes in the base.")
    else:
        last = next((r for r in reversed(rows) if r["new_info"] is not None), None)
        tail = (f" The last run ({unit_word}s {last['run']}) added {last['new_in_run']} new code(s), {last['new_info']:.0%} "
                f"of the {last['cumulative']} codes in its base.") if last else ""
        statement = head + "not reached." + tail
    statement += f" {total} distinct codes in {len(sequence)} {unit_word}s; order: {order_source}."
    summary = SaturationSummary(base, run, threshold, at is not None, at, f"{at}+{run}" if at is not None else None,
                                unit_word, total, len(sequence), order_source, statement)
    name_col = unit_word
    frame = pd.DataFrame([{**{k: v for k, v in r.items() if k != "name"}, name_col: r["name"]} for r in rows],
                         columns=["position", name_col, "codes", "new", "new_codes", "cumulative", "run", "new_in_run",
                                  "new_info", "saturated"])
    frame["new_in_run"] = frame["new_in_run"].astype("Int64")
    frame["new_info"] = frame["new_info"].astype("Float64")
    frame["saturated"] = frame["saturated"].astype("boolean")
    if by == "transcript" and dates and order_source.startswith("interview date"):
        frame.insert(2, "date", [dates[t].isoformat() for t in ids])
    caveat = ("Code saturation is not meaning saturation (Hennink et al. 2017: codes at 9 interviews, meaning at 16–24); "
              "the base and run defaults (4, 2) are a choice to report.")
    notes = [statement, caveat]
    if ex.left_out:
        notes.append(f"Not coded in {ex.source_label()}, left out: {', '.join(ex.left_out)}.")
    defs = ("codes: distinct codes in the " + unit_word + "; new: codes not seen before; cumulative: distinct codes so far; "
            "run/new_in_run/new_info: the next run's new codes ÷ the codes in the base (the first `position` "
            f"{unit_word}s); saturated: new_info ≤ {pct}.")
    params.update({"by": by, "level": level, "base": base, "run": run, "threshold": threshold,
                   "order": [r["name"] for r in rows], "order_source": order_source})
    tables = [Table("saturation", frame, "Code saturation (Guest, Namey & Chen 2020)", " ".join([statement, defs, caveat]))]
    return MatrixResult("saturation", frame, tables, "Code saturation", warns, notes, params, saturation=summary)
