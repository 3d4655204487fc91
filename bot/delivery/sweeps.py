"""The periodic work of every replica: resume what a crashed replica left unfinished, remind,
escalate and catch up on requests, attach approved requests to the contractor ledger and remind
of reviews and corrective actions, remind of incidents' deadlines and catch up on their cards,
forget what is past the retention period."""

from __future__ import annotations

from collections.abc import Callable

from bot.config import Settings
from bot.delivery.contractors import ContractorDesk
from bot.delivery.events import EventWork
from bot.delivery.incidents import IncidentDesk
from bot.delivery.requests import RequestDesk
from bot.store import retention


def start_sweeps(
    settings: Settings,
    events: EventWork,
    requests: RequestDesk,
    purge: Callable[[], object],
    contractors: ContractorDesk | None = None,
    incidents: IncidentDesk | None = None,
) -> None:
    """Sweep now and every so often, on the events' runner (stopped with it)."""
    interval = max(1.0, min(30.0, settings.event_lease_s / 2))
    events.sweep_once()
    events.start_sweeper(interval)
    events.runner.start_periodic(requests.sweep, settings.reminder_check_s, "itaku-reminders")
    events.runner.start_periodic(purge, retention.CHECK_EVERY_S, "itaku-retention")
    if contractors is not None:
        events.runner.start_periodic(contractors.sweep, settings.reminder_check_s, "itaku-ledger")
    if incidents is not None:
        events.runner.start_periodic(incidents.sweep, settings.reminder_check_s, "itaku-incidents")
