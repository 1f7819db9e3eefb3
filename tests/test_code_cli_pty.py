"""`qualkit code` in a real terminal (a pseudo-terminal): type, read the screen, kill -9, resume."""
from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time

import pytest

from qualkit.workspace.codebook import Code, Codebook, save_codebook
from qualkit.workspace.codings import Coding, read_codings, write_codings
from qualkit.workspace.scaffold import init

pty = pytest.importorskip("pty")
termios = pytest.importorskip("termios")
fcntl = pytest.importorskip("fcntl")

INTERVIEW = (
    "Interviewer: How do referrals get to the team?\n"
    "Maria: By fax, usually days late. There is no bus out there. People feel judged.\n"
    "Interviewer: What about the county attorney?\n"
    "Maria: He is careful. It sits on his desk.\n"
)
LAUNCHER = """\
import sys
import qualkit.cli
sys.argv = ["qualkit", *sys.argv[1:]]
qualkit.cli.main()
"""
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")


def make_ws(tmp_path):
    root = init(tmp_path / "ws")
    (root / "participants.csv").write_text("transcript,speaker,participant_id,role,site\n,Interviewer,RT-1,interviewer,\n"
                                           "int1,Maria,KP-4,behavioral health,Pine Hollow\n")
    (root / "transcripts" / "int1.txt").write_text(INTERVIEW)
    save_codebook(Codebook("port", "PORT", [Code("data_sharing", "Data sharing", origin="deductive"),
                                             Code("fax", "Fax and paper", parent="data_sharing"),
                                             Code("stigma", "Stigma", origin="deductive")]),
                  root / "codebooks" / "port.yaml")
    return root


class Terminal:
    """A process on a pseudo-terminal, 100x30, as a coder's terminal emulator runs it."""

    def __init__(self, tmp_path, root, *args):
        launcher = tmp_path / "launch_qualkit.py"
        launcher.write_text(LAUNCHER)
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, b"\x1e\x00\x64\x00\x00\x00\x00\x00")  # 30 rows, 100 cols
        env = {**os.environ, "TERM": "xterm", "COLUMNS": "100", "LINES": "30"}
        env.pop("NO_COLOR", None)
        self.proc = subprocess.Popen([sys.executable, str(launcher), "-w", str(root), "code", *args],
                                     stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
                                     start_new_session=True)
        os.close(slave)
        self.raw = b""
        self.seen = 0  # what expect() has consumed

    def _pump(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the process ended and the terminal closed
            return False
        self.raw += data
        return bool(data)

    @property
    def screen(self) -> str:
        return ANSI.sub("", self.raw.decode("utf-8", "replace")).replace("\r", "")

    def expect(self, pattern: str, timeout: float = 15) -> str:
        """Wait until ``pattern`` (a regex) appears after what was already consumed; return the new text."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen
            m = re.search(pattern, text[self.seen:], re.DOTALL)
            if m:
                new = text[self.seen:self.seen + m.end()]
                self.seen += m.end()
                return new
            if time.monotonic() > deadline or (self.proc.poll() is not None and not self._pump(0.2)):
                raise AssertionError(f"did not see {pattern!r}; screen so far:\n{text[-3000:]}")
            self._pump(0.1)

    def type(self, line: str) -> None:
        os.write(self.master, line.encode("utf-8") + b"\r")

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)
        os.close(self.master)

    def wait(self) -> int:
        code = self.proc.wait(10)
        while self._pump(0.05):
            pass
        os.close(self.master)
        return code


def codes_in(root, coder="ana"):
    return [(c.code, c.text) for c in read_codings(root / "codings" / f"{coder}.csv")]


def test_coding_in_a_terminal_survives_kill_9_and_resumes_at_the_same_unit(tmp_path):
    root = make_ws(tmp_path)
    term = Terminal(tmp_path, root, "int1", "--coder", "ana")
    first = term.expect(r"\[turn 1/4\] > ")
    assert "Codes (type a number or an id" in first and "  2    Fax and paper  fax" in first
    assert "── turn 1/4 · Interviewer — RT-1, role: interviewer (research team)" in first
    assert b"\x1b[1m" in term.raw  # bold headings: this is a terminal
    term.type("n")
    screen = term.expect(r"\[turn 2/4\] > ")
    assert "Maria — KP-4, role: behavioral health, site: Pine Hollow" in screen
    assert "… Interviewer: How do referrals get to the team?" in screen
    term.type("1 3")
    term.expect(r"coded data_sharing, stigma on the whole unit.*?\[turn 2/4\] > ")
    term.type('2 "BY FAX"')
    term.expect(r'coded fax on "By fax".*?\[turn 2/4\] > ')
    term.type("/stig")
    assert "3  Stigma  stigma" in term.expect(r"\[turn 2/4\] > ")
    term.type("n")
    term.expect(r"\[turn 3/4\] > ")
    term.type("stigma")
    term.expect(r"coded stigma on the whole unit.*?\[turn 3/4\] > ")
    term.kill9()  # no quit, no clean exit: the power went out

    # every confirmed action is already in the coder's file
    assert codes_in(root) == [("fax", "By fax"), ("data_sharing", INTERVIEW.split("\n")[1][7:]),
                              ("stigma", INTERVIEW.split("\n")[1][7:]), ("stigma", "What about the county attorney?")]

    term = Terminal(tmp_path, root, "int1", "--coder", "ana")
    screen = term.expect(r"\[turn 3/4\] > ")  # same unit as before the kill
    assert "the last session was interrupted; all its" in screen
    assert "── turn 3/4 · Interviewer" in screen and "coded: #1 stigma* (whole turn)" in screen
    term.type("u")
    term.expect(r"undone: coding stigma.*?\[turn 3/4\] > ")
    term.type("u")
    screen = term.expect(r"\[turn 2/4\] > ")  # undo goes back to where the undone coding was
    assert "undone: coding fax" in screen
    assert 'coded: #1 data_sharing* (whole turn)  #2 stigma* (whole turn)' in screen
    term.type("q")
    assert "1/4 turns coded" in term.expect(r"turns coded")
    assert term.wait() == 0
    assert codes_in(root) == [("data_sharing", INTERVIEW.split("\n")[1][7:]), ("stigma", INTERVIEW.split("\n")[1][7:])]

    # and a clean start afterwards resumes there too, with nothing to recover
    term = Terminal(tmp_path, root, "int1", "--coder", "ana")
    screen = term.expect(r"\[turn 2/4\] > ")
    assert "interrupted" not in screen
    os.write(term.master, b"\x04")  # Ctrl-D quits and saves
    term.expect(r"turns coded")
    assert term.wait() == 0


def test_reviewing_suggestions_in_a_terminal_highlights_and_resumes_after_kill_9(tmp_path):
    root = make_ws(tmp_path)
    line = INTERVIEW.split("\n")[1]
    base = INTERVIEW.index(line)
    sugg = [Coding("int1", base + line.index(w), base + line.index(w) + len(w), code, w, term)
            for w, code, term in [("fax", "fax", "fax"), ("judged", "stigma", "judg*")]]
    write_codings(root / "codings" / "auto.csv", sugg)
    term = Terminal(tmp_path, root, "int1", "--coder", "ana", "--review", "auto")
    screen = term.expect(r"\[suggestion 1/2\] a/r/e/\? > ")
    assert "── suggestion 1/2 · fax (Fax and paper) · matched 'fax' · undecided" in screen
    assert b"\x1b[1;7mfax\x1b[0m" in term.raw  # the suggested span is highlighted, not bracketed
    term.type("a")
    term.expect(r"\[suggestion 2/2\] a/r/e/\? > ")
    term.kill9()
    term = Terminal(tmp_path, root, "int1", "--coder", "ana", "--review", "auto")
    term.expect(r"\[suggestion 2/2\] a/r/e/\? > ")
    term.type('e "feel judged"')
    term.expect(r"all 2 suggestions decided")
    term.type("q")
    term.expect(r"1 accepted, 1 edited, 0 rejected")
    assert term.wait() == 0
    assert codes_in(root) == [("fax", "fax"), ("stigma", "feel judged")]
