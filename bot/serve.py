"""`itaku serve` over HTTP: Slack (POST /slack/events), Teams (POST /api/messages) or both on one
port, sharing one knowledge base, database and audit trail. Socket Mode is bot/slack/serve.py."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.config import Settings
from bot.inbound.server import Routes, on_stop, serve_http

log = logging.getLogger(__name__)


def run_http(settings: Settings, host: str, port: int, *, slack: bool, teams: bool) -> None:
    apps: dict[str, Any] = {}
    banners: list[str] = []
    stops: list[Callable[[], None]] = []
    starts: list[Callable[[], None]] = []
    assistant = db = None
    if slack:
        from bot.slack.app import build_runtime, start_background
        from bot.slack.serve import slack_wsgi

        srt = build_runtime(settings)
        assistant, db = srt.desk.assistant, srt.ledger.db
        apps["/slack/"] = slack_wsgi(srt)
        banners.append("Slack on http://{host}:{port}/slack/events")
        starts.append(lambda: start_background(srt))
        stops.append(srt.runner.shutdown)
    if teams:
        from bot.teams.app import build_runtime as build_teams
        from bot.teams.app import start_background as start_teams
        from bot.teams.serve import teams_wsgi

        trt = build_teams(settings, assistant, db)
        apps["/api/"] = teams_wsgi(trt)
        banners.append("Teams on http://{host}:{port}/api/messages")
        starts.append(lambda: start_teams(trt))
        stops.append(trt.runner.shutdown)
    wsgi = next(iter(apps.values())) if len(apps) == 1 else Routes(apps)
    server = serve_http(
        wsgi,
        host,
        port,
        settings.slack_http_threads,
        settings.slack_drain_body_bytes,
        settings.http_connections,
        settings.http_read_timeout,
    )
    for start in starts:
        start()
    on_stop(server.close)
    # the lines a supervisor (or a benchmark) reads to learn the port
    for banner in banners:
        print("itaku: serving " + banner.format(host=host, port=server.effective_port), flush=True)
    try:
        server.run()
    except (OSError, ValueError):
        pass  # closed by the signal handler
    finally:
        for stop in stops:
            stop()
        log.info("stopped")
