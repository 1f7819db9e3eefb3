"""`qualkit codebook validate`: every problem at once, each with its file and line; exit 1 on errors.

Also checks the codebooks that ship with the sample study (codebooks/heif_deductive.yaml and
codebooks/port_inductive.yaml).
"""
from __future__ import annotations

import json
import re

import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO

from qualkit.cli import cli
from qualkit.workspace.scaffold import init

HEADER = "transcript,start,end,code,text,memo,coded_at\n"

BROKEN = """\
id: broken
name: Broken codebook
framework: heif
codes:
  - id: stigma
    name: Stigma
  - id: self_stigma
    name: Self-stigma
    parent: stigma
  - id: shame
    name: SELF-STIGMA
    parent: stigma
  - id: stigma
    name: Stigma again
  - id: orphan
    name: Orphan
    parent: stigmaa
  - id: loop_a
    name: Loop A
    parent: loop_b
  - id: loop_b
    name: Loop B
    parent: loop_a
  - id: mapped
    name: Mapped
    framework:
      - heif:outer
      - heif:societal_contxt
      - cfir9:whatever
  - id: odd
    name: Odd
    origin: abductive
    status: paused
    colour: red
  - id: old
    name: Old code
    status: retired
"""

OTHER = """\
id: other
name: Other codebook
codes:
  - id: fax
    name: Fax
  - id: self_stigma
    name: Self-stigma elsewhere
"""


@pytest.fixture
def ws(tmp_path):
    return init(tmp_path / "ws")


def qk(root, *args):
    return CliRunner().invoke(cli, ["-w", str(root), "codebook", *args])


def line_of(text: str, needle: str, nth: int = 1) -> int:
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[nth - 1]


def test_validate_reports_every_problem_with_file_and_line(ws):
    (ws / "codebooks" / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    (ws / "codebooks" / "other.yaml").write_text(OTHER, encoding="utf-8")
    (ws / "codings" / "ana.csv").write_text(HEADER + "int1,0,5,fax,a,,\nint1,5,9,ghost,b,,\nint2,0,3,ghost,c,,\n"
                                            "int2,3,6,old,d,,\n", encoding="utf-8")
    r = qk(ws, "validate")
    assert r.exit_code == 1 and "Traceback" not in r.output
    out = r.output
    b = "codebooks/broken.yaml"

    def has(where_line: int, *words, path=b):
        pat = re.compile(rf"{re.escape(path)}:{where_line}: (error|warning): .*")
        lines = [m.group(0) for m in pat.finditer(out)]
        assert any(all(w in line for w in words) for line in lines), (where_line, words, out)

    has(line_of(BROKEN, "- id: stigma", 2), "duplicate code id 'stigma'", "line 5")
    has(line_of(BROKEN, "name: SELF-STIGMA"), "two codes named 'SELF-STIGMA' under 'stigma'")
    has(line_of(BROKEN, "parent: stigmaa"), "unknown parent 'stigmaa'", "did you mean 'stigma'")
    has(line_of(BROKEN, "parent: loop_b"), "cycle in the hierarchy: loop_a > loop_b > loop_a")
    has(line_of(BROKEN, "heif:societal_contxt"), "heif:societal_context")
    has(line_of(BROKEN, "cfir9:whatever"), "unknown framework 'cfir9'")
    has(line_of(BROKEN, "origin: abductive"), "origin 'abductive'")          # all three problems of one code
    has(line_of(BROKEN, "status: paused"), "status 'paused'")
    has(line_of(BROKEN, "colour: red"), "unknown code field 'colour'", "did you mean 'color'")
    has(line_of(BROKEN, "- id: self_stigma"), "also defined in other.yaml")  # across codebooks, both sides
    has(line_of(OTHER, "- id: self_stigma"), "also defined in broken.yaml", path="codebooks/other.yaml")
    has(3, "code 'ghost' is not in any codebook", "rows 3, 4", path="codings/ana.csv")
    has(5, "warning: retired code 'old' is still used", path="codings/ana.csv")
    assert "heif:outer" not in out                       # a good ref is not reported
    assert re.search(r"\n1[0-9] errors, 1 warning\.", out), out


def test_warnings_alone_exit_zero_and_a_clean_workspace_says_so(ws):
    assert qk(ws, "new", "PORT", "--id", "port").exit_code == 0
    r = qk(ws, "validate")
    assert r.exit_code == 0 and "No problems." in r.output
    qk(ws, "add", "Fax")
    qk(ws, "retire", "fax")
    (ws / "codings" / "ana.csv").write_text(HEADER + "int1,0,5,fax,a,,\n", encoding="utf-8")
    (ws / "codings" / "decisions.csv").write_text("unit,decision\n1,keep\n", encoding="utf-8")
    r = qk(ws, "validate")
    assert r.exit_code == 0 and "2 warnings." in r.output and "not a codings file" in r.output


def test_invalid_yaml_is_reported_with_its_line_and_other_files_are_still_checked(ws):
    (ws / "codebooks" / "a.yaml").write_text("id: a\nname: A\ncodes:\n  - id: x\n    name: [unclosed\n", encoding="utf-8")
    (ws / "codebooks" / "b.yaml").write_text("id: b\nname: B\ncodes:\n  - id: y\n    name: Y\n    parent: zz\n",
                                             encoding="utf-8")
    r = qk(ws, "validate", "--json")
    assert r.exit_code == 1
    problems = json.loads(r.output)["problems"]
    where = {(p["path"].split("/")[-1], p["line"]) for p in problems}
    assert ("b.yaml", 6) in where
    assert any(p["path"].endswith("a.yaml") and "invalid YAML" in p["message"] and p["line"] for p in problems)


def test_validate_one_codebook_by_id_or_a_file_by_path(ws, tmp_path):
    (ws / "codebooks" / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    (ws / "codebooks" / "other.yaml").write_text(OTHER, encoding="utf-8")
    r = qk(ws, "validate", "other")
    reported = [line.split(": ")[0] for line in r.output.splitlines() if ": error: " in line]
    assert r.exit_code == 1 and reported and all(w.endswith(f"other.yaml:{line_of(OTHER, '- id: self_stigma')}") for w in reported)
    loose = tmp_path / "draft.yaml"
    loose.write_text(OTHER.replace("name: Fax", "name: Fax\n    parent: nowhere"), encoding="utf-8")
    r = qk(ws, "validate", str(loose))
    assert r.exit_code == 1 and f"{loose.name}:6: error: unknown parent 'nowhere'" in r.output
    r = qk(ws, "validate", "nosuch")
    assert r.exit_code == 1 and "no codebook 'nosuch'" in r.output


def test_the_library_returns_problems_with_path_line_and_severity(ws):
    from qualkit.api import Workspace
    from qualkit.coding.codebook_validate import validate

    (ws / "codebooks" / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    problems = validate(Workspace(ws))
    assert all(p.path is not None and p.severity in ("error", "warning") for p in problems)
    cycle = next(p for p in problems if "cycle" in p.message)
    assert cycle.line == line_of(BROKEN, "parent: loop_b") and cycle.code == "loop_a"
    assert validate([ws / "codebooks" / "broken.yaml"])  # paths work without a workspace too


# -- the codebooks shipped with the sample study -------------------------------------------

SHIPPED = [REPO / "codebooks" / "heif_deductive.yaml", REPO / "codebooks" / "port_inductive.yaml"]


def test_the_shipped_codebooks_are_valid_together():
    from qualkit.coding.codebook_validate import validate

    assert [str(p) for p in validate(SHIPPED)] == []


def test_the_heif_codebook_is_what_new_from_framework_makes(ws):
    from qualkit.api import Workspace
    from qualkit.coding.codebook_edit import new_codebook
    from qualkit.workspace.codebook import load_codebook

    made = new_codebook(Workspace(ws), "HEIF deductive codebook", from_framework="heif", id="heif_deductive").codebook
    shipped = load_codebook(SHIPPED[0])
    assert [c.as_dict() for c in shipped.codes] == [c.as_dict() for c in made.codes], (
        "codebooks/heif_deductive.yaml is out of date with the HEIF framework file: delete it and run "
        "`qualkit codebook new 'HEIF deductive codebook' --from-framework heif --id heif_deductive --by qualkit`")


def test_the_port_codebook_fits_the_sample_transcripts(sample_workspace):
    from qualkit.api import Workspace
    from qualkit.frameworks.catalog import resolve_ref
    from qualkit.workspace.codebook import load_codebook

    book = load_codebook(SHIPPED[1])
    texts = [" ".join(t.text.split()) for t in Workspace(sample_workspace).transcripts()]
    assert 18 <= len(book.codes) <= 30
    top = [c for c in book.codes if c.parent is None]
    assert all(book.get(c.parent).parent is None for c in book.codes if c.parent)      # two levels
    assert all(book.children(c.id) for c in top)
    for c in book.codes:
        assert c.origin == "inductive" and c.status == "active"
        assert c.brief and c.definition and c.include and c.exclude, c.id
        assert 1 <= len(c.examples) <= 2, c.id
        for quote in c.examples:                                  # quoted from the transcripts
            assert any(" ".join(quote.split()) in t for t in texts), (c.id, quote)
        assert len(c.keywords) >= 5, c.id
        assert sum(any(k.casefold() in t.casefold() for t in texts) for k in c.keywords) >= 3, c.id
        assert c.framework, c.id
        for ref in c.framework:
            assert resolve_ref(ref).ref == ref
    topics = " ".join(f"{c.name} {c.definition}" for c in book.codes).casefold()
    for topic in ("hipaa", "community", "self", "transportation", "unhoused", "911", "good samaritan", "uniform",
                  "funding", "champion", "burnout", "72 hours", "buprenorphine", "waitlist", "broadband"):
        assert topic in topics, topic


def test_shipped_codebook_ids_do_not_clash():
    ids = [c["id"] for p in SHIPPED for c in yaml.safe_load(p.read_text(encoding="utf-8"))["codes"]]
    assert len(ids) == len(set(ids))


def test_a_code_id_used_twice_in_one_codebook_stops_show_and_every_loader_naming_both_lines(make_workspace, run_cli):
    ws = make_workspace(coders={"ana": [("By fax, days late.", "stigma")], "ben": [("Mostly.", "stigma")]})
    (ws.root / "codebooks" / "dup.yaml").write_text(
        "id: dup\nname: Dup\ncodes:\n  - id: stigma\n    name: Stigma\n  - id: access\n    name: Access\n"
        "  - id: stigma\n    name: Stigma again\n", encoding="utf-8")
    for args in (["codebook", "show", "dup"], ["codebook", "validate"], ["codebook", "add", "Transport", "-c", "dup"],
                 ["agree", "--coders", "ana,ben"]):
        result = run_cli(*args)
        assert result.exit_code != 0, (args, result.output)
        assert "dup.yaml:8: " in result.output and "duplicate code id 'stigma' (already defined on line 4)" in result.output, \
            (args, result.output)
    from qualkit.workspace.codebook import CodebookError, load_codebook

    with pytest.raises(CodebookError, match="already defined on line 4"):
        load_codebook(ws.root / "codebooks" / "dup.yaml")
