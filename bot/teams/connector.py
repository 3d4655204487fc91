"""The Bot Connector REST API, as much of it as Itaku calls: send, reply, update and delete an
activity, a typing indicator, and a 1:1 conversation for proactive messages.

Synchronous (httpx), as the rest of the server is: each call runs in a delivery worker. A call the
Connector cannot take now (429, 5xx, a dropped connection, a timeout) is tried again here a few
times, honouring Retry-After; then it raises `ConnectorError(retry=True)` and the delivery layer
tries again later (bot/delivery/events.py). A refusal for good (403 the bot was removed, 404, 400)
raises with retry=False. A 401 drops the held token and tries once more with a new one.

The service URL comes from the inbound activity, whose token vouched for it (bot/teams/auth.py);
the bot's own token is only ever sent to https URLs (or to a loopback address, for the stand-in)."""

from __future__ import annotations

import ipaddress
import logging
import random
import threading
import time
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

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
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            follow_redirects=False,
        )
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

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
                response = self._client.request(
                    method, url, json=body, headers={"Authorization": auth}
                )
            except httpx.HTTPError as e:
                why, status, wait = type(e).__name__, None, None
            else:
                status = response.status_code
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


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    if not response.content.strip():
        return {}
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
