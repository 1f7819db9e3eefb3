"""The domains of a summary template: an interview guide's questions or a framework's top-level domains.

Domains come from the **interview guide** (``interview_guide:`` in qualkit.yaml, one domain per
main question or topic) or from a **framework**'s top-level domains (``framework:heif``). A coded
excerpt falls in a **guide domain** when its code is listed under the domain, or when the code's
nearest listed ancestor is, or when one of the code's framework refs resolves to an item the domain
lists, or to an item under it. It falls in a **framework domain** when one of its code's framework
refs resolves to that domain or to an item under it (a code without refs uses its parent's).
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qualkit.errors import SummaryError
from qualkit.io.naming import plural_s

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["GUIDE_FIELDS", "GUIDE_KEY", "Domain", "DomainSet", "default_source", "equity_frameworks", "interview_guide",
           "load_domains"]

GUIDE_KEY = "interview_guide"
GUIDE_FIELDS = ("id", "label", "prompt", "question", "codes", "framework")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Domain:
    """One section of a summary template: a guide question/topic or a framework domain."""

    id: str
    label: str
    prompt: str = ""
    codes: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)     # framework refs as written
    line: int | None = None                           # where the guide defines it
    items: list[Any] = field(default_factory=list, repr=False)  # resolved FrameworkItems


@dataclass
class DomainSet:
    """The domains of a template, where they come from (``guide`` or ``framework:ID``), and which
    codes fall in which domains."""

    source: str
    domains: list[Domain]
    description: str
    code_domains: dict[str, list[str]] = field(default_factory=dict)  # code id -> domain ids
    warnings: list[str] = field(default_factory=list)

    def get(self, key: str) -> Domain | None:
        """A domain by id or label (case and spacing ignored)."""
        norm = _norm_label(key)
        for d in self.domains:
            if d.id == key or _norm_label(d.label) == norm or _norm_label(d.id) == norm:
                return d
        return None

    def labels(self) -> list[str]:
        return [d.label for d in self.domains]

    def domains_of(self, code: str) -> list[str]:
        return self.code_domains.get(code, [])


def _norm_label(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", str(text).replace("_", " ")).split()).casefold()


def _guide_nodes(workspace: Workspace) -> tuple[int | None, list]:
    """The line of ``interview_guide:`` in qualkit.yaml and its items' YAML nodes (for line numbers)."""
    from qualkit.io.yamlfile import load_yaml_file

    _data, root = load_yaml_file(workspace.config.path, SummaryError, "settings file")
    for k, v in (root.value if root is not None and isinstance(root.value, list) else []):
        if getattr(k, "value", None) == GUIDE_KEY:
            return k.start_mark.line + 1, (v.value if isinstance(v.value, list) else [])
    return None, []


def _as_list(value, what: str, path, line) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if not isinstance(value, list) or not all(isinstance(x, (str, int, float)) for x in value):
        raise SummaryError(f"'{what}' must be a list of {'code ids' if what == 'codes' else 'framework refs'}", path, line)
    return [str(x).strip() for x in value if str(x).strip()]


def interview_guide(workspace: Workspace) -> list[Domain]:
    """The ``interview_guide:`` domains of qualkit.yaml, validated (errors name the line).

    Each domain has ``id`` (snake_case), ``label`` (the template heading; defaults to the id in
    words), optional ``prompt`` (or ``question``) text, ``codes`` (code ids) and ``framework``
    (framework refs such as ``heif:societal_context``). Ids and labels must be unique.
    """
    from qualkit.io.yamlfile import key_lines

    raw = workspace.config.interview_guide
    path = workspace.config.path
    if raw is None:
        return []
    key_line, nodes = _guide_nodes(workspace)
    if not isinstance(raw, list):
        raise SummaryError(f"'{GUIDE_KEY}' must be a list of domains (id, label, prompt, codes)", path, key_line)
    out: list[Domain] = []
    seen_ids: dict[str, int | None] = {}
    seen_labels: dict[str, int | None] = {}
    for i, item in enumerate(raw):
        node = nodes[i] if i < len(nodes) else None
        line = node.start_mark.line + 1 if node is not None else key_line
        lines = key_lines(node)
        if isinstance(item, str):  # a bare label: "- Barriers"
            item = {"id": re.sub(r"[^a-z0-9]+", "_", item.casefold()).strip("_"), "label": item}
        if not isinstance(item, dict):
            raise SummaryError(f"interview guide domain {i + 1} must be a mapping with id and label", path, line)
        for key in item:
            if key not in GUIDE_FIELDS:
                close = difflib.get_close_matches(str(key), GUIDE_FIELDS, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise SummaryError(f"unknown interview guide field '{key}'{hint}", path, lines.get(str(key), line))
        did = str(item.get("id") or "").strip()
        if not did:
            raise SummaryError(f"interview guide domain {i + 1} has no 'id'", path, line)
        if not _ID_RE.match(did):
            raise SummaryError(f"domain id {did!r} must be lower-case letters, digits and _ (e.g. referrals_data)",
                               path, lines.get("id", line))
        label = " ".join(str(item.get("label") or did.replace("_", " ").capitalize()).split())
        if did in seen_ids:
            raise SummaryError(f"domain id {did!r} is used twice (also line {seen_ids[did]})", path, lines.get("id", line))
        if _norm_label(label) in seen_labels:
            raise SummaryError(f"domain label {label!r} is used twice (also line {seen_labels[_norm_label(label)]}); "
                               "labels are the template headings", path, lines.get("label", line))
        seen_ids[did] = lines.get("id", line)
        seen_labels[_norm_label(label)] = lines.get("label", line)
        prompt = item.get("prompt") if item.get("prompt") is not None else item.get("question")
        if prompt is not None and not isinstance(prompt, (str, int, float)):
            raise SummaryError("'prompt' must be text", path, lines.get("prompt", lines.get("question", line)))
        out.append(Domain(did, label, " ".join(str(prompt or "").split()),
                          _as_list(item.get("codes"), "codes", path, lines.get("codes", line)),
                          _as_list(item.get("framework"), "framework", path, lines.get("framework", line)),
                          line))
    return out


def _code_refs(book, code) -> list[str]:
    """A code's framework refs, prefixed with its codebook's framework when written bare; a code
    without refs uses its nearest ancestor's."""
    for c in reversed(book.path_of(code)):
        if c.framework:
            return [r if ":" in r else f"{book.framework or ''}:{r}" for r in c.framework]
    return []


def _resolve(frameworks: dict, ref: str):
    fid, _, key = ref.partition(":")
    fw = frameworks.get(fid.strip())
    return fw.get(key) if fw is not None and key else None


def _under(item, target) -> bool:
    """Whether framework item ``item`` is ``target`` or lies under it."""
    return item.framework == target.framework and (item.path == target.path or item.path.startswith(target.path + "."))


def _safe_index(workspace: Workspace) -> dict:
    from qualkit.workspace.codebook import CodebookError

    try:
        return workspace.code_index()
    except CodebookError:
        return {}




def default_source(workspace: Workspace) -> str:
    """The domains a template uses when none is named: the guide if there is one, else the framework."""
    if workspace.config.interview_guide is not None:
        return "guide"
    return f"framework:{workspace.config.framework or 'heif'}"


def _guide_items(workspace: Workspace, domains: list[Domain], frameworks: dict, index: dict,
                 warnings: list[str]) -> None:
    """Resolve each guide domain's framework refs (an unknown ref is an error naming the line)."""
    from qualkit.frameworks.catalog import FrameworkRefError

    path = workspace.config.path
    for d in domains:
        for ref in d.refs:
            ref_full = f"{workspace.config.framework or 'heif'}:{ref}" if ":" not in ref else ref
            fid = ref_full.split(":", 1)[0]
            if fid not in frameworks:
                known = ", ".join(sorted(frameworks))
                raise SummaryError(f"domain {d.id!r}: unknown framework {fid!r} in {ref!r} (known: {known})", path, d.line)
            try:
                d.items.append(frameworks[fid].resolve(ref_full.split(":", 1)[1]))
            except FrameworkRefError as exc:
                raise SummaryError(f"domain {d.id!r}: {exc.message}", path, d.line) from None
        unknown = [c for c in d.codes if index and c not in index]
        if unknown:
            warnings.append(f"qualkit.yaml:{d.line}: interview guide domain {d.id!r} lists code{plural_s(len(unknown))} that {'is' if len(unknown) == 1 else 'are'} in no "
                            f"codebook: {', '.join(unknown)}")


def _guide_code_domains(domains: list[Domain], frameworks: dict, index: dict) -> dict[str, list[str]]:
    """Code id -> the guide domains its excerpts fall in (see the module docstring)."""
    listed: dict[str, list[str]] = {}
    for d in domains:
        for c in d.codes:
            listed.setdefault(c, []).append(d.id)
    order = {d.id: i for i, d in enumerate(domains)}
    code_domains: dict[str, list[str]] = {}
    for cid in set(index) | set(listed):
        hits: list[str] = []
        if cid in listed:
            hits += listed[cid]
        elif cid in index:
            book, code = index[cid]
            for anc in reversed(book.path_of(code)[:-1]):
                if anc.id in listed:
                    hits += listed[anc.id]
                    break
        if cid in index:
            book, code = index[cid]
            items = [it for it in (_resolve(frameworks, r) for r in _code_refs(book, code)) if it is not None]
            for d in domains:
                if d.id not in hits and any(_under(it, target) for it in items for target in d.items):
                    hits.append(d.id)
        code_domains[cid] = sorted(set(hits), key=lambda h: order[h])
    return code_domains


def _guide_set(workspace: Workspace, frameworks: dict, index: dict, warnings: list[str]) -> DomainSet:
    domains = interview_guide(workspace)
    if not domains:
        raise SummaryError(f"no '{GUIDE_KEY}:' domains in qualkit.yaml; add them (a list of id, label, prompt, "
                           "codes) or use --domains framework:ID", workspace.config.path)
    _guide_items(workspace, domains, frameworks, index, warnings)
    code_domains = _guide_code_domains(domains, frameworks, index)
    description = f"interview guide ({len(domains)} domains in qualkit.yaml)"
    return DomainSet("guide", domains, description, code_domains, warnings)



def _code_domains(index: dict, frameworks: dict, domains: list[Domain],
                  place: Callable[[Any], str | None]) -> dict[str, list[str]]:
    """Each code's domains, in the domains' order: ``place`` maps one of its resolved framework refs
    to a domain id (or None when the ref lies outside these domains)."""
    order = {d.id: i for i, d in enumerate(domains)}
    code_domains: dict[str, list[str]] = {}
    for cid, (book, code) in index.items():
        hits: list[str] = []
        for ref in _code_refs(book, code):
            item = _resolve(frameworks, ref)
            hit = place(item) if item is not None else None
            if hit is not None and hit not in hits:
                hits.append(hit)
        code_domains[cid] = sorted(hits, key=lambda h: order.get(h, 99))
    return code_domains

def _framework_set(workspace: Workspace, source: str, frameworks: dict, index: dict, warnings: list[str]) -> DomainSet:
    fid = source.partition(":")[2].strip() or (workspace.config.framework or "heif")
    if fid not in frameworks:
        close = difflib.get_close_matches(fid, sorted(frameworks), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(sorted(frameworks))})"
        raise SummaryError(f"no framework {fid!r}{hint}")
    fw = frameworks[fid]
    domains = [Domain(item.id, item.label, item.definition, [], [item.ref], None, [item]) for item in fw.domains()]
    code_domains = _code_domains(index, frameworks, domains,
                                 lambda item: item.path.split(".")[0] if item.framework == fid else None)
    description = f"{fw.name} ({fid}), {len(domains)} top-level domains"
    return DomainSet(f"framework:{fid}", domains, description, code_domains, warnings)


def load_domains(workspace: Workspace, source: str | None = None) -> DomainSet:
    """The domains for templates: ``"guide"`` (qualkit.yaml ``interview_guide:``), ``"framework"``
    (the workspace's framework) or ``"framework:ID"``. Default: the guide when there is one, else
    the workspace's framework. Also works out which codes fall in which domain."""
    warnings: list[str] = []
    if source is None or source == "":
        source = default_source(workspace)
        if source != "guide":
            warnings.append(f"no '{GUIDE_KEY}:' in qualkit.yaml, so the domains are {source}'s top-level domains "
                            f"(add an interview guide to summarise by guide question)")
    source = source.strip()
    frameworks = workspace.frameworks()
    index = _safe_index(workspace)
    if source == "guide":
        return _guide_set(workspace, frameworks, index, warnings)
    if source == "framework" or source.startswith("framework:"):
        return _framework_set(workspace, source, frameworks, index, warnings)
    if source == "equity" or source.startswith("equity:"):
        return _equity_set(workspace, source, frameworks, index, warnings)
    raise SummaryError(f"--domains must be 'guide', 'framework:ID' (e.g. framework:heif) or 'equity' (the "
                       f"framework's health-equity domains), not {source!r}")


def equity_frameworks(frameworks: dict) -> list[str]:
    """Ids of the frameworks that mark health-equity domains (HEIF), for messages that suggest one."""
    return [fid for fid, fw in frameworks.items() if fw.equity_domains()]


def _equity_set(workspace: Workspace, source: str, frameworks: dict, index: dict, warnings: list[str]) -> DomainSet:
    """The framework's health-equity domains (HEIF 2021: culturally relevant factors of recipients, the
    clinical encounter, societal context; Woodward et al. 2021, Implement Sci Commun 2:61): a code falls
    in the equity domain its framework refs lie in (the nearest marked ancestor)."""
    fid = source.partition(":")[2].strip() or (workspace.config.framework or "heif")
    fw = frameworks.get(fid.split("@")[0]) or frameworks.get(fid)
    if fw is None:
        raise SummaryError(f"no framework {fid!r} (known: {', '.join(sorted(frameworks))})")
    marked = fw.equity_domains()
    if not marked:
        where = "" if source.partition(":")[2].strip() else ", the framework of qualkit.yaml,"
        raise SummaryError(f"{fw.name} ({fw.id}){where} marks no health-equity domains; frameworks that do: "
                           f"{', '.join(equity_frameworks(frameworks)) or 'none'} (--domains equity:ID, with codes "
                           f"mapped onto that framework's refs)")
    domains = [Domain(item.id, item.label, item.definition, [], [item.ref], None, [item]) for item in marked]
    def equity_place(item: Any) -> str | None:
        dom = fw.equity_domain_of(item) if item.framework == fw.id else None
        return dom.id if dom is not None else None

    code_domains = _code_domains(index, frameworks, domains, equity_place)
    description = f"{fw.name} ({fw.id}), its {len(domains)} health-equity domains"
    return DomainSet(f"equity:{fw.id}", domains, description, code_domains, warnings)
