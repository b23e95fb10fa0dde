"""The examples in --help are commands that work: each parses, and a fetch names its --out."""

from __future__ import annotations

import shlex

import pytest
import typer.main

from kithara_cli.cli import app
from kithara_cli.cli_options import FETCH_EPILOG, PLAY_EPILOG

EXAMPLES = [
    line.split("#")[0].strip()
    for line in (FETCH_EPILOG + PLAY_EPILOG).splitlines()
    if line.strip().startswith("kithara ")
]


@pytest.mark.parametrize("example", EXAMPLES)
def test_each_help_example_parses_and_a_fetch_names_its_output(example: str) -> None:
    words = shlex.split(example)[1:]
    command = typer.main.get_command(app)
    with command.make_context("kithara", list(words), resilient_parsing=False) as ctx:
        sub = command.get_command(ctx, words[0])  # type: ignore[attr-defined]
        assert sub is not None
        sub.make_context(words[0], words[1:], parent=ctx)  # raises on a usage error
    if words[0] == "fetch" and "--list" not in words:
        assert {"-o", "--out"} & set(words), example  # --out is required
