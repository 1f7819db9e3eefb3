"""Nothing lost when processes race or die (issue 16, points 2 and 3): two `qualkit import sheet` runs
into one coder keep both imports; `codebook rename`/`merge` killed with SIGKILL before any of its
renames, or at a random moment, leave the codebook and the codings files all old or all new.

The harness (tests/crash_harness.py) runs real processes; bench/crash_campaign.py runs hundreds.
"""
from __future__ import annotations

import random

import pytest

from tests.crash_harness import concurrent_pairs, import_during_rename, kill_trial, make_study, renames

RENAME = ("codebook", "rename", "fax", "fax_referrals")
MERGE = ("codebook", "merge", "portal", "into", "fax")


@pytest.mark.slow
def test_concurrent_imports_into_one_coder_lose_nothing(tmp_path):
    root = make_study(tmp_path / "ws")
    assert concurrent_pairs(root, pairs=3) == []


@pytest.mark.slow
@pytest.mark.parametrize("args", [RENAME, MERGE], ids=["rename", "merge"])
def test_a_kill_before_any_rename_leaves_all_old_or_all_new(tmp_path, args):
    root = make_study(tmp_path / "ws")
    total = renames(root, *args)
    assert total >= 3  # the codebook and both coders' files
    for n in range(1, total + 1):
        trial = make_study(tmp_path / f"ws{n}")
        assert kill_trial(trial, args, kill_at=n) is None, f"killed before rename {n} of {total}"


@pytest.mark.slow
def test_a_kill_at_a_random_moment_leaves_all_old_or_all_new(tmp_path):
    rng = random.Random(16)
    for n in range(3):
        trial = make_study(tmp_path / f"ws{n}")
        assert kill_trial(trial, RENAME, delay=rng.uniform(0.3, 1.5)) is None


@pytest.mark.slow
def test_an_import_during_a_rename_lands_on_a_code_that_exists(tmp_path):
    root = make_study(tmp_path / "ws")
    assert import_during_rename(root, rounds=3) == []
