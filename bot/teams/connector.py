"""The Bot Connector REST API, as much of it as Itaku calls: send, reply, update and delete an
activity, a typing indicator, a 1:1 conversation for proactive messages, and a member's ids.

Synchronous, as the rest of the server is: each call runs in a delivery worker, over kept-alive
HTTP/1.1 connections of the standard library's http.client (a fifth of httpx's CPU a call with a
dozen workers, and these calls are most of a Teams answer's work outside the answering core);
HTTPS_PROXY / NO_PROXY are honoured as urllib honours them. A call the Connector cannot take now (429, 5xx, a dropped connection, a timeout) is tried again here a few
times, honouring Retry-After; then it raises `ConnectorError(retry=True)` and the delivery layer
tries again later (bot/delivery/events.py). A refusal for good (403 the bot was removed, 404, 400)
raises with retry=False. A 401 drops the held token and tries once more with a new one.

The service URL comes from the inbound activity, whose token vouched for it (bot/teams/auth.py);
the bot's own token is only ever sent to https URLs (or to a loopback address, for the stand-in)."""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import logging
import random
import select
import ssl
import threading
import time
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from bot.teams.auth import ConnectorTokens, TokenUnavailable

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class ConnectorError(Exception):
    """A Connector call that did not succeed; `why` is a status or an error class, never content."""

    def __init__(self, why: str, retry: bool, status: int | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.retry = retry
        self.status = status


def safe_service_url(url: str) -> bool:
    """An https URL, or http on a loopback address (the offline stand-in)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if not parts.hostname or parts.username or parts.password:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


class Connector:
    def __init__(
        self,
        tokens: ConnectorTokens,
        *,
        timeout_s: float = 10.0,
        attempts: int = 4,
        max_wait_s: float = 20.0,
        backoff_s: float = 0.5,
    ) -> None:
        self.tokens = tokens
        self.attempts = attempts
        self.max_wait_s = max_wait_s
        self.backoff_s = backoff_s
        self.retries = 0  # calls tried again after a 429, a 5xx or a network failure
        self._transport = Transport(timeout_s, min(5.0, timeout_s))
        self._lock = threading.Lock()

    def close(self) -> None:
        self._transport.close()

    # -- the calls -------------------------------------------------------------------------------
    def send(self, service_url: str, conversation: str, activity: dict[str, Any]) -> str:
        """Post an activity to a conversation; returns its id."""
        out = self._call("POST", service_url, _activities(conversation), activity)
        return str(out.get("id") or "")

    def reply(
        self, service_url: str, conversation: str, reply_to: str, activity: dict[str, Any]
    ) -> str:
        """Post an activity in reply to another (in a channel: in its thread)."""
        body = {**activity, "replyToId": reply_to}
        out = self._call("POST", service_url, _activities(conversation, reply_to), body)
        return str(out.get("id") or "")

    def update(
        self, service_url: str, conversation: str, activity_id: str, activity: dict[str, Any]
    ) -> None:
        body = {**activity, "id": activity_id}
        self._call("PUT", service_url, _activities(conversation, activity_id), body)

    def delete(self, service_url: str, conversation: str, activity_id: str) -> None:
        self._call("DELETE", service_url, _activities(conversation, activity_id), None)

    def typing(self, service_url: str, conversation: str) -> None:
        """A typing indicator; best effort (a failure is logged, never raised)."""
        try:
            self._call("POST", service_url, _activities(conversation), {"type": "typing"}, 1)
        except ConnectorError as e:
            log.info("teams: typing indicator not sent (%s)", e.why)

    def create_conversation(
        self,
        service_url: str,
        tenant: str,
        user: str,
        activity: dict[str, Any] | None = None,
    ) -> tuple[str, str | None]:
        """The 1:1 conversation with a user (Teams gives the same one each time), with a first
        activity if given: (conversation id, that activity's id)."""
        body: dict[str, Any] = {
            "isGroup": False,
            "bot": {"id": self.tokens.app_id},
            "members": [{"id": user}],
            "tenantId": tenant,
            "channelData": {"tenant": {"id": tenant}},
        }
        if activity is not None:
            body["activity"] = activity
        out = self._call("POST", service_url, "v3/conversations", body)
        conversation = out.get("id")
        if not isinstance(conversation, str) or not conversation:
            raise ConnectorError("no conversation id", retry=False)
        first = out.get("activityId")
        return conversation, first if isinstance(first, str) else None

    def member(
        self, service_url: str, conversation: str, user: str, attempts: int = 2
    ) -> dict[str, Any]:
        """One member of a conversation (of a channel's: the team's), named by Teams user id or
        Microsoft Entra object id: their Teams user id (`id`), `name`, `aadObjectId`…"""
        path = f"v3/conversations/{quote(conversation, safe='')}/members/{quote(user, safe='')}"
        return self._call("GET", service_url, path, None, attempts)

    # -- one call, tried again while the Connector cannot take it ---------------------------------
    def _call(
        self,
        method: str,
        service_url: str,
        path: str,
        body: dict[str, Any] | None,
        attempts: int | None = None,
    ) -> dict[str, Any]:
        if not safe_service_url(service_url):
            raise ConnectorError("service URL refused", retry=False)
        url = service_url.rstrip("/") + "/" + path
        payload = None if body is None else _json_bytes(body)
        tries = attempts or self.attempts
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                auth = self.tokens.authorization()
            except TokenUnavailable as e:
                raise ConnectorError(f"token: {e}", retry=True) from None
            try:
                response = self._transport.request(method, url, payload, auth)
            except (OSError, http.client.HTTPException) as e:
                why, status, wait = type(e).__name__, None, None
            else:
                status = response.status
                if status < 300:
                    return _json_object(response)
                why = f"HTTP {status}"
                if status == 401 and not renewed:
                    renewed = True  # an expired or revoked token: one more try with a new one
                    self.tokens.invalidate(auth.removeprefix("Bearer "))
                    attempt -= 1
                    continue
                if status not in RETRY_STATUSES:
                    raise ConnectorError(why, retry=False, status=status)
                wait = _retry_after(response)
            if attempt >= tries:
                raise ConnectorError(why, retry=True, status=status)
            pause = wait if wait is not None else self.backoff_s * 2 ** (attempt - 1)
            pause = min(self.max_wait_s, pause) * (
                1.0 if wait is not None else random.uniform(0.5, 1.0)
            )
            with self._lock:
                self.retries += 1
            log.info("teams: %s %s, again in %.1f s", method, why, pause)
            time.sleep(pause)


def _activities(conversation: str, activity_id: str | None = None) -> str:
    path = f"v3/conversations/{quote(conversation, safe='')}/activities"
    return path if activity_id is None else f"{path}/{quote(activity_id, safe='')}"


def _retry_after(response: Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _json_object(response: Response) -> dict[str, Any]:
    if not response.body.strip():
        return {}
    try:
        data = json.loads(response.body)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _json_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
        "utf-8"
    )


# -- the transport --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    status: int
    headers: Message
    body: bytes


Origin = tuple[str, str, int]  # scheme, host, port


class Transport:
    """HTTP/1.1 requests over kept-alive connections, a few idle ones kept per origin (the
    Connector talks to a handful of regional service URLs). An idle connection is dropped once
    the server may have closed it: after `idle_s`, or when its socket turns readable (the server
    hung up). Redirects are not followed. A connection is used by one thread at a time."""

    def __init__(
        self, timeout_s: float, connect_timeout_s: float, max_idle: int = 16, idle_s: float = 5.0
    ) -> None:
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.max_idle = max_idle
        self.idle_s = idle_s
        self._idle: dict[Origin, list[tuple[http.client.HTTPConnection, float]]] = {}
        self._lock = threading.Lock()
        self._ssl: ssl.SSLContext | None = None

    def request(self, method: str, url: str, body: bytes | None, authorization: str) -> Response:
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname or ""
        origin = (scheme, host, parts.port or (443 if scheme == "https" else 80))
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"Authorization": authorization, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        conn = self._checkout(origin)
        try:
            conn.request(method, target or "/", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except BaseException:
            conn.close()
            raise
        if response.will_close:
            conn.close()
        else:
            self._checkin(origin, conn)
        return Response(response.status, response.headers, data)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn, _ in conns:
                conn.close()

    def _checkout(self, origin: Origin) -> http.client.HTTPConnection:
        now = time.monotonic()
        while True:
            with self._lock:
                conns = self._idle.get(origin)
                conn, since = conns.pop() if conns else (None, 0.0)
            if conn is None:
                return self._connect(origin)
            if now - since < self.idle_s and not _hung_up(conn):
                return conn
            conn.close()

    def _checkin(self, origin: Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            conns = self._idle.setdefault(origin, [])
            if len(conns) < self.max_idle:
                conns.append((conn, time.monotonic()))
                return
        conn.close()

    def _connect(self, origin: Origin) -> http.client.HTTPConnection:
        scheme, host, port = origin
        proxy = _proxy(host) if scheme == "https" else None  # plain http: loopback only
        conn: http.client.HTTPConnection
        if scheme == "https":
            if self._ssl is None:
                self._ssl = _ssl_context()
            if proxy is not None:
                conn = http.client.HTTPSConnection(
                    proxy[0], proxy[1], timeout=self.connect_timeout_s, context=self._ssl
                )
                conn.set_tunnel(host, port, proxy[2])
            else:
                conn = http.client.HTTPSConnection(
                    host, port, timeout=self.connect_timeout_s, context=self._ssl
                )
        else:
            conn = http.client.HTTPConnection(host, port, timeout=self.connect_timeout_s)
        try:
            conn.connect()
            if conn.sock is not None:
                conn.sock.settimeout(self.timeout_s)
        except BaseException:
            conn.close()
            raise
        return conn


def _hung_up(conn: http.client.HTTPConnection) -> bool:
    """An idle kept-alive socket that is readable has been closed by the server (or sent
    something unasked): either way it cannot carry the next request."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _ssl_context() -> ssl.SSLContext:
    """The system's CAs (SSL_CERT_FILE / SSL_CERT_DIR honoured), and certifi's where present."""
    context = ssl.create_default_context()
    try:
        import certifi
    except ImportError:
        return context
    context.load_verify_locations(certifi.where())
    return context


def _proxy(host: str) -> tuple[str, int, dict[str, str]] | None:
    """The HTTPS_PROXY (an http:// proxy, as urllib reads it) to tunnel through for `host`, none
    where NO_PROXY names it: its host, port and the Proxy-Authorization of credentials in its
    URL."""
    url = urllib.request.getproxies().get("https")
    if not url or urllib.request.proxy_bypass(host):
        return None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if not parts.hostname:
        return None
    headers = {}
    if parts.username is not None:
        raw = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
    return parts.hostname, parts.port or 80, headers
