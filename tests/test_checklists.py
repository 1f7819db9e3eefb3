"""COREQ (Tong, Sainsbury & Craig 2007, Int J Qual Health Care 19:349-357) and SRQR (O'Brien et al.
2014, Acad Med 89:1245-1251) figures from the sample study: codes counted as applied, per codebook and
origin (the unused deductive HEIF codebook is no part of an inductive study's coding tree), the
interview guide (COREQ 17), the duration from timestamps (COREQ 21), and the SRQR standards."""
from __future__ import annotations

import qualkit


def test_coreq_counts_codes_applied_and_reads_guide_and_duration_and_srqr_is_beside_it(tmp_path):
    from qualkit.reporting.report import report_context
    from qualkit.workspace.scaffold import demo

    ctx = report_context(qualkit.Workspace(demo(tmp_path / "s")), ci=False)
    rows = {(r["item"], r["figure"]): r for r in ctx["s"]["coreq"].data["rows"]}
    applied = rows[("25 Description of the coding tree", "Codes applied")]
    assert applied["value"] == "26" and "HEIF deductive codebook: 0 of 66 applied" in applied["detail"]
    origin = rows[("26 Derivation of themes", "Applied codes by origin (deductive / inductive)")]
    assert origin["value"] == "0 / 26" and "not used: HEIF deductive codebook" in origin["detail"]
    assert rows[("17 Interview guide", "Guide questions")]["value"] == "8"
    assert rows[("21 Duration", "Recorded length (minutes, from turn timestamps)")]["value"].startswith("median ")
    srqr = {r["item"] for r in ctx["s"]["coreq"].data["srqr"]}
    assert {"8 Sampling strategy", "14 Data analysis", "15 Techniques to enhance trustworthiness"} <= srqr
