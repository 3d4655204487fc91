"""Requests exactly as Slack sends them to an app in HTTP mode: signed (v0 HMAC-SHA256 over
`v0:timestamp:body`), events as JSON, slash commands and interactivity as form bodies.
Used by the tests and by `itaku bench slack`."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

_counter = itertools.count(1)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


class SlackSender:
    """Posts signed requests to an app's /slack/events endpoint."""

    def __init__(self, url: str, secret: str, team: str = "T0TEST") -> None:
        self.url = url
        self.secret = secret
        self.team = team

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        retry_num: int | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Reply:
        ts = int(time.time()) if timestamp is None else timestamp
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature
            if signature is not None
            else sign(self.secret, body, ts),
        }
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        headers.update(extra_headers or {})
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return Reply(r.status, r.read(), time.perf_counter() - started)
        except urllib.error.HTTPError as e:
            return Reply(e.code, e.read(), time.perf_counter() - started)

    # -- Events API -------------------------------------------------------------------------------

    def event(self, event: dict[str, Any], *, event_id: str | None = None, **kw: Any) -> Reply:
        return self.post(self.event_body(event, event_id), "application/json", **kw)

    def event_body(self, event: dict[str, Any], event_id: str | None = None) -> bytes:
        envelope = {
            "token": "legacy-unused",
            "team_id": self.team,
            "api_app_id": "A0ITAKU",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_counter):010d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.team, "user_id": "U0ITAKU", "is_bot": True}],
        }
        return json.dumps(envelope, ensure_ascii=False).encode()

    # -- slash commands and interactivity ------------------------------------------------------------

    def command(
        self,
        text: str,
        response_url: str,
        command: str = "/itaku",
        user: str = "U0ALICE",
        channel: str = "C0GENERAL",
        **kw: Any,
    ) -> Reply:
        form = {
            "token": "legacy-unused",
            "team_id": self.team,
            "channel_id": channel,
            "user_id": user,
            "command": command,
            "text": text,
            "response_url": response_url,
            "trigger_id": f"{next(_counter)}.trigger",
            "api_app_id": "A0ITAKU",
        }
        return self.post(urlencode(form).encode(), "application/x-www-form-urlencoded", **kw)

    def block_action(
        self,
        action_id: str,
        value: str,
        response_url: str,
        user: str = "U0ALICE",
        channel: str = "C0GENERAL",
        **kw: Any,
    ) -> Reply:
        payload = {
            "type": "block_actions",
            "team": {"id": self.team},
            "user": {"id": user},
            "api_app_id": "A0ITAKU",
            "container": {"type": "message", "channel_id": channel, "is_ephemeral": False},
            "channel": {"id": channel},
            "trigger_id": f"{next(_counter)}.trigger",
            "response_url": response_url,
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b",
                    "value": value,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        body = urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode()
        return self.post(body, "application/x-www-form-urlencoded", **kw)


def dm_event(
    text: str,
    user: str = "U0ALICE",
    channel: str = "D0ALICE",
    ts: str | None = None,
    thread_ts: str | None = None,
) -> dict[str, Any]:
    ts = ts or f"{time.time():.6f}"
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def mention_event(
    text: str,
    user: str = "U0ALICE",
    channel: str = "C0GENERAL",
    ts: str | None = None,
    thread_ts: str | None = None,
    bot_user_id: str = "U0ITAKU",
) -> dict[str, Any]:
    ts = ts or f"{time.time():.6f}"
    event = {
        "type": "app_mention",
        "channel": channel,
        "user": user,
        "text": f"<@{bot_user_id}> {text}",
        "ts": ts,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event
