"""The kappa paradox flag and specific agreement, as a methods reviewer reads them.

Feinstein & Cicchetti 1990 (J Clin Epidemiol 43:543-549) and Cicchetti & Feinstein 1990 (43:551-558):
high agreement with a low kappa can be a prevalence effect; report positive and negative specific
agreement, p_pos = 2a/(2a+b+c), p_neg = 2d/(2d+b+c). Byrt, Bishop & Carlin 1993 (J Clin Epidemiol
46:423-429): the bias index (b - c)/N and prevalence index (a - d)/N tell a prevalence effect from
coder bias. Only the prevalence effect is a paradox; one coder applying a code far more often is
real disagreement.
"""
from __future__ import annotations

import math

import pytest

import qualkit
from qualkit.agreement.patterns import PatternCells


def _row(neither: int, only1: int, only2: int, both: int) -> dict:
    from qualkit.analysis.agree_tables import paradox_flag

    st = PatternCells(2).stats([neither, only1, only2, both])
    row = {k: float(v) for k, v in st.items()}
    flags: list[str] = []
    notes: list[str] = []
    paradox_flag(row, flags, notes)
    row["flags"], row["notes"] = flags, notes
    return row


def test_specific_agreement_and_the_byrt_indices_on_a_hand_counted_table():
    r = _row(89, 5, 5, 1)  # a=1, b=5, c=5, d=89
    assert r["p_pos"] == pytest.approx(2 / 12) and r["p_neg"] == pytest.approx(178 / 188)
    assert r["bias_index"] == 0 and r["prevalence_index"] == pytest.approx(-0.88)


def test_a_prevalence_effect_is_flagged_and_a_biased_coder_is_not():
    unbiased = _row(89, 5, 5, 1)  # 90% agreement, kappa 0.11, no bias: the paradox
    assert unbiased["kappa"] < 0.4 and "kappa paradox" in unbiased["flags"]
    biased = _row(89, 9, 1, 1)  # 90% agreement, kappa 0.14, coder 1 accounts for 9 of 10 disagreements
    assert biased["kappa"] < 0.4 and biased["flags"] == [] and "coder bias" in biased["notes"][0]


def test_enforcement_history_in_the_sample_study_is_not_a_paradox_and_every_mode_reports_specific_agreement(tmp_path):
    """ana applies enforcement_history far more often than ben: bias, real disagreement."""
    from qualkit.workspace.scaffold import demo

    w = qualkit.Workspace(demo(tmp_path / "s"))
    for unit in ("turn", "sentence"):
        table = w.agreement(["ana", "ben"], unit=unit).set_index("code")
        assert "kappa paradox" not in table.loc["enforcement_history", "flags"]
        assert {"p_pos", "p_neg", "bias_index", "prevalence_index"} <= set(table.columns)
        assert not math.isnan(table.loc["enforcement_history", "p_pos"])
