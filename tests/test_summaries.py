"""Rapid analysis summary templates: generate them, fill them in (Markdown and Word), read them back."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import qualkit.cli
from qualkit.analysis.matrices import build_matrix
from qualkit.analysis.quotes import ELLIPSIS, trim_quote
from qualkit.analysis.summaries import (
    SummaryError,
    collect_summaries,
    load_domains,
    read_summaries,
    template_state,
    write_templates,
)
from qualkit.api import Workspace
from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.codings import Coding
from qualkit.workspace.scaffold import init

INT1 = """PORT evaluation - partner interview 1
Date: 3 March 2026

Interviewer: How do referrals reach the team?
Maria: By fax, usually days late. The consent form has to be signed first, and the hospital lawyers worry about privacy.
Interviewer: What gets in the way?
Maria: There is no bus out there. And people feel judged. The nurses look down on them.
Interviewer: What helps?
Maria: Our peer opens doors. She has been there herself, so people talk to her.
"""

FG1 = """Moderator: Let's start with referrals. How do they reach the team?
Ann: I fax the consent form from the ED, and nobody tells us what happened after.
Bo: Our reports take three days to get approved by the sergeant.
Moderator: What gets in the way?
Cy: Rides. The clinic is forty miles away and there is no bus.
Ann: Some staff call them frequent flyers.
Moderator: And what helps?
Cy: The peer, every time. People trust someone who has lived it.
"""

PARTICIPANTS = """transcript,speaker,participant_id,role,site,group
,Interviewer,RT-1,interviewer,,
,Moderator,RT-2,moderator,,
int1,Maria,KP-1,behavioral health,Pine Hollow,interview
fg1,Ann,FG1-P1,medical,Calder,FG1
fg1,Bo,FG1-P2,public safety,Calder,FG1
fg1,Cy,FG1-P3,behavioral health,Calder,FG1
"""

GUIDE = """
interview_guide:
  - id: referrals
    label: Referrals and data
    prompt: How do referrals reach the team?
    codes: [data]                      # a parent code: covers its sub-code privacy too
  - id: barriers
    label: Barriers
    question: What gets in the way?
    codes: [transport, stigma]
  - id: helps
    label: What helps
    framework: [heif:clinical_encounter]   # codes mapped to this HEIF domain
  - id: other
    label: Anything else
"""


def at(ws, transcript: str, quote: str, code: str) -> Coding:
    text = ws.transcript(transcript).text
    start = text.index(quote)
    return Coding(transcript, start, start + len(quote), code, quote)


def make_ws(tmp_path, guide: str = GUIDE, consensus: bool = False) -> Workspace:
    """Two transcripts (an interview and a focus group), a small codebook mapped onto HEIF, two coders."""
    root = init(tmp_path / "ws")
    config = (root / "qualkit.yaml").read_text().replace("coders: []", "coders: [ana, ben]")
    (root / "qualkit.yaml").write_text(config + guide)
    (root / "participants.csv").write_text(PARTICIPANTS)
    (root / "transcripts" / "int1.txt").write_text(INT1)
    (root / "transcripts" / "fg1.txt").write_text(FG1)
    save_codebook(Codebook("port", "PORT codebook", [
        Code("data", "Referrals and data", framework=["heif:structure_and_systems"]),
        Code("privacy", "Privacy rules", parent="data", framework=["heif:regulatory_frameworks"]),
        Code("transport", "Transport", framework=["heif:physical_structures"]),
        Code("stigma", "Stigma", framework=["heif:societal_context"]),
        Code("stigma_staff", "Stigma by staff", parent="stigma", framework=["heif:provider"]),
        Code("peer", "Peers", framework=["heif:clinical_encounter"]),
    ], framework="heif"), root / "codebooks" / "port.yaml")
    ws = Workspace(root)
    ws.write_codings("ana", [
        at(ws, "int1", "By fax, usually days late.", "data"),
        at(ws, "int1", "the hospital lawyers worry about privacy", "privacy"),
        at(ws, "int1", "There is no bus out there.", "transport"),
        at(ws, "int1", "The nurses look down on them.", "stigma_staff"),
        at(ws, "fg1", "I fax the consent form from the ED", "data"),
        at(ws, "fg1", "Rides. The clinic is forty miles away", "transport"),
        at(ws, "fg1", "Some staff call them frequent flyers.", "stigma_staff"),
        at(ws, "fg1", "How do they reach the team?", "data"),           # the moderator's own words
    ])
    ws.write_codings("ben", [
        at(ws, "int1", "By fax, usually days late.", "data"),              # same as ana: counted once
        at(ws, "int1", "Our peer opens doors.", "peer"),
        at(ws, "fg1", "the consent form from the ED, and nobody tells us", "data"),  # overlaps ana: merged
        at(ws, "fg1", "Our reports take three days to get approved", "data"),
        at(ws, "fg1", "People trust someone who has lived it.", "peer"),
    ])
    if consensus:
        ws.write_codings("consensus", [at(ws, "int1", "There is no bus out there.", "transport")])
    return ws


@pytest.fixture
def qk():
    def invoke(ws, *args):
        return CliRunner().invoke(qualkit.cli.cli, ["-w", str(ws.root), *args], catch_exceptions=False)

    return invoke


def summary_section(text: str, heading: str) -> str:
    part = text.split(f"## {heading}\n", 1)[1]
    return part.split("\n## ", 1)[0]


def fill_md(path, bullets: dict[str, list[str]]) -> None:
    """Replace a domain's empty bullets with the analyst's, as someone would in a text editor."""
    text = path.read_text(encoding="utf-8")
    for heading, items in bullets.items():
        head, rest = text.split(f"## {heading}\n", 1)
        section, sep, tail = rest.partition("\n## ")
        section = section.replace("Summary:\n\n- \n- \n- \n", "Summary:\n\n" + "".join(f"- {b}\n" for b in items), 1)
        text = f"{head}## {heading}\n{section}{sep}{tail}"
    path.write_text(text, encoding="utf-8")


# ------------------------------------------------------------------------------ domains
def test_guide_domains_map_codes_sub_codes_and_framework_refs(tmp_path):
    ws = make_ws(tmp_path)
    d = load_domains(ws)
    assert d.source == "guide" and [x.label for x in d.domains] == ["Referrals and data", "Barriers", "What helps", "Anything else"]
    assert d.domains[1].prompt == "What gets in the way?"                    # `question:` is accepted for `prompt:`
    assert d.domains_of("data") == ["referrals"]
    assert d.domains_of("privacy") == ["referrals"]                          # sub-code of a listed parent
    assert d.domains_of("stigma_staff") == ["barriers"]
    assert d.domains_of("peer") == ["helps"]                                 # through its HEIF ref
    heif = load_domains(ws, "framework:heif")
    assert heif.domains_of("stigma_staff") == ["recipients"] and heif.domains_of("transport") == ["societal_context"]
    assert heif.domains_of("privacy") == ["context"]


@pytest.mark.parametrize("guide, message, offset", [
    ("  - id: a\n    label: A\n  - id: a\n    label: B\n", r"domain id 'a' is used twice \(also line", 3),
    ("  - id: a\n    lable: A\n", r"unknown interview guide field 'lable' \(did you mean 'label'\?\)", 2),
    ("  - id: a\n    framework: [heif:societal_contxt]\n", "domain 'a': .*did you mean heif:societal_context", 1),
    ("  - id: Bad Id\n", "must be lower-case", 1),
    ("  - id: a\n  - id: b\n    label: A\n", "domain label 'A' is used twice", 3),
])
def test_a_broken_interview_guide_names_the_line_in_qualkit_yaml(tmp_path, guide, message, offset):
    ws = make_ws(tmp_path, guide="interview_guide:\n" + guide)
    with pytest.raises(SummaryError, match=message) as exc:
        load_domains(ws)
    key_line = ws.config.path.read_text().splitlines().index("interview_guide:") + 1
    assert exc.value.path.name == "qualkit.yaml" and exc.value.line == key_line + offset


def test_trimming_never_cuts_mid_word_and_keeps_the_ellipsis_within_the_limit():
    text = "The clinic is forty miles away and there is no bus out there at all."
    assert trim_quote(text, 28) == "The clinic is forty miles" + ELLIPSIS
    assert trim_quote(text, 31) == "The clinic is forty miles away" + ELLIPSIS
    assert trim_quote(text, 200) == text
    assert trim_quote("  spread\nover   lines ", None) == "spread over lines"


def test_a_60_character_limit_gives_a_quote_of_at_most_60_characters_ending_at_a_word_boundary():
    text = "Our reports take three days to get approved by the sergeant, and by then the person has moved on."
    quote = trim_quote(text, 60)
    assert quote == "Our reports take three days to get approved by the" + ELLIPSIS  # "sergeant,…" would be 61
    assert len(quote) <= 60  # the ellipsis counts
    kept = quote.removesuffix(ELLIPSIS).rstrip()
    assert text.startswith(kept) and not text[len(kept)].isalnum()  # never inside a word


def test_the_same_excerpt_reads_the_same_in_a_summary_template_and_in_the_theme_table(tmp_path):
    ws = make_ws(tmp_path)
    turn = "By fax, usually days late. The consent form has to be signed first, and the hospital lawyers worry about privacy."
    ws.write_codings("consensus", [at(ws, "int1", turn, "data")])
    (ws.root / "themes.yaml").write_text("themes:\n  - id: paper_trail\n    name: Paper trail\n    valence: barrier\n"
                                         "    codes: [data]\n", encoding="utf-8")
    write_templates(ws, transcripts=["int1"], max_chars=60)
    template = (ws.root / "summaries" / "int1.md").read_text(encoding="utf-8")
    table = build_matrix(ws, "themes", cells="quotes", quote_chars=60).frame
    quote = next(v for v in table.loc[0].tolist() if isinstance(v, str) and v.startswith("“"))  # once per table
    assert quote == "“By fax, usually days late. …” (KP-1, behavioral health)"  # cut after the last whole sentence
    assert f"> {quote} · turn 3 · data" in template


# ----------------------------------------------------------------------------- templates
def test_template_per_transcript_with_header_domains_and_excerpts(tmp_path, qk):
    ws = make_ws(tmp_path)
    r = qk(ws, "summaries", "template")
    assert r.exit_code == 0, r.output
    assert "no codings/consensus.csv yet: excerpts pool the coders ana, ben" in r.stderr
    assert "wrote     summaries/int1.md" in r.stdout and "wrote     summaries/fg1.md" in r.stdout
    int1 = (ws.root / "summaries" / "int1.md").read_text()
    assert "- Transcript: int1\n- Session: interview\n- Date: 3 March 2026\n" in int1
    assert "- Participant: KP-1 (role: behavioral health; site: Pine Hollow; group: interview)" in int1
    assert [line for line in int1.splitlines() if line.startswith("## ")] == [
        "## Referrals and data", "## Barriers", "## What helps", "## Anything else"]
    refs = summary_section(int1, "Referrals and data")
    assert "*Guide question:* How do referrals reach the team?" in refs
    # pooled coders: the shared coding appears once; the privacy sub-code falls under its parent's domain
    assert refs.count("By fax, usually days late.") == 1
    assert "> “By fax, usually days late.” (KP-1, behavioral health) · turn 3 · data" in refs
    assert "“the hospital lawyers worry about privacy” (KP-1, behavioral health) · turn 3 · privacy" in refs
    assert refs.endswith("Summary:\n\n- \n- \n- \n")                   # room for the analyst's bullets
    assert "No coded excerpts fall in this domain" in summary_section(int1, "Anything else")
    fg1 = (ws.root / "summaries" / "fg1.md").read_text()
    assert "- Session: focus group, 3 participants\n" in fg1 and "- Facilitators: RT-2 (role: moderator)" in fg1
    assert "  - FG1-P2 (role: public safety; site: Calder; group: FG1)" in fg1
    refs = summary_section(fg1, "Referrals and data")
    # overlapping codings of the same code merge into one excerpt; the moderator's words are left out
    assert "“I fax the consent form from the ED, and nobody tells us” (FG1-P1, medical) · turn 2 · data" in refs
    assert "“Our reports take three days to get approved” (FG1-P2, public safety)" in refs
    assert "How do they reach the team" not in refs
    assert "“Some staff call them frequent flyers.” (FG1-P1, medical)" in summary_section(fg1, "Barriers")


def test_excerpts_are_trimmed_at_a_word_boundary(tmp_path, qk):
    ws = make_ws(tmp_path)
    assert qk(ws, "summaries", "template", "--transcript", "int1", "--max-chars", "30").exit_code == 0
    text = (ws.root / "summaries" / "int1.md").read_text()
    assert "“the hospital lawyers worry…” (KP-1, behavioral health)" in text  # 27 characters, ellipsis included
    assert not (ws.root / "summaries" / "fg1.md").exists()


def test_consensus_codings_are_used_when_there_are_some(tmp_path, qk):
    ws = make_ws(tmp_path, consensus=True)
    r = qk(ws, "summaries", "template", "--transcript", "int1")
    assert "pool" not in r.output and "Excerpts: codings/consensus.csv" in r.stdout
    text = (ws.root / "summaries" / "int1.md").read_text()
    assert "There is no bus out there." in text and "By fax" not in text
    r = qk(ws, "summaries", "template", "--coder", "nobody")
    assert r.exit_code == 1 and "no codings file for coder 'nobody'" in r.output


def test_a_started_template_is_never_overwritten_without_asking(tmp_path, qk):
    ws = make_ws(tmp_path)
    qk(ws, "summaries", "template")
    int1 = ws.root / "summaries" / "int1.md"
    fg1 = ws.root / "summaries" / "fg1.md"
    assert template_state(int1) == "pristine"
    fill_md(int1, {"Barriers": ["No bus; rides are the main barrier."]})
    assert template_state(int1) == "started"
    # new codings arrive: the untouched template is brought up to date, the started one is kept
    ws.write_codings("ben", [*ws.codings("ben"), at(ws, "fg1", "there is no bus", "transport")])
    r = qk(ws, "summaries", "template")
    assert "kept      summaries/int1.md" in r.stdout and "updated   summaries/fg1.md" in r.stdout
    assert "No bus; rides are the main barrier." in int1.read_text()
    assert "“there is no bus” (FG1-P3, behavioral health)" in fg1.read_text()
    assert "unchanged summaries/fg1.md" in qk(ws, "summaries", "template").stdout
    # --overwrite replaces it, but only after a backup in .qualkit/backups/
    r = qk(ws, "summaries", "template", "--transcript", "int1", "--overwrite")
    assert "replaced  summaries/int1.md" in r.stdout and "backup: .qualkit/backups/int1.md." in r.stdout
    backups = list((ws.root / ".qualkit" / "backups").glob("int1.md.*.bak"))
    assert len(backups) == 1 and "No bus; rides are the main barrier." in backups[0].read_text()
    assert "No bus" not in int1.read_text() and template_state(int1) == "pristine"


def test_fill_markdown_and_collect_reports_empty_domains(tmp_path, qk):
    ws = make_ws(tmp_path)
    qk(ws, "summaries", "template")
    path = ws.root / "summaries" / "int1.md"
    fill_md(path, {"Referrals and data": ["Referrals arrive by fax, days late.", "Lawyers worry about privacy."],
                   "Barriers": ["No bus.\n  Distance makes every visit long.", "Stigma from ED staff\n  - nurses in particular"]})
    text = path.read_text().replace("- Analyst:", "- Analyst: cara")
    text = text.replace("Summary:\n\n- \n- \n- \n\n## Anything else", "Summary:\n\nPeers open doors, analyst forgot the dash.\n\n## Anything else")
    path.write_text(text)
    r = qk(ws, "summaries", "collect")
    assert r.exit_code == 0, r.output
    lines = {line.split()[0]: line for line in r.stdout.splitlines()[1:] if line.strip()}
    assert lines["fg1"].split()[2:5] == ["0/4", "0", "not"]
    assert "3/4" in lines["int1"] and "cara" in lines["int1"] and "1 empty: Anything else" in lines["int1"]
    df = collect_summaries(ws)
    got = df[["transcript", "participant", "domain", "bullet"]].values.tolist()
    assert got == [
        ["int1", "KP-1", "referrals", "Referrals arrive by fax, days late."],
        ["int1", "KP-1", "referrals", "Lawyers worry about privacy."],
        ["int1", "KP-1", "barriers", "No bus. Distance makes every visit long."],
        ["int1", "KP-1", "barriers", "Stigma from ED staff; nurses in particular"],
        ["int1", "KP-1", "helps", "Peers open doors, analyst forgot the dash."],
    ]
    assert df.attrs["empty_domains"]["int1"] == ["Anything else"] and len(df.attrs["empty_domains"]["fg1"]) == 4
    data = json.loads(qk(ws, "summaries", "collect", "--json").stdout)
    assert data["domains"] == "guide" and data["errors"] == [] and len(data["bullets"]) == 5
    assert {t["transcript"]: t["empty_domains"] for t in data["templates"]}["int1"] == ["Anything else"]
    # the bullets export like any table
    r = qk(ws, "summaries", "collect", "--out", str(tmp_path / "bullets.csv"))
    assert "Referrals arrive by fax" in (tmp_path / "bullets.csv").read_text(encoding="utf-8-sig")


def test_fill_a_word_template_and_collect(tmp_path, qk):
    import docx

    ws = make_ws(tmp_path)
    r = qk(ws, "summaries", "template", "--format", "docx", "--transcript", "fg1")
    assert r.exit_code == 0 and (ws.root / "summaries" / "fg1.docx").exists()
    path = ws.root / "summaries" / "fg1.docx"
    doc = docx.Document(str(path))
    styles = [(p.style.name, p.text) for p in doc.paragraphs]
    assert ("Normal", "Transcript: fg1") in styles and ("Heading 2", "Barriers") in styles
    assert any(s == "Quote" and t.startswith("“Some staff call them frequent flyers.” (FG1-P1, medical)") for s, t in styles)
    # the analyst types into the empty bullets of "Barriers" and adds a plain line after the last one
    heads = [i for i, p in enumerate(doc.paragraphs) if p.style.name == "Heading 2"]
    barrier_bullets = [p for p in doc.paragraphs[heads[1]:heads[2]] if p.style.name == "List Bullet"]
    barrier_bullets[0].add_run("Rides: the clinic is forty miles away (FG1-P3)")
    barrier_bullets[1].add_run("ED staff label people (FG1-P1)")
    doc.save(str(path))
    assert template_state(path) == "started"
    s = read_summaries(ws)
    assert s.ok, [str(e) for e in s.errors]
    df = s.frame(ws)
    assert df[["transcript", "participant", "domain", "bullet"]].values.tolist() == [
        ["fg1", "FG1", "barriers", "Rides: the clinic is forty miles away (FG1-P3)"],
        ["fg1", "FG1", "barriers", "ED staff label people (FG1-P1)"]]
    assert "summaries/fg1.docx" in qk(ws, "summaries", "collect").stdout
    # an md template for the same transcript: the started Word file is kept
    r = qk(ws, "summaries", "template", "--transcript", "fg1")
    assert "kept      summaries/fg1.docx" in r.stdout and not (ws.root / "summaries" / "fg1.md").exists()


def test_malformed_templates_get_one_line_errors_with_file_and_line(tmp_path, qk):
    import docx

    ws = make_ws(tmp_path)
    qk(ws, "summaries", "template")
    qk(ws, "summaries", "template", "--format", "docx", "--transcript", "fg1")
    int1 = ws.root / "summaries" / "int1.md"
    text = int1.read_text()
    lines = text.splitlines()
    barriers = lines.index("## Barriers") + 1
    int1.write_text(text.replace("## Barriers", "## Barrier").replace("## Anything else\n", "### Notes\n"))
    other = ws.root / "summaries" / "int2.md"
    other.write_text(text.replace("- Transcript: int1", "- Transcript: int 1"))
    doc = docx.Document(str(ws.root / "summaries" / "fg1.docx"))
    n = next(i for i, p in enumerate(doc.paragraphs, 1) if p.text == "What helps")
    next_heading = next(i for i, p in enumerate(doc.paragraphs, 1) if p.text == "Anything else")
    doc.paragraphs[n - 1].text = "Facilitators"
    doc.save(str(ws.root / "summaries" / "fg1.docx"))
    r = qk(ws, "summaries", "collect")
    assert r.exit_code == 1
    errors = [line for line in r.stderr.splitlines() if line.startswith("Error: ")]
    assert errors == [
        f"Error: summaries/fg1.docx: paragraph {n}: domain heading 'Facilitators' is not in the interview guide in "
        "qualkit.yaml (domains: Referrals and data, Barriers, What helps, Anything else)",
        f"Error: summaries/fg1.docx: paragraph {next_heading}: missing the domain heading 'What helps' (Heading 2) of "
        "the interview guide in qualkit.yaml (expected before 'Anything else')",
        f"Error: summaries/int1.md:{barriers}: domain heading 'Barrier' is not in the interview guide in qualkit.yaml; "
        "did you mean 'Barriers'?",
        f"Error: summaries/int1.md:{len(lines)}: missing the domain heading '## Anything else' of the interview guide "
        "in qualkit.yaml (expected at the end)",
        "Error: summaries/int2.md:5: transcript 'int 1' in the header is not in transcripts/; did you mean 'int1'?",
    ]
    with pytest.raises(SummaryError, match="domain heading 'Facilitators' is not in the interview guide"):
        collect_summaries(ws)
    # a domain heading dropped from the guide since the template was made
    int1.write_text(text)
    (ws.root / "qualkit.yaml").write_text((ws.root / "qualkit.yaml").read_text().replace("    label: Anything else\n", "    label: Other\n"))
    errs = [str(e) for e in read_summaries(Workspace(ws.root)).errors if "int1.md" in str(e.path)]
    assert len(errs) == 2 and "domain heading 'Anything else' is not in the interview guide" in errs[0]
    assert "missing the domain heading '## Other'" in errs[1]


def test_two_templates_for_one_transcript_is_an_error(tmp_path, qk):
    ws = make_ws(tmp_path)
    qk(ws, "summaries", "template", "--transcript", "int1")
    copy = ws.root / "summaries" / "int1_copy.md"
    copy.write_text((ws.root / "summaries" / "int1.md").read_text())
    errors = [str(e) for e in read_summaries(ws).errors]
    assert len(errors) == 1 and "int1_copy.md: a second template for 'int1' (the first is summaries/int1.md)" in errors[0]


def test_framework_domains_instead_of_the_guide(tmp_path, qk):
    ws = make_ws(tmp_path, guide="")
    r = qk(ws, "summaries", "template", "--transcript", "int1")
    assert "no 'interview_guide:' in qualkit.yaml, so the domains are framework:heif's" in r.stderr
    text = (ws.root / "summaries" / "int1.md").read_text()
    assert "- Domains: framework:heif" in text
    assert "“The nurses look down on them.” (KP-1, behavioral health) · turn 5 · stigma_staff" in summary_section(text, "Recipients")
    assert "“There is no bus out there.”" in summary_section(text, "Societal context")
    fill_md(ws.root / "summaries" / "int1.md", {"Recipients": ["Staff stigma in the ED."]})
    df = collect_summaries(ws)
    assert df[["domain", "domain_label", "bullet"]].values.tolist() == [["recipients", "Recipients", "Staff stigma in the ED."]]
    r = qk(ws, "summaries", "template", "--domains", "guide")
    assert r.exit_code == 1 and "no 'interview_guide:' domains in qualkit.yaml" in r.output


def test_library_write_templates_reports_what_it_did(tmp_path):
    ws = make_ws(tmp_path)
    run = write_templates(ws, format="md", transcripts=["fg1"])
    assert [(r.transcript, r.status, r.excerpts) for r in run.results] == [("fg1", "written", 5)]
    assert run.as_dict()["codings"].startswith("pooled ana, ben")
