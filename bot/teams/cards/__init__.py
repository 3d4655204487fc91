"""Adaptive Cards for Teams (schema 1.5): pure functions from the core's models to JSON-ready
dicts, as bot/slack/*_blocks.py are for Slack. No Teams client, no I/O; every text that is not
Itaku's own goes through `base.escape` (or `one_line`), and every card is kept under Teams' size
limit (`base.fit`)."""

from __future__ import annotations

from bot.teams.cards.answer_cards import VOTE_VERB, answer_card, refusal_card
from bot.teams.cards.approval_cards import (
    APPROVE_VERB,
    REFRESH_VERB,
    REJECT_VERB,
    REVISE_VERB,
    decision_of,
    my_requests_card,
    refresh_block,
    request_card,
)
from bot.teams.cards.base import attachment, escape, one_line, size_of
from bot.teams.cards.clause_cards import clause_card, clause_error_card, clause_topics_card
from bot.teams.cards.dialog_cards import (
    dialog_open_card,
    dialog_step_card,
    dialog_values,
    draft_summary_card,
    notice_card,
    review_card,
)
from bot.teams.cards.responses import (
    card_response,
    file_consent_card,
    message_response,
    task_continue,
    task_message,
)

__all__ = [
    "APPROVE_VERB",
    "REFRESH_VERB",
    "REJECT_VERB",
    "REVISE_VERB",
    "VOTE_VERB",
    "answer_card",
    "attachment",
    "card_response",
    "clause_card",
    "clause_error_card",
    "clause_topics_card",
    "decision_of",
    "dialog_open_card",
    "dialog_step_card",
    "dialog_values",
    "draft_summary_card",
    "escape",
    "file_consent_card",
    "message_response",
    "my_requests_card",
    "notice_card",
    "one_line",
    "refresh_block",
    "refusal_card",
    "request_card",
    "review_card",
    "size_of",
    "task_continue",
    "task_message",
]
