"""`qualkit run`: the whole pipeline on a workspace, step by step, writing exports/.

ingest -> codebooks -> autocode (if enabled) -> agreement between the configured coders -> consensus status -> matrices and
manuscript tables -> HTML report -> run manifest.
Each step either runs or is skipped with a reason when it has no input yet (no codings, no second
coder...), so a young workspace still gets everything that can be made from it. An unreadable
transcript is skipped with its one-line reason (listed in ``RunReport.skipped`` and in the report);
an unreadable codebook or codings file stops the run with its one-line error.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from qualkit.errors import QualkitError
from qualkit.io.atomic import atomic_open
from qualkit.io.collector import give_back
from qualkit.io.manifest import build_manifest, write_manifest
from qualkit.io.naming import plural_s
from qualkit.io.outputs import ledger_batch
from qualkit.render.cells import csv_safe_frame
from qualkit.workspace.store import Workspace

EXPORTS_DIR = "exports"


@dataclass
class StepResult:
    name: str
    status: str  # "done" | "skipped"
    detail: str
    outputs: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    cached: bool = False  # its files were written again from the last run's (nothing had changed)


@dataclass
class RunReport:
    """What `run` did: steps in order, files written, seconds taken."""

    workspace: Path
    steps: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0
    skipped: list[QualkitError] = field(default_factory=list)  # transcripts left out, with the reason
    cached: bool = False  # nothing had changed: the last run's files were written again from .qualkit/cache/

    @property
    def outputs(self) -> list[Path]:
        return [p for s in self.steps for p in s.outputs]


@dataclass
class _Run:
    ws: Workspace
    out: Path
    report: RunReport
    inputs: list[Path] = field(default_factory=list)
    transcripts: list = field(default_factory=list)
    source: Workspace | None = None  # the workspace itself, for steps that write to it (ws may be redacted)

    def done(self, name: str, detail: str, outputs: list[Path] | None = None) -> None:
        self.report.steps.append(StepResult(name, "done", detail, list(outputs or [])))

    def skipped(self, name: str, reason: str) -> None:
        self.report.steps.append(StepResult(name, "skipped", reason))


def _write_csv(df, path: Path) -> Path:
    # UTF-8 with a BOM: Excel otherwise shows Word's curly quotes as mojibake.
    with atomic_open(path, "w", encoding="utf-8-sig", newline="") as f:
        csv_safe_frame(df).to_csv(f, index=False)  # a turn starting with '=' stays text in Excel
    return path


# turns.csv is written this many transcripts at a time: every turn's row with its text at once was
# 500 MB at 5,000 interviews. The bytes are the same (a CSV's rows do not depend on the others').
TURNS_CHUNK = 100


def _write_turns(ws: Workspace, transcripts: list, path: Path) -> tuple[int, set[str]]:
    """Write every turn of ``transcripts`` to ``path`` (as ``ws.turn_table`` lays them out), a few
    transcripts at a time; returns the number of turns and the participant ids met."""
    n, ids = 0, set[str]()
    with atomic_open(path, "w", encoding="utf-8-sig", newline="") as f:  # UTF-8 with a BOM, as _write_csv
        for first in range(0, max(len(transcripts), 1), TURNS_CHUNK):
            part = ws.turn_table(transcripts[first:first + TURNS_CHUNK])
            csv_safe_frame(part).to_csv(f, index=False, header=first == 0)
            n += len(part)
            ids.update(part["participant_id"].dropna())
    return n, ids


def _ingest(run: _Run) -> bool:
    import pandas as pd

    from qualkit.workspace.ingest import ingest

    ws = run.ws
    seen: list[tuple[str | None, int]] = []  # each transcript's encoding and participants, taken as it is read
    result = ingest(ws, visit=lambda t: seen.append((t.encoding, len({x.participant for x in t.turns if x.participant}))))
    # One unreadable file never stops a study: it is skipped and named at the end and in the report.
    run.report.skipped = list(result.errors)
    run.transcripts = result.transcripts  # each read again when asked for, one at a time
    if not run.transcripts:
        run.skipped("ingest", "no readable transcript in transcripts/" if result.errors else "no transcripts in transcripts/ yet")
        return False
    n_warn = sum(len(r.warnings) for r in result.rows) + len(result.warnings)
    inventory = pd.DataFrame([{**{k: v for k, v in r.as_dict().items() if k != "warnings"},
                               "path": str(r.path.relative_to(ws.root)) if r.path.is_relative_to(ws.root) else str(r.path),
                               "encoding": encoding, "participants": participants,
                               "warnings": "; ".join(r.warnings)} for r, (encoding, participants) in zip(result.rows, seen)])
    n_turns, ids = _write_turns(ws, run.transcripts, run.out / "turns.csv")
    outputs = [_write_csv(inventory, run.out / "transcripts.csv"), run.out / "turns.csv"]
    run.inputs += [t.path for t in run.transcripts if t.path] + [ws.root / "qualkit.yaml", ws.root / "participants.csv"]
    team = {p for p in ids if ws.participant_table.is_facilitator(p)}
    who = f"{len(ids - team)} participant{plural_s(len(ids - team))}" + (f" (+{len(team)} research team)" if team else "")
    run.done("ingest", f"{len(run.transcripts)} transcript{plural_s(len(run.transcripts))}, {n_turns} turn{plural_s(n_turns)}, {int(inventory['words'].sum())} word{plural_s(int(inventory['words'].sum()))}, "
                       f"{who}, {n_warn} warning{plural_s(n_warn)}" + (" (see `qualkit ingest`)" if n_warn else "")
                       + (f"; {len(result.errors)} file{plural_s(len(result.errors))} skipped" if result.errors else ""), outputs)
    return True


def _codebooks(run: _Run) -> bool:
    from qualkit.coding.codebook_validate import errors_only, validate

    books = run.ws.codebooks()
    if not books:
        run.skipped("codebooks", "no codebook in codebooks/ yet (`qualkit codebook new NAME`)")
        return True
    problems = validate(run.ws)
    errors = errors_only(problems)
    run.inputs += [b.path for b in books if b.path]
    n_codes = sum(len(b.active()) for b in books)
    detail = f"{len(books)} codebook{plural_s(len(books))}, {n_codes} active code{plural_s(n_codes)}"
    if problems:
        detail += f"; {len(errors)} error{plural_s(len(errors))}, {len(problems) - len(errors)} warning{plural_s(len(problems) - len(errors))} (see `qualkit codebook validate`)"
    run.done("codebooks", detail)
    return True


def _autocode(run: _Run) -> bool:
    settings = run.ws.config.autocode
    if not settings.enabled:
        run.skipped("autocode", "not enabled (set `autocode: {enabled: true}` in qualkit.yaml for suggestions)")
        return True
    from qualkit.coding.autocode import autocode

    result = autocode(run.source or run.ws, settings.codebook, settings.unit, keep_codings=False)
    run.done("autocode", f"{result.suggestions} suggestions from codebook {result.codebook} in codings/{result.coder}.csv, "
                         f"to review with `qualkit code ID --coder NAME --review auto`")
    return True


def _coders(run: _Run) -> list[str]:
    return [c for c in run.ws.config.coders if c in run.ws.coders()]


def _agreement(run: _Run) -> bool:
    from qualkit.analysis.agree import agreement, export_report, shared_agreement

    configured = run.ws.config.coders
    coders = _coders(run)
    if run.ws.config.reflexive:
        run.skipped("agreement", "analysis.approach is reflexive (Braun & Clarke 2019): no inter-rater statistics; "
                                 "the report shows the consensus discussion log instead")
        return True
    if len(configured) < 2:
        run.skipped("agreement", "name two or more coders in qualkit.yaml `coders:` to compare them")
        return True
    if len(coders) < 2:
        missing = ", ".join(c for c in configured if c not in coders)
        run.skipped("agreement", f"no codings yet from {missing} (codings/<coder>.csv)")
        return True
    # Computed as the report shows it (with intervals) and written without them: once for both steps (the
    # report compares every configured coder: when one has no file yet, it shows none and this step's own
    # is made without intervals). Only the consensus step (two coders) reads the units again; with more
    # coders they are let go of here.
    with run.ws.derived_cache.passing("unit_codes") if len(coders) != 2 else nullcontext():
        if coders == list(dict.fromkeys(configured)):
            report = shared_agreement(run.ws, coders).without_ci()
        else:
            report = agreement(run.ws, coders)
    run.inputs += [run.ws.coder_file(c) for c in coders]
    outputs = export_report(report, csv=run.out / "agreement.csv", md=run.out / "agreement.md", html_path=run.out / "agreement.html")
    overall = report.overall.iloc[0]
    judged = report.table.dropna(subset=["alpha"])
    judged = judged[~judged["flags"].astype(str).str.contains("rare")]  # too rare to judge: not the headline
    worst = judged.sort_values("alpha").head(1)
    detail = (f"{', '.join(coders)} on {len(report.transcripts)} shared transcript{plural_s(len(report.transcripts))}: "
              f"pooled alpha {overall['alpha']:.2f}, kappa {overall['kappa']:.2f}")
    if not worst.empty:
        detail += f"; lowest: {worst.iloc[0]['code']} (alpha {worst.iloc[0]['alpha']:.2f})"
    if report.facilitator_only:
        detail += (f"; {sum(report.facilitator_only.values())} coding{plural_s(sum(report.facilitator_only.values()))} only in interviewer/moderator turns not counted "
                   "(kept; see `qualkit agree`)")
    run.done("agreement", detail, [p for p in outputs if not p.name.endswith(".manifest.json")])
    return True


def _consensus(run: _Run) -> bool:
    from qualkit.analysis.reconcile import reconcile
    from qualkit.analysis.unit_codes import release_unit_codes

    coders = _coders(run)
    if len(coders) != 2:
        run.skipped("consensus", "reconciliation needs exactly two coders in qualkit.yaml `coders:`")
        return True
    status = reconcile(run.ws, coders, dry_run=True)
    # The last step to read the pair's units (the report reads the shared agreement and this dry run's kept
    # counts): let go of them before the matrices and the report, ~100 MB at 5,000 interviews.
    unit = str(run.ws.config.agreement.unit)
    release_unit_codes(run.ws, coders, "turn" if unit in ("character", "overlap") else unit)
    if not status.disagreements and not status.agreed:
        run.skipped("consensus", "the coders share no coded transcript yet")
        return True
    if status.undecided:
        detail = (f"{status.agreed} (unit, code){plural_s(status.agreed)} agreed, {status.decided} of {status.disagreements} disagreement{plural_s(status.disagreements)} decided; "
                  f"to reconcile: `qualkit disagreements --out adjudication.xlsx`, then "
                  f"`qualkit reconcile --adjudication adjudication.xlsx`")
    else:
        detail = f"complete: {status.codings} consensus coding{plural_s(status.codings)} in codings/{status.into}.csv"
    run.done("consensus", detail)
    return True


def _matrices(run: _Run) -> bool:
    from qualkit.reporting.study_exports import export_study

    result = export_study(run.ws, run.out, keep=True)  # the report reads the same excerpts and matrices
    if not result.made:
        run.skipped("matrices", "; ".join(why for _, why in result.skipped) or "nothing to tabulate yet")
        return True
    detail = ", ".join(result.made)
    if result.skipped:
        detail += "; skipped " + "; ".join(f"{what} ({why})" for what, why in result.skipped)
    if any("consensus.csv does not exist" in w for w in result.warnings):
        detail += "; codings of the configured coders pooled (no consensus yet)"
    run.done("matrices", detail, result.files)
    return True


def _report(run: _Run) -> bool:
    from qualkit.reporting.report import build_report

    path = build_report(run.ws, run.out / "report.html")
    run.done("report", "the whole study on one page: open exports/report.html in a browser", [path])
    return True


STEPS: list[Callable[[_Run], bool]] = [_ingest, _codebooks, _autocode, _agreement, _consensus, _matrices, _report]


def _run_steps(state: _Run, on_start: Callable[[str], None] | None,
               on_step: Callable[[StepResult], None] | None) -> None:
    """Each step in turn, timed, until one says the rest cannot run; then the run's manifest."""
    def timed(name: str, step: Callable[[], bool]) -> bool:
        if on_start is not None:
            on_start(name)
        t0, before = time.perf_counter(), len(state.report.steps)
        go_on = step()
        give_back()  # what the step freed and the next may not reuse is not held to the end of the run
        for result in state.report.steps[before:]:
            result.seconds = time.perf_counter() - t0
            if on_step is not None:
                on_step(result)
        return go_on

    for step in STEPS:
        if not timed(step.__name__.lstrip("_"), lambda step=step: step(state)):  # type: ignore[misc]
            break
    if state.report.outputs:
        def manifest() -> bool:
            root = state.ws.root
            manifest_path = state.out / "run.manifest.json"
            write_manifest(manifest_path, build_manifest(root, state.inputs, state.report.outputs, {"command": "run"}))
            state.done("manifest", "input hashes, parameters and versions", [manifest_path])
            return True

        timed("manifest", manifest)


def run(ws: Workspace, *, no_deid: bool = False, on_start: Callable[[str], None] | None = None,
        on_step: Callable[[StepResult], None] | None = None, use_cache: bool = True) -> RunReport:
    """Run every step that has input on workspace ``ws``; unreadable transcripts are skipped
    (``RunReport.skipped``), other unreadable input raises.

    Once deid.csv holds a decision, every export reads the redacted transcripts (``no_deid``
    turns that off); the manifests say which. ``on_start(name)`` is called as a step begins and
    ``on_step(result)`` as soon as it has finished (with its ``seconds``), so a caller can show
    progress; the library never prints.

    When nothing the run reads has changed since the last run (no file of the workspace, not
    qualkit, not the options), its files are written again from .qualkit/cache/ byte for byte and
    its steps reported as they were (``RunReport.cached``); ``use_cache=False`` always recomputes (and
    keeps the fresh result for the next run).
    See :mod:`qualkit.workspace.results`."""
    from qualkit.deid.apply import exporting

    started = time.perf_counter()
    cache, key = _result_cache(ws, no_deid)  # --recompute still keeps its result for the next run
    if cache is not None and use_cache:
        replayed = _replay(ws, cache, key, on_start, on_step)
        if replayed is not None:
            replayed.seconds = time.perf_counter() - started
            return replayed
    notices: list[str] = []
    shown = ws.notify

    def notice(line: str) -> None:
        notices.append(line)
        if shown is not None:
            shown(line)

    ws.notify = notice
    before = _written(ws.root / EXPORTS_DIR) if cache is not None else {}
    try:
        with exporting(ws, no_deid=no_deid) as view, ledger_batch():  # the output ledger written once
            state = _Run(view, ws.root / EXPORTS_DIR, RunReport(ws.root), source=ws)
            state.out.mkdir(exist_ok=True)
            if (ws.root / "deid.csv").is_file():
                state.inputs.append(ws.root / "deid.csv")
            from qualkit.reporting.report import _codebooks_read_once

            # One snapshot of codebooks/ for every step, parsed and copied once; the inputs' stamp taken
            # once per state of the files, not at each of the steps' ~45 asks for a shared result.
            with _codebooks_read_once(view), ws.derived_cache.steady(), view.derived_cache.steady():
                _run_steps(state, on_start, on_step)
    finally:
        ws.notify = shown
    state.report.seconds = time.perf_counter() - started
    if cache is not None and not state.report.skipped:
        _keep(ws, cache, key, state.report, notices, before)
    return state.report


def _written(folder: Path) -> dict[Path, tuple[int, int, int]]:
    """(mtime, size, inode) of each file in ``folder``: a file the run wrote (atomically) has a new one."""
    out = {}
    for p in folder.glob("*") if folder.is_dir() else []:
        try:
            st = p.stat()
        except OSError:
            continue
        out[p] = (st.st_mtime_ns, st.st_size, st.st_ino)
    return out


def _result_cache(ws: Workspace, no_deid: bool) -> tuple[object | None, str]:
    """The results store and this run's key; none when the run writes to the workspace (autocode)."""
    from qualkit.workspace.results import ResultCache

    if ws.config.autocode.enabled:  # it rewrites codings/auto.csv: the next run's inputs differ anyway
        return None, ""
    cache = ResultCache(ws.root)
    return cache, cache.key("run", {"no_deid": no_deid, "allow_unanchored": ws.allow_unanchored, "out": EXPORTS_DIR})


def _keep(ws: Workspace, cache, key: str, report: RunReport, notices: list[str],
          before: dict[Path, tuple[int, int, int]]) -> None:
    """Keep the run's report and every file it wrote in exports/ (manifests included) for the next run."""
    root = ws.root.resolve()
    if not all(p.resolve().is_relative_to(root) for p in report.outputs):
        return
    after = _written(ws.root / EXPORTS_DIR)
    files = sorted(p for p, st in after.items() if before.get(p) != st)
    steps = [{"name": s.name, "status": s.status, "detail": s.detail, "seconds": s.seconds,
              "outputs": [p.resolve().relative_to(root).as_posix() for p in s.outputs]} for s in report.steps]
    cache.put("run", key, {"steps": steps, "notices": notices}, files)


def _replay(ws: Workspace, cache, key: str, on_start: Callable[[str], None] | None,
            on_step: Callable[[StepResult], None] | None) -> RunReport | None:
    """The last run's report, its files written again, when its key is this run's; else None."""
    record = cache.get("run", key)
    if record is None or not cache.restore("run", record):
        return None
    if ws.notify is not None:
        for line in record["notices"]:
            ws.notify(line)
    report = RunReport(ws.root, cached=True)
    for s in record["steps"]:
        if on_start is not None:
            on_start(s["name"])
        step = StepResult(s["name"], s["status"], s["detail"], [ws.root / p for p in s["outputs"]], 0.0, cached=True)
        report.steps.append(step)
        if on_step is not None:
            on_step(step)
    return report
