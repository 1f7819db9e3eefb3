"""`qualkit code TRANSCRIPT --coder NAME`: interactive coding in the terminal.

A thin loop around :class:`qualkit.coding.session.CodingSession`: it shows the current unit (or
auto-coding suggestion), reads one command per line and prints what the session replies. Line
editing, history and Tab-completion of code ids come from readline when the input is a terminal;
with piped input, commands are read line by line and echoed, so a session can be scripted.
Colors only on a terminal (and never with NO_COLOR set).
"""
from __future__ import annotations

import textwrap

import click

from qualkit.cli.context import open_workspace
from qualkit.cli.terminal import HL_OFF as _HL_OFF
from qualkit.cli.terminal import HL_ON as _HL_ON
from qualkit.cli.terminal import LineTerminal
from qualkit.io.naming import plural_s


@click.command()
@click.argument("transcript_id")
@click.option("--coder", required=True, help="Your coder name: codings go to codings/<coder>.csv.")
@click.option("-c", "--codebook", "codebook_id", metavar="ID", help="Codebook to code with (default: qualkit.yaml's, or the only one).")
@click.option("--unit", "unit_kind", type=click.Choice(["turn", "sentence"]), default="turn", show_default=True,
              help="Step through turns or sentences (a simple rule-based splitter; see qualkit.coding.units).")
@click.option("--review", type=click.Choice(["auto"]),
              help="Walk through suggestions in codings/auto.csv (from `qualkit autocode`): accept, reject or edit each.")
@click.pass_context
def code(ctx: click.Context, transcript_id: str, coder: str, codebook_id: str | None, unit_kind: str,
         review: str | None) -> None:
    """Code TRANSCRIPT_ID interactively, unit by unit, as CODER.

    Type code numbers or ids to apply them (`3 7`, `data_sharing`), `3 "a few words"` to code
    only part of the unit, `+ Name: definition` for a new inductive code, `d N` / `m N text` to
    delete or annotate the unit's coding #N, `u` to undo, `j 40` to jump, `/word` to find codes,
    `?` for all commands and `q` to quit. Every action is saved at once in
    .qualkit/sessions/<coder>__<transcript>.jsonl and in codings/<coder>.csv; after a crash the
    next run recovers everything and resumes at the same unit.
    """
    from qualkit.coding.session import CodingSession

    ws = open_workspace(ctx)
    session = CodingSession(ws, transcript_id, coder, codebook=codebook_id, unit=unit_kind, review=review)
    ui = _Terminal(session)
    try:
        ui.run()
        ui.ask_done(ws)
    except KeyboardInterrupt:  # Ctrl-C while a command ran: what was journaled is recovered on next start
        click.echo("\nInterrupted. Everything confirmed so far is saved; run the same command to resume.", err=True)
    finally:
        session.close()


class _Terminal(LineTerminal):
    def __init__(self, session):
        super().__init__()
        self.s = session

    # -- the loop -----------------------------------------------------------------------------
    def run(self) -> None:
        s = self.s
        for note in s.notices:
            self.out(note, fg="yellow")
        where = f"{s.tid} as {s.coder} · codebook {s.codebook_id}"
        if s.mode == "review":
            self.out(self.style(f"Reviewing auto-coding suggestions for {where}", bold=True)
                     + f" · {len(s.suggestions)} suggestion{plural_s(len(s.suggestions))}")
            if not s.suggestions:
                self.out(f"No suggestions for {s.tid} in codings/auto.csv: nothing to review.")
                return
        else:
            self.out(self.style(f"Coding {where}", bold=True) + f" · {len(s.units)} {s.unit_kind}s")
            self.show_codes(s.code_list(), "Codes (type a number or an id; /word filters; ? help):")
        self.out(self.style("Everything is saved as you go; ? for help, q to quit.", dim=True))
        self.show()
        self._setup_readline()
        while True:
            try:
                line = self.read(self.prompt())
            except KeyboardInterrupt:
                self.out()
                line = None
            if line is None:
                self.out(s.summary())
                return
            reply = s.execute(line)
            if self.render(reply):
                return

    def ask_done(self, ws) -> None:
        """At the end of the transcript, ask whether the coder has finished it (agreement counts only done ones)."""
        from qualkit.coding.coverage import done_transcripts, mark_done

        s = self.s
        if s.mode != "code" or not s.units or s.pos < len(s.units) - 1 or s.tid in (done_transcripts(ws, s.coder) or set()):
            return
        answer = self.read(f"Mark {s.tid} done for {s.coder} (all of it coded; agreement counts only done transcripts)? [y/N] ")
        if answer is not None and answer.strip().lower() in ("y", "yes"):
            mark_done(ws, s.tid, s.coder)
            self.out(f"{s.tid} marked done for {s.coder}.", fg="green")
        else:
            self.out(f"Not marked done; later: qualkit codings done {s.tid} --coder {s.coder}")

    def prompt(self) -> str:
        s = self.s
        if s.mode == "review":
            return f"[suggestion {s.rpos + 1}/{len(s.suggestions)}] a/r/e/? > "
        return f"[{s.unit_kind} {s.pos + 1}/{len(s.units)}] > "

    def render(self, reply) -> bool:
        """Print a reply; True when the session should end."""
        if reply.help:
            self.out(reply.help)
        if reply.codes is not None and reply.codes:
            self.show_codes(reply.codes)
        if reply.message:
            if reply.error:
                self.out(reply.message, fg="red")
            elif reply.quit:
                self.out(reply.message, bold=True)
            else:
                self.out(reply.message, fg="green")
        if reply.quit:
            return True
        if reply.moved:
            self.show()
        elif reply.changed and self.s.mode == "code":
            self.show_codings(self.s.view())
        return False

    # -- views --------------------------------------------------------------------------------
    def show_codes(self, entries, title: str | None = None) -> None:
        if title:
            self.out(title, bold=True)
        if not entries:
            self.out("    (no active codes yet: + Name: definition creates one)")
        for e in entries:
            label = "  " * e.depth + e.code.name
            self.out(f"  {e.number:>3}  {label}  " + self.style(e.code.id, dim=True))

    def person(self, v) -> str:
        who = v.speaker or "(no speaker label)"
        bits = []
        if v.participant:
            bits.append(v.participant)
        bits += [f"{k}: {val}" for k, val in v.attributes.items() if val]
        text = who + (" — " + ", ".join(bits) if bits else "")
        if v.facilitator:
            text += " (research team)"
        return text

    def show(self) -> None:
        view = self.s.view()
        if view is None:
            return
        if self.s.mode == "review":
            self.show_suggestion(view)
            return
        head = f"── {view.kind} {view.number}/{view.total}"
        if view.kind != "turn" and view.turn_number:
            head += f" · turn {view.turn_number}"
        head += " · " + self.person(view)
        if view.skipped:
            head += " · skipped earlier"
        self.out()
        self.out(self.style(head + " ", bold=True) + self.style("─" * max(3, self.width() - len(head) - 1), dim=True))
        if view.context:
            ctx = view.context.lstrip("…")
            if view.context_speaker and view.kind == "turn" and not view.context.startswith("…"):
                ctx = f"{view.context_speaker}: {ctx}"
            self.out(self.style("  … " + textwrap.shorten(ctx, self.width() - 4, placeholder="…"), dim=True))
        self.out(self.wrap(view.text))
        self.show_codings(view)

    def show_codings(self, view) -> None:
        if not view.codings:
            self.out(self.style("  coded: (nothing yet)", dim=True))
            return
        parts = []
        for c in view.codings:
            where = f"(whole {view.kind})" if c.whole_unit else f"\"{textwrap.shorten(c.coding.text, 50, placeholder='…')}\""
            star = "*" if c.this_session else ""
            item = f"#{c.number} {c.coding.code}{star} {where}"
            if c.coding.memo:
                item += f" (memo: {textwrap.shorten(c.coding.memo, 40, placeholder='…')})"
            parts.append(item)
        self.out("  coded: " + self.style("  ".join(parts), fg="cyan"))
        if any(not c.this_session for c in view.codings):
            self.out(self.style("         (* = this session; others are earlier codings: d N deletes one)", dim=True))

    def show_suggestion(self, sv) -> None:
        s = sv.suggestion
        head = f"── suggestion {sv.number}/{sv.total} · {s.code}"
        if sv.code_name:
            head += f" ({sv.code_name})"
        if sv.term:
            head += f" · matched {sv.term!r}"
        state = {"accept": "accepted", "reject": "rejected", "edit": "accepted (edited)"}.get(sv.decision or "", "undecided")
        head += f" · {state}"
        self.out()
        self.out(self.style(head + " ", bold=True) + self.style("─" * max(3, self.width() - len(head) - 1), dim=True))
        u = sv.unit
        self.out(self.style(f"  turn {u.number}/{u.total} · " + self.person(u), dim=True))
        lo, hi = max(s.start, u.start), min(s.end, u.end)
        full = self.s.text
        text = full[u.start:lo] + _HL_ON + full[lo:hi] + _HL_OFF + full[hi:u.end]
        self.out(self.wrap(text))
        if sv.in_codings and sv.decision is None:
            self.out(self.style("  (you already have this exact coding)", dim=True))
        if sv.mismatch:
            self.out(self.style(f"  note: auto.csv quotes {s.text!r} here; the transcript changed since autocode ran", fg="yellow"))
        if not sv.code_name:
            self.out(self.style(f"  note: {s.code} is not an active code of {self.s.codebook_id}", fg="yellow"))
        self.out(self.style(f"  {sv.decided}/{sv.total} decided", dim=True))

    # -- line editing ---------------------------------------------------------------------
    def _setup_readline(self) -> None:
        if not self.interactive:
            return
        try:
            import readline
        except ImportError:  # Windows without pyreadline: plain input() still works
            return
        session = self.s
        words = ["help", "next", "back", "skip", "jump", "undo", "quit", "list", "memo", "delete", "info",
                 "accept", "reject", "edit", "sentence", "turn"]

        def complete(text: str, state: int):
            ids = [e.code.id for e in session.code_list()] if session.mode == "code" else []
            options = [w for w in ids + words if w.startswith(text)]
            return options[state] if state < len(options) else None

        readline.set_completer(complete)
        readline.set_completer_delims(" \t\"")
        if "libedit" in (readline.__doc__ or ""):
            readline.parse_and_bind("bind ^I rl_complete")
        else:
            readline.parse_and_bind("tab: complete")
