"""Button clicks on answers: votes and sharing. Unknown actions are acknowledged and ignored."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App

from bot.slack import ids
from bot.slack.payloads import team_user
from bot.slack.runtime import SlackRuntime

log = logging.getLogger(__name__)

_ANSWER_ID = re.compile(r"^[0-9a-f]{32}$")


def _clicked(body: dict[str, Any], action: dict[str, Any]) -> tuple[str, str, str | None] | None:
    answer_id = str(action.get("value") or "")
    user = team_user(body)[1]
    if not _ANSWER_ID.match(answer_id) or not user:
        return None
    url = body.get("response_url")
    return answer_id, user, str(url) if url else None


def register(app: App, rt: SlackRuntime) -> None:
    def vote(helpful: bool) -> Callable[..., None]:
        def on_vote(ack: Callable[..., None], body: dict[str, Any], action: dict[str, Any]) -> None:
            ack()
            clicked = _clicked(body, action)
            if clicked is None:
                log.info("malformed vote ignored")
                return
            answer_id, user, url = clicked
            rt.vote(answer_id, user, helpful, url)

        return on_vote

    app.action(ids.VOTE_HELPFUL)(vote(True))
    app.action(ids.VOTE_UNHELPFUL)(vote(False))

    @app.action(ids.SHARE_ANSWER)
    def on_share(ack: Callable[..., None], body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        clicked = _clicked(body, action)
        if clicked is None or clicked[2] is None:
            log.info("malformed share ignored")
            return
        answer_id, user, url = clicked
        rt.runner.submit(rt.share, answer_id, user, url)

    def ignore(ack: Callable[..., None]) -> None:
        ack()

    everything = re.compile(r".*")
    app.action(everything)(ignore)
    app.shortcut(everything)(ignore)
    app.view(everything)(ignore)
    app.options(everything)(ignore)
