"""Subcontracting requests on a platform, decided by the core: the request's card posted once and
kept in step with the recorded state, each decision told once in the card's thread and to the
requester, reminders and escalations sent once whatever the number of replicas, and cards a
crash left behind caught up. Every once-only promise is a claim in the event ledger; the adapter
only renders and delivers (RequestNotifier)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from bot.approvals.replies import parse_reply
from bot.approvals.service import ApprovalService, OutcomeName, RequestView, Result
from bot.delivery.runner import JobRunner
from bot.store.events import ClaimResult, EventLedger

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Placement:
    """Where a request's card is: the channel (or conversation) and the message's id in it."""

    channel: str
    message: str


class RequestNotifier(Protocol):
    """What a platform does for requests. Each method delivers one thing, once it is decided
    that it should go out; a platform error propagates (the core retries or leaves it)."""

    def post_request(self, channel: str, view: RequestView) -> Placement:
        """Post a request's card for its approvers; where it landed."""
        ...

    def update_request(self, at: Placement, view: RequestView) -> None:
        """Show the recorded state on the card."""
        ...

    def thread_resubmitted(self, at: Placement, view: RequestView, by: str) -> None:
        """In the card's thread: the requester revised the request and sent it again."""
        ...

    def thread_decision(
        self,
        at: Placement,
        view: RequestView,
        actor: str,
        outcome: OutcomeName,
        reason: str | None,
    ) -> None:
        """In the card's thread: a decision, and what comes next."""
        ...

    def thread_reminder(self, at: Placement, view: RequestView, escalated: bool) -> None:
        """In the card's thread: the request is still waiting (escalated: more may decide)."""
        ...

    def direct_decision(
        self, view: RequestView, actor: str, outcome: OutcomeName, reason: str | None
    ) -> None:
        """To the requester, privately: a decision on their request."""
        ...


def chat_mention(user: str) -> str:
    """How people are named in the desk's messages unless the notifier has its own `mention`
    (Slack's mention syntax, as the first platform's notifier expects)."""
    return f"<@{user}>"


def colonless(channel: str) -> bool:
    """Whose placements a notifier without its own `owns` takes: channel ids without a colon
    (Slack's C…; a Teams conversation id, 19:… or a:…, always has one). With Slack and Teams
    on one database, each desk reminds and catches up on its own cards only."""
    return ":" not in channel


class RequestDesk:
    def __init__(
        self,
        approvals: ApprovalService,
        ledger: EventLedger,
        runner: JobRunner,
        notifier: RequestNotifier,
        *,
        channel: str | None,
        via: str,
    ) -> None:
        self.approvals = approvals
        self.ledger = ledger
        self.runner = runner
        self.notifier = notifier
        self.channel = channel  # where new requests are posted (settings, else the policy)
        self.via = via  # the platform, as the audit trail records it
        # optional parts of a notifier: how it names people in a refusal, which cards are its own
        self.mention: Callable[[str], str] = getattr(notifier, "mention", chat_mention)
        self.owns: Callable[[str], bool] = getattr(notifier, "owns", colonless)

    # -- filing ---------------------------------------------------------------------------------

    def filed(self, view: RequestView, resubmitted: bool, by: str) -> None:
        """After a request was filed (or revised and sent again): the thread told of a new
        revision, the card shown."""
        if resubmitted:
            self._thread(view, lambda at: self.notifier.thread_resubmitted(at, view, by))
        self.sync(view)

    def sync(self, view: RequestView) -> None:
        """Make the request's card show the recorded state (posting it if it never was)."""
        channel = view.channel or self.channel
        if not channel:
            log.error("request %s: no approvals channel configured", view.id)
            return
        if view.message_ts is None:
            if self.ledger.claim(f"post:{view.id}", "post") is ClaimResult.DUPLICATE:
                return  # another replica is posting it
            at = self.notifier.post_request(channel, view)
            self.approvals.set_message(view.id, at.channel, at.message)
            self.ledger.finish(f"post:{view.id}")
        else:
            self.notifier.update_request(Placement(channel, view.message_ts), view)
        self.approvals.mark_shown(view.id, view.version)

    def _thread(
        self, view: RequestView, say: Callable[[Placement], None], key: str | None = None
    ) -> None:
        """Say something in the card's thread (once, if `key` names it); nothing before the
        card is posted."""
        fresh = self.approvals.get(view.id) or view
        if fresh.message_ts is None or fresh.channel is None:
            return
        if key is not None and self.ledger.claim(key, "notice") is ClaimResult.DUPLICATE:
            return
        say(Placement(fresh.channel, fresh.message_ts))
        if key is not None:
            self.ledger.finish(key)

    # -- deciding ---------------------------------------------------------------------------------

    def decide(
        self,
        request_id: str,
        revision: int | None,
        actor: str,
        outcome: OutcomeName,
        reason: str | None,
    ) -> tuple[bool, str]:
        """Record a decision; it is announced after the caller's acknowledgement. (False, why)
        when it was refused."""
        result = self.approvals.decide(
            request_id,
            actor,
            outcome,
            reason,
            revision=revision,
            via=self.via,
            mention=self.mention,
        )
        if result.result is Result.RECORDED and result.request is not None:
            self.runner.submit(self.announce, result.request, actor, outcome, reason)
            return True, ""
        log.info("decision refused request=%s why=%s", request_id, result.result.value)
        return False, result.message

    def decide_by_reply(self, at: Placement, actor: str, text: str) -> tuple[bool, str] | None:
        """A reply in a card's thread (bot/approvals/replies.py): as `decide`, or None when it
        decides nothing (other words, or not a request's thread)."""
        parsed = parse_reply(text)
        if parsed is None:
            return None
        view = self.approvals.by_message(at.channel, at.message)
        if view is None:
            return None
        outcome, reason = parsed
        return self.decide(view.id, None, actor, outcome, reason)

    def refusal(
        self, view: RequestView, revision: int, actor: str, attempt: OutcomeName
    ) -> str | None:
        """Why `actor` may not decide this revision now (a refused attempt is recorded in the
        audit trail), or None: they may (say, before they are asked for a reason)."""
        verdict, message = self.approvals.check(view, actor, self.mention)
        if verdict is Result.RECORDED and view.revision == revision:
            return None
        if verdict not in (Result.RECORDED, Result.ALREADY_DECIDED):
            self.approvals.note(
                actor,
                "refused",
                view.id,
                {"via": self.via, "attempt": attempt, "why": verdict.value},
            )
        return message or "この申請は再提出されています。"

    def announce(
        self, view: RequestView, actor: str, outcome: OutcomeName, reason: str | None
    ) -> None:
        """After a recorded decision: the card, a notice in its thread, a word to the requester,
        each once."""
        decision = view.current_decisions[-1]
        key = f"decision:{view.id}:{decision.revision}:{decision.stage}"
        self.sync(view)
        self._thread(
            view, lambda at: self.notifier.thread_decision(at, view, actor, outcome, reason), key
        )
        if self.ledger.claim(f"{key}:dm", "notice") is not ClaimResult.DUPLICATE:
            self.notifier.direct_decision(view, actor, outcome, reason)
            self.ledger.finish(f"{key}:dm")

    # -- reminders, escalation, catching up ------------------------------------------------------

    def sweep(self) -> None:
        """Once per interval on every replica: reminders and escalations (each sent once, claimed
        in the database), and cards behind the recorded state (after a crash)."""
        for view, kind in self.approvals.due():
            if not self._mine(view):
                continue
            key = f"{kind}:{view.id}:r{view.revision}:s{view.stage}"
            if self.ledger.claim(key, kind) is ClaimResult.DUPLICATE:
                continue
            if kind == "escalate":
                escalated = self.approvals.escalate(view.id, view.stage or 0)
                if escalated is not None:
                    self.sync(escalated)
                    remind = partial(self.notifier.thread_reminder, view=escalated, escalated=True)
                    self._thread(escalated, remind)
            else:
                self._thread(
                    view, partial(self.notifier.thread_reminder, view=view, escalated=False)
                )
                self.approvals.note(
                    "itaku", "reminded", view.id, {"revision": view.revision, "stage": view.stage}
                )
            self.ledger.finish(key)
        for view in self.approvals.out_of_date():
            if not self._mine(view):
                continue
            self.sync(view)
            if view.current_decisions:  # a decision whose notices may not have gone out
                d = view.current_decisions[-1]
                self.announce(view, d.approver, d.outcome, d.reason)

    def _mine(self, view: RequestView) -> bool:
        """A request whose card is this platform's (or not posted yet: the first to claim it)."""
        return view.channel is None or self.owns(view.channel)
