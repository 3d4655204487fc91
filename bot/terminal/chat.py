"""`itaku chat`: an interactive session with line editing and history (Ctrl-D to leave).

History stays in memory for the session only: questions may hold personal data, so nothing is
written to disk."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.assistant.service import Assistant
from bot.terminal.dialog import (
    TerminalDrafting,
    wants_contractor,
    wants_incident,
    wants_nda,
    wants_subcontract,
)
from bot.terminal.render import render_answer

BANNER = (
    "Itaku — 委託先の情報セキュリティ管理アシスタント\n"
    "質問を入力してください（日本語・英語）。終了: Ctrl-D または /exit。履歴のクリア: /reset"
)
DRAFTING_HELP = (
    "NDAの作成：「NDAを作りたい」または /nda（最初から：/nda new）。条項：/clause トピック キー=値\n"
    "再委託の承認申請：「再委託の承認を申請したい」または /subcontract\n"
    "委託先の登録：「委託先を登録したい」または /contractor。定期点検の記録：/review 委託先ID\n"
    "委託先での漏えい等の報告：「委託先で漏えいが起きた」または /incident"
)
MAX_HISTORY = 5


def run_chat(
    assistant: Assistant,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    drafting: TerminalDrafting | None = None,
) -> int:
    interactive = stdin.isatty() and stdout.isatty()
    if interactive:
        _enable_readline()
    print(BANNER, file=stdout)
    if drafting is not None:
        print(DRAFTING_HELP, file=stdout)

    def read(prompt: str) -> str | None:
        try:
            return input(prompt) if interactive else _read_line(stdin, stdout, prompt)
        except (EOFError, KeyboardInterrupt):
            return None

    def write(text: str) -> None:
        print(text, file=stdout, flush=True)

    thread: list[str] = []
    while True:
        try:
            line = input("\nitaku> ") if interactive else _read_line(stdin, stdout, "\nitaku> ")
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
        if drafting is not None and wants_subcontract(question):
            fresh = question.strip().lower() in ("/subcontract new", "/subcontract 最初から")
            said = "" if question.strip().lower().startswith("/subcontract") else question
            drafting.subcontract(read, write, fresh=fresh, said=said)
            continue
        if drafting is not None and wants_incident(question):
            fresh = question.strip().lower() in ("/incident new", "/incident 最初から")
            said = "" if question.strip().lower().startswith("/incident") else question
            drafting.incident(read, write, fresh=fresh, said=said)
            continue
        if drafting is not None and wants_contractor(question):
            fresh = question.strip().lower() in ("/contractor new", "/contractor 最初から")
            said = "" if question.strip().lower().startswith("/contractor") else question
            drafting.contractor(read, write, fresh=fresh, said=said)
            continue
        if drafting is not None and question.lower().startswith("/review"):
            target = question[len("/review") :].strip()
            if not target:
                write("使い方：/review CT-000001（点検する委託先の台帳ID、法人番号または名称）")
            else:
                drafting.review(target, read, write)
            continue
        if drafting is not None and wants_nda(question):
            fresh = question.strip().lower() in ("/nda new", "/nda 最初から")
            said = "" if question.strip().lower().startswith("/nda") else question
            drafting.nda(read, write, fresh=fresh, said=said)
            continue
        if drafting is not None and question.startswith("/clause"):
            write(drafting.clause(question.removeprefix("/clause")))
            continue
        answer = assistant.ask(question, history=thread[-MAX_HISTORY:])
        print(render_answer(answer), file=stdout, flush=True)
        thread.append(question)
    return 0


def _read_line(stdin: TextIO, stdout: TextIO, prompt: str) -> str | None:
    print(prompt, end="", file=stdout, flush=True)
    line = stdin.readline()
    return None if line == "" else line


def _enable_readline() -> None:
    try:
        import readline  # noqa: F401 - importing it gives input() line editing and history
    except ImportError:  # pragma: no cover - not on every platform
        return
