"""Assembling the Slack app: core services, clients, ledger, Bolt listeners."""

from __future__ import annotations

import logging
import threading

from slack_bolt import App

from bot.approvals.service import open_approvals
from bot.assistant.conversation import ConversationDesk
from bot.assistant.service import Assistant, index_if_missing
from bot.config import Settings
from bot.contractors.reviews import review_check
from bot.delivery.contractors import open_desk
from bot.delivery.incidents import IncidentDesk
from bot.delivery.requests import RequestDesk
from bot.delivery.runner import JobRunner
from bot.delivery.sweeps import start_sweeps
from bot.dialogs.engine import DialogEngine
from bot.dialogs.guidance import GuidanceLibrary
from bot.dialogs.handoff import Handoff
from bot.dialogs.specs import DIALOGS
from bot.drafting.clauses import ClauseLibrary
from bot.incidents.service import open_incidents
from bot.slack import actions, approvals, commands, contractors, dialogs, events, incidents
from bot.slack.client import web_client
from bot.slack.groups import GroupMembers
from bot.slack.notifier import SlackNotifier
from bot.slack.runtime import SlackRuntime
from bot.slack.view_tokens import ViewSigner
from bot.store import retention
from bot.store.answers import AnswerLog
from bot.store.audit import seal_from_settings
from bot.store.db import Database, open_database
from bot.store.dialogs import DialogStore
from bot.store.events import EventLedger

log = logging.getLogger(__name__)


class _BoltNoise(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN (which it reads from the environment itself) is unused when
    a client is given; the client carries that very token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("As you gave `client`")


_bolt_log = logging.getLogger("slack_bolt")
_bolt_log.addFilter(_BoltNoise())
# slack_sdk logs whole request bodies (message text) at DEBUG: never below INFO, whatever the root
for _name in ("slack_sdk", "slack_bolt"):
    logging.getLogger(_name).setLevel(logging.INFO)


class ConfigError(Exception):
    """A setting needed for this mode is missing; the message names it."""


def build_runtime(
    settings: Settings, assistant: Assistant | None = None, db: Database | None = None
) -> SlackRuntime:
    if not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-…).")
    if settings.audit_key is None and settings.environment != "development":
        raise ConfigError(
            "ITAKU_AUDIT_KEY is not set (the secret that seals the audit trail; at least 16 "
            "characters, kept out of the database). ITAKU_ENV=development runs without one."
        )
    db = db or open_database(settings.resolved_database_url)
    db.audit_seal = seal_from_settings(settings)
    if assistant is None:
        index_if_missing(settings)
        assistant = Assistant.from_settings(settings)
    client = web_client(
        settings.slack_bot_token, settings.slack_api_url, settings.slack_api_retries
    )
    auth = client.auth_test()
    secret = settings.slack_signing_secret or settings.slack_app_token or settings.slack_bot_token
    approvals_service = open_approvals(settings, db)
    approvals_service.resolve = GroupMembers(client)
    ledger = EventLedger(db, settings.event_lease_s)
    runner = JobRunner(settings.slack_workers)
    clauses = ClauseLibrary.load(settings.knowledge_dir)
    requests = RequestDesk(
        approvals_service,
        ledger,
        runner,
        SlackNotifier(client),
        channel=settings.approvals_channel or approvals_service.policy.channel,
        via="slack",
    )
    ledger_desk = open_desk(settings, db, ledger, contractors.SlackContractorNotifier(client))
    incident_desk = IncidentDesk(
        open_incidents(settings, db),
        ledger,
        runner,
        incidents.SlackIncidentNotifier(client),
        channel=settings.incidents_channel,
        via="slack",
    )
    rt = SlackRuntime(
        settings=settings,
        desk=ConversationDesk(assistant, AnswerLog(db), settings.thread_history),
        dialogs=DialogEngine(DIALOGS, DialogStore(db, settings.dialog_ttl_s)),
        guidance=GuidanceLibrary(assistant.kb),
        clauses=clauses,
        signer=ViewSigner(secret),
        approvals=approvals_service,
        requests=requests,
        handoff=Handoff(
            clauses,
            approvals_service,
            via="slack",
            on_filed=requests.filed,
            contractors=ledger_desk.contractors if ledger_desk else None,
            reviews=ledger_desk.reviews if ledger_desk else None,
            incidents=incident_desk.incidents,
            on_incident=incident_desk.filed,
        ),
        contractors=ledger_desk,
        incidents=incident_desk,
        ledger=ledger,
        client=client,
        runner=runner,
        bot_user_id=str(auth.get("user_id") or ""),
        # offline answering is CPU-bound (one at a time is fastest); an LLM answer mostly waits
        compute=threading.BoundedSemaphore(
            max(settings.answer_concurrency, settings.slack_workers // 2)
            if settings.uses_llm
            else settings.answer_concurrency
        ),
    )
    if ledger_desk is not None:  # the review dialog's contractor is checked against the ledger
        rt.dialogs.checks["review"] = review_check(ledger_desk.contractors)
    rt.dialogs.checks["incident"] = incident_desk.incidents.check_step  # the contractor named
    log.info("slack runtime ready bot_user=%s team=%s", rt.bot_user_id, auth.get("team_id"))
    return rt


def create_app(rt: SlackRuntime, *, socket_mode: bool = False) -> App:
    if not socket_mode and not rt.settings.slack_signing_secret:
        raise ConfigError("SLACK_SIGNING_SECRET is not set (needed to verify Slack's requests).")
    app = App(
        client=rt.client,
        signing_secret=rt.settings.slack_signing_secret,
        # HTTP mode: SlackWsgi verifies the signature before it validates and cleans the body
        # (bot/slack/schema.py), so Bolt receives a re-encoded body it could not verify again
        request_verification_enabled=False,
        token_verification_enabled=False,  # build_runtime already called auth.test
        process_before_response=True,  # listeners only claim and enqueue: ack is immediate
        ignoring_self_events_enabled=False,  # done in the listeners, without extra API calls
        logger=_bolt_log,
    )
    events.register(app, rt)
    dialogs.register(app, rt)  # before the catch-alls of commands and actions
    contractors.register(app, rt)
    incidents.register(app, rt)
    approvals.register(app, rt)
    commands.register(app, rt)
    actions.register(app, rt)
    return app


def start_background(rt: SlackRuntime) -> None:
    """Resume what a crashed replica left unfinished, now and every so often; remind and catch
    up on requests; forget what is past the retention period (bot/delivery/sweeps.py)."""
    start_sweeps(
        rt.settings,
        rt.events,
        rt.requests,
        lambda: purge_expired(rt),
        contractors=rt.contractors,
        incidents=rt.incidents,
    )


def purge_expired(rt: SlackRuntime) -> tuple[int, int, int]:
    """What is past the retention period, forgotten (bot/store/retention.py)."""
    return retention.purge_expired(
        rt.desk.log, rt.ledger, rt.dialogs.store, rt.settings.retention_days
    )
