"""Events API listeners: DMs, @mentions, App Home. Anything else is acknowledged and ignored."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App

from bot.approvals.replies import parse_reply
from bot.slack import approvals
from bot.slack.runtime import SlackRuntime
from bot.store.events import ClaimResult

log = logging.getLogger(__name__)

# subtypes that still carry a person's question; edits, deletions, joins, bot posts do not
_QUESTION_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})


def mention_free(text: str, bot_user_id: str) -> str:
    """The question without the bot's own mention (other mentions stay as written)."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", " ", text)
    return " ".join(text.split())


def is_from_a_person(event: dict[str, Any], bot_user_id: str) -> bool:
    if event.get("bot_id") or event.get("bot_profile"):
        return False
    user = event.get("user")
    return bool(user) and user != bot_user_id


def _team(body: dict[str, Any], event: dict[str, Any]) -> str:
    return str(body.get("team_id") or event.get("team") or "-")


def register(app: App, rt: SlackRuntime) -> None:
    @app.event("message")
    def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("channel_type") != "im":
            # channels: only @mentions are for us, and replies that decide a request in its thread
            if (
                event.get("thread_ts")
                and event.get("subtype") is None
                and not event.get("edited")
                and is_from_a_person(event, rt.bot_user_id)
                and parse_reply(str(event.get("text") or "")) is not None
            ):
                key = str(body.get("event_id") or f"reply:{event.get('ts')}")
                if rt.ledger.claim(key, "reply") is not ClaimResult.DUPLICATE:
                    approvals.thread_reply(rt, event)
                    rt.ledger.finish(key)
            return
        if event.get("subtype") not in _QUESTION_SUBTYPES or event.get("edited"):
            return
        if not is_from_a_person(event, rt.bot_user_id):
            return
        question = mention_free(str(event.get("text") or ""), rt.bot_user_id)
        if not question or "channel" not in event or "ts" not in event:
            return
        rt.take_question(
            str(body.get("event_id") or f"im:{event['ts']}"), _team(body, event), event, question
        )

    @app.event("app_mention")
    def on_mention(body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("edited") or event.get("subtype") not in _QUESTION_SUBTYPES:
            return
        if not is_from_a_person(event, rt.bot_user_id):
            return
        if "channel" not in event or "ts" not in event:
            return
        question = mention_free(str(event.get("text") or ""), rt.bot_user_id)
        rt.take_question(
            str(body.get("event_id") or f"mention:{event['ts']}"),
            _team(body, event),
            event,
            question,
        )

    @app.event("app_home_opened")
    def on_home(body: dict[str, Any], event: dict[str, Any]) -> None:
        user = event.get("user")
        if event.get("tab", "home") != "home" or not user:
            return
        key = str(body.get("event_id") or f"home:{user}:{event.get('event_ts')}")
        if rt.ledger.claim(key, "home") is ClaimResult.DUPLICATE:
            return
        rt.runner.submit(_publish_home, rt, key, str(user))

    @app.event(re.compile(r".*"))
    def on_other(event: dict[str, Any]) -> None:
        log.debug("ignored event type=%s", event.get("type"))


def _publish_home(rt: SlackRuntime, key: str, user: str) -> None:
    rt.publish_home(user)
    rt.ledger.finish(key)
