"""Slash commands. `/itaku QUESTION` answers privately; `/itaku help` (or nothing) explains."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App

from bot.slack import blocks, contractors, dialogs, ids
from bot.slack.runtime import SlackRuntime, ui_lang
from bot.slack.texts import text

log = logging.getLogger(__name__)

HELP_WORDS = frozenset({"", "help", "-h", "--help", "?", "？", "ヘルプ", "使い方", "へるぷ"})


def register(app: App, rt: SlackRuntime) -> None:
    @app.command(ids.COMMAND)
    def on_itaku(ack: Callable[..., None], command: dict[str, Any]) -> None:
        question = " ".join(str(command.get("text") or "").split())
        first, _, rest = question.partition(" ")
        if first.lower() in ("nda", "秘密保持契約"):
            dialogs.open_dialog(rt, ack, command, rest, "nda")
            return
        if first.lower() in ("subcontract", "再委託申請"):
            dialogs.open_dialog(rt, ack, command, rest, "subcontract")
            return
        if first.lower() in ("contractor", "委託先登録"):
            contractors.open_contractor(rt, ack, command, rest)
            return
        if first.lower() in ("review", "定期点検"):
            contractors.open_review(rt, ack, command, rest)
            return
        if first.lower() in ("incident", "漏えい", "インシデント"):
            dialogs.open_dialog(rt, ack, command, rest, "incident")
            return
        if first.lower() in ("clause", "条項"):
            ack(response_type="ephemeral", **dialogs.clause_reply(rt, rest))
            return
        if question.lower() in HELP_WORDS:
            ack(text=text("intro", "ja"), blocks=blocks.help_blocks())
            return
        lang = ui_lang(question)
        response_url = command.get("response_url")
        if not response_url:
            ack(text=text("failed", lang))
            return
        ack(response_type="ephemeral", text=text("placeholder", lang))
        rt.runner.submit(rt.answer_command, question, str(response_url))
        log.info("command queued chars=%d", len(question))

    @app.command(re.compile(r".*"))
    def on_unknown(ack: Callable[..., None], command: dict[str, Any]) -> None:
        name = str(command.get("command") or "?")[:40]
        ack(text=text("unknown_command", "ja", command=blocks.escape(name)))
