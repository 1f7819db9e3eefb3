"""The plain-text tables the commands print (`qualkit ingest`, `qualkit codebook list`, ...)."""
from __future__ import annotations

from qualkit.cli.output import echo_table


def test_a_table_aligns_its_columns_and_right_aligns_the_numbers(capsys):
    echo_table([("int01", "txt", 180, None), ("int10000", "docx", 7, 2)], ["id", "format", "turns", "warnings"], right=(2, 3))
    assert capsys.readouterr().out.splitlines() == [
        "id        format  turns  warnings",
        "int01     txt       180",
        "int10000  docx        7         2",
    ]


def test_rows_of_any_length_are_printed_whole(capsys):
    # a short row is blank to the right, an empty row a blank line, a long row keeps its extra cells
    echo_table(iter([("a", 1), ("b",), (), ("c", 22, "extra")]), ["id", "n"], right=(1,))
    assert capsys.readouterr().out.splitlines() == ["id   n", "a    1", "b", "", "c   22  extra"]


def test_a_table_without_rows_is_its_header_line(capsys):
    echo_table([], ["id", "n"])
    echo_table([], [])
    assert capsys.readouterr().out == "id  n\n\n"
