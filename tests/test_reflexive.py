"""`analysis.approach: reflexive` in qualkit.yaml: Braun & Clarke's reflexive thematic analysis (Braun V,
Clarke V. Reflecting on reflexive thematic analysis. Qual Res Sport Exerc Health 2019;11:589-597; and
"One size fits all?" Qual Res Psychol 2021;18:328-352) rejects inter-rater reliability: no kappa or alpha
anywhere, and the report shows the consensus discussion (decisions and rationales) instead.
coding-reliability stays the default (today's behaviour)."""
from __future__ import annotations

from click.testing import CliRunner

import qualkit
import qualkit.cli


def _reflexive(root) -> None:
    text = (root / "qualkit.yaml").read_text().replace("approach: coding-reliability", "approach: reflexive")
    assert "approach: reflexive" in text
    (root / "qualkit.yaml").write_text(text)


def test_reflexive_analysis_computes_no_agreement_and_reports_the_discussion(tmp_path):
    from qualkit.analysis.reconcile import reconcile
    from qualkit.pipeline import run
    from qualkit.reporting.report import report_context
    from qualkit.workspace.scaffold import demo

    root = demo(tmp_path / "s")
    w = qualkit.Workspace(root)
    assert w.config.analysis.approach == "coding-reliability" and not w.config.reflexive
    first = reconcile(w, ["ana", "ben"], dry_run=True)
    reconcile(w, ["ana", "ben"], decisions={first.undecided[0]: {"decision": "both", "rationale": "we read it as both"}})
    _reflexive(root)
    w = qualkit.Workspace(root)
    assert w.config.reflexive
    r = CliRunner().invoke(qualkit.cli.cli, ["--workspace", str(root), "agree"])
    assert r.exit_code != 0 and "reflexive" in r.output and "Traceback" not in r.output
    steps = {s.name: s for s in run(w).steps}
    assert steps["agreement"].status == "skipped" and "reflexive" in steps["agreement"].detail
    ctx = report_context(w, ci=False)
    ag = ctx["s"]["agreement"]
    assert not ag.ok and "Consensus discussion" in ag.title
    assert any("we read it as both" in n for n in ag.notes)
    assert not any("Krippendorff" in r_["figure"] for r_ in ctx["s"]["coreq"].data["rows"])


def test_an_unknown_approach_names_the_setting(tmp_path):
    from qualkit.workspace.scaffold import demo

    root = demo(tmp_path / "s")
    text = (root / "qualkit.yaml").read_text().replace("approach: coding-reliability", "approach: grounded")
    (root / "qualkit.yaml").write_text(text)
    r = CliRunner().invoke(qualkit.cli.cli, ["--workspace", str(root), "agree"])
    assert r.exit_code != 0 and "analysis.approach" in r.output and "Traceback" not in r.output
