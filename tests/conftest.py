"""Shared fixtures: where the third-party reference material lives, and a fresh sample workspace."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"
REAL = REFERENCE / "real-transcripts"


@pytest.fixture
def real_file():
    """Path to a third-party transcript in ../shared/reference/real-transcripts (skip if absent)."""

    def get(rel: str) -> Path:
        path = REAL / rel
        if not path.is_file():
            pytest.skip(f"reference file {rel} not available")
        return path

    return get


@pytest.fixture
def sample_workspace(tmp_path):
    """A fresh copy of the bundled sample study, as `qualkit demo` makes it."""
    from qualkit.workspace.scaffold import demo

    return demo(tmp_path / "study")


def assert_turn_contract(t) -> None:
    """Offsets are half-open, in order, non-overlapping, and each content is trimmed and non-empty."""
    prev_end = 0
    for i, turn in enumerate(t.turns):
        assert turn.index == i
        assert prev_end <= turn.start < turn.end <= len(t.text)
        content = t.text[turn.start:turn.end]
        assert content == content.strip()
        prev_end = turn.end
