"""Nothing lost when processes race or die (issue 16, points 2 and 3): two `qualkit import sheet` runs
into one coder keep both imports; `codebook rename`/`merge` killed with SIGKILL before any of its
renames, or at a random moment, leave the codebook and the codings files all old or all new.

The harness (tests/crash_harness.py) runs real processes; bench/crash_campaign.py runs hundreds.
"""
from __future__ import annotations

import random

import pytest

from tests.crash_harness import (
    concurrent_pairs,
    full_state,
    import_during_rename,
    kill_trial,
    make_qdpx_study,
    make_reconcile_study,
    make_study,
    renames,
)

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


def test_a_reconcile_that_dies_at_any_rename_leaves_old_or_new(tmp_path, monkeypatch):
    """Fast, in one process: the consensus file and the audit records that produce it are one
    transaction (issue 16, point 3: reconcile logged its decisions, then wrote the consensus)."""
    import os

    from qualkit.analysis.reconcile import reconcile
    from qualkit.workspace.store import Workspace

    root, args = make_reconcile_study(tmp_path / "ws", tmp_path)
    adjudication = args[args.index("--adjudication") + 1]
    real = os.replace
    outcomes = set()
    for n in range(1, 6):
        trial, _ = make_reconcile_study(tmp_path / f"ws{n}", tmp_path)
        before = full_state(trial)
        calls = [0]

        def dying(src, dst, *a, n=n, calls=calls, **k):
            calls[0] += 1
            if calls[0] == n:
                raise SystemExit("killed")  # the process ends here; nothing after this rename runs
            return real(src, dst, *a, **k)

        monkeypatch.setattr(os, "replace", dying)
        try:
            reconcile(Workspace(trial), ["ana", "ben"], adjudication=adjudication, by="cara")
            killed = False
        except SystemExit:
            killed = True
        monkeypatch.undo()
        Workspace(trial)  # the next command completes or rolls back
        now = full_state(trial)
        if not killed:
            after = now
        outcomes.add((killed, now == before))
        assert not (trial / ".qualkit" / "transaction").exists()
        assert now == before or len(now[4]) == 122, f"killed before rename {n}: a mixed state"
    assert after[4] != before[4] and (True, True) in outcomes and (True, False) in outcomes


@pytest.mark.slow
@pytest.mark.parametrize("make", [make_reconcile_study, make_qdpx_study], ids=["reconcile", "import-qdpx"])
def test_a_killed_reconcile_or_qdpx_import_leaves_all_old_or_all_new(tmp_path, make):
    _, args = make(tmp_path / "ws", tmp_path)
    total = renames(make(tmp_path / "count", tmp_path)[0], *args)
    rng = random.Random(16)
    for n in range(1, total + 1, max(1, total // 5)):
        trial, _ = make(tmp_path / f"ws{n}", tmp_path)
        assert kill_trial(trial, args, kill_at=n) is None, f"killed before rename {n} of {total}"
    for n in range(2):
        trial, _ = make(tmp_path / f"random{n}", tmp_path)
        assert kill_trial(trial, args, fraction=rng.uniform(0.5, 1.0)) is None


def _die_before_replacing(monkeypatch, suffix):
    """The process ends (SystemExit, as a kill) just before it renames a file onto one ending in ``suffix``."""
    import os

    real = os.replace

    def replace(src, dst, *a, **k):
        if str(dst).endswith(suffix):
            raise SystemExit("killed")
        return real(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", replace)


def test_an_import_that_dies_before_its_done_mark_is_completed_whole(tmp_path, monkeypatch):
    """`import sheet --done` writes the codings and the done mark as one transaction (it wrote the
    codings, then the mark: a kill between left codings imported but the transcript not done)."""
    from qualkit.coding.coverage import done_path, read_done
    from qualkit.coding.imports.sheet import import_sheet
    from qualkit.workspace.codings import read_codings
    from qualkit.workspace.store import Workspace
    from tests.crash_harness import sheet

    root = make_study(tmp_path / "ws")
    sheet(tmp_path / "s.csv", 0)
    _die_before_replacing(monkeypatch, "carl.done")
    with pytest.raises(SystemExit):
        import_sheet(Workspace(root), tmp_path / "s.csv", "carl", done=True)
    monkeypatch.undo()
    ws = Workspace(root)  # the next command completes the import it finds decided
    imported = len(read_codings(root / "codings" / "carl.csv")) if (root / "codings" / "carl.csv").exists() else 0
    marked = "int1" in read_done(done_path(ws, "carl"))
    assert (imported, marked) == (5, True)


def test_a_codings_fix_that_dies_halfway_leaves_every_file_old_or_every_file_new(tmp_path, monkeypatch):
    """`codings check --fix` re-anchors every coder's file in one transaction, not file by file."""
    from qualkit.coding.coding_ops import check_codings
    from qualkit.workspace.store import Workspace

    root = make_study(tmp_path / "ws")
    path = root / "transcripts" / "int1.txt"
    path.write_text("Maria: A new first remark.\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in (root / "codings").glob("*.csv")}
    _die_before_replacing(monkeypatch, "journal.json")  # before the change is decided: rolled back
    with pytest.raises(SystemExit):
        check_codings(Workspace(root), fix=True)
    monkeypatch.undo()
    Workspace(root)
    assert {p.name: p.read_bytes() for p in (root / "codings").glob("*.csv")} == before
    _die_before_replacing(monkeypatch, "ben.csv")  # after ana.csv was replaced: completed
    with pytest.raises(SystemExit):
        check_codings(Workspace(root), fix=True)
    monkeypatch.undo()
    Workspace(root)
    after = {p.name: p.read_bytes() for p in (root / "codings").glob("*.csv")}
    assert after["ana.csv"] != before["ana.csv"] and after["ben.csv"] != before["ben.csv"]
