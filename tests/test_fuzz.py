"""Fuzzing every reader of untrusted files (issue 16, "Done when"): mutated real inputs give a result
or a one-line QualkitError, never an internal error. A small budget here; bench/fuzz.py runs the
long campaign (10,000 inputs per reader)."""
from __future__ import annotations

import functools
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz_targets import READERS, ZIPPED, make_seeds, mutate, run_one

_TMP = tempfile.TemporaryDirectory(prefix="qualkit-fuzz-")


@functools.lru_cache(maxsize=1)
def _seeds() -> dict[str, bytes]:
    return make_seeds(Path(_TMP.name))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(READERS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_a_mutated_file_is_read_or_refused_in_one_line(name, seed):
    work = Path(_TMP.name) / f"work-{name}"
    work.mkdir(exist_ok=True)
    data = mutate(_seeds()[name], random.Random(seed), Path(READERS[name][0]).suffix in ZIPPED)
    assert run_one(name, data, work) is None


@pytest.mark.slow
@pytest.mark.parametrize("name", ["codings", "participants", "codebook_yaml", "themes", "qualkit_yaml", "sheet_csv",
                                  "adjudication_csv", "transcript_txt"])
@settings(max_examples=25, deadline=None)
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_are_read_or_refused_in_one_line(name, data):
    work = Path(_TMP.name) / f"raw-{name}"
    work.mkdir(exist_ok=True)
    assert run_one(name, data, work) is None
