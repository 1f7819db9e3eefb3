"""`qualkit disagreements` and `qualkit reconcile`: from two coders' codings to consensus codings.

Thin layers over :mod:`qualkit.analysis.disagreements`, :mod:`qualkit.analysis.adjudication` (the adjudication
file's columns, the decision grammar) and :mod:`qualkit.analysis.reconcile` (which spans the consensus keeps and
how re-runs stay idempotent). The interactive reconcile is a loop around
:class:`qualkit.analysis.reconcile_session.ReconcileSession`, like `qualkit code`: with piped input, commands are
read line by line and echoed, so a session can be scripted.
"""
from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from qualkit.cli.context import allow_unanchored_option, open_workspace, reads_the_study
from qualkit.cli.output import OutputFile
from qualkit.cli.terminal import HL_OFF as _HL_OFF
from qualkit.cli.terminal import HL_ON as _HL_ON
from qualkit.cli.terminal import LineTerminal
from qualkit.cli.terminal import style as _style
from qualkit.cli.terminal import use_color as _color
from qualkit.cli.terminal import width as _width
from qualkit.cli.terminal import wrap as _wrap
from qualkit.coding.units import UNIT_KINDS
from qualkit.io.naming import plural_s

if TYPE_CHECKING:
    from qualkit.analysis.disagreements import ConfusionPair, Disagreement, DisagreementList
    from qualkit.analysis.reconcile_session import ReconcileSession
    from qualkit.workspace.store import Workspace


def _coders(value: str | None, ws: Workspace | None = None) -> list[str]:
    """--coders A,B; without it, qualkit.yaml's ``coders:`` when it lists exactly two."""
    if value is None:
        listed = list(ws.config.coders) if ws is not None else []
        if len(listed) == 2:
            return listed
        raise click.UsageError("name two coders: --coders ana,ben (or list exactly two under 'coders:' in qualkit.yaml)")
    coders = [c.strip() for c in value.split(",") if c.strip()]
    if len(coders) != 2:
        raise click.BadParameter("name two coders, e.g. --coders ana,ben (A first: the spans it keeps where they agree)",
                                 param_hint="--coders")
    return coders


@click.command()
@click.option("--coders", metavar="A,B",
              help="The two coders to compare, e.g. ana,ben (default: qualkit.yaml's coders, if it lists two).")
@click.option("--unit", "unit_kind", type=click.Choice(UNIT_KINDS), default=None,
              help="Unit compared (default: qualkit.yaml's agreement unit, else turn).")
@click.option("--code", "code_id", metavar="ID", help="Only disagreements about this code.")
@click.option("--out", "out", type=OutputFile(), metavar="FILE",
              help="Write FILE.csv or .xlsx (an adjudication file to fill in), .docx or .md (for the meeting).")
@click.option("--include-moderator", is_flag=True, help="Compare the interviewer's / moderator's turns too.")
@click.option("--force", is_flag=True, help="Replace an --out adjudication file that cannot be read or compares other coders (a backup is kept).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@allow_unanchored_option
@click.pass_context
@reads_the_study
def disagreements(ctx: click.Context, coders: str | None, unit_kind: str | None, code_id: str | None, out: str | None,
                  include_moderator: bool, force: bool, as_json: bool) -> None:
    """Every unit where coders A and B differ, with the codes' definitions side by side.

    Also lists confusion pairs (A used X where B used Y), most frequent first: codebook
    definitions to sharpen. --out adjudication.xlsx (or .csv) writes one row per disagreement
    with a key and empty decision / rationale / decided_by columns; fill them in and run
    `qualkit reconcile --coders A,B --adjudication adjudication.xlsx`.
    """
    from qualkit.analysis.disagreements import confusion_pairs
    from qualkit.analysis.disagreements import disagreements as find
    from qualkit.analysis.meeting import write_disagreements
    from qualkit.cli.output import echo_json

    if coders is not None:
        _coders(coders)  # a usage error before the workspace is opened
    ws = open_workspace(ctx)
    pair = _coders(coders, ws)
    items = find(ws, pair, unit_kind, code_id, include_moderator)
    pairs = confusion_pairs(items)
    if as_json:
        echo_json({"coders": items.coders, "unit_kind": items.unit_kind, "transcripts": items.transcripts,
                   "left_out": items.left_out, "units": items.units, "disagreements": items.as_dicts(),
                   "confusion_pairs": [p.as_dict() for p in pairs]})
        if out:
            write_disagreements(items, out, pairs, force=force)
        return
    from qualkit.analysis.disagreements import left_out_line, summary_line

    if out:
        path = write_disagreements(items, out, pairs, force=force)
        click.echo(f"Wrote {len(items)} disagreement{plural_s(len(items))} to {path}")
        if (c := items.carried) and (c["kept"] or c["applied"]):
            click.echo(f"Carried forward {c['kept']} decision{plural_s(c['kept'])} from the file and {c['applied']} applied in the consensus; "
                       f"{c['new']} new row{plural_s(c['new'])}; {c['review']} marked for re-review (the codings changed since).")
        if path.suffix.lower() in (".csv", ".xlsx"):
            from qualkit.analysis.disagreements import reconcile_command

            click.echo(f"Fill in 'decision' (A, B, both, neither, or edit: code_id), then run: "
                       f"{reconcile_command(items, path)}")
    else:
        _show(items)
    _show_pairs(items, pairs)
    if (lo := left_out_line(items)):
        click.echo(lo)
    click.echo(summary_line(items))


def _marked(d0: Disagreement, group: Sequence[Disagreement]) -> str:
    """The unit's text with the disputed quotes between markers (shown [[like this]] without colors)."""
    from qualkit.analysis.disagreements import clip

    text = d0.text
    marks = sorted({(s - d0.start, e - d0.start) for d in group for s, e in d.quote_spans if (s, e) != (d0.start, d0.end)})
    out: list[str] = []
    pos = 0
    for s, e in marks:
        s = max(s, pos)
        if s >= e:
            continue
        out += [text[pos:s], _HL_ON, text[s:e], _HL_OFF]
        pos = e
    out.append(text[pos:])
    marked = "".join(out)
    return clip(marked, 1500 + 2 * len(marks))


def _head(text: str) -> str:
    return _style(text + " ", bold=True) + _style("─" * max(3, _width() - len(text) - 1), dim=True)


def _show(items: DisagreementList) -> None:
    from qualkit.analysis.disagreements import who

    if not items:
        click.echo("No disagreements: the coders applied the same codes to every unit compared.")
        return
    a, b = items.coders
    for group in items.by_unit():
        d0 = group[0]
        click.echo()
        click.echo(_head(f"── {d0.transcript} · {d0.unit_label} · {who(d0)}"), color=_color())
        click.echo(_wrap(_marked(d0, group)), color=_color())
        for coder in (a, b):
            names = "; ".join(items.code_name(c) for c in d0.codes[coder]) or "(nothing)"
            click.echo(f"  {coder}: " + _style(names, fg="cyan"), color=_color())
        for d in group:
            click.echo("  " + _style(f"{d.code_name} ({d.code})", bold=True) + f" — {d.applied_by} only", color=_color())
            _definitions(d)


def _definitions(d: Disagreement, indent: str = "      ") -> None:
    shown = False
    for label, value in (("definition", d.definition), ("use when", d.include), ("do not use when", d.exclude)):
        if value:
            click.echo(textwrap.fill(f"{label}: {' '.join(value.split())}", _width(), initial_indent=indent,
                                     subsequent_indent=indent + "  "))
            shown = True
    if not shown:
        click.echo(_style(f"{indent}(no definition in the codebook)", dim=True), color=_color())


def _show_pairs(items: DisagreementList, pairs: Sequence[ConfusionPair]) -> None:
    from qualkit.cli.output import echo_table

    if not pairs:
        return
    a, b = items.coders
    click.echo()
    click.echo(f"Confusion pairs ({a} used X where {b} used Y; sharpen these definitions):")
    echo_table([(p.count, f"{items.code_name(p.a_code)} ({p.a_code})", f"{items.code_name(p.b_code)} ({p.b_code})")
                for p in pairs], ["units", f"{a} used", f"{b} used"], right=(0,))


@click.command()
@click.option("--coders", metavar="A,B",
              help="The two coders; where they agree, A's exact spans go into the consensus "
                   "(default: qualkit.yaml's coders, if it lists two).")
@click.option("--into", default="consensus", show_default=True, metavar="NAME",
              help="Consensus coder name: codings/NAME.csv (rebuilt on every run; never a coder's own file).")
@click.option("--adjudication", type=click.Path(dir_okay=False), metavar="FILE",
              help="A filled-in adjudication file (.csv/.xlsx from `qualkit disagreements --out`). "
                   "Without it, walk the disagreements interactively.")
@click.option("--by", "by", metavar="NAME", help="Who decides (audit log; default: your user name). "
                                                 "A file's decided_by column wins for its rows.")
@click.option("--unit", "unit_kind", type=click.Choice(UNIT_KINDS), default=None,
              help="Unit compared (default: the adjudication file's, else qualkit.yaml's agreement unit, else turn).")
@click.option("--include-moderator", is_flag=True, help="Compare the interviewer's / moderator's turns too.")
@click.option("--dry-run", is_flag=True, help="With --adjudication: check the file and report; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary (with --adjudication).")
@allow_unanchored_option
@click.pass_context
def reconcile(ctx: click.Context, coders: str | None, into: str, adjudication: str | None, by: str | None,
              unit_kind: str | None, include_moderator: bool, dry_run: bool, as_json: bool) -> None:
    """Build consensus codings from coders A and B and the team's decisions.

    Agreed codings go to codings/<into>.csv as coder A wrote them; each disagreement is decided
    (A, B, both, neither, or edit: code ids) from --adjudication FILE or interactively (a, b,
    both, x, e ID, u to undo, q to quit; resumes where you stopped). Every decision is appended
    to .qualkit/audit.log; the coders' own files are never changed. Re-running with the same
    inputs changes nothing and logs nothing twice.
    """
    from qualkit.analysis.reconcile import reconcile as run
    from qualkit.analysis.reconcile_session import ReconcileSession

    if coders is not None:
        _coders(coders)
    ws = open_workspace(ctx)
    pair = _coders(coders, ws)
    if adjudication is not None:
        result = run(ws, pair, into=into, adjudication=adjudication, by=by, unit=unit_kind,
                     include_facilitators=include_moderator, dry_run=dry_run)
        if as_json:
            from qualkit.cli.output import echo_json

            echo_json(result.as_dict())
        else:
            click.echo(result.summary())
            if result.undecided:
                click.echo(f"Undecided: {', '.join(result.undecided[:5])}"
                           + (f" and {len(result.undecided) - 5} more" if len(result.undecided) > 5 else ""))
        return
    if dry_run or as_json:
        raise click.UsageError("--dry-run and --json go with --adjudication FILE")
    session = ReconcileSession(ws, pair, into=into, unit=unit_kind, by=by, include_facilitators=include_moderator)
    ui = _Terminal(session)
    try:
        ui.run()
    except KeyboardInterrupt:
        click.echo("\nInterrupted. Every decision confirmed so far is saved; run the same command to resume.", err=True)
    finally:
        session.close()


class _Terminal(LineTerminal):
    def __init__(self, session: ReconcileSession) -> None:
        super().__init__()
        self.s = session

    def run(self) -> None:
        s = self.s
        for note in s.notices:
            self.out(note, fg="yellow")
        a, b = s.coders
        self.out(_style(f"Reconciling A = {a} and B = {b} into {s.path.parent.name}/{s.path.name}", bold=True)
                 + f" · {s.unit_kind} units · {len(s.items)} disagreement{plural_s(len(s.items))}, {s.decided} decided · deciding as {s.by}")
        if not s.items:
            self.out("No disagreements: the consensus holds every coding both coders agree on.")
            self.out(s.summary())
            return
        self.out(_style("Every decision is saved at once; ? for help, q to quit.", dim=True))
        self.show()
        if self.interactive:
            try:
                import readline  # noqa: F401 - line editing and history for input()
            except ImportError:
                pass
        while True:
            try:
                line = self.read(s.prompt)
            except KeyboardInterrupt:
                self.out()
                line = None
            if line is None:
                if s.pending is not None:
                    self.out("(the decision waiting for its rationale was not saved)", fg="yellow")
                self.out(s.summary())
                return
            reply = s.execute(line)
            if reply.help:
                self.out(reply.help)
            if reply.message:
                self.out(reply.message, **({"fg": "red"} if reply.error else {"bold": True} if reply.quit else
                                           {"fg": "green"}))
            if reply.quit:
                return
            if reply.moved:
                self.show()

    def show(self) -> None:
        from qualkit.analysis.disagreements import who

        v = self.s.view()
        if v is None:
            return
        d = v.item
        head = f"── {v.number}/{v.total} · {d.transcript} · {d.unit_label} · {who(d)}"
        self.out()
        click.echo(_head(head), color=_color())
        click.echo(_wrap(_marked(d, [d])), color=_color())
        for letter, coder in zip("AB", v.coders):
            names = "; ".join(v.names[coder]) or "(nothing)"
            click.echo(f"  {letter} {coder}: " + _style(names, fg="cyan"), color=_color())
        click.echo("  " + _style(f"in dispute: {d.code_name} ({d.code})", bold=True)
                   + f" — applied by {d.applied_by} only"
                   + (f" ({v.others_here} more disagreement{plural_s(v.others_here)} on this unit)" if v.others_here else ""), color=_color())
        _definitions(d, "    ")
        if v.decision:
            why = f" — {v.rationale}" if v.rationale else ""
            self.out(f"  decided: {v.decision} by {v.decided_by}{why}", fg="green")
        self.out(_style(f"  {v.decided}/{v.total} decided", dim=True))
