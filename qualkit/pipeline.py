"""`qualkit run`: the whole pipeline on a workspace, step by step, writing exports/.

Each step either runs, or is skipped with a reason when it has no input yet (no codings, no
second coder...), so a young workspace still gets everything that can be made from it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import QualkitError
from .fileio import atomic_open
from .manifest import build_manifest, write_manifest
from .workspace import Workspace

EXPORTS_DIR = "exports"


@dataclass
class StepResult:
    name: str
    status: str  # "done" | "skipped"
    detail: str
    outputs: list[Path] = field(default_factory=list)


@dataclass
class RunReport:
    """What `run` did: steps in order, files written, seconds taken."""

    workspace: Path
    steps: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def outputs(self) -> list[Path]:
        return [p for s in self.steps for p in s.outputs]


def _write_csv(df, path: Path) -> Path:
    # UTF-8 with a BOM: Excel otherwise shows Word's curly quotes as mojibake.
    with atomic_open(path, "w", encoding="utf-8-sig", newline="") as f:
        df.to_csv(f, index=False)
    return path


def run(workspace: Workspace | str | Path = ".") -> RunReport:
    """Run every step that has input on ``workspace``; raises on unreadable input."""
    import pandas as pd

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    started = time.perf_counter()
    report = RunReport(ws.root)
    out_dir = ws.root / EXPORTS_DIR
    out_dir.mkdir(exist_ok=True)

    result = ws.ingest()
    if result.errors:
        # The first error is raised; the CLI's `qualkit ingest` lists them all.
        first = result.errors[0]
        more = f" (and {len(result.errors) - 1} more problem(s): see `qualkit ingest`)" if len(result.errors) > 1 else ""
        raise QualkitError(first.message + more, first.path, first.line)
    transcripts = result.transcripts
    if not transcripts:
        report.steps.append(StepResult("ingest", "skipped", "no transcripts in transcripts/ yet"))
        report.seconds = time.perf_counter() - started
        return report

    n_warn = sum(len(r.warnings) for r in result.rows) + len(result.warnings)
    inventory = pd.DataFrame([{**{k: v for k, v in r.as_dict().items() if k != "warnings"},
                               "path": str(r.path.relative_to(ws.root)) if r.path.is_relative_to(ws.root) else str(r.path),
                               "encoding": t.encoding, "participants": len({x.participant for x in t.turns if x.participant}),
                               "warnings": "; ".join(r.warnings)} for r, t in zip(result.rows, transcripts)])
    turns = ws.turn_table(transcripts)
    outputs = [_write_csv(inventory, out_dir / "transcripts.csv"), _write_csv(turns, out_dir / "turns.csv")]
    participants = turns["participant_id"].dropna().nunique()
    report.steps.append(StepResult(
        "ingest", "done",
        f"{len(transcripts)} transcripts, {len(turns)} turns, {int(inventory['words'].sum())} words, "
        f"{participants} participants, {n_warn} warning(s)" + (" (see `qualkit ingest`)" if n_warn else ""), outputs))

    manifest_path = out_dir / "run.manifest.json"
    inputs = [t.path for t in transcripts if t.path] + [ws.root / "qualkit.yaml", ws.root / "participants.csv"]
    write_manifest(manifest_path, build_manifest(ws.root, inputs, report.outputs, {"command": "run"}))
    report.steps.append(StepResult("manifest", "done", "input hashes, parameters and versions", [manifest_path]))
    report.seconds = time.perf_counter() - started
    return report
