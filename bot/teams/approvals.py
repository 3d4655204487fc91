"""Subcontracting requests in Teams: Approve / Reject / Request changes on the request's card
(Action.Execute; a reason is typed into the card to reject or send back), a user's own view of
the card when Teams refreshes it (buttons only for those who may decide now), a reply in the
card's thread that decides (承認 / 却下 理由 / 差戻し 理由, with the bot mentioned), and the
`requests` command (one's requests and what waits for one, in 1:1).

Whether a decision counts, and what is then posted, updated and told, is decided by
bot/delivery/requests.py (RequestDesk); bot/teams/notifier.py delivers it. An invoke is answered
in its HTTP response: the card as the person who clicked may now see it, with a line saying why
when their click was not recorded (someone else decided first, they may not decide, no reason)."""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.approvals.replies import parse_reply
from bot.approvals.service import RequestView, Result
from bot.delivery.requests import Placement
from bot.store.events import ClaimResult, PendingEvent
from bot.teams.cards import (
    APPROVE_VERB,
    REFRESH_VERB,
    REJECT_VERB,
    REVISE_VERB,
    attachment,
    card_response,
    decision_of,
    message_response,
    my_requests_card,
)
from bot.teams.cards.base import Card, attention, escape
from bot.teams.cards.texts import text as card_text
from bot.teams.connector import ConnectorError
from bot.teams.messages import text
from bot.teams.notifier import TeamsNotifier, actor_id, thread_of
from bot.teams.runtime import InvokeReply, TeamsRuntime, event_key, is_personal
from bot.teams.schema import Activity, CardAction, Message

log = logging.getLogger(__name__)

REQUESTS_KIND = "teams-requests"
_REQUEST_ID = re.compile(r"SR-\d{6}")


def lang_of_activity(activity: Activity) -> str:
    return "en" if (activity.locale or "").lower().startswith("en") else "ja"


def request_ref(data: dict[str, Any] | None) -> tuple[str, int | None] | None:
    """(request id, revision) from a card action's data; None for anything else."""
    request_id = (data or {}).get("request_id")
    if not isinstance(request_id, str) or not _REQUEST_ID.fullmatch(request_id):
        return None
    revision = (data or {}).get("revision")
    if isinstance(revision, bool) or not isinstance(revision, int | type(None)):
        return None
    return request_id, revision


def with_notice(card: Card, notice: str) -> Card:
    """The card with a line on top saying why the click was not recorded."""
    if not notice:
        return card
    return {**card, "body": [attention(escape(notice)), *card.get("body", [])]}


class TeamsApprovals:
    def __init__(self, rt: TeamsRuntime, notifier: TeamsNotifier) -> None:
        self.rt = rt
        self.notifier = notifier

    # -- cards ---------------------------------------------------------------------------------
    def may_decide(self, view: RequestView, actor: str) -> bool:
        return self.rt.approvals.check(view, actor)[0] is Result.RECORDED

    def view_for(self, view: RequestView, actor: str, lang: str, notice: str = "") -> InvokeReply:
        """The card as `actor` may see it now (buttons only if they may decide)."""
        card = self.notifier.card_for(view, self.may_decide(view, actor), lang)
        return InvokeReply(200, card_response(with_notice(card, notice)))

    def _request(self, action: CardAction) -> tuple[RequestView, int | None] | None:
        ref = request_ref(action.value.action.data)
        view = self.rt.approvals.get(ref[0]) if ref is not None else None
        if ref is None or view is None:
            return None
        return view, ref[1]

    # -- Action.Execute --------------------------------------------------------------------------
    def on_refresh(self, action: CardAction) -> InvokeReply:
        """Teams asks for a user's own view (automatically for the approvers the card lists, or
        from the card's menu)."""
        self.notifier.directory.learn(action.from_, action.tenant_id)
        found = self._request(action)
        if found is None:
            return InvokeReply(200, message_response(text("expired", "ja")))
        return self.view_for(found[0], actor_id(action.from_), lang_of_activity(action))

    def on_decide(self, action: CardAction) -> InvokeReply:
        """Approve, reject or send back (the reason typed into the card), as the core allows."""
        self.notifier.directory.learn(action.from_, action.tenant_id)
        found = self._request(action)
        decision = decision_of(action.value.action.verb, action.value.action.data)
        if found is None or decision is None:
            return InvokeReply(200, message_response(text("expired", "ja")))
        view, revision = found
        outcome, reason = decision
        actor, lang = actor_id(action.from_), lang_of_activity(action)
        if outcome != "approved" and not reason:
            refusal = self.rt.requests.refusal(view, revision or view.revision, actor, outcome)
            return self.view_for(view, actor, lang, refusal or card_text("reason_missing", lang))
        ok, message = self.rt.requests.decide(view.id, revision, actor, outcome, reason)
        log.info("teams: decision on %s recorded=%s", view.id, ok)
        fresh = self.rt.approvals.get(view.id) or view
        return self.view_for(fresh, actor, lang, "" if ok else message)

    # -- a reply in a card's thread --------------------------------------------------------------
    def on_thread_reply(self, msg: Message, words: str) -> bool:
        """承認 / 却下 理由 / 差戻し 理由 in a request's thread (the bot mentioned): decided once
        (a retried activity is claimed); True when it was such a reply."""
        thread = thread_of(msg.conversation.id)
        if thread is None or parse_reply(words) is None:
            return False
        at = Placement(*thread)
        if self.rt.approvals.by_message(at.channel, at.message) is None:
            return False
        self.notifier.directory.learn(msg.from_, msg.tenant_id)
        key = event_key(msg)
        if self.rt.ledger.claim(key, "teams-reply") is ClaimResult.DUPLICATE:
            return True
        decided = self.rt.requests.decide_by_reply(at, actor_id(msg.from_), words)
        self.rt.ledger.finish(key)
        if decided is not None and not decided[0]:
            self.rt.runner.submit(self.tell_refusal, msg, decided[1])
        return decided is not None

    def tell_refusal(self, msg: Message, message: str) -> None:
        """Why a reply did not decide: to the person in 1:1, else in the thread."""
        said = {"type": "message", "text": message, "textFormat": "plain"}
        try:
            if msg.tenant_id:
                self.rt.connector.create_conversation(
                    msg.service_url, msg.tenant_id, msg.from_.id, said
                )
                return
        except ConnectorError as e:
            log.info("teams: refusal not sent in 1:1 (%s); told in the thread", e.why)
        try:
            self.rt.connector.send(msg.service_url, msg.conversation.id, said)
        except ConnectorError as e:
            log.warning("teams: refusal not told (%s)", e.why)

    # -- requests ----------------------------------------------------------------------------------
    def on_requests(self, msg: Message, rest: str) -> InvokeReply | None:
        """One's requests and what waits for one: in this 1:1 chat, or (asked in a channel or a
        group chat) in one's 1:1 chat with the bot."""
        self.notifier.directory.learn(msg.from_, msg.tenant_id)
        payload = {
            "service_url": msg.service_url,
            "conversation_id": msg.conversation.id,
            "personal": is_personal(msg),
            "user": msg.from_.id,
            "actor": actor_id(msg.from_),
            "tenant": msg.tenant_id,
            "lang": lang_of_activity(msg),
        }
        self.rt.events.take(event_key(msg), REQUESTS_KIND, payload)
        return None

    def send_requests(self, pending: PendingEvent) -> None:
        p = pending.payload
        actor = str(p["actor"])
        mine = self.rt.approvals.search(requester=actor, limit=50)
        waiting = self.rt.approvals.waiting_for(actor)
        card = my_requests_card(mine, waiting, str(p.get("lang") or "ja"))
        activity = {"type": "message", "attachments": [attachment(card)]}
        if p.get("personal") or not p.get("tenant"):
            self.rt.connector.send(str(p["service_url"]), str(p["conversation_id"]), activity)
        else:
            self.rt.connector.create_conversation(
                str(p["service_url"]), str(p["tenant"]), str(p["user"]), activity
            )


def register(rt: TeamsRuntime, notifier: TeamsNotifier) -> TeamsApprovals:
    """The card actions, the thread replies and the `requests` command, on the runtime."""
    handlers = TeamsApprovals(rt, notifier)
    for verb in (APPROVE_VERB, REJECT_VERB, REVISE_VERB):
        rt.verbs[verb] = handlers.on_decide
    rt.verbs[REFRESH_VERB] = handlers.on_refresh
    rt.commands["requests"] = handlers.on_requests
    rt.thread_reply = handlers.on_thread_reply
    rt.events.work[REQUESTS_KIND] = handlers.send_requests
    return handlers
