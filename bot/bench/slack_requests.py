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

    def view_submission(self, view: dict[str, Any], user: str = "U0ALICE", **kw: Any) -> Reply:
        """A modal submitted: Slack sends the view back with its id and hash."""
        view = {"id": "V0001", "hash": "h1", **view}
        payload = {
            "type": "view_submission",
            "team": {"id": self.team},
            "user": {"id": user, "team_id": self.team},
            "api_app_id": "A0ITAKU",
            "trigger_id": f"{next(_counter)}.trigger",
            "view": view,
        }
        return self.post(_interaction_form(payload), "application/x-www-form-urlencoded", **kw)

    def view_action(
        self, action: dict[str, Any], view: dict[str, Any], user: str = "U0ALICE", **kw: Any
    ) -> Reply:
        """A click inside a modal (a block_actions payload that carries the view), or on a
        message button when `view` is empty."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": self.team},
            "user": {"id": user},
            "api_app_id": "A0ITAKU",
            "trigger_id": f"{next(_counter)}.trigger",
            "actions": [{"block_id": "b", "action_ts": f"{time.time():.6f}", **action}],
        }
        if view:
            payload["container"] = {"type": "view", "view_id": view.get("id", "V0001")}
            payload["view"] = {"id": "V0001", "hash": "h1", **view}
        else:
            payload["container"] = {"type": "message", "channel_id": "D0ALICE"}
            payload["channel"] = {"id": "D0ALICE"}
        return self.post(_interaction_form(payload), "application/x-www-form-urlencoded", **kw)

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


def _interaction_form(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode()


def submitted_view(
    view: dict[str, Any], values: dict[str, Any], view_id: str = "V0001"
) -> dict[str, Any]:
    """A modal as Slack sends it back on submit: the view we built, with the user's input in
    state.values (text as `value`, choices as `selected_option(s)`, dates as `selected_date`)."""
    state: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        name = element["action_id"]
        if name not in values:
            continue
        value = values[name]
        kind = element["type"]
        if kind in ("radio_buttons", "static_select"):
            entry: dict[str, Any] = {
                "type": kind,
                "selected_option": None if value is None else {"value": str(value)},
            }
        elif kind == "checkboxes":
            entry = {"type": kind, "selected_options": [{"value": str(v)} for v in value]}
        elif kind == "datepicker":
            entry = {"type": kind, "selected_date": value}
        else:
            entry = {"type": kind, "value": value}
        state[block["block_id"]] = {name: entry}
    return {**view, "id": view_id, "hash": f"h{time.time_ns()}", "state": {"values": state}}


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
