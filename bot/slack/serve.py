"""`itaku serve`: Socket Mode by default (no public URL), or HTTP mode behind a load balancer."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from bot.config import Settings
from bot.delivery.health import health as delivery_health
from bot.inbound.server import on_stop
from bot.inbound.validation import Rejected
from bot.slack.app import ConfigError, build_runtime, create_app, start_background
from bot.slack.http import SlackWsgi
from bot.slack.runtime import SlackRuntime
from bot.slack.schema import check_socket

log = logging.getLogger(__name__)


def health(rt: SlackRuntime) -> dict[str, Any]:
    return delivery_health(rt.desk, rt.ledger, rt.runner)


def slack_wsgi(rt: SlackRuntime) -> SlackWsgi:
    """The Slack app behind POST /slack/events (HTTP mode; served by bot/serve.py)."""
    if not rt.settings.slack_signing_secret:
        raise ConfigError("SLACK_SIGNING_SECRET is not set (needed to verify Slack's requests).")
    return SlackWsgi(
        create_app(rt),
        rt.settings.slack_signing_secret,
        rt.settings.slack_max_body_bytes,
        lambda: health(rt),
    )


def connect_socket(rt: SlackRuntime, app_token: str) -> Any:
    """Open the Socket Mode connection for a runtime; returns the handler (call .close()).
    Each envelope's payload is validated and cleaned as in HTTP mode before Bolt sees it; one
    that does not fit is acknowledged (so Slack does not send it again) and dropped."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
    from slack_sdk.socket_mode.response import SocketModeResponse

    class ValidatingHandler(SocketModeHandler):
        def handle(self, client: Any, req: Any) -> None:
            started = time.time()
            try:
                checked = check_socket(str(req.type), req.payload)
            except Rejected as e:
                log.info("refused malformed payload kind=%s field=%s", e.kind, e.field)
                checked = None
            if checked is None or not checked.dispatch:
                client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
                return
            req.payload = checked.data
            send_response(client, req, run_bolt_app(self.app, req), started)

    handler = ValidatingHandler(create_app(rt, socket_mode=True), app_token)
    handler.connect()  # type: ignore[no-untyped-call]
    return handler


def run_socket(settings: Settings) -> None:
    if not settings.slack_app_token:
        raise ConfigError(
            "SLACK_APP_TOKEN is not set (the app-level token, xapp-…, for Socket Mode)."
        )
    rt = build_runtime(settings)
    handler = connect_socket(rt, settings.slack_app_token)
    start_background(rt)
    stopped = threading.Event()
    on_stop(stopped.set)
    print("itaku: connected to Slack (Socket Mode)", flush=True)
    stopped.wait()
    handler.close()
    rt.runner.shutdown()
