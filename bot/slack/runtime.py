"""What the listeners share: the core services, the Slack clients, the ledger of processed events,
and the work done after each acknowledgement (placeholder, answer, share, thanks, App Home)."""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.approvals.service import ApprovalService
from bot.assistant.conversation import ConversationDesk, RecordedAnswer
from bot.config import Settings
from bot.dialogs.engine import DialogEngine
from bot.dialogs.guidance import GuidanceLibrary
from bot.drafting.clauses import ClauseLibrary
from bot.knowledge.text import detect_language
from bot.llm.pii import describe, find_pii
from bot.slack import blocks
from bot.slack.client import post_response
from bot.slack.runner import JobRunner
from bot.slack.streaming import GrowingReply
from bot.slack.texts import text
from bot.slack.view_tokens import ViewSigner
from bot.store.events import ClaimResult, EventLedger

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # an event taken over this many times is given up (and logged)
# after the client's own retries, a still-failing answer is tried again in this process after
# these pauses, before it is left to the lease (a Slack retry or another replica's sweeper)
REATTEMPT_DELAYS_S = (2.0, 8.0, 30.0)


def ui_lang(question: str) -> str:
    return "en" if detect_language(question) == "en" else "ja"


DM_CONTEXT_WINDOW_S = 15 * 60  # a DM's top-level follow-up refers to questions this recent


def conversation_of(team: str, event: dict[str, Any]) -> tuple[str, float | None]:
    """The conversation a message belongs to: its thread; for a DM's top-level messages, the DM
    itself, recent questions only."""
    channel = str(event["channel"])
    thread = event.get("thread_ts")
    if thread is None and event.get("channel_type") == "im":
        return f"slack:{team}:{channel}:dm", DM_CONTEXT_WINDOW_S
    return f"slack:{team}:{channel}:{thread or event['ts']}", None


@dataclass
class SlackRuntime:
    settings: Settings
    desk: ConversationDesk
    ledger: EventLedger
    client: WebClient
    runner: JobRunner
    dialogs: DialogEngine
    guidance: GuidanceLibrary
    clauses: ClauseLibrary
    signer: ViewSigner
    approvals: ApprovalService
    approvals_channel: str | None = None
    bot_user_id: str = ""
    reattempt_delays: tuple[float, ...] = REATTEMPT_DELAYS_S
    # Answering is CPU-bound (offline) while delivering mostly waits on Slack: many delivery
    # workers, few answers computed at once, so waiting never starves the acks of the CPU.
    compute: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(1)
    )

    def prefill(self, spec_id: str, text_: str) -> dict[str, Any]:
        """Dialog fields read from the user's own words (LLM mode only; {} offline). Runs
        before the ack, so it is bounded by the trigger's three seconds."""
        writer = self.desk.assistant.writer
        if writer is None:
            return {}
        from bot.dialogs.prefill import Prefiller

        return Prefiller(writer.client, writer.model, writer.policy, timeout_s=2.0).values(
            self.dialogs.specs[spec_id], text_
        )

    def _answer(self, question: str, **kwargs: Any) -> RecordedAnswer:
        with self.compute:
            return self.desk.answer(question, **kwargs)

    # -- questions from messages (DM, @mention) ------------------------------------------------

    def take_question(self, event_id: str, team: str, event: dict[str, Any], text_: str) -> bool:
        """Claim a question event and queue its answer. False when it is a duplicate (a Slack
        retry, or a second event about the same message)."""
        channel = str(event["channel"])
        ts = str(event["ts"])
        conversation, window = conversation_of(team, event)
        payload = {
            "channel": channel,
            "thread_ts": str(event.get("thread_ts") or ts),
            "question": text_,
            "surface": "dm" if event.get("channel_type") == "im" else "mention",
            "conversation": conversation,
            "context_window_s": window,
            "user": event.get("user"),
            "team": team,
        }
        claim = self.ledger.claim(event_id, "question", payload, f"msg:{team}:{channel}:{ts}")
        if claim is ClaimResult.DUPLICATE:
            log.info("duplicate event %s ignored", event_id)
            return False
        self.runner.submit(self.answer_event, event_id)
        if not channel.startswith("D") and event.get("channel_type") != "im":
            self.runner.submit(self._warn_personal_data, team, event, text_)  # off the ack path
        return True

    def _warn_personal_data(self, team: str, event: dict[str, Any], text_: str) -> None:
        """Personal data posted in a channel: the author is told privately, once, and why."""
        # identifiers only: colleagues are named in channels all day, and that is no leak
        kinds = sorted({f.kind for f in find_pii(text_, names=False)})
        user = str(event.get("user") or "")
        if not kinds or not user:
            return
        if self.ledger.claim(f"pii-notice:{team}:{user}", "pii-notice") is ClaimResult.DUPLICATE:
            return
        notice = (
            f"チャンネルへの投稿に個人情報（{describe(kinds)}）が含まれているようです。"
            "チャンネルの投稿は多くの人が読めるため、個人情報は書かないか、Itaku には DM で質問してください。"
            "（この案内は一度だけ表示します。）"
        )
        self._ephemeral(
            str(event["channel"]), user, str(event.get("thread_ts") or event["ts"]), notice
        )

    def _ephemeral(self, channel: str, user: str, thread_ts: str, text_: str) -> None:
        try:
            self.client.chat_postEphemeral(
                channel=channel, user=user, thread_ts=thread_ts, text=text_
            )
        except SlackApiError as e:
            log.warning("postEphemeral failed: %s", e.response.get("error", "?"))

    def answer_event(self, key: str, attempt: int = 0) -> None:
        try:
            self._answer_event(key)
        except SlackApiError as e:
            status = e.response.status_code
            if status == 429 or status >= 500:
                self._reattempt(key, attempt, f"HTTP {status}")
                return
            # Slack refused for good (channel gone, bot removed, message too long...): retrying
            # cannot help, so record it and stop
            self.ledger.finish(key, "failed")
            log.error("event %s refused by Slack: %s", key, e.response.get("error", "?"))
        except OSError as e:  # connection refused, reset, timed out
            self._reattempt(key, attempt, type(e).__name__)

    def _reattempt(self, key: str, attempt: int, why: str) -> None:
        if attempt < len(self.reattempt_delays):
            delay = self.reattempt_delays[attempt]
            log.warning("event %s: Slack unavailable (%s); trying again in %.0f s", key, why, delay)
            self.runner.submit_later(delay, self.answer_event, key, attempt + 1)
        else:  # still pending: the lease lets a Slack retry or a sweeper finish it
            log.error("event %s: Slack unavailable (%s); left for a later attempt", key, why)

    def _answer_event(self, key: str) -> None:
        pending = self.ledger.resolve(key)
        if pending is None:  # finished meanwhile
            return
        p = pending.payload
        question, channel, thread_ts = p["question"], p["channel"], p["thread_ts"]
        lang = ui_lang(question)
        writer = self.desk.assistant.writer
        if pending.reply_ref is None:
            # an earlier attempt may have posted the placeholder and died before recording it
            found = (
                GrowingReply.find_placeholder(self.client, channel, thread_ts, key)
                if pending.attempts > 1
                else None
            )
            reply = found or GrowingReply.open(
                self.client,
                channel,
                thread_ts,
                lang,
                stream=writer is not None and writer.stream,
                user=p.get("user"),
                team=p.get("team"),
                event_key=key,
            )
            self.ledger.set_reply_ref(key, reply.ref)
        else:
            reply = GrowingReply(self.client, channel, pending.reply_ref)
        # the answer's id is recorded before the answer: a resumed attempt records under the same
        # id (or finds the answer already recorded), never a second row
        answer_id = pending.answer_id or uuid.uuid4().hex
        if pending.answer_id is None:
            self.ledger.set_answer(key, answer_id)
        answer = self.desk.stored(answer_id)
        if answer is None:
            try:
                recorded = self._answer(
                    question,
                    surface=p["surface"],
                    conversation=p["conversation"],
                    context_window_s=p["context_window_s"],
                    on_delta=reply.grow if writer is not None else None,
                    answer_id=answer_id,
                )
            except Exception:
                reply.fail(text("failed", lang))
                self.ledger.finish(key, "failed")
                raise
            answer = recorded.answer
        reply.finish(answer, answer_id)
        self.ledger.finish(key)
        log.info("answered event %s abstained=%s answer=%s", key, answer.abstained, answer_id)

    # -- slash command ---------------------------------------------------------------------------

    def answer_command(self, question: str, response_url: str) -> None:
        lang = ui_lang(question)
        try:
            recorded = self._answer(question, surface="command", conversation=None)
        except Exception:
            self._respond(response_url, {"replace_original": True, "text": text("failed", lang)})
            raise
        self._respond(
            response_url,
            {
                "response_type": "ephemeral",
                "replace_original": True,
                "text": blocks.fallback(recorded.answer),
                "blocks": blocks.answer_blocks(recorded.answer, recorded.answer_id, shareable=True),
            },
        )
        log.info(
            "answered command abstained=%s answer=%s", recorded.answer.abstained, recorded.answer_id
        )

    # -- buttons -----------------------------------------------------------------------------------

    def vote(self, answer_id: str, user_id: str, helpful: bool, response_url: str | None) -> None:
        known = self.desk.vote(answer_id, user_id, helpful)
        log.info("vote answer=%s helpful=%s known=%s", answer_id, helpful, known)
        if response_url is None:
            return
        stored = self.desk.stored(answer_id) if known else None
        lang = stored.lang if stored is not None else "ja"
        key = "thanks_helpful" if helpful else "thanks_unhelpful"
        message = text(key, lang) if known else text("answer_gone", lang)
        self.runner.submit(
            self._respond,
            response_url,
            {"response_type": "ephemeral", "replace_original": False, "text": message},
        )

    def share(self, answer_id: str, user_id: str, response_url: str) -> None:
        stored = self.desk.stored(answer_id)
        if stored is None:
            self._respond(
                response_url,
                {
                    "response_type": "ephemeral",
                    "replace_original": False,
                    "text": text("answer_gone", "ja"),
                },
            )
            return
        if self.ledger.claim(f"share:{answer_id}", "share") is ClaimResult.DUPLICATE:
            return  # a double click, or a Slack retry: shared once
        self._respond(
            response_url,
            {
                "response_type": "in_channel",
                "replace_original": False,
                "text": blocks.fallback(stored),
                "blocks": blocks.answer_blocks(stored, answer_id, shared_by=user_id),
            },
        )
        self._respond(response_url, {"delete_original": True})
        self.ledger.finish(f"share:{answer_id}")

    # -- App Home ----------------------------------------------------------------------------------

    def publish_home(self, user_id: str) -> None:
        from bot.slack.approval_blocks import home_requests

        view = blocks.home_view("ja")
        mine = self.approvals.search(requester=user_id, limit=10)
        waiting = self.approvals.waiting_for(user_id)
        view["blocks"] = (view["blocks"] + home_requests(mine, waiting))[:100]
        self.client.views_publish(user_id=user_id, view=view)

    # -- plumbing ------------------------------------------------------------------------------------

    def _respond(self, response_url: str, body: dict[str, Any]) -> None:
        status = post_response(response_url, body, self.settings.slack_api_retries)
        if status >= 400:
            log.warning("response_url answered HTTP %d", status)

    def resume(self, key: str) -> None:
        """Resume an event taken over from a crashed owner (see JobRunner.start_sweeper)."""
        pending = self.ledger.resolve(key)
        if pending is None:
            return
        if pending.attempts > MAX_ATTEMPTS:
            self.ledger.finish(key, "failed")
            log.error("event %s given up after %d attempts", key, pending.attempts)
        elif pending.kind == "question":
            self.answer_event(key)
        else:  # other kinds carry no work worth redoing late
            self.ledger.finish(key, "expired")
