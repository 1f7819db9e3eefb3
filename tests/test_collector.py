"""The cyclic garbage collector is paused while the report and the study tables are built (it freed
next to nothing there and cost about a fifth of their CPU), and is always switched back on."""
from __future__ import annotations

import gc

import pytest

from qualkit.io.collector import gc_paused


def test_the_collector_is_off_inside_and_on_again_after():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: still off, and the outer block decides
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_inside_switches_the_collector_back_on():
    with pytest.raises(ValueError), gc_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_caller_stays_off():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_process_about_to_end_freezes_what_it_built():
    try:
        with gc_paused(freeze_after=True):
            built = [[] for _ in range(100)]
        assert gc.isenabled() and gc.get_freeze_count() >= len(built)
    finally:
        gc.unfreeze()


def test_cycles_made_in_a_block_are_freed_at_its_end_while_the_collector_is_paused_and_a_freeze_is_kept():
    import gc
    import weakref

    from qualkit.io.collector import collected_after, gc_paused

    class Node:
        pass

    def cycle():
        a, b = Node(), Node()
        a.other, b.other = b, a
        return weakref.ref(a)

    with gc_paused():
        with collected_after():
            made = cycle()
        assert made() is None and gc.get_freeze_count() == 0
        kept = Node()
        gc.freeze()  # a caller's own freeze is left as it was
        try:
            with collected_after():
                inner = cycle()
            assert inner() is None and gc.get_freeze_count() > 0
        finally:
            gc.unfreeze()
        del kept


@pytest.mark.parametrize("args", [["status"], ["agree"], ["disagreements", "--coders", "ana,ben"], ["matrix", "codes"],
                                  ["matrix", "rapid"], ["themes", "check"], ["search", "naloxone"],
                                  ["summaries", "template"]])
def test_commands_that_read_the_whole_study_run_with_the_collector_paused(sample_workspace, run_cli, args, monkeypatch):
    """Issue 17: the collector's passes over a study's objects cost 12-30% of `agree`, `matrix` and
    `disagreements` at 5,000 interviews and freed nothing; these commands run with it paused from the
    moment they open the workspace."""
    from qualkit.workspace.store import Workspace

    real, seen = Workspace.__init__, []

    def opened(self, *a, **k):
        seen.append(gc.isenabled())
        real(self, *a, **k)

    monkeypatch.setattr(Workspace, "__init__", opened)
    result = run_cli(*args, workspace=sample_workspace)
    assert result.exit_code == 0, result.output
    assert seen and not any(seen)
    assert gc.isenabled()
