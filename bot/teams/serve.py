"""`itaku serve --teams`: POST /api/messages and GET /healthz over HTTP (Teams always calls a
public HTTPS endpoint; put a TLS-terminating proxy or load balancer in front)."""

from __future__ import annotations

from typing import Any

from bot.delivery.health import health as delivery_health
from bot.teams.auth import InboundAuth
from bot.teams.http import MESSAGES_PATH, TeamsWsgi
from bot.teams.runtime import TeamsRuntime


def health(rt: TeamsRuntime) -> dict[str, Any]:
    return delivery_health(rt.desk, rt.ledger, rt.runner)


def teams_wsgi(rt: TeamsRuntime) -> TeamsWsgi:
    return TeamsWsgi(
        rt,
        InboundAuth.from_settings(rt.settings),
        rt.settings.slack_max_body_bytes,
        lambda: health(rt),
    )


__all__ = ["MESSAGES_PATH", "health", "teams_wsgi"]
