"""REFI-QDA codebooks (``.qdc``): export and import, and the ``<Description>`` packing both formats use.

A REFI-QDA code has a name, a color, a hierarchy and one free-text ``Description``. qualkit's codes
have more (MacQueen et al.'s fields, framework refs, keywords...). They are packed into the
description as a first part holding the definition, then one labelled line per field that is set::

    How partner agencies move information about people who overdosed.

    Brief: Moving client information between partners
    When to use: Referral routes, consent forms,
      and what is done by hand.
    When not to use: Legal limits on sharing (data_sharing_hipaa).
    Examples:
    - we fax the consent form over
    - nobody talks to anybody
    Keywords: fax; HIPAA; data sharing agreement
    Framework: heif:outer_context
    Patterns: [[{"LOWER": "fax"}]]
    Origin: deductive
    Status: retired
    Code id: data_sharing

Lines that continue a value are indented by two spaces; list items (Keywords, Framework) are
separated by ``; `` (a ``;`` inside an item is written ``\\;``); ``Origin`` and ``Status`` are written
only when they differ from the defaults (inductive, active). Other tools show this text as it is;
qualkit reads it back (:func:`unpack_description`), so a round trip restores every field. A
description without such a block (another tool's) becomes the definition, whole.

Code GUIDs are ``uuid5`` of the code id (:func:`guid_for`), the same in ``.qdc`` and ``.qdpx``
exports, so re-exports diff well and other tools recognise the same code across files.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.errors import RefiQdaError
from qualkit.io.naming import plural_s
from qualkit.refiqda.ids import GUID_NAMESPACE, guid_for, xml_safe  # noqa: F401  (public here too)
from qualkit.workspace.codebook import ID_RE, Code, Codebook
from qualkit.workspace.store import state_locked

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
_RGB = re.compile(r"^#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")

# label in the description -> Code field, in the order they are written
CODE_LABELS = (
    ("Brief", "brief"),
    ("When to use", "include"),
    ("When not to use", "exclude"),
    ("Examples", "examples"),
    ("Keywords", "keywords"),
    ("Framework", "framework"),
    ("Patterns", "patterns"),
    ("Origin", "origin"),
    ("Status", "status"),
    ("Code name", "name"),
    ("Code id", "id"),
)
CODEBOOK_LABELS = (("Codebook id", "id"), ("Codebook name", "name"), ("Framework", "framework"),
                   ("Change log", "changelog"))


def pack_changelog(entries: Iterable[Any]) -> list[str]:
    """A codebook's change log as list items ``WHEN | WHO | WHAT`` (for a description)."""
    return [f"{e.when} | {e.who} | {e.what}" for e in entries]


def unpack_changelog(items: Any) -> list[Any]:
    """The change log back from :func:`pack_changelog`'s items (others are skipped)."""
    from qualkit.workspace.codebook import ChangeLogEntry

    out = []
    for item in items if isinstance(items, list) else []:
        parts = str(item).split(" | ", 2)
        if len(parts) == 3:
            out.append(ChangeLogEntry(parts[1], parts[0], parts[2]))
    return out


def version_origin() -> str:
    from qualkit import __version__

    return f"qualkit {__version__}"


# -- description packing ------------------------------------------------------------------------

def _join(items: Iterable[str]) -> str:
    return "; ".join(str(x).replace(";", "\\;") for x in items)


def _split(text: str) -> list[str]:
    parts = re.split(r"(?<!\\);", text or "")
    return [p.replace("\\;", ";").strip() for p in parts if p.strip()]


def _value_lines(label: str, value: str) -> list[str]:
    lines = value.split("\n")
    return [f"{label}: {lines[0]}", *("  " + ln for ln in lines[1:])]


def pack_labelled(lead: str, fields: list[tuple[str, Any]]) -> str:
    """``lead`` as the first part, then ``Label: value`` lines (see the module docstring)."""
    block: list[str] = []
    for label, value in fields:
        if value in (None, "", []):
            continue
        if isinstance(value, list):
            block.append(f"{label}:")
            for item in value:
                item_lines = str(item).split("\n")
                block.append(f"- {item_lines[0]}")
                block.extend("  " + ln for ln in item_lines[1:])
        else:
            block.extend(_value_lines(label, str(value)))
    lead = (lead or "").strip()
    if not block:
        return lead
    return (lead + "\n\n" if lead else "") + "\n".join(block)


def pack_description(code: Code, exported_name: str | None = None) -> str:
    """A qualkit code's fields as one REFI-QDA ``Description`` text (``Code name:`` only when the
    code is exported under another name, see :func:`export_names`)."""
    fields_: list[tuple[str, Any]] = []
    for label, name in CODE_LABELS:
        value = getattr(code, name)
        if name == "name":
            value = value if exported_name not in (None, value) else ""
        if name in ("keywords", "framework"):
            value = _join(value) if value else ""
        elif name == "patterns":
            value = json.dumps(value, ensure_ascii=False) if value else ""
        elif name == "origin":
            value = value if value != "inductive" else ""
        elif name == "status":
            value = value if value != "active" else ""
        fields_.append((label, value))
    return pack_labelled(code.definition, fields_)


def unpack_labelled(text: str, labels: Iterable[str], signature: str | None = None) -> tuple[str, dict[str, Any]]:
    """Split a description into its free text and its labelled fields (lists for list items).

    The labelled block starts after a blank line (or at the top) with a known label, and every
    line of it is a label, a list item or an indented continuation. It is normally the last part
    of the text; when another tool's user wrote after it (or before it), a block holding the
    ``signature`` label (``Code id``: qualkit's own) is still found wherever it stands, and the
    text around it is the free text. Anything else means there is no block: the whole text is free.
    """
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    known = {lab.casefold(): lab for lab in labels}
    label_re = re.compile(r"^([A-Za-z][A-Za-z ]*?):(?: (.*))?$")
    lines = text.split("\n")

    def label_of(line: str) -> str | None:
        m = label_re.match(line)
        return known.get(m.group(1).casefold()) if m else None

    starts = [k for k, line in enumerate(lines) if label_of(line) is not None and not (k > 0 and lines[k - 1].strip())]
    for k in starts:
        parsed = _parse_block(lines[k:], label_of, label_re)
        if parsed is not None:
            return "\n".join(lines[:k]).strip(), parsed
    for k in starts if signature else []:
        end = k
        while end < len(lines) and lines[end].strip() and (
                label_of(lines[end]) is not None or lines[end].startswith(("- ", "  "))):
            end += 1
        parsed = _parse_block(lines[k:end], label_of, label_re)
        if parsed is not None and signature in parsed:
            free = "\n\n".join(p for p in ("\n".join(lines[:k]).strip(), "\n".join(lines[end:]).strip()) if p)
            return free, parsed
    return text.strip(), {}


def _parse_block(lines: list[str], label_of, label_re) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    current: str | None = None
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    for line in lines:
        lab = label_of(line)
        if lab is not None:
            value = label_re.match(line).group(2)
            current = lab
            out[lab] = value if value is not None else []
        elif current is not None and line.startswith("- ") and isinstance(out[current], list):
            out[current].append(line[2:])
        elif current is not None and line.startswith("  "):
            if isinstance(out[current], list):
                if not out[current]:
                    return None
                out[current][-1] += "\n" + line[2:]
            else:
                out[current] += "\n" + line[2:]
        else:
            return None
    return out


def unpack_description(text: str) -> dict[str, Any]:
    """A packed description back into Code fields (only those present); see the module docstring."""
    lead, found = unpack_labelled(text, [lab for lab, _ in CODE_LABELS], signature="Code id")
    out: dict[str, Any] = {}
    if lead:
        out["definition"] = lead
    by_label = dict(CODE_LABELS)
    for label, value in found.items():
        name = by_label[label]
        if name == "examples":
            out[name] = [v.strip() for v in value] if isinstance(value, list) else [value.strip()]
        elif name in ("keywords", "framework"):
            out[name] = _split(value if isinstance(value, str) else "; ".join(value))
        elif name == "patterns":
            try:
                patterns = json.loads(value if isinstance(value, str) else "")
                out[name] = patterns if isinstance(patterns, list) else []
            except ValueError:
                out[name] = []
        elif isinstance(value, str):
            out[name] = value.strip()
    if out.get("origin") not in (None, "deductive", "inductive"):
        out.pop("origin")
    if out.get("status") not in (None, "active", "retired"):
        out.pop("status")
    return out


# -- writing codes -----------------------------------------------------------------------------

def export_names(codes: Iterable[Code]) -> tuple[dict[str, str], list[str]]:
    """Names under which codes are exported, each one distinct (case-insensitively): QualCoder keeps
    one code per name and would merge two codes named "Culture" and orphan one's codings. A repeated
    name gets its parent's id as a qualifier ("Culture (inner local)"), else its own id; the real
    name travels in the description (``Code name:``) and comes back on import. Returns the names
    (code id -> name) and one warning per repeated name."""
    codes = list(codes)
    by_name: dict[str, list[Code]] = {}
    for c in codes:
        by_name.setdefault(" ".join(c.name.split()).casefold(), []).append(c)
    names = {c.id: c.name for c in codes}
    taken = set(by_name)
    warnings = []
    for group in by_name.values():
        if len(group) < 2:
            continue
        for c in group:
            for qualifier in ([c.parent] if c.parent else []) + [c.id]:
                candidate = f"{c.name} ({qualifier.replace('_', ' ')})"
                if candidate.casefold() not in taken:
                    break
            else:
                candidate = f"{c.name} ({c.id})"
            taken.add(candidate.casefold())
            names[c.id] = candidate
        shown = ", ".join(repr(names[c.id]) for c in group)
        warnings.append(f"{len(group)} code{plural_s(len(group))} are named {group[0].name!r}: exported as {shown} (tools such as QualCoder "
                        "keep one code per name); `qualkit import` restores the name")
    return names, warnings


def code_tree(codes: list[Code]) -> tuple[dict[str | None, list[Code]], list[str]]:
    """Children by parent id (None: top level); codes whose parent is missing or that are caught
    in a cycle are placed at the top level, with a warning."""
    ids = {c.id for c in codes}
    warnings: list[str] = []
    by_parent: dict[str | None, list[Code]] = {}
    reachable: set[str] = set()
    for c in codes:
        parent = c.parent if c.parent in ids and c.parent != c.id else None
        if c.parent and parent is None:
            warnings.append(f"code {c.id!r}: parent {c.parent!r} is not in the codebook; exported at the top level")
        by_parent.setdefault(parent, []).append(c)
    stack = [c.id for c in by_parent.get(None, [])]
    while stack:
        cid = stack.pop()
        if cid in reachable:
            continue
        reachable.add(cid)
        stack.extend(c.id for c in by_parent.get(cid, []))
    for c in codes:
        if c.id not in reachable:  # in a cycle
            warnings.append(f"code {c.id!r} is in a parent cycle; exported at the top level")
            for kids in by_parent.values():
                if c in kids:
                    kids.remove(c)
            by_parent.setdefault(None, []).append(c)
            reachable.add(c.id)
    return by_parent, warnings


def add_code_elements(parent_el: Any, ns: str, codes: list[Code], *, note_refs: dict[str, list[str]] | None = None,
                      warnings: list[str] | None = None, names: dict[str, str] | None = None) -> int:
    """Append ``<Code>`` elements for ``codes`` (nested by parent) under ``parent_el``; returns how
    many. ``names``: the distinct names to export them under (:func:`export_names`)."""
    from lxml import etree

    by_parent, tree_warnings = code_tree(codes)
    if warnings is not None:
        warnings.extend(tree_warnings)
    count = 0

    def emit(container, code: Code, seen: set[str]) -> None:
        nonlocal count
        el = etree.SubElement(container, f"{{{ns}}}Code")
        el.set("guid", guid_for("code", code.id))
        shown = (names or {}).get(code.id, code.name)
        el.set("name", xml_safe(shown))
        el.set("isCodable", "true" if code.codable else "false")
        if code.color:
            if _RGB.match(code.color.strip()):
                el.set("color", code.color.strip())
            elif warnings is not None:
                warnings.append(f"code {code.id!r}: color {code.color!r} is not #RRGGBB; left out")
        description = pack_description(code, shown)
        if description:
            etree.SubElement(el, f"{{{ns}}}Description").text = xml_safe(description)
        for target in (note_refs or {}).get(code.id, []):
            etree.SubElement(el, f"{{{ns}}}NoteRef").set("targetGUID", target)
        count += 1
        for kid in by_parent.get(code.id, []):
            if kid.id not in seen:
                emit(el, kid, seen | {kid.id})

    for top in by_parent.get(None, []):
        emit(parent_el, top, {top.id})
    return count


def qdc_bytes(codebook: Codebook, warnings: list[str] | None = None) -> bytes:
    """A codebook as a ``.qdc`` document (REFI-QDA Codebook.xsd 1.0)."""
    from lxml import etree

    if not codebook.codes:
        raise RefiQdaError(f"codebook {codebook.id!r} has no codes; a .qdc needs at least one", codebook.path)
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS})
    root.set("origin", version_origin())
    codes_el = etree.SubElement(root, f"{{{CODEBOOK_NS}}}Codes")
    names, name_warnings = export_names(codebook.codes)
    if warnings is not None:
        warnings.extend(name_warnings)
    add_code_elements(codes_el, CODEBOOK_NS, codebook.codes, warnings=warnings, names=names)
    from qualkit.refiqda.sets import add_sets

    add_sets(root, CODEBOOK_NS, [codebook], member_attr="guid", exported={c.id for c in codebook.codes})
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True, standalone=True)


def export_qdc(codebook: Codebook, path: str | Path) -> list[str]:
    """Write ``codebook`` to ``path`` as a ``.qdc`` file (atomically); returns warnings."""
    from qualkit.io.outputs import check_output, write_output_bytes

    check_output(path)
    warnings: list[str] = []
    write_output_bytes(Path(path), qdc_bytes(codebook, warnings))
    return warnings


# -- reading codes -----------------------------------------------------------------------------

@dataclass
class CodeTreeResult:
    """Codes read from ``<Code>`` elements, and what was learnt on the way."""

    codes: list[Code] = field(default_factory=list)
    by_guid: dict[str, str] = field(default_factory=dict)  # normalized GUID -> code id
    folders: int = 0
    note_refs: dict[str, list[str]] = field(default_factory=dict)  # code id -> note GUIDs
    warnings: list[str] = field(default_factory=list)


def _wanted_id(packed: str | None, guid: str, name: str, parent_id: str | None, known: Mapping[str, str]) -> str | None:
    """The id a code had in qualkit, if it had one: its ``Code id:`` line, else the code of the
    workspace with this GUID (``known``), else the id its GUID was made from (qualkit's GUIDs are
    uuid5 of the id, so a code whose description lost its ``Code id:`` line keeps its id)."""
    from qualkit.io.naming import slugify

    if packed and ID_RE.match(packed.strip()):
        return packed.strip()
    if guid in known:
        return known[guid]
    for cand in (slugify(name), slugify(f"{parent_id}_{slugify(name)}", max_len=64) if parent_id else ""):
        if cand and guid == guid_for("code", cand):
            return cand
    return None


def read_code_elements(elements: list, taken: set[str], *, parent: str | None = None,
                       result: CodeTreeResult | None = None, path: Path | None = None,
                       member: str | None = None, known: Mapping[str, str] | None = None) -> CodeTreeResult:
    """qualkit codes from ``<Code>`` elements (recursively). A code keeps the id it had in qualkit
    (:func:`_wanted_id`) when it is free; other codes get one from their name (a clash gets the
    parent's id as prefix, then _2...). A code whose id is taken is renamed with a warning, never
    silently. ``known``: normalized GUID -> code id of the workspace imported into."""
    from qualkit.io.naming import slugify, unique_id
    from qualkit.refiqda.archive import child, child_text, children, norm_guid

    result = result or CodeTreeResult()

    def walk(el, parent_id: str | None) -> None:
        name = " ".join((el.get("name") or "").split())
        if not name:
            name = "Unnamed code"
            result.warnings.append(f"{member or 'codebook'}, line {el.sourceline}: a code has no name; called {name!r}")
        fields_ = unpack_description(child_text(el, "Description")) if child(el, "Description") is not None else {}
        guid = norm_guid(el.get("guid"))
        name = fields_.pop("name", None) or name  # the real name of a code exported under a distinct one
        wanted = _wanted_id(fields_.pop("id", None), guid, name, parent_id, known or {})
        base = slugify(name)
        if base in taken and parent_id:
            base = slugify(f"{parent_id}_{base}", max_len=64)
        if wanted and wanted not in taken:
            code_id = wanted
        else:
            code_id = unique_id(base, taken)
            if wanted:
                result.warnings.append(f"code {name!r}: its id {wanted!r} is already used by another code; "
                                       f"imported as {code_id!r} (its codings follow it)")
        taken.add(code_id)
        color = (el.get("color") or "").strip()
        if color and not _RGB.match(color):
            result.warnings.append(f"code {name!r}: color {color!r} is not #RRGGBB; left out")
            color = ""
        codable = (el.get("isCodable") or "true").strip().lower() not in ("false", "0")
        result.folders += not codable
        code = Code(code_id, name, parent_id, color=color or None, codable=codable, **fields_)
        result.codes.append(code)
        if not guid:
            result.warnings.append(f"{member or 'codebook'}, line {el.sourceline}: code {name!r} has no guid")
        elif guid in result.by_guid:
            result.warnings.append(f"{member or 'codebook'}, line {el.sourceline}: code {name!r} repeats the guid of "
                                   f"another code; references go to the first")
        else:
            result.by_guid[guid] = code_id
        refs = [norm_guid(r.get("targetGUID")) for r in children(el, "NoteRef")]
        if refs:
            result.note_refs[code_id] = refs
        for kid in children(el, "Code"):
            walk(kid, code_id)

    for el in elements:
        walk(el, parent)
    return result


@dataclass
class QdcResult:
    """A codebook read from a ``.qdc`` file (and, after :func:`import_qdc`, where it was saved)."""

    codebook: Codebook
    source: Path
    folders: int = 0
    sets: int = 0
    warnings: list[str] = field(default_factory=list)
    not_carried: list[str] = field(default_factory=list)
    path: Path | None = None
    written: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"source": str(self.source), "codebook": self.codebook.id, "name": self.codebook.name,
                "codes": len(self.codebook.codes), "folders": self.folders, "sets": self.sets,
                "path": str(self.path) if self.path else None, "written": self.written,
                "warnings": list(self.warnings), "not_carried": list(self.not_carried)}


def _check_namespace(root, expected: str, kind: str, path: Path, member: str | None, warnings: list[str]) -> None:
    from qualkit.refiqda.archive import namespace

    ns = namespace(root)
    if ns == expected:
        return
    if not ns:
        warnings.append(f"{member or path.name}: no XML namespace (expected {expected}); read anyway")
    elif ns.lower().startswith(f"urn:qda-xml:{kind}:"):
        warnings.append(f"{member or path.name}: namespace {ns} is not {expected} (a draft of the standard); read anyway")
    else:
        warnings.append(f"{member or path.name}: unexpected namespace {ns}; read as REFI-QDA {kind} anyway")


def read_qdc(path: str | Path, *, codebook_id: str | None = None, name: str | None = None,
             taken: Iterable[str] = ()) -> QdcResult:
    """Read a ``.qdc`` file into a :class:`~qualkit.workspace.codebook.Codebook` (not saved)."""
    from qualkit.io.naming import slugify
    from qualkit.refiqda.archive import (
        MAX_XML_BYTES,
        child,
        children,
        localname,
        parse_xml,
    )

    path = Path(path)
    if not path.is_file():
        raise RefiQdaError("no such file" if not path.exists() else "is not a file", path)
    if path.stat().st_size > MAX_XML_BYTES:
        raise RefiQdaError(f"refused: the file is larger than {MAX_XML_BYTES // (1024 * 1024)} MB", path)
    root = parse_xml(path.read_bytes(), path, None)
    warnings: list[str] = []
    if localname(root) != "CodeBook":
        hint = " (a .qde project file: import the .qdpx with `qualkit import qdpx`)" if localname(root) == "Project" else ""
        raise RefiQdaError(f"not a REFI-QDA codebook: the root element is <{localname(root)}>, not <CodeBook>{hint}",
                           path, None, root.sourceline)
    _check_namespace(root, CODEBOOK_NS, "codebook", path, None, warnings)
    codes_el = child(root, "Codes")
    if codes_el is None or not children(codes_el, "Code"):
        raise RefiQdaError("the codebook has no <Codes> with codes in it", path, None, root.sourceline)
    book_id = codebook_id or slugify(path.stem).replace("-", "_") or "imported"
    if not ID_RE.match(book_id):
        raise RefiQdaError(f"codebook id {book_id!r} must be lower-case letters, digits, _ . -", path)
    tree = read_code_elements(children(codes_el, "Code"), set(taken), path=path)
    origin = root.get("origin")
    description = f"Imported from {path.name}" + (f" ({origin})" if origin else "") + "."
    book = Codebook(book_id, name or path.stem.replace("_", " ").strip() or book_id, tree.codes, description)
    result = QdcResult(book, path, tree.folders, warnings=warnings + tree.warnings)
    from qualkit.refiqda.sets import read_sets

    sets = read_sets(child(root, "Sets"), tree.by_guid, [book])
    result.sets = sets.sets
    result.warnings += sets.warnings
    result.not_carried += sets.not_carried()
    return result


@state_locked
def import_qdc(workspace: Workspace, path: str | Path, *, codebook_id: str | None = None, name: str | None = None,
               dry_run: bool = False) -> QdcResult:
    """Read a ``.qdc`` file and save it as ``codebooks/<id>.yaml`` in ``workspace``.

    Never overwrites: an existing codebook id or file is refused (choose another id). Code ids
    are made unique across the workspace's codebooks.
    """
    from qualkit.io.naming import slugify
    from qualkit.workspace.codebook import save_codebook

    books = workspace.codebooks()
    taken = {c.id for b in books for c in b.codes}
    book_id = codebook_id or slugify(Path(path).stem) or "imported"
    result = read_qdc(path, codebook_id=book_id, name=name, taken=taken)
    target = workspace.codebooks_dir / f"{book_id}.yaml"
    if any(b.id == book_id for b in books) or target.exists() or (workspace.codebooks_dir / f"{book_id}.yml").exists():
        raise RefiQdaError(f"a codebook with id {book_id!r} already exists in codebooks/; choose another id (--id)",
                           Path(path))
    result.path = target
    if not dry_run:
        result.codebook.log("qualkit", f"imported {len(result.codebook.codes)} code{plural_s(len(result.codebook.codes))} from {Path(path).name}")
        save_codebook(result.codebook, target)
        result.written = True
    return result
