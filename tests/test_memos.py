"""Analytic memos and the reflexive journal: `qualkit memo add|list`, Markdown files in memos/, linked to
codes, themes, transcripts and cases, and listed in the report's audit trail."""
from __future__ import annotations

import json
import re

from qualkit.reporting.report import build_report


def test_memo_add_writes_markdown_with_links_and_list_filters_them(make_workspace, run_cli):
    ws = make_workspace()
    r = run_cli("memo", "add", "Fax delays are structural", "--text", "Everyone mentions the fax.",
                "--link", "code:fax", "--link", "transcript:int1", "--by", "ana")
    assert r.exit_code == 0, r.output
    files = list((ws.root / "memos").glob("*.md"))
    assert len(files) == 1 and re.fullmatch(r"\d{4}-\d\d-\d\d-fax_delays_are_structural\.md", files[0].name)
    text = files[0].read_text()
    assert text.startswith("---\ntitle: Fax delays are structural\nkind: memo\nauthor: ana\n")
    assert "links:\n- code:fax\n- transcript:int1\n---\nEveryone mentions the fax.\n" in text
    assert run_cli("memo", "add", "I used to work in an ED", "--reflexive", "--text", "Noted.").exit_code == 0
    data = json.loads(run_cli("memo", "list", "--json").output)
    assert [m["kind"] for m in data] == ["memo", "reflexive"]
    linked = json.loads(run_cli("memo", "list", "--link", "code:fax", "--json").output)
    assert [m["title"] for m in linked] == ["Fax delays are structural"]
    assert [m.title for m in ws.memos(kind="reflexive")] == ["I used to work in an ED"]
    r = run_cli("memo", "add", "Bad", "--link", "colour:red")
    assert r.exit_code == 1 and "link 'colour:red' must be one of code:ID" in r.output


def test_a_broken_memo_header_names_the_file_and_line(make_workspace, run_cli):
    ws = make_workspace()
    (ws.root / "memos").mkdir()
    (ws.root / "memos" / "m.md").write_text("---\ntitle: x\nkind: diary\n---\nbody\n")
    r = run_cli("memo", "list")
    assert r.exit_code == 1 and "m.md:1: kind 'diary' must be one of memo, reflexive" in r.output


def test_the_report_lists_the_sample_memos_in_its_audit_trail(sample_workspace):
    import qualkit

    html = build_report(qualkit.Workspace(sample_workspace)).read_text(encoding="utf-8")
    assert "Audit trail: memos and reflexive journal" in html
    assert "Police presence cuts both ways" in html and "reflexive journal" in html
    assert "theme:police_presence" in html
