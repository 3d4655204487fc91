"""`POST /api/messages` (the Bot Framework's calls) and `GET /healthz`, as a WSGI app.

The token is checked before the body is read (anything else: 401, nothing parsed); then the body
is size-checked, cleaned and validated (bot/teams/schema.py; 400 with the failing field's name in
the log, never content); then the activity is checked against the token (channel, service URL,
tenant allow-list: 401). Messages are acknowledged at once (their work is queued); invokes are
answered in the response. Nothing here answers 5xx on bad input."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from bot.inbound.server import status_line
from bot.inbound.validation import Rejected
from bot.teams.auth import InboundAuth, Reason, Unauthorized
from bot.teams.runtime import InvokeReply, TeamsRuntime
from bot.teams.schema import read_activity

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"
StartResponse = Callable[..., Any]


class TeamsWsgi:
    def __init__(
        self,
        rt: TeamsRuntime,
        auth: InboundAuth,
        max_body: int,
        health: Callable[[], dict[str, Any]],
    ) -> None:
        self.rt = rt
        self.auth = auth
        self.max_body = max_body
        self.health = health
        self.unexpected = 0  # activities that passed validation and still failed: a bug
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz":
            if method != "GET":
                return _reply(start_response, 405, {"error": "method"})
            status = self.health()
            return _reply(start_response, 200 if status.get("ok") else 503, status)
        if path != MESSAGES_PATH:
            return _reply(start_response, 404, {"error": "not found"})
        if method != "POST":
            return _reply(start_response, 405, {"error": "method"})
        try:
            identity = self.auth.authenticate(environ.get("HTTP_AUTHORIZATION"))
        except Unauthorized as e:
            log.info("teams: refused request (%s)", e.reason.value)
            if e.reason is Reason.KEYS_UNAVAILABLE:  # our outage, not a forgery: let it retry
                return _reply(start_response, 503, {"error": "signing keys unavailable"})
            return _reply(start_response, 401, {"error": "unauthorized"})
        raw = _read_body(environ, self.max_body)
        if raw is None:
            log.info("teams: refused oversized body")
            return _reply(start_response, 413, {"error": "too large"})
        try:
            inbound = read_activity(raw, self.max_body)
            self.auth.authorize(identity, inbound.activity)
        except Rejected as e:
            log.info("teams: refused malformed activity kind=%s field=%s", e.kind, e.field)
            return _reply(start_response, 400, {"error": "malformed"})
        except Unauthorized as e:
            log.info("teams: refused activity (%s)", e.reason.value)
            return _reply(start_response, 401, {"error": "unauthorized"})
        if not inbound.handled:
            return _reply(start_response, 200, None)
        try:
            answer = self.rt.handle(inbound.activity)
        except Exception as e:
            with self._lock:
                self.unexpected += 1
            log.exception("teams: %s failed (%s)", inbound.kind, type(e).__name__)
            answer = InvokeReply(500, None)
        return _reply(start_response, answer.status, answer.body)


def _read_body(environ: dict[str, Any], limit: int) -> bytes | None:
    """The body, or None when it is over the limit (the rest is left to the server to drain)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        return None
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    data = stream.read(length) if length > 0 else stream.read(limit + 1)
    return None if len(data) > limit else bytes(data)


def _reply(start_response: StartResponse, code: int, body: dict[str, Any] | None) -> list[bytes]:
    data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = [("Content-Length", str(len(data)))]
    if body is not None:
        headers.insert(0, ("Content-Type", "application/json; charset=utf-8"))
    start_response(status_line(code), headers)
    return [data]
