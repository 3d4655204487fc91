"""`itaku contractors review CT-000001` (or its corporate number, or its name): the periodic review
dialog (定期点検) in the terminal, the same steps and guidance as in Slack, read from standard
input."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.terminal.chat import _enable_readline, _read_line
from bot.terminal.dialog import TerminalDrafting


def run_review(
    drafting: TerminalDrafting,
    contractor: str,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> int:
    """0 when the review was recorded, 1 when it was paused, cancelled or refused."""
    interactive = stdin.isatty() and stdout.isatty()
    if interactive:
        _enable_readline()

    def read(prompt: str) -> str | None:
        try:
            return input(prompt) if interactive else _read_line(stdin, stdout, prompt)
        except (EOFError, KeyboardInterrupt):
            return None

    def write(text: str) -> None:
        print(text, file=stdout, flush=True)

    return 0 if drafting.review(contractor, read, write) is not None else 1
