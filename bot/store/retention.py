"""Retention: what is past ITAKU_RETENTION_DAYS is forgotten — answers with their questions,
traces and votes, processed events, and dialogs with the answers typed into them. The audit
trail and approval requests are kept. Platform-neutral: an adapter schedules `purge_expired`."""

from __future__ import annotations

import logging

from bot.store.answers import AnswerLog
from bot.store.dialogs import DialogStore
from bot.store.events import EventLedger

log = logging.getLogger(__name__)

CHECK_EVERY_S = 3600.0


def purge_expired(
    answers: AnswerLog, ledger: EventLedger, dialogs: DialogStore, days: float
) -> tuple[int, int, int]:
    """(answers, processed events, dialogs) purged. Any replica may run it; deleting twice
    deletes nothing more."""
    counts = answers.purge(days), ledger.purge(days), dialogs.purge(days)
    if any(counts):
        log.info("retention: purged %d answers, %d processed events, %d dialogs", *counts)
    return counts
