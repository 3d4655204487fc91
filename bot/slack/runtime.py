"""What the listeners share: the core services, the Slack clients, the ledger of processed events,
and the work done after each acknowledgement (placeholder, answer, share, thanks, App Home)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.approvals.service import ApprovalService
from bot.assistant.conversation import ConversationDesk
from bot.config import Settings
from bot.delivery.answers import Answering
from bot.delivery.contractors import ContractorDesk
from bot.delivery.events import EventWork
from bot.delivery.incidents import IncidentDesk
from bot.delivery.requests import RequestDesk
from bot.delivery.runner import JobRunner
from bot.dialogs.engine import DialogEngine
from bot.dialogs.guidance import GuidanceLibrary
from bot.dialogs.handoff import Handoff
from bot.drafting.clauses import ClauseLibrary
from bot.knowledge.text import detect_language
from bot.llm.pii import describe, find_pii
from bot.slack import blocks
from bot.slack.client import delivery_failure, post_response
from bot.slack.streaming import GrowingReply
from bot.slack.texts import text
from bot.slack.view_tokens import ViewSigner
from bot.store.events import ClaimResult, EventLedger, PendingEvent

log = logging.getLogger(__name__)


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
    requests: RequestDesk
    handoff: Handoff
    bot_user_id: str = ""
    # the contractor ledger and its reviews (None: its rules could not be read)
    contractors: ContractorDesk | None = None
    # incidents at contractors: their cards, checklist clicks and reminders
    incidents: IncidentDesk | None = None
    # how many answers are computed at once (see bot/delivery/answers.py)
    compute: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(1)
    )
    answering: Answering = field(init=False)
    events: EventWork = field(init=False)

    def __post_init__(self) -> None:
        self.answering = Answering(self.desk, self.ledger, self.compute)
        self.events = EventWork(
            self.ledger,
            self.runner,
            {"question": self.answer_question},
            platform="Slack",
            failure=delivery_failure,
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
        if not self.events.take(event_id, "question", payload, f"msg:{team}:{channel}:{ts}"):
            return False
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
        self.ephemeral(
            str(event["channel"]), user, str(event.get("thread_ts") or event["ts"]), notice
        )

    def ephemeral(self, channel: str, user: str, thread_ts: str, text_: str) -> None:
        try:
            self.client.chat_postEphemeral(
                channel=channel, user=user, thread_ts=thread_ts, text=text_
            )
        except SlackApiError as e:
            log.warning("postEphemeral failed: %s", e.response.get("error", "?"))

    def answer_question(self, pending: PendingEvent) -> None:
        """A question event's work: a placeholder in the thread, then the answer in it (grown
        piece by piece with an LLM). The event is marked done by bot/delivery/events.py."""
        key, p = pending.key, pending.payload
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
        answer, answer_id = self.answering.for_event(
            pending,
            reply.grow if writer is not None else None,
            lambda: reply.fail(text("failed", lang)),
        )
        reply.finish(answer, answer_id)
        log.info("answered event %s abstained=%s answer=%s", key, answer.abstained, answer_id)

    # -- slash command ---------------------------------------------------------------------------

    def answer_command(self, question: str, response_url: str) -> None:
        lang = ui_lang(question)
        try:
            recorded = self.answering.answer(question, surface="command", conversation=None)
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
        view["blocks"] = view["blocks"] + home_requests(mine, waiting)
        if self.contractors is not None:
            from bot.slack.contractor_blocks import home_ledger

            view["blocks"] += home_ledger(self.contractors.home(user_id))
        view["blocks"] = view["blocks"][:100]
        self.client.views_publish(user_id=user_id, view=view)

    # -- plumbing ------------------------------------------------------------------------------------

    def _respond(self, response_url: str, body: dict[str, Any]) -> None:
        status = post_response(response_url, body, self.settings.slack_api_retries)
        if status >= 400:
            log.warning("response_url answered HTTP %d", status)
