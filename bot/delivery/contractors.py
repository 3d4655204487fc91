"""The contractor ledger's periodic work on a platform, decided by the core: approved requests
whose contractor is now in the ledger attached to it; each review reminded to its owner when it
falls due and told to the security channel once it is overdue; each corrective action reminded
to its owner before its due date and told to the security channel once overdue. Every reminder
goes out once whatever the number of replicas: claimed in the event ledger (a replica that dies
half-way leaves its claim to be taken over after the lease), and remembered for good beside it
(the ledger's rows are purged after the retention period). The adapter only renders and
delivers (ContractorNotifier)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from bot.contractors.reviews import ActionView, ReviewService
from bot.contractors.service import ContractorService, ContractorView
from bot.store.db import Database
from bot.store.events import ClaimResult, EventLedger

log = logging.getLogger(__name__)


class ContractorNotifier(Protocol):
    """What a platform does for the ledger. Each method delivers one thing; a platform error
    propagates (the claim stays pending, and a later sweep takes it over after the lease)."""

    def review_due(self, view: ContractorView, today: dt.date, overdue: bool) -> None:
        """To the contractor's owner, privately: its review is due (or overdue)."""
        ...

    def review_overdue(self, channel: str, view: ContractorView, today: dt.date) -> None:
        """In the security channel: a contractor's review is overdue."""
        ...

    def action_due(self, action: ActionView, today: dt.date) -> None:
        """To the action's owner, privately: a corrective action is due soon (or overdue)."""
        ...

    def action_overdue(self, channel: str, action: ActionView, today: dt.date) -> None:
        """In the security channel: a corrective action is overdue."""
        ...


@dataclass(frozen=True)
class LedgerHome:
    """What a person sees of the ledger on their home page."""

    today: dt.date
    contractors: list[ContractorView]  # theirs
    due: list[ContractorView]  # theirs whose review is within its notice period or overdue
    actions: list[ActionView]  # their open corrective actions


class ContractorDesk:
    def __init__(
        self,
        contractors: ContractorService,
        reviews: ReviewService,
        ledger: EventLedger,
        notifier: ContractorNotifier,
        *,
        channel: str | None,
    ) -> None:
        self.contractors = contractors
        self.reviews = reviews
        self.ledger = ledger
        self.notifier = notifier
        self.channel = channel  # the security channel (ITAKU_SECURITY_CHANNEL); None: not told

    def home(self, owner: str, limit: int = 20) -> LedgerHome:
        today = self.reviews.today()
        mine = self.contractors.search(owner=owner, limit=500)
        notice = self.reviews.intervals.notice_days
        due = [v for v in mine if v.rating.due(today, notice)]
        actions = self.reviews.actions(open_only=True, owner=owner, limit=limit)
        return LedgerHome(today, mine[:limit], due[:limit], actions)

    # -- the sweep -------------------------------------------------------------------------------

    def sweep(self) -> None:
        """Once per interval on every replica: approved requests attached, then reminders."""
        attached = self.contractors.attach_approved()
        if attached:
            log.info("attached %d approved requests to the ledger", len(attached))
        today = self.reviews.today()
        for view, overdue in self.reviews.reviews_due():
            due = view.rating.next_review.isoformat() if view.rating.next_review else "first"
            self._once(
                f"review-due:{view.id}:{due}",
                view.id,
                "review_reminded",
                partial(self.notifier.review_due, view, today, overdue),
                {"due": due, "owner": view.owner},
            )
            if overdue and self.channel:
                self._once(
                    f"review-overdue:{view.id}:{due}",
                    view.id,
                    "review_escalated",
                    partial(self.notifier.review_overdue, self.channel, view, today),
                    {"due": due},
                )
        for action in self.reviews.actions_due():
            due = action.due.isoformat()
            self._once(
                f"action-due:{action.id}:{due}",
                action.id,
                "action_reminded",
                partial(self.notifier.action_due, action, today),
                {"due": due, "owner": action.owner},
            )
            if action.overdue(today) and self.channel:
                self._once(
                    f"action-overdue:{action.id}:{due}",
                    action.id,
                    "action_escalated",
                    partial(self.notifier.action_overdue, self.channel, action, today),
                    {"due": due},
                )

    def _once(
        self,
        key: str,
        subject: str,
        kind: str,
        send: Callable[[], None],
        details: dict[str, Any],
    ) -> None:
        """Send a reminder unless it went out before (remembered) or another replica is sending
        it (claimed); remembered once it is out. A send that failed is finished as failed, and a
        claim left by a replica that died is expired by the events' sweeper (or taken over after
        its lease): either is claimed afresh by a later sweep, and sent then."""
        if self.reviews.sent(key):
            return
        claimed = self.ledger.claim(key, "reminder")
        if claimed is ClaimResult.DUPLICATE:
            if not self.ledger.forget_given_up(key):
                return  # another replica has it
            claimed = self.ledger.claim(key, "reminder")
            if claimed is ClaimResult.DUPLICATE:
                return
        try:
            send()
        except Exception as e:
            log.warning("reminder %s not delivered: %s", key, type(e).__name__)
            self.ledger.finish(key, "failed")
            return
        self.reviews.mark_sent(key, subject, kind, details)
        self.ledger.finish(key)


def open_desk(
    settings: Any, db: Database, ledger: EventLedger, notifier: ContractorNotifier
) -> ContractorDesk | None:
    """The ledger's desk as configured (the contractor risk rules, the security channel); None,
    logged, when the rules cannot be read (the rest of the app still runs)."""
    from bot.contractors.risk import ContractorRules, default_contractor_rules_path

    try:
        rules = ContractorRules.load(default_contractor_rules_path(settings.knowledge_dir))
    except ValueError as e:
        log.error("contractor ledger unavailable: %s", e)
        return None
    contractors = ContractorService(db, rules)
    return ContractorDesk(
        contractors,
        ReviewService(contractors),
        ledger,
        notifier,
        channel=settings.security_channel,
    )
