"""`qualkit run` on a small study costs little more than importing its libraries (issue 17): work
that does not depend on the study (compiling the report template) is done once per user, and work
`run` needs twice (agreement, matrices, Word's default template) is done once per run. Each test is
what a user does and what it must no longer cost, with the same files as before."""
from __future__ import annotations

from datetime import datetime, timezone

import jinja2
import pytest

import qualkit
from qualkit.reporting.report import render_report, report_context
from qualkit.workspace.scaffold import demo

NOW = datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    root = demo(tmp_path_factory.mktemp("speed") / "s")
    return report_context(qualkit.Workspace(root), resamples=50, now=NOW)


def test_the_report_template_is_compiled_once_per_user_not_once_per_report(context, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = render_report(context)
    kept = list((tmp_path / "cache" / "qualkit" / "templates").glob("*.code"))
    assert len(kept) >= 2  # the page and its macros

    def no_compiling(*args, **kwargs):
        raise AssertionError("the template was compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    assert render_report(context) == first


def test_a_damaged_or_foreign_cache_entry_only_means_compiling_again(context, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = render_report(context)
    kept = sorted((tmp_path / "cache" / "qualkit" / "templates").glob("*.code"))
    kept[0].write_bytes(kept[0].read_bytes()[:40])          # truncated
    kept[1].write_bytes(b"\x80\x04\x95 not a header at all")  # someone else's file (a pickle, say)
    assert render_report(context) == first
    assert all(len(p.read_bytes()) > 100 for p in kept)     # written afresh


def test_an_unwritable_cache_folder_is_no_error(context, tmp_path, monkeypatch):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder would go", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert render_report(context).startswith("<!DOCTYPE html>")
