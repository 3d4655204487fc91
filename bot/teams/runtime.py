"""What Teams activities do, on the platform-neutral core: a message is a question (or a command),
claimed by its activity id in the event ledger and answered by a worker as a reply in the
conversation (in a channel: in the post's thread) with the answer card; an invoke (a card's
button, a dialog, a file consent) is answered in the HTTP response itself.

Other modules add commands and invoke handlers (bot/teams/dialogs.py, bot/teams/approvals.py)
through `commands`, `verbs` and `invokes`; nothing here knows their content."""

from __future__ import annotations

import hashlib
import html
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.approvals.service import ApprovalService
from bot.assistant.conversation import ConversationDesk
from bot.config import Settings
from bot.delivery.answers import Answering
from bot.delivery.events import EventWork, Failure
from bot.delivery.requests import RequestDesk
from bot.delivery.runner import JobRunner
from bot.dialogs.engine import DialogEngine
from bot.dialogs.guidance import GuidanceLibrary
from bot.dialogs.handoff import Handoff
from bot.drafting.clauses import ClauseLibrary
from bot.knowledge.text import detect_language
from bot.store.events import EventLedger, PendingEvent
from bot.teams.cards.answer_cards import VOTE_VERB, answer_card
from bot.teams.cards.base import attachment
from bot.teams.cards.responses import card_response, message_response
from bot.teams.connector import Connector, ConnectorError
from bot.teams.messages import text
from bot.teams.schema import Activity, CardAction, ConversationUpdate, Message

log = logging.getLogger(__name__)

DM_CONTEXT_WINDOW_S = 15 * 60  # a 1:1 chat's follow-up refers to questions this recent
STREAM_EVERY_S = 1.2  # Teams takes about one streaming update a second
_AT = re.compile(r"<at[^>]*>.*?</at>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,200}>")
COMMANDS = ("help", "ask", "nda", "clause", "subcontract", "requests")


@dataclass(frozen=True)
class InvokeReply:
    """The HTTP answer to an invoke: its status and JSON body."""

    status: int
    body: dict[str, Any] | None


def ui_lang(question: str) -> str:
    return "en" if detect_language(question) == "en" else "ja"


def message_text(msg: Message) -> str:
    """The user's words: the mentions (<at>Itaku</at>) and markup removed, entities decoded."""
    raw = msg.text or ""
    without = _TAG.sub(" ", _AT.sub(" ", raw))
    return " ".join(html.unescape(without).split())


def is_personal(activity: Activity) -> bool:
    kind = activity.conversation.conversation_type
    return kind == "personal" or (kind is None and not activity.conversation.is_group)


def event_key(activity: Activity) -> str:
    """The ledger key of an activity: its id within its conversation (retries of the Bot
    Framework carry the same id)."""
    raw = f"{activity.conversation.id}|{activity.id or ''}"
    return "teams:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]


def conversation_of(activity: Activity) -> tuple[str, float | None]:
    """The conversation a question belongs to (for follow-ups): a channel post's thread, a group
    chat, or a 1:1 chat with only recent questions."""
    digest = hashlib.sha256(activity.conversation.id.encode("utf-8")).hexdigest()[:32]
    tenant = activity.tenant_id or "-"
    if is_personal(activity):
        return f"teams:{tenant}:{digest}:dm", DM_CONTEXT_WINDOW_S
    return f"teams:{tenant}:{digest}", None


def user_of(activity: Activity) -> str:
    """Who acts: the AAD object id (what approval_policy.yaml names), else the Teams user id."""
    who = activity.from_
    return str(who.aad_object_id or who.id)


def delivery_failure(e: Exception) -> Failure | None:
    if isinstance(e, ConnectorError):
        return Failure(e.retry, e.why)
    return None


Command = Callable[[Message, str], InvokeReply | None]
Verb = Callable[[CardAction], InvokeReply]
Invoke = Callable[[Any], InvokeReply]
ThreadReply = Callable[[Message, str], bool]  # a reply in a channel thread; True: it was handled


@dataclass
class TeamsRuntime:
    settings: Settings
    desk: ConversationDesk
    ledger: EventLedger
    connector: Connector
    runner: JobRunner
    # subcontracting requests: the core's service, and the desk that posts the cards and tells
    # the decisions (bot/teams/approvals.py adds the card actions and the thread replies)
    approvals: ApprovalService
    requests: RequestDesk
    compute: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(1)
    )
    commands: dict[str, Command] = field(default_factory=dict)
    verbs: dict[str, Verb] = field(default_factory=dict)
    invokes: dict[str, Invoke] = field(default_factory=dict)
    thread_reply: ThreadReply | None = None  # a decision replied in a request card's thread
    # guided dialogs and clauses (bot/teams/dialogs.py)
    dialogs: DialogEngine | None = None
    guidance: GuidanceLibrary | None = None
    clauses: ClauseLibrary | None = None
    handoff: Handoff | None = None
    answering: Answering = field(init=False)
    events: EventWork = field(init=False)

    def __post_init__(self) -> None:
        self.answering = Answering(self.desk, self.ledger, self.compute)
        self.events = EventWork(
            self.ledger,
            self.runner,
            {"teams-question": self.answer_question},
            platform="Teams",
            failure=delivery_failure,
        )
        self.verbs.setdefault(VOTE_VERB, self.vote)

    # -- the entry point -------------------------------------------------------------------------
    def handle(self, activity: Activity) -> InvokeReply:
        """What the HTTP layer answers for a validated, authorised activity."""
        if isinstance(activity, Message):
            return self.on_message(activity) or InvokeReply(200, None)
        if isinstance(activity, CardAction):
            verb = self.verbs.get(activity.value.action.verb or "")
            if verb is None:
                return InvokeReply(
                    400,
                    {
                        "statusCode": 400,
                        "type": "application/vnd.microsoft.error",
                        "value": {"code": "BadRequest", "message": "unknown verb"},
                    },
                )
            return verb(activity)
        if isinstance(activity, ConversationUpdate):
            return InvokeReply(200, None)
        name = getattr(activity, "name", None)
        handler = self.invokes.get(str(name)) if name else None
        if handler is not None:
            return handler(activity)
        return InvokeReply(200, None)

    # -- messages --------------------------------------------------------------------------------
    def on_message(self, msg: Message) -> InvokeReply | None:
        if msg.from_.id == msg.recipient.id:
            return None  # the bot's own message
        words = message_text(msg)
        if isinstance(msg.value, dict) and not words:
            handler = self.commands.get("submit")  # an Action.Submit of a card
            return handler(msg, "") if handler is not None else None
        if not words:
            return None
        reply = self.thread_reply if ";messageid=" in msg.conversation.id else None
        if reply is not None and reply(msg, words):
            return None  # a decision in a request card's thread
        head, _, rest = words.partition(" ")
        command = head.lower().lstrip("/")
        if command in self.commands:
            return self.commands[command](msg, rest.strip())
        if command == "help":
            self.runner.submit(self.send_help, msg)
            return None
        question = rest.strip() if command == "ask" else words
        if not question:
            self.runner.submit(self.send_help, msg)
            return None
        self.take_question(msg, question)
        return None

    def take_question(self, msg: Message, question: str) -> bool:
        """Claim the activity and queue its answer; False for a duplicate (a retry)."""
        conversation, window = conversation_of(msg)
        payload = {
            "service_url": msg.service_url,
            "conversation_id": msg.conversation.id,
            "personal": is_personal(msg),
            "question": question,
            "surface": "dm" if is_personal(msg) else "mention",
            "conversation": conversation,
            "context_window_s": window,
        }
        return self.events.take(event_key(msg), "teams-question", payload)

    def answer_question(self, pending: PendingEvent) -> None:
        """A question's work: typing, the answer (streamed in a 1:1 chat with an LLM), then the
        answer card. The event is marked done by bot/delivery/events.py."""
        p = pending.payload
        if pending.reply_ref is not None:
            return  # delivered by an earlier attempt that died before marking it done
        service_url, conversation = p["service_url"], p["conversation_id"]
        lang = ui_lang(p["question"])
        self.connector.typing(service_url, conversation)
        writer = self.desk.assistant.writer
        stream = (
            _Stream(self.connector, service_url, conversation)
            if writer is not None and writer.stream and p.get("personal")
            else None
        )

        def failed() -> None:
            self.send_text(service_url, conversation, text("failed", lang))

        answer, answer_id = self.answering.for_event(
            pending, stream.grow if stream is not None else None, failed
        )
        activity: dict[str, Any] = {
            "type": "message",
            "text": "",
            "attachments": [attachment(answer_card(answer, lang, answer_id))],
        }
        if stream is not None and stream.stream_id is not None:
            activity["entities"] = [stream.final_entity()]
        sent = self.connector.send(service_url, conversation, activity)
        self.ledger.set_reply_ref(pending.key, sent or "sent")
        log.info(
            "teams: answered event %s abstained=%s answer=%s",
            pending.key,
            answer.abstained,
            answer_id,
        )

    def send_text(self, service_url: str, conversation: str, body: str) -> str:
        return self.connector.send(
            service_url, conversation, {"type": "message", "text": body, "textFormat": "plain"}
        )

    def send_help(self, msg: Message) -> None:
        lang = ui_lang(message_text(msg))
        try:
            self.send_text(msg.service_url, msg.conversation.id, text("help", lang))
        except ConnectorError as e:
            log.warning("teams: help not sent (%s)", e.why)

    # -- votes -----------------------------------------------------------------------------------
    def vote(self, action: CardAction) -> InvokeReply:
        data = action.value.action.data or {}
        answer_id = data.get("answer_id")
        helpful = data.get("helpful")
        if not isinstance(answer_id, str) or not isinstance(helpful, bool) or len(answer_id) > 32:
            return InvokeReply(200, message_response(text("expired", "ja")))
        answer = self.desk.stored(answer_id)
        if answer is None:
            return InvokeReply(200, message_response(text("expired", "ja")))
        self.desk.vote(answer_id, user_of(action), helpful)
        return InvokeReply(
            200, card_response(answer_card(answer, answer.lang, answer_id, voted=helpful))
        )


class _Stream:
    """Teams streaming in a 1:1 chat: the first chunk opens a stream (a typing activity with a
    streaminfo entity; its id names the stream), later ones update it at most once every
    STREAM_EVERY_S; the final message closes it. What is shown is what the core hands over
    (only text already checked against its citations)."""

    def __init__(self, connector: Connector, service_url: str, conversation: str) -> None:
        self.connector = connector
        self.service_url = service_url
        self.conversation = conversation
        self.stream_id: str | None = None
        self.sequence = 0
        self.text = ""
        self._last = 0.0
        self.broken = False

    def grow(self, delta: str) -> None:
        self.text += delta
        now = time.monotonic()
        if self.broken or now - self._last < STREAM_EVERY_S:
            return
        self._last = now
        self.sequence += 1
        entity: dict[str, Any] = {
            "type": "streaminfo",
            "streamType": "streaming",
            "streamSequence": self.sequence,
        }
        if self.stream_id is not None:
            entity["streamId"] = self.stream_id
        activity = {"type": "typing", "text": self.text, "entities": [entity]}
        try:
            sent = self.connector.send(self.service_url, self.conversation, activity)
        except ConnectorError as e:
            self.broken = True  # the final message still comes
            log.info("teams: streaming stopped (%s)", e.why)
            return
        if self.stream_id is None:
            self.stream_id = sent or None

    def final_entity(self) -> dict[str, Any]:
        return {"type": "streaminfo", "streamType": "final", "streamId": self.stream_id}
