"""Every command's --help, as a user asks for it: each one works, and each top-level command's
one-line help is the text in the COMMANDS table, whether `qualkit --help` or the command says it."""
from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from qualkit.cli import COMMANDS, cli


def _walk(group: click.Group, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], click.Command]]:
    """Every (argv path, command) below ``group``, loading lazy commands the way a user's call does."""
    ctx = click.Context(group, info_name=path[-1] if path else "qualkit")
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, f"`qualkit {' '.join((*path, name))}` is listed but does not load"
        found.append(((*path, name), command))
        if isinstance(command, click.Group):
            found.extend(_walk(command, (*path, name)))
    return found


ALL = _walk(cli, ())


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_registered_command_is_found_by_walking_the_tree():
    top = {path[0] for path, _ in ALL if len(path) == 1}
    assert top == set(COMMANDS)
    assert any(len(path) > 1 for path, _ in ALL)  # groups' subcommands are walked too


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=" ".join)
def test_help_of_every_command_and_subcommand_exits_0(path):
    r = CliRunner().invoke(cli, [*path, "--help"], prog_name="qualkit", catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"Usage: qualkit {' '.join(path)}")


def test_each_command_is_registered_under_its_own_name():
    for path, command in ALL:
        if len(path) == 1:
            assert command.name == path[0]


def test_the_main_help_lists_each_command_with_its_registry_text():
    r = CliRunner().invoke(cli, ["--help"], catch_exceptions=False)
    assert r.exit_code == 0
    for name, (_, _, short_help) in COMMANDS.items():
        assert _flat(f"{name} {short_help}") in _flat(r.output)


def test_a_loaded_command_says_the_registry_text_as_its_short_help():
    # The registry is the single source: LazyGroup stamps it on the command it loads, so the
    # docstring's first line (the long help's opening) can never become a second one-liner.
    for path, command in ALL:
        if len(path) == 1:
            assert command.get_short_help_str(limit=500) == COMMANDS[path[0]][2]


def test_the_registry_short_help_is_one_line_ending_with_a_period():
    for name, (_, _, short_help) in COMMANDS.items():
        assert "\n" not in short_help and short_help.endswith("."), name


def test_an_option_spelled_the_same_takes_the_same_short_flag_everywhere():
    """`-c` names the codebook on every command that takes one (it used to fail on `codebook show`)."""
    shorts: dict[str, set[tuple[str, ...]]] = {}
    for _path, cmd in _walk(cli, ()):
        for p in cmd.params:
            if isinstance(p, click.Option):
                for long in (o for o in p.opts if o.startswith("--")):
                    shorts.setdefault(long, set()).add(tuple(sorted(o for o in p.opts if not o.startswith("--"))))
    # `--id` is the id of what the command creates (a code in `codebook add`, a codebook in `codebook new`),
    # so only where it also names a codebook does it take `-c`.
    differing = {long: sorted(v) for long, v in shorts.items() if len(v) > 1 and long != "--id"}
    assert differing == {}
