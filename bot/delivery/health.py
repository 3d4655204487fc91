"""What GET /healthz reports, whatever the platform: the database answers, which knowledge-base
generation serves, and how much work is in flight."""

from __future__ import annotations

from typing import Any

from bot.assistant.conversation import ConversationDesk
from bot.delivery.runner import JobRunner
from bot.store.events import EventLedger


def health(desk: ConversationDesk, ledger: EventLedger, runner: JobRunner) -> dict[str, Any]:
    try:
        with ledger.db.session() as s:
            s.connection().exec_driver_sql("SELECT 1")
        db_ok = True
    except Exception:
        db_ok = False
    return {
        "ok": db_ok,
        "database": db_ok,
        "kb_generation": desk.assistant.kb.generation,
        "jobs_in_flight": runner.in_flight,
    }
