"""Incidents on a platform, decided by the core: the incident's card posted once to the incident
channel and kept in step with the recorded state (a checklist step marked by a click is a
compare-and-set, then the card is updated), the reasoning with its sources once in the card's
thread, reminders before each deadline sent once whatever the number of replicas, and cards a
crash (or the terminal) left behind caught up. Every once-only promise is a claim in the event
ledger, and a sent reminder is kept with the incident too (the ledger forgets after the
retention period, an incident's overdue reminder must not come back). The adapter only renders
and delivers (IncidentNotifier)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Protocol

from bot.delivery.requests import Placement
from bot.delivery.runner import JobRunner
from bot.incidents.service import IncidentService, IncidentView, Reminder, Result
from bot.store.events import ClaimResult, EventLedger

log = logging.getLogger(__name__)


class IncidentNotifier(Protocol):
    """What a platform does for incidents. Each method delivers one thing, once it is decided
    that it should go out; a platform error propagates."""

    def post_incident(self, channel: str, view: IncidentView) -> Placement:
        """Post an incident's card (timeline, checklist with its buttons); where it landed."""
        ...

    def update_incident(self, at: Placement, view: IncidentView) -> None:
        """Show the recorded state on the card."""
        ...

    def thread_reasoning(self, at: Placement, view: IncidentView) -> None:
        """In the card's thread: whether a report is required and the deadlines, item by item
        with their sources."""
        ...

    def thread_reminder(self, at: Placement, view: IncidentView, reminder: Reminder) -> None:
        """In the card's thread: a deadline is near, or past."""
        ...

    def direct_reminder(self, view: IncidentView, reminder: Reminder) -> None:
        """To the reporter, privately: the same, when the incident has no card."""
        ...


class IncidentDesk:
    def __init__(
        self,
        incidents: IncidentService,
        ledger: EventLedger,
        runner: JobRunner,
        notifier: IncidentNotifier,
        *,
        channel: str | None,
        via: str,
    ) -> None:
        self.incidents = incidents
        self.ledger = ledger
        self.runner = runner
        self.notifier = notifier
        self.channel = channel  # the incident channel (settings)
        self.via = via  # the platform, as the audit trail records it

    # -- filing ---------------------------------------------------------------------------------

    def filed(self, view: IncidentView, resubmitted: bool, by: str) -> None:
        """After an incident was filed (or its facts updated from its dialog): the card shown,
        and the reasoning of this version in its thread."""
        self.sync(view)
        if resubmitted:
            self._once(
                f"incident-reasoning:{view.id}:v{view.version}",
                view,
                lambda at, fresh: self.notifier.thread_reasoning(at, fresh),
            )

    def sync(self, view: IncidentView) -> None:
        """Make the incident's card show the recorded state (posting it, with the reasoning in
        its thread, if it never was)."""
        if view.message_ts is None:  # posted meanwhile, perhaps (a retried hand-off)
            view = self.incidents.get(view.id) or view
        channel = view.channel or self.channel
        if not channel:
            log.warning("incident %s: no incident channel configured", view.id)
            return
        if view.message_ts is None:
            if self.ledger.claim(f"incident-post:{view.id}", "post") is ClaimResult.DUPLICATE:
                return  # another replica is posting it
            at = self.notifier.post_incident(channel, view)
            self.incidents.set_message(view.id, at.channel, at.message)
            self.ledger.finish(f"incident-post:{view.id}")
            self._once(
                f"incident-reasoning:{view.id}",
                view,
                lambda at, fresh: self.notifier.thread_reasoning(at, fresh),
            )
        else:
            self.notifier.update_incident(Placement(channel, view.message_ts), view)
        self.incidents.mark_shown(view.id, view.version)

    def _once(
        self, key: str, view: IncidentView, say: Callable[[Placement, IncidentView], None]
    ) -> None:
        """Say something in the card's thread, once (nothing before the card is posted)."""
        fresh = self.incidents.get(view.id) or view
        if fresh.message_ts is None or fresh.channel is None:
            return
        if self.ledger.claim(key, "notice") is ClaimResult.DUPLICATE:
            return
        say(Placement(fresh.channel, fresh.message_ts), fresh)
        self.ledger.finish(key)

    # -- the checklist ----------------------------------------------------------------------------

    def mark(
        self, incident_id: str, step: str, done: bool, actor: str, version: int
    ) -> tuple[bool, str]:
        """Record a checklist step (compare-and-set on the version the card showed); the card
        is updated after the caller's acknowledgement. (False, why) when it was refused or
        there was nothing to change."""
        outcome = self.incidents.mark(
            incident_id, step, done, actor, expected_version=version, via=self.via
        )
        if outcome.result is Result.RECORDED and outcome.incident is not None:
            self.runner.submit(self.sync, outcome.incident)
            return True, ""
        if outcome.result is Result.STALE and outcome.incident is not None:
            self.runner.submit(self.sync, outcome.incident)  # the card shows an old version
        log.info("incident step refused incident=%s why=%s", incident_id, outcome.result.value)
        return False, outcome.message

    # -- reminders and catching up ----------------------------------------------------------------

    def sweep(self, today: dt.date | None = None) -> int:
        """Once per interval on every replica: cards behind the recorded state (after a crash,
        or an incident filed from the terminal), then the reminders due, each sent once
        (claimed in the database). The number of reminders sent."""
        for view in self.incidents.out_of_date():
            if view.channel or self.channel:  # no incident channel: nowhere to catch up to
                self.sync(view)
        sent = 0
        for view, reminder in self.incidents.due(today):
            key = f"incident-remind:{view.id}:{reminder.key}"
            if self.ledger.claim(key, "remind") is ClaimResult.DUPLICATE:
                continue
            fresh = self.incidents.get(view.id) or view
            if reminder.key not in fresh.reminded:
                if fresh.message_ts is not None and fresh.channel is not None:
                    at = Placement(fresh.channel, fresh.message_ts)
                    self.notifier.thread_reminder(at, fresh, reminder)
                else:
                    self.notifier.direct_reminder(fresh, reminder)
                sent += self.incidents.record_reminder(view.id, reminder)
            self.ledger.finish(key)
        return sent
