"""Requests on Teams (the RequestNotifier of bot/delivery/requests.py): the request's card posted
as a new thread of the approvals channel and updated for everyone, notices as replies in that
thread, a decision told to the requester and reminders to the approvers as proactive 1:1
messages.

People: approval_policy.yaml names Teams users by Microsoft Entra (AAD) object id, which is what
a 1:1 conversation can be created with (the app installed for the user). A card's
`refresh.userIds` needs their Teams user ids (29:…) instead: the `Directory` learns them from
every activity (its sender carries both) and asks the Bot Connector for the others (a member of
the approvals channel's team, by object id). It is a cache in memory, per replica: nothing that
must be the same everywhere depends on it (a card without a refresh for someone is refreshed
from its menu, and every decision is checked again when it is made)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.approvals.policy import is_object_id
from bot.approvals.service import OUTCOME_LABELS, OutcomeName, RequestView
from bot.delivery.requests import Placement
from bot.teams.cards import attachment, request_card
from bot.teams.cards.base import Card, one_line, plain
from bot.teams.connector import Connector, ConnectorError
from bot.teams.schema import Account

log = logging.getLogger(__name__)

THREAD = ";messageid="  # a channel thread's conversation id: the channel's, then the root's id
KNOWN_FOR_S = 6 * 3600.0  # a person looked up is asked again after this long
MISSING_FOR_S = 600.0  # a person the Connector did not know is not asked again before this


def thread_of(conversation_id: str) -> tuple[str, str] | None:
    """(channel conversation id, thread root id) of a channel thread's conversation id."""
    channel, sep, root = conversation_id.partition(THREAD)
    return (channel, root) if sep and channel and root else None


def in_thread(at: Placement) -> str:
    """The conversation id of the thread whose root is the card at `at`."""
    return f"{at.channel}{THREAD}{at.message}"


def teams_user(user: str) -> bool:
    """Someone Teams can reach: an object id (the policy's) or a Teams user id (29:…)."""
    return is_object_id(user) or user.startswith("29:")


def actor_id(account: Account) -> str:
    """Who acts, as the policy and the audit trail name them: the object id (lower case), else
    the Teams user id."""
    if account.aad_object_id and is_object_id(account.aad_object_id):
        return account.aad_object_id.lower()
    return account.aad_object_id or account.id


@dataclass(frozen=True)
class Person:
    teams_id: str | None  # 29:…
    name: str | None
    tenant: str | None
    until: float  # time.monotonic() after which it is asked again


class Directory:
    """Teams users by object id: their Teams user id, name and tenant (see the module's note)."""

    def __init__(self, connector: Connector, service_url: str, conversation: str | None) -> None:
        self.connector = connector
        self.service_url = service_url
        self.conversation = conversation  # the approvals channel: its team's members are asked
        self._people: dict[str, Person] = {}
        self._lock = threading.Lock()

    def learn(self, account: Account, tenant: str | None) -> None:
        """What an activity's sender tells: their object id, Teams user id and name."""
        aad = account.aad_object_id
        if not aad or not is_object_id(aad) or not account.id.startswith("29:"):
            return
        person = Person(account.id, account.name, tenant, time.monotonic() + KNOWN_FOR_S)
        with self._lock:
            self._people[aad.lower()] = person

    def known(self, user: str) -> Person | None:
        """What is known of a person, without asking anyone."""
        with self._lock:
            person = self._people.get(user.lower())
        return person if person is not None and person.teams_id else None

    def lookup(self, user: str) -> Person | None:
        """A person by object id: as known, else asked of the Bot Connector (at most every
        MISSING_FOR_S for someone it does not know, or while it cannot answer)."""
        if not is_object_id(user):
            return None
        key = user.lower()
        with self._lock:
            cached = self._people.get(key)
        if cached is not None and time.monotonic() < cached.until:
            return cached if cached.teams_id else None
        if not self.conversation:
            return cached if cached is not None and cached.teams_id else None
        try:
            found = self.connector.member(self.service_url, self.conversation, key)
        except ConnectorError as e:
            log.info("teams: a member lookup failed (%s)", e.why)
            found = {}
        teams_id = found.get("id")
        name = found.get("name")
        tenant = found.get("tenantId")
        if isinstance(teams_id, str) and teams_id.startswith("29:"):
            person = Person(
                teams_id,
                name if isinstance(name, str) else None,
                tenant if isinstance(tenant, str) else None,
                time.monotonic() + KNOWN_FOR_S,
            )
        elif cached is not None and cached.teams_id:
            return cached  # known from an activity; the Connector could not say more now
        else:
            person = Person(None, None, None, time.monotonic() + MISSING_FOR_S)
        with self._lock:
            self._people[key] = person
        return person if person.teams_id else None


class TeamsNotifier:
    """Delivers what bot/delivery/requests.py decides, through the Bot Connector."""

    def __init__(
        self,
        connector: Connector,
        directory: Directory,
        *,
        service_url: str,
        tenant: str | None,
    ) -> None:
        self.connector = connector
        self.directory = directory
        self.service_url = service_url
        self.tenant = tenant or None  # for 1:1 conversations with people not seen yet

    # -- what the desk asks of an optional notifier -------------------------------------------------
    @staticmethod
    def owns(channel: str) -> bool:
        """Cards in Teams conversations (19:…@thread.tacv2): a Slack channel id has no colon."""
        return ":" in channel

    def mention(self, user: str) -> str:
        """A person in a plain-text message: their name if known, else their id."""
        person = self.directory.known(user)
        return one_line(person.name) if person is not None and person.name else user

    # -- people on a card --------------------------------------------------------------------------
    def deciders(self, view: RequestView) -> list[str]:
        """Who may decide the waiting stage (as far as the policy names people, not groups)."""
        if view.stage is None:
            return []
        decided = {d.approver for d in view.current_decisions}
        return [
            a
            for a in dict.fromkeys(view.approvers)
            if a != view.requester and a not in decided and teams_user(a)
        ]

    def people(self, view: RequestView, ask: bool) -> tuple[list[str], dict[str, str]]:
        """(Teams user ids of those who may decide, for the card's refresh; names of everyone
        the card shows). `ask`: look up people not seen yet (a worker may; an invoke may not
        wait)."""
        find = self.directory.lookup if ask else self.directory.known
        refresh: list[str] = []
        for user in self.deciders(view):
            person = find(user)
            if person is not None and person.teams_id:
                refresh.append(person.teams_id)
        names: dict[str, str] = {}
        shown = [view.requester, *view.approvers, *(d.approver for d in view.decisions)]
        for user in dict.fromkeys(shown):
            person = find(user) if is_object_id(user) else None
            if person is not None and person.name:
                names[user] = person.name
        return refresh, names

    def card_for(
        self, view: RequestView, may_decide: bool, lang: str = "ja", *, ask: bool = False
    ) -> Card:
        refresh, names = self.people(view, ask)
        return request_card(view, may_decide, lang, refresh_user_ids=refresh, names=names)

    # -- RequestNotifier -----------------------------------------------------------------------------
    def post_request(self, channel: str, view: RequestView) -> Placement:
        root = self.connector.send(self.service_url, channel, self._card_activity(view))
        if not root:
            raise ConnectorError("no activity id", retry=False)
        log.info("teams: request %s posted", view.id)
        return Placement(channel, root)

    def update_request(self, at: Placement, view: RequestView) -> None:
        self.connector.update(self.service_url, at.channel, at.message, self._card_activity(view))

    def thread_resubmitted(self, at: Placement, view: RequestView, by: str) -> None:
        self._thread(
            at,
            f"{self._name(by)} さんが申請 {view.id} を修正して再提出しました（第{view.revision}版）。",
        )

    def thread_decision(
        self,
        at: Placement,
        view: RequestView,
        actor: str,
        outcome: OutcomeName,
        reason: str | None,
    ) -> None:
        said = decision_text(view, self._name(actor), outcome, reason, self._names)
        self._thread(at, f"申請 {view.id}：{said}")

    def thread_reminder(self, at: Placement, view: RequestView, escalated: bool) -> None:
        """In the thread, and to each approver of the waiting stage in 1:1 (with the card and
        its buttons). A person who cannot be reached is skipped; the thread has it."""
        who = self._names(view.approvers)
        stage = one_line(view.stage_name or "")
        if escalated:
            said = f"申請 {view.id} は長く判断を待っているため、エスカレーションしました。{who} が判断できます。"
        else:
            said = f"申請 {view.id} が {stage} の判断を待っています（{who}）。"
        self._thread(at, said)
        _, names = self.people(view, False)
        for user in self.deciders(view):
            person = self.directory.lookup(user)
            card = request_card(
                view,
                True,
                refresh_user_ids=[person.teams_id] if person and person.teams_id else [],
                names=names,
            )
            try:
                self.direct(user, _message(said, card))
            except ConnectorError as e:
                log.warning("teams: reminder for %s not sent to an approver (%s)", view.id, e.why)

    def direct_decision(
        self, view: RequestView, actor: str, outcome: OutcomeName, reason: str | None
    ) -> None:
        said = f"あなたの再委託の承認申請 {view.id} について、" + decision_text(
            view, self._name(actor), outcome, reason, self._names
        )
        if view.status == "changes_requested":
            said += "\n内容を修正して、もう一度提出してください。"
        _, names = self.people(view, False)
        card = request_card(view, False, names=names)
        self.direct(view.requester, _message(said, card))

    # -- delivering ------------------------------------------------------------------------------
    def direct(self, user: str, activity: dict[str, Any]) -> bool:
        """A proactive 1:1 message to a Teams user (object id or Teams user id); False for
        someone Teams cannot reach (a Slack or terminal user)."""
        if not teams_user(user):
            return False
        person = self.directory.lookup(user) if is_object_id(user) else None
        target = person.teams_id if person is not None and person.teams_id else user
        tenant = (person.tenant if person is not None else None) or self.tenant
        if not tenant:
            log.error("teams: no tenant for a 1:1 message (set TEAMS_TENANT_ID)")
            return False
        self.connector.create_conversation(self.service_url, tenant, target, activity)
        return True

    def _thread(self, at: Placement, said: str) -> None:
        self.connector.send(self.service_url, in_thread(at), _message(said))

    def _card_activity(self, view: RequestView) -> dict[str, Any]:
        card = self.card_for(view, False, ask=True)
        return {
            "type": "message",
            "summary": plain(f"{view.id} {view.status_label}", 100),
            "attachments": [attachment(card)],
        }

    def _name(self, user: str) -> str:
        return self.mention(user)

    def _names(self, users: Iterable[str]) -> str:
        return "、".join(self._name(u) for u in users)


def decision_text(
    view: RequestView,
    actor: str,
    outcome: OutcomeName,
    reason: str | None,
    names: Callable[[Iterable[str]], str],
) -> str:
    """A decision and what comes next, in plain text (`actor` already as shown; `names` shows
    a list of people)."""
    said = f"{actor} さんが{OUTCOME_LABELS[outcome]}しました"
    said += f"。理由：{plain(reason, 1000)}" if reason else "。"
    if view.stage is not None:
        said += f"\n次は {one_line(view.stage_name or '')} の判断です（{names(view.approvers)}）。"
    elif view.status == "approved":
        said += "\nすべての段階で承認され、申請は承認済みになりました。"
    elif view.status == "rejected":
        said += "\n申請は却下されました。"
    return said


def _message(said: str, card: Card | None = None) -> dict[str, Any]:
    activity: dict[str, Any] = {"type": "message", "text": said, "textFormat": "plain"}
    if card is not None:
        activity["attachments"] = [attachment(card)]
    return activity
