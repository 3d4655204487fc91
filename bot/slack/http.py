"""HTTP mode: Events API, slash commands and interactivity at POST /slack/events, GET /healthz,
served by waitress (a production WSGI server). The request is size-checked and its signature
verified before any parsing, so forged or malformed input never reaches a listener."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
StartResponse = Callable[..., Any]


class SlackWsgi:
    def __init__(
        self,
        app: App,
        signing_secret: str,
        max_body_bytes: int,
        health: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.app = app
        self.verifier = SignatureVerifier(signing_secret)
        self.max_body = max_body_bytes
        self.health = health or (lambda: {"ok": True})

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" and method in ("GET", "HEAD"):
            status = self.health()
            code = 200 if status.get("ok") else 503
            return _reply(start_response, code, json.dumps(status), "application/json")
        if path != EVENTS_PATH:
            return _reply(start_response, 404, "not found")
        if method != "POST":
            return _reply(start_response, 405, "method not allowed", headers=[("Allow", "POST")])
        return self._events(environ, start_response)

    def _events(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _reply(start_response, 400, "bad content-length")
        if length > self.max_body:
            log.info("refused oversized request bytes=%d", length)
            return _reply(start_response, 413, "payload too large")
        raw = environ["wsgi.input"].read(min(length, self.max_body + 1)) if length else b""
        if len(raw) > self.max_body:
            return _reply(start_response, 413, "payload too large")
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            log.info("refused a body that is not UTF-8 bytes=%d", len(raw))
            return _reply(start_response, 400, "malformed payload")
        headers = {
            "x-slack-signature": environ.get("HTTP_X_SLACK_SIGNATURE", ""),
            "x-slack-request-timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
        }
        if not self.verifier.is_valid_request(body, headers):
            log.info("refused request with a bad signature or timestamp bytes=%d", len(raw))
            return _reply(start_response, 401, "invalid signature")
        try:
            request = BoltRequest(
                body=body,
                headers=_headers(environ),
                query=environ.get("QUERY_STRING", ""),
            )
        except Exception:  # not JSON, not a form, or a shape Bolt cannot read
            log.info("refused malformed payload bytes=%d", len(raw))
            return _reply(start_response, 400, "malformed payload")
        if not well_formed(request.body):
            log.info("refused payload of an unexpected shape bytes=%d", len(raw))
            return _reply(start_response, 400, "malformed payload")
        try:
            response = self.app.dispatch(request)
        except Exception as e:  # Bolt chokes on a payload of an unexpected shape
            log.warning("could not dispatch payload: %s bytes=%d", type(e).__name__, len(raw))
            return _reply(start_response, 400, "unprocessable payload")
        retry = environ.get("HTTP_X_SLACK_RETRY_NUM")
        log.debug(
            "slack request bytes=%d status=%d retry=%s ms=%.1f",
            len(raw),
            response.status,
            retry or "-",
            (time.perf_counter() - started) * 1000,
        )
        status = 200 if response.status == 404 else response.status  # unhandled: ack quietly
        out_headers = [
            (k, v)
            for k, values in response.headers.items()
            for v in values
            if k.lower() != "content-length"
        ]
        body_bytes = (response.body or "").encode("utf-8")
        out_headers.append(("Content-Length", str(len(body_bytes))))
        start_response(_status_line(status), out_headers)
        return [body_bytes]


# fields Bolt reads without checking their type: a forged-but-signed or buggy payload must not
# turn into a 500
_OBJECT_FIELDS = ("event", "container", "view", "message")
_OBJECT_OR_ID_FIELDS = ("user", "team", "channel", "enterprise")


def well_formed(body: object) -> bool:
    if not isinstance(body, dict):
        return False
    if any(k in body and not isinstance(body[k], dict) for k in _OBJECT_FIELDS):
        return False
    if any(k in body and not isinstance(body[k], dict | str | None) for k in _OBJECT_OR_ID_FIELDS):
        return False
    actions = body.get("actions", [])
    if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
        return False
    event = body.get("event")
    return event is None or isinstance(event.get("type", ""), str)


def _headers(environ: dict[str, Any]) -> dict[str, str | Sequence[str]]:
    out: dict[str, str | Sequence[str]] = {
        k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        out["content-type"] = str(environ["CONTENT_TYPE"])
    return out


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _status_line(code: int) -> str:
    return f"{code} {_REASONS.get(code, 'Status')}"


def _reply(
    start_response: StartResponse,
    code: int,
    body: str,
    content_type: str = "text/plain; charset=utf-8",
    headers: list[tuple[str, str]] | None = None,
) -> Iterable[bytes]:
    data = body.encode("utf-8")
    start_response(
        _status_line(code),
        [("Content-Type", content_type), ("Content-Length", str(len(data))), *(headers or [])],
    )
    return [data]


def serve_http(wsgi: SlackWsgi, host: str, port: int, threads: int, max_body: int) -> Any:
    """A waitress server (not yet running): call .run() to serve, .close() to stop.
    Port 0 picks a free port: read it from .effective_port."""
    from waitress.server import create_server

    return create_server(
        wsgi,
        host=host,
        port=port,
        threads=threads,
        max_request_body_size=max_body,
        ident="itaku",
        clear_untrusted_proxy_headers=True,
    )
