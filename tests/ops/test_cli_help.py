"""``--help`` is read in a terminal: plain text, a sentence for every option, a pointer to
the full settings reference."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from app.cli import build_parser
from tests.helpers import REPO


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"": parser, **sub.choices}


@pytest.mark.parametrize("command", ["", "serve", "download"])
def test_every_option_says_what_it_does(command: str) -> None:
    parser = _commands()[command]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help and len(action.help.split()) >= 4, f"{command} {name}: no help"
        assert "``" not in action.help, f"{command} {name}: RST markup"


def test_serve_help_is_plain_text_and_points_to_the_reference() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "``" not in result.stdout
    assert "docs/configuration.md" in result.stdout
    for contents in ("BAAI/bge-m3", "all-MiniLM-L6-v2", "SPLADE"):
        assert contents in result.stdout
