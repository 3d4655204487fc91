"""Assembling the Teams adapter: the core services, the Bot Connector client, the ledger, and the
modules that add commands and card actions (dialogs, approvals)."""

from __future__ import annotations

import logging
import threading

from bot.assistant.conversation import ConversationDesk
from bot.assistant.service import Assistant, index_if_missing
from bot.config import Settings
from bot.delivery.runner import JobRunner
from bot.store.answers import AnswerLog
from bot.store.audit import seal_from_settings
from bot.store.db import Database, open_database
from bot.store.events import EventLedger
from bot.teams.auth import ConnectorTokens
from bot.teams.connector import Connector
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
    rt = TeamsRuntime(
        settings=settings,
        desk=ConversationDesk(assistant, AnswerLog(db), settings.thread_history),
        ledger=EventLedger(db, settings.event_lease_s),
        connector=Connector(ConnectorTokens.from_settings(settings)),
        runner=JobRunner(settings.slack_workers, name="itaku-teams"),
        compute=threading.BoundedSemaphore(
            max(settings.answer_concurrency, settings.slack_workers // 2)
            if settings.uses_llm
            else settings.answer_concurrency
        ),
    )
    log.info("teams runtime ready")
    return rt


def start_background(rt: TeamsRuntime) -> None:
    """Resume what a crashed replica left unfinished, now and every so often."""
    rt.events.sweep_once()
    rt.events.start_sweeper(max(1.0, min(30.0, rt.settings.event_lease_s / 2)))
