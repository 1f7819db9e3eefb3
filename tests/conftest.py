"""Shared fixtures: small workspaces made by the tests, one way to run the `qualkit` command, and the
sample study after one `qualkit run` (shared, read-only).

    def test_agreement_on_one_answer(make_workspace, run_cli):
        ws = make_workspace(codebook=[("fax", "Referrals by fax")],
                            coders={"ana": [("By fax", "fax")], "ben": [("days late", "fax")]})
        result = run_cli("agree", "--coders", "ana,ben")   # runs in the workspace just made
        assert result.exit_code == 0
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from qualkit.api import Workspace
from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.codings import Coding
from qualkit.workspace.scaffold import demo, init

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"
REAL = REFERENCE / "real-transcripts"

# What make_workspace() writes when a test does not say otherwise: one short interview.
INTERVIEW = "Interviewer: How do referrals arrive?\nMaria: By fax, days late.\nInterviewer: Always?\nMaria: Mostly.\n"
PARTICIPANTS_HEADER = ("transcript", "speaker", "participant_id", "role", "site")
PARTICIPANTS = [("", "Interviewer", "RT-1", "interviewer", ""),
                ("int1", "Maria", "KP-4", "behavioral health", "Pine Hollow")]


class StudyWorkspace(Workspace):
    """The facade Workspace of a study a test made, plus helpers to code it by quoting the text."""

    def coding_at(self, quote: str, code: str, transcript: str | None = None, memo: str = "") -> Coding:
        """A Coding of ``code`` covering the first occurrence of ``quote`` (in ``transcript``, else in
        the first transcript, in id order, that contains it)."""
        candidates = [self.transcript(transcript)] if transcript else self.transcripts()
        for t in candidates:
            start = t.text.find(quote)
            if start >= 0:
                return Coding(t.id, start, start + len(quote), code, quote, memo)
        where = f"transcript {transcript!r}" if transcript else "any transcript"
        raise AssertionError(f"{quote!r} is not in {where} of the test workspace")

    def code(self, coder: str, codings: Iterable[Coding | tuple[str, str]]) -> list[Coding]:
        """Write codings/<coder>.csv from Codings or (quote, code) pairs; returns the Codings written."""
        made = [c if isinstance(c, Coding) else self.coding_at(*c) for c in codings]
        self.write_codings(coder, made)
        return made


def _participants_csv(participants: str | Sequence[Sequence[str]]) -> str:
    if isinstance(participants, str):
        return participants
    rows = [PARTICIPANTS_HEADER, *participants]
    return "".join(",".join(row) + "\n" for row in rows)


class WorkspaceFactory:
    """Make a workspace the way a user does (`qualkit init`, then files); returns its StudyWorkspace.

    ``transcripts``: {id or file name: text} (``.txt`` when no suffix); ``participants``: CSV text or
    rows of (transcript, speaker, participant_id, role, site); ``codebook``: Codes or (id, name)
    pairs, saved as codebooks/cb.yaml; ``coders``: {coder: [(quote, code) or Coding]}; ``settings``:
    YAML appended to qualkit.yaml.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.made: list[StudyWorkspace] = []

    def __call__(self, transcripts: Mapping[str, str] | None = None,
                 participants: str | Sequence[Sequence[str]] = PARTICIPANTS,
                 codebook: Sequence[Code | tuple[str, str]] | None = None,
                 coders: Mapping[str, Iterable[Coding | tuple[str, str]]] | None = None,
                 *, settings: str = "", name: str = "ws") -> StudyWorkspace:
        root = init(self.folder / name)
        if settings:
            with open(root / "qualkit.yaml", "a", encoding="utf-8") as f:
                f.write(settings)
        (root / "participants.csv").write_text(_participants_csv(participants), encoding="utf-8")
        for key, text in (transcripts if transcripts is not None else {"int1": INTERVIEW}).items():
            (root / "transcripts" / (key if Path(key).suffix else f"{key}.txt")).write_text(text, encoding="utf-8")
        if codebook is not None:
            codes = [c if isinstance(c, Code) else Code(*c) for c in codebook]
            save_codebook(Codebook("cb", "Codebook", codes), root / "codebooks" / "cb.yaml")
        ws = StudyWorkspace(root)
        for coder, codings in (coders or {}).items():
            ws.code(coder, codings)
        self.made.append(ws)
        return ws


@pytest.fixture
def workers_on_small_studies(monkeypatch: pytest.MonkeyPatch) -> None:
    """`qualkit ingest` over worker processes even for a test's few small files (their bytes are below
    PARALLEL_MIN_BYTES); skipped where processes cannot be forked."""
    from qualkit.io.parallel import can_fork

    if not can_fork():
        pytest.skip("worker processes are forked (Linux)")
    monkeypatch.setattr("qualkit.workspace.ingest.PARALLEL_MIN_BYTES", 0)


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """qualkit's ledger of outputs written outside a workspace goes to a test folder, not ~/.cache."""
    import os

    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    """A command run in-process freezes what it made as a process about to end does (gc.freeze); the
    next test is another process, so nothing stays frozen from one test to the next, and what it left
    in reference cycles (a workspace and its cache connections: open files) is freed now, not at some
    later full collection: a suite of such commands otherwise ran out of select()'s 1,024 descriptors."""
    import gc

    yield
    if gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()


@pytest.fixture
def make_workspace(tmp_path: Path) -> WorkspaceFactory:
    """The workspace factory (see WorkspaceFactory); ``run_cli`` runs in the last workspace it made."""
    return WorkspaceFactory(tmp_path)


_LAST_MADE = object()


@pytest.fixture
def run_cli(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run `qualkit ARGS...` in-process (click's CliRunner on qualkit.cli.cli) and return the Result.

    ``workspace``: the --workspace to pass; by default the last one make_workspace made in this test
    (none made: no option), ``None`` for none. ``cwd``: run from that folder (and pass no --workspace
    unless given). ``input``: what the user types. Exceptions that are not a clean exit propagate, so
    a bug shows its traceback instead of an exit code.
    """
    from qualkit.cli import cli

    def run(*args: str, workspace: Any = _LAST_MADE, cwd: str | Path | None = None, input: str | None = None,
            env: Mapping[str, str] | None = None, catch_exceptions: bool = False) -> Result:
        if workspace is _LAST_MADE:
            made = request.getfixturevalue("make_workspace").made if cwd is None else []
            workspace = made[-1] if made else None
        root = workspace.root if isinstance(workspace, Workspace) else workspace
        argv = (["--workspace", str(root)] if root is not None else []) + [str(a) for a in args]
        with monkeypatch.context() as m:
            if cwd is not None:
                m.chdir(cwd)
            return CliRunner().invoke(cli, argv, input=input, env=env, catch_exceptions=catch_exceptions,
                                     prog_name="qualkit")

    return run


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    # .qualkit/cache/ is derived (parsed transcripts any reader may add): not the study's files
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")
            if p.is_file() and not p.relative_to(root).as_posix().startswith(".qualkit/cache/")}


@pytest.fixture(scope="session")
def sample_study_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bundled sample study after one `qualkit run` (exports/ written), shared by every test that
    only reads it. Tests that change files use ``sample_workspace``; a change here fails the session."""
    from qualkit.cli import cli

    root = demo(tmp_path_factory.mktemp("sample") / "study")
    result = CliRunner().invoke(cli, ["--workspace", str(root), "run"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    before = _snapshot(root)
    yield root
    changed = sorted(set(before.items()) ^ set(_snapshot(root).items()))
    assert not changed, f"a test changed the shared sample_study_run (use sample_workspace): {changed[:5]}"


@pytest.fixture
def real_file() -> Callable[[str], Path]:
    """Path to a third-party transcript in ../shared/reference/real-transcripts (skip if absent)."""

    def get(rel: str) -> Path:
        path = REAL / rel
        if not path.is_file():
            pytest.skip(f"reference file {rel} not available")
        return path

    return get


@pytest.fixture
def sample_workspace(tmp_path: Path) -> Path:
    """A fresh copy of the bundled sample study, as `qualkit demo` makes it (free to change)."""
    return demo(tmp_path / "study")


def assert_turn_contract(t: Any) -> None:
    """Offsets are half-open, in order, non-overlapping, and each content is trimmed and non-empty."""
    prev_end = 0
    for i, turn in enumerate(t.turns):
        assert turn.index == i
        assert prev_end <= turn.start < turn.end <= len(t.text)
        content = t.text[turn.start:turn.end]
        assert content == content.strip()
        prev_end = turn.end

