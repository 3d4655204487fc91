"""One reply that grows while the answer is written: Slack's chat streaming methods
(chat.startStream / appendStream / stopStream) where the workspace offers them, otherwise a
placeholder updated in place. Either way it ends as the final answer with its sources and
buttons, and a retry finds the same message again (its ref is kept with the event)."""

from __future__ import annotations

import contextlib
import logging
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.assistant.models import Answer
from bot.slack import blocks
from bot.slack.texts import text

log = logging.getLogger(__name__)

PLACEHOLDER_EVENT = "itaku_answer_placeholder"
STREAM_PREFIX = "stream:"
APPEND_EVERY_S = 0.3
UPDATE_EVERY_S = 0.8


class GrowingReply:
    def __init__(self, client: WebClient, channel: str, ref: str) -> None:
        self.client = client
        self.channel = channel
        self.streaming = ref.startswith(STREAM_PREFIX)
        self.ts = ref.removeprefix(STREAM_PREFIX)
        self.ref = ref
        self.sent = ""  # what the user sees so far (streaming mode)
        self._last = 0.0
        self.stopped = False

    @classmethod
    def open(
        cls,
        client: WebClient,
        channel: str,
        thread_ts: str,
        lang: str,
        *,
        stream: bool,
        user: str | None = None,
        team: str | None = None,
        event_key: str | None = None,
    ) -> GrowingReply:
        if stream:
            try:
                started = client.chat_startStream(
                    channel=channel,
                    thread_ts=thread_ts,
                    recipient_user_id=user,
                    recipient_team_id=team,
                )
                return cls(client, channel, STREAM_PREFIX + str(started["ts"]))
            except SlackApiError as e:  # not offered here: a placeholder instead
                log.info("chat streaming unavailable: %s", e.response.get("error", "?"))
        # the placeholder carries the event it answers, so that a replica resuming the event
        # after a crash (between this post and recording its ts) finds it instead of posting a
        # second one
        metadata = (
            {"event_type": PLACEHOLDER_EVENT, "event_payload": {"event": event_key}}
            if event_key
            else None
        )
        posted = client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=text("placeholder", lang), metadata=metadata
        )
        return cls(client, channel, str(posted["ts"]))

    @classmethod
    def find_placeholder(
        cls, client: WebClient, channel: str, thread_ts: str, event_key: str
    ) -> GrowingReply | None:
        """The placeholder an earlier attempt posted for this event, if the thread holds one."""
        try:
            replies = client.conversations_replies(
                channel=channel, ts=thread_ts, include_all_metadata=True, limit=200
            )
        except SlackApiError as e:
            log.info("conversations.replies failed: %s", e.response.get("error", "?"))
            return None
        for message in replies.get("messages") or []:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == PLACEHOLDER_EVENT and payload.get("event") == event_key:
                return cls(client, channel, str(message["ts"]))
        return None

    def grow(self, so_far: str) -> None:
        """The answer so far (called often; sent at a pace Slack's limits allow)."""
        now = time.monotonic()
        try:
            if self.streaming:
                if now - self._last < APPEND_EVERY_S or not so_far.startswith(self.sent):
                    return
                self._append(so_far)
            else:
                if now - self._last < UPDATE_EVERY_S:
                    return
                self.client.chat_update(channel=self.channel, ts=self.ts, text=so_far + " ▍")
            self._last = now
        except (SlackApiError, OSError) as e:
            log.debug("progress skipped: %s", type(e).__name__)

    def _append(self, so_far: str) -> None:
        delta = so_far[len(self.sent) :]
        if delta:
            self.client.chat_appendStream(channel=self.channel, ts=self.ts, markdown_text=delta)
            self.sent = so_far

    def finish(self, answer: Answer, answer_id: str) -> None:
        """The final answer: if it is exactly what was streamed, the stream closes with the
        sources and buttons; otherwise (an offline fallback, a refusal) the message is replaced."""
        if self.streaming and not self.stopped:
            if answer.generated_by == "llm" and answer.answer.startswith(self.sent):
                self._append(answer.answer)
                self.client.chat_stopStream(
                    channel=self.channel,
                    ts=self.ts,
                    blocks=blocks.answer_blocks(answer, answer_id, with_text=False),
                )
                self.stopped = True
                return
            self.client.chat_stopStream(channel=self.channel, ts=self.ts)
            self.stopped = True
        self.client.chat_update(
            channel=self.channel,
            ts=self.ts,
            text=blocks.fallback(answer),
            blocks=blocks.answer_blocks(answer, answer_id),
        )

    def fail(self, message: str) -> None:
        if self.streaming and not self.stopped:
            with contextlib.suppress(SlackApiError):
                self.client.chat_stopStream(channel=self.channel, ts=self.ts)
        self.client.chat_update(channel=self.channel, ts=self.ts, text=message)
