"""Assembling the Teams adapter: the core services, the Bot Connector client, the ledger, and the
modules that add commands and card actions (dialogs, approvals)."""

from __future__ import annotations

import logging
import threading

from bot.approvals.service import open_approvals
from bot.assistant.conversation import ConversationDesk
from bot.assistant.service import Assistant, index_if_missing
from bot.config import Settings
from bot.delivery.requests import RequestDesk
from bot.delivery.runner import JobRunner
from bot.delivery.sweeps import start_sweeps
from bot.store import retention
from bot.store.answers import AnswerLog
from bot.store.audit import seal_from_settings
from bot.store.db import Database, open_database
from bot.store.dialogs import DialogStore
from bot.store.events import EventLedger
from bot.teams import approvals
from bot.teams.auth import ConnectorTokens
from bot.teams.connector import Connector
from bot.teams.notifier import Directory, TeamsNotifier
from bot.teams.runtime import TeamsRuntime

log = logging.getLogger(__name__)


class ConfigError(Exception):
    """A setting Teams needs is missing; the message names it."""


def check_settings(settings: Settings) -> None:
    if not settings.teams_app_id.strip():
        raise ConfigError("TEAMS_APP_ID is not set (the bot's Microsoft App ID).")
    if not settings.teams_app_password.get_secret_value():
        raise ConfigError("TEAMS_APP_PASSWORD is not set (the bot's client secret).")
    if settings.audit_key is None and settings.environment != "development":
        raise ConfigError(
            "ITAKU_AUDIT_KEY is not set (the secret that seals the audit trail; at least 16 "
            "characters, kept out of the database). ITAKU_ENV=development runs without one."
        )


def build_runtime(
    settings: Settings, assistant: Assistant | None = None, db: Database | None = None
) -> TeamsRuntime:
    check_settings(settings)
    db = db or open_database(settings.resolved_database_url)
    db.audit_seal = seal_from_settings(settings)
    if assistant is None:
        index_if_missing(settings)
        assistant = Assistant.from_settings(settings)
    ledger = EventLedger(db, settings.event_lease_s)
    connector = Connector(ConnectorTokens.from_settings(settings))
    runner = JobRunner(settings.slack_workers, name="itaku-teams")
    approvals_service = open_approvals(settings, db)
    conversation = settings.teams_approvals_conversation.strip() or None
    notifier = TeamsNotifier(
        connector,
        Directory(connector, settings.teams_service_url, conversation),
        service_url=settings.teams_service_url,
        tenant=settings.teams_tenant_id.strip()
        or next((t.strip() for t in settings.teams_allowed_tenants.split(",") if t.strip()), None),
    )
    rt = TeamsRuntime(
        settings=settings,
        desk=ConversationDesk(assistant, AnswerLog(db), settings.thread_history),
        ledger=ledger,
        connector=connector,
        runner=runner,
        approvals=approvals_service,
        requests=RequestDesk(
            approvals_service, ledger, runner, notifier, channel=conversation, via="teams"
        ),
        compute=threading.BoundedSemaphore(
            max(settings.answer_concurrency, settings.slack_workers // 2)
            if settings.uses_llm
            else settings.answer_concurrency
        ),
    )
    add_dialogs(rt, db)
    approvals.register(rt, notifier)
    log.info("teams runtime ready")
    return rt


def add_dialogs(rt: TeamsRuntime, db: Database) -> None:
    """The guided dialogs (nda, subcontract) and clauses: bot/teams/dialogs.py."""
    from bot.approvals.service import ApprovalService, open_approvals
    from bot.dialogs.engine import DialogEngine
    from bot.dialogs.guidance import GuidanceLibrary
    from bot.dialogs.handoff import Handoff, OnFiled
    from bot.dialogs.specs import DIALOGS
    from bot.drafting.clauses import ClauseLibrary
    from bot.store.dialogs import DialogStore
    from bot.teams import dialogs

    settings = rt.settings
    rt.dialogs = DialogEngine(DIALOGS, DialogStore(db, settings.dialog_ttl_s))
    rt.guidance = GuidanceLibrary(rt.desk.assistant.kb)
    rt.clauses = ClauseLibrary.load(settings.knowledge_dir)
    approvals: ApprovalService | None = getattr(rt, "approvals", None)
    if approvals is None:
        try:
            approvals = open_approvals(settings, db)
        except ValueError as e:  # no usable policy: drafting still works, requests do not
            log.warning("teams: approvals unavailable (%s)", type(e).__name__)
    # ON_FILED: a filed request's card for the approvers' channel. bot/teams/approvals.py gives
    # the runtime a RequestDesk (rt.requests, a TeamsNotifier behind it) whose `filed` posts it;
    # set that up before add_dialogs. Until then nothing is posted (the request is still filed).
    # It runs in a worker, after the task module is answered (a card the Connector cannot take
    # now is caught up by the desk's sweep).
    requests = getattr(rt, "requests", None)
    on_filed: OnFiled | None = (
        dialogs.in_worker(rt, requests.filed) if requests is not None else None
    )
    rt.handoff = Handoff(rt.clauses, approvals, via="teams", on_filed=on_filed)
    dialogs.register(rt)


def start_background(rt: TeamsRuntime) -> None:
    """Resume what a crashed replica left unfinished, now and every so often; remind and catch
    up on requests; forget what is past the retention period (bot/delivery/sweeps.py)."""
    start_sweeps(rt.settings, rt.events, rt.requests, lambda: purge_expired(rt))


def purge_expired(rt: TeamsRuntime) -> tuple[int, int, int]:
    """What is past the retention period, forgotten (bot/store/retention.py)."""
    dialogs = DialogStore(rt.ledger.db, rt.settings.dialog_ttl_s)
    return retention.purge_expired(rt.desk.log, rt.ledger, dialogs, rt.settings.retention_days)
