"""`itaku chat`: an interactive session with line editing and history (Ctrl-D to leave).

History stays in memory for the session only: questions may hold personal data, so nothing is
written to disk."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.assistant.service import Assistant
from bot.terminal.render import render_answer

BANNER = (
    "Itaku — 委託先の情報セキュリティ管理アシスタント\n"
    "質問を入力してください（日本語・英語）。終了: Ctrl-D または /exit。履歴のクリア: /reset"
)
MAX_HISTORY = 5


def run_chat(assistant: Assistant, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    interactive = stdin.isatty() and stdout.isatty()
    if interactive:
        _enable_readline()
    print(BANNER, file=stdout)
    thread: list[str] = []
    while True:
        try:
            line = input("\nitaku> ") if interactive else _read_line(stdin, stdout)
        except (EOFError, KeyboardInterrupt):
            print("", file=stdout)
            break
        if line is None:
            break
        question = line.strip()
        if not question:
            continue
        if question in ("/exit", "/quit"):
            break
        if question == "/reset":
            thread.clear()
            print("会話の履歴をクリアしました。", file=stdout)
            continue
        answer = assistant.ask(question, history=thread[-MAX_HISTORY:])
        print(render_answer(answer), file=stdout, flush=True)
        thread.append(question)
    return 0


def _read_line(stdin: TextIO, stdout: TextIO) -> str | None:
    print("\nitaku> ", end="", file=stdout, flush=True)
    line = stdin.readline()
    return None if line == "" else line


def _enable_readline() -> None:
    try:
        import readline  # noqa: F401 - importing it gives input() line editing and history
    except ImportError:  # pragma: no cover - not on every platform
        return
