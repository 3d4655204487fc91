"""Requests on Slack (the RequestNotifier of bot/delivery/requests.py): the card in the approvals
channel, notices in its thread, direct messages to the requester."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.approvals.service import OutcomeName, RequestView
from bot.delivery.requests import Placement
from bot.slack import approval_blocks as ab


def direct(client: WebClient, user: str, text: str, blocks: list[dict[str, Any]]) -> None:
    """A direct message to a Slack user (a terminal user has nobody to message)."""
    if not (user[:1] in ("U", "W") and user[1:].isalnum()):
        return
    dm = str(client.conversations_open(users=user)["channel"]["id"])
    client.chat_postMessage(channel=dm, text=text, blocks=blocks)


def direct_text(client: WebClient, user: str, text: str) -> None:
    direct(client, user, text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}])


class SlackNotifier:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post_request(self, channel: str, view: RequestView) -> Placement:
        posted = self.client.chat_postMessage(
            channel=channel, text=ab.fallback(view), blocks=ab.request_blocks(view)
        )
        return Placement(str(posted["channel"]), str(posted["ts"]))

    def update_request(self, at: Placement, view: RequestView) -> None:
        self.client.chat_update(
            channel=at.channel,
            ts=at.message,
            text=ab.fallback(view),
            blocks=ab.request_blocks(view),
        )

    def thread_resubmitted(self, at: Placement, view: RequestView, by: str) -> None:
        self._thread(at, ab.resubmitted_notice(view, by))

    def thread_decision(
        self,
        at: Placement,
        view: RequestView,
        actor: str,
        outcome: OutcomeName,
        reason: str | None,
    ) -> None:
        self._thread(at, ab.decision_notice(view, actor, outcome, reason))

    def thread_reminder(self, at: Placement, view: RequestView, escalated: bool) -> None:
        self._thread(at, ab.reminder_text(view, escalated))

    def direct_decision(
        self, view: RequestView, actor: str, outcome: OutcomeName, reason: str | None
    ) -> None:
        direct(
            self.client,
            view.requester,
            ab.fallback(view),
            ab.requester_dm(view, actor, outcome, reason),
        )

    def _thread(self, at: Placement, text: str) -> None:
        self.client.chat_postMessage(channel=at.channel, thread_ts=at.message, text=text)
