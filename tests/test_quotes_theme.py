"""Illustrative quotes a reviewer accepts: the sentences that carry the theme, the analyst's exemplar
and pins first, and no quote twice in one table (Lingard 2019, "Beyond the default colon: effective
use of quotes in qualitative research", Perspect Med Educ 8:360-364: a quote is evidence for the
claim beside it, so it must show that claim)."""
from __future__ import annotations

from click.testing import CliRunner

import qualkit
import qualkit.cli
from qualkit.analysis.quote_text import focus_quote
from qualkit.workspace.codings import Coding
from tests.test_matrices import ANA, BEN, THEMES, build, coding, ws  # noqa: F401  (ws is a fixture)

LONG = ("We cover three counties and the drive is long. " * 5 + "Early on we sent a deputy in uniform and people "
        "would not open the door. " + "The grant ends next year and nobody knows what comes after. " * 3)


def test_a_long_coding_is_quoted_by_the_sentence_that_carries_its_code():
    """The code's name, keywords and examples (stemmed: 'uniformed' finds 'uniform') choose the
    sentence; the old trimmer printed the first 300 characters, which never mention the police."""
    quote = focus_quote(LONG, ["Police at visits and uniforms", "uniformed", "deputy"], 200)
    assert "deputy in uniform" in quote and quote.startswith("…") and len(quote) <= 200
    assert focus_quote("Short and whole.", ["uniform"], 200) == "Short and whole."


def test_the_police_quote_of_the_sample_study_mentions_the_police(tmp_path):
    """The issue's audit: the "Police presence" quote never mentioned police."""
    from qualkit.workspace.scaffold import demo

    w = qualkit.Workspace(demo(tmp_path / "s"))
    table = build_matrix_results(w)
    row = table[table["Theme"].str.startswith("Police presence")].iloc[0]
    quotes = [q for q in row.iloc[-1].split("\n") if q]
    words = ("police", "deputy", "deputies", "officer", "uniform", "cop", "sheriff", "cruiser", "warrant", "raid", "arrest")
    assert all(any(w_ in q.casefold() for w_ in words) for q in quotes), quotes


def build_matrix_results(w):
    from qualkit.analysis.matrices import build_matrix

    return build_matrix(w, "themes", table="results").frame


def test_the_exemplar_wins_whatever_the_order_of_codes_in_themes_yaml(ws):  # noqa: F811
    """The analyst's exemplar (the 'exemplar' memo) is the quote, even when the passage also has a
    code listed earlier in themes.yaml (information_flow: codes [fax, partners])."""
    w = qualkit.Workspace(ws)
    w.write_codings("ana", [coding(*x) for x in ANA] + [coding("int2", "We fax the list every morning.", "partners",
                                                                "exemplar")])
    table = build(ws, "themes", table="results", quotes=1).frame
    row = table[table["Theme"] == "Information does not flow between partners"].iloc[0]
    assert "We fax the list every morning." in row.iloc[-1]


def test_no_quote_appears_twice_in_a_table(ws):  # noqa: F811
    """Two themes sharing a code used to show the same exemplar in both rows."""
    (ws / "themes.yaml").write_text(THEMES + """  - id: faxes
    name: Faxes
    valence: barrier
    description: Paper.
    codes: [fax]
    domains: [heif:structure_and_systems]
""")
    for kind in ("results", "matrix"):
        frame = build(ws, "themes", table=kind, cells="quotes").frame
        quotes = [q for v in frame.to_numpy().ravel() if isinstance(v, str) for q in v.split("\n") if q.startswith("\u201c")]
        assert len(quotes) == len(set(quotes)), quotes


def test_an_analyst_pins_a_quote(ws):  # noqa: F811
    """`themes quote THEME` lists candidates with their refs; `--pin REF` writes the pin into themes.yaml
    (backed up) and that coding leads the theme's row from then on."""
    run = CliRunner().invoke
    r = run(qualkit.cli.cli, ["--workspace", str(ws), "themes", "quote", "information_flow"])
    assert r.exit_code == 0 and "int2:" in r.output
    target = coding("int2", "Nobody calls back.", "partners")
    ref = f"int2:{target.start}-{target.end}"
    r = run(qualkit.cli.cli, ["--workspace", str(ws), "themes", "quote", "information_flow", "--pin", ref])
    assert r.exit_code == 0, r.output
    assert f'quotes: ["{ref}"]' in (ws / "themes.yaml").read_text()
    assert any((ws / ".qualkit" / "backups").iterdir())
    table = build(ws, "themes", table="results", quotes=1).frame
    assert "Nobody calls back." in table[table["Theme"].str.startswith("Information")].iloc[0].iloc[-1]
    r = run(qualkit.cli.cli, ["--workspace", str(ws), "themes", "quote", "information_flow", "--pin", "int2:1-2"])
    assert r.exit_code == 1 and "not a coded passage" in r.output and "Traceback" not in r.output
    assert isinstance(Coding, type) and BEN


def test_descriptive_themes_and_the_domain_first_layout(ws):  # noqa: F811
    """A theme that is neither facilitator nor barrier (who the program serves) is 'descriptive'
    context, not 'Valence not set'; findings laid out domain first, then themes, then quotes, as
    framework-guided implementation papers report them (HEIF: Woodward et al. 2019, Implement Sci 14:26)."""
    (ws / "themes.yaml").write_text(THEMES.replace("valence: facilitator", "valence: descriptive"))
    result = build(ws, "themes", table="results")
    names = [t.name for t in result.tables]
    assert "descriptive" in names and "valence_not_set" not in names
    assert not any("no valence" in w for w in result.warnings)
    domains = build(ws, "themes", table="domains").frame
    assert list(domains.columns) == ["Domain", "Theme", "Valence", "Illustrative quotes"]
    col = list(domains["Domain"])
    assert [d for i, d in enumerate(col) if i == 0 or col[i - 1] != d] == list(dict.fromkeys(col))  # grouped
    assert "Descriptive" in set(domains["Valence"])
    quotes = [q for v in domains["Illustrative quotes"] for q in v.split("\n") if q]
    assert len(quotes) == len(set(quotes))


def test_the_exported_theme_tables_drop_into_a_manuscript(ws, tmp_path):  # noqa: F811
    """Journal tables (the issue's audit of the theme DOCX; COREQ item 29-31, Tong et al. 2007, ask for
    clear themes and quotes): human labels, no raw id column, capitalised valence, no 'all domains'
    column repeating the quote cells, a domain listed beside its own sub-item left out, and the
    rapid matrix labels a focus group without nested parentheses."""
    from qualkit.analysis.matrices.themes import _domain_text

    result = build(ws, "themes", cells="summary")
    matrix = result.tables[0].frame
    assert "theme" not in matrix.columns and "all domains" not in matrix.columns
    assert list(matrix.columns[:2]) == ["Theme", "Valence"] and set(matrix["Valence"]) <= {"Barrier", "Mixed", "Facilitator"}
    counts = build(ws, "themes", cells="count").tables[0].frame
    assert "Total" in counts.columns and "all domains" not in counts.columns
    w = qualkit.Workspace(ws)
    fw = w.frameworks()
    from qualkit.frameworks.catalog import resolve_ref

    items = [resolve_ref(r, frameworks=fw, default="heif") for r in ("heif:context.outer", "heif:context.outer.regulatory_frameworks")]
    assert _domain_text(items, fw, False).count("Outer context") == 1
