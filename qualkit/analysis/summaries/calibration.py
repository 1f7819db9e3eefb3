"""Rapid-analysis calibration and guide-question excerpts (Hamilton 2013; Taylor et al. 2018).

Calibration: before splitting the transcripts, two or more analysts summarise the SAME transcript
in the same template, compare their summaries domain by domain, and agree on how to summarise
(Taylor B, et al. BMJ Open 2018;8:e019993; Hamilton's rapid analysis). Each analyst's template is
``summaries/calibration/<analyst>/<transcript>.md`` (never read as a study summary), and
:func:`compare_calibration` sets their bullets side by side, one row per domain.

Guide-question excerpts: with no codes yet, a template's domain is pre-filled with the answer to its
guide question: the interviewer turn that best matches the domain's prompt (shared word stems)
starts the domain; the participant turns after it, up to the next matched guide question, are the
answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkit.analysis.summaries.sessions import guide_excerpts

if TYPE_CHECKING:
    from qualkit.workspace.store import Workspace

__all__ = ["CALIBRATION_DIR", "Calibration", "calibration_templates", "compare_calibration", "guide_excerpts"]

CALIBRATION_DIR = "calibration"


def calibration_templates(workspace: Workspace, transcript: str, analysts: list[str], **options: Any) -> list[Path]:
    """One summary template of ``transcript`` per analyst, in summaries/calibration/<analyst>/."""
    from qualkit.analysis.summaries.render import write_templates
    from qualkit.analysis.summaries.sessions import summaries_dir
    from qualkit.errors import SummaryError
    from qualkit.io.naming import slugify

    names = [a.strip() for a in analysts if a.strip()]
    if len(names) < 2:
        raise SummaryError("calibration needs two or more analysts (--analysts ana,ben)")
    written = []
    for name in names:
        folder = summaries_dir(workspace) / CALIBRATION_DIR / slugify(name)
        run = write_templates(workspace, transcripts=[transcript], folder=folder, analyst=name, **options)
        written += [r.path for r in run.results]
    return written


@dataclass
class Calibration:
    """Analysts' summaries of one transcript side by side: ``frame`` (Domain | one column per analyst)."""

    transcript: str
    analysts: list[str]
    frame: Any
    empty: dict[str, list[str]] = field(default_factory=dict)  # analyst -> domains left blank


def compare_calibration(workspace: Workspace, transcript: str) -> Calibration:
    """Every analyst's bullets for ``transcript`` (summaries/calibration/*/), one row per domain."""
    import pandas as pd

    from qualkit.analysis.summaries.read import read_template
    from qualkit.analysis.summaries.sessions import summaries_dir
    from qualkit.errors import SummaryError

    root = summaries_dir(workspace) / CALIBRATION_DIR
    found = sorted(p for p in root.glob(f"*/{transcript}.*") if p.suffix in (".md", ".docx")) if root.is_dir() else []
    if len(found) < 2:
        raise SummaryError(f"no calibration templates of {transcript!r} from two analysts yet "
                           f"(`qualkit summaries calibrate {transcript} --analysts A,B`)", root)
    columns: dict[str, dict[str, str]] = {}
    order: list[str] = []
    empty: dict[str, list[str]] = {}
    for path in found:
        sf = read_template(workspace, path)
        if sf.errors:
            raise sf.errors[0]
        analyst = path.parent.name
        columns[analyst] = {}
        for d in sf.domains:
            if d.label not in order:
                order.append(d.label)
            columns[analyst][d.label] = "\n".join(f"- {b.text}" for b in d.bullets)
        empty[analyst] = [label for label, text in columns[analyst].items() if not text]
    frame = pd.DataFrame([{"Domain": label, **{a: columns[a].get(label, "") for a in columns}} for label in order],
                         columns=["Domain", *columns])
    return Calibration(transcript, list(columns), frame, empty)
