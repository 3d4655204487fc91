"""An offline stand-in for Slack's Web API, for tests and benchmarks.

`SlackStandIn` is a small HTTP server on 127.0.0.1 that answers the Web API methods a Slack app
uses (chat.postMessage, chat.update, views.publish, ...) and response URLs, keeps the visible
state of the workspace (`messages`), records every call (`calls`), and can inject faults
(`fail`: HTTP 429/5xx or a dropped connection, optionally after a delay) and latency.

    with SlackStandIn() as slack:
        client = WebClient(token=slack.bot_token, base_url=slack.api_url)
        client.chat_postMessage(channel="C1", text="hi")
        assert slack.calls_to("chat.postMessage")[0].params["text"] == "hi"

Standard library only. Not Slack: only the fields apps usually read are returned, and most
arguments are taken on trust. Request bodies must carry a Content-Length (no chunked uploads);
multipart bodies (file uploads) are recorded without their parameters.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from bot.bench.local_server import Fault, LocalServer, Reply, ReplyHandler, json_reply

# Params that slack_sdk sends as JSON strings in form bodies; decoded to objects in `Call.params`.
GONE_CHANNEL = "C0GONE"  # a channel id prefix the stand-in answers channel_not_found for (deleted)
JSON_PARAMS = frozenset({"blocks", "attachments", "view", "metadata", "files"})

_TS_BASE = 1_700_000_000

# HTTP status -> the `error` of the JSON body sent with an injected failure.
_FAULT_ERRORS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}

# Methods that only answer {"ok": true}.
_OK_ONLY = frozenset(
    {
        "reactions.add",
        "reactions.remove",
        "assistant.threads.setStatus",
        "assistant.threads.setTitle",
        "assistant.threads.setSuggestedPrompts",
    }
)


@dataclass(frozen=True)
class Call:
    """One call that reached the stand-in and had an effect (or an API-level error)."""

    method: str  # e.g. "chat.postMessage", or "response_url" for POSTs to a response URL
    params: dict[str, Any]  # form or JSON body plus query string; JSON_PARAMS decoded
    token: str | None  # bearer token (or "token" param, which is removed from params)
    key: str | None = None  # for response_url calls: the key in the URL
    at: float = 0.0  # time.monotonic() when the call was handled


@dataclass
class Message:
    """A message as the workspace shows it. `user` is the bot user id for bot posts."""

    channel: str
    ts: str
    text: str
    blocks: list[Any]
    thread_ts: str | None
    user: str
    ephemeral_user: str | None = None
    deleted: bool = False
    updates: int = 0
    metadata: dict[str, Any] | None = None

    def as_dict(self, bot_user_id: str, bot_id: str) -> dict[str, Any]:
        """The message as conversations.replies and chat.postMessage return it."""
        out: dict[str, Any] = {
            "type": "message",
            "user": self.user,
            "text": self.text,
            "ts": self.ts,
        }
        if self.user == bot_user_id:
            out["bot_id"] = bot_id
        if self.thread_ts is not None:
            out["thread_ts"] = self.thread_ts
        out["blocks"] = self.blocks
        if self.metadata is not None:
            out["metadata"] = self.metadata
        return out


def _error(error: str) -> dict[str, Any]:
    return {"ok": False, "error": error}


def _decode_params(content_type: str, body: bytes, query: str) -> dict[str, Any] | None:
    """Query string plus body (form or JSON); None when a JSON body is not an object."""
    params: dict[str, Any] = {}
    pairs = parse_qsl(query, keep_blank_values=True)
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json":
        if body.strip():
            try:
                decoded = json.loads(body)
            except ValueError:
                return None
            if not isinstance(decoded, dict):
                return None
            for name, value in pairs:
                params[name] = value
            params.update(decoded)
        else:
            for name, value in pairs:
                params[name] = value
        return _decode_json_params(params)
    if body and not kind.startswith("multipart/"):
        pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    for name, value in pairs:
        if name in params:  # repeated keys become a list
            previous = params[name]
            params[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            params[name] = value
    return _decode_json_params(params)


def _decode_json_params(params: dict[str, Any]) -> dict[str, Any]:
    for name in JSON_PARAMS:
        value = params.get(name)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):  # otherwise left as sent
                params[name] = json.loads(value)
    return params


def _ts_key(message: Message) -> tuple[int, int]:
    seconds, _, micros = message.ts.partition(".")
    return int(seconds), int(micros or 0)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


@dataclass
class Upload:
    """A file sent with files.uploadV2 (content set by the upload step, the rest on completion)."""

    file_id: str
    filename: str
    content: bytes | None = None
    title: str = ""
    channel: str | None = None
    initial_comment: str = ""
    completed: bool = False


class SlackStandIn(LocalServer):
    """A local HTTP server that behaves enough like Slack's Web API to run a Slack app offline."""

    handler = ReplyHandler
    thread_name = "slack-standin"

    def __init__(
        self,
        bot_user_id: str = "U0ITAKU",
        bot_id: str = "B0ITAKU",
        team_id: str = "T0TEST",
        bot_token: str = "xoxb-test-token",
        app_token: str = "xapp-test-token",
    ) -> None:
        super().__init__()
        self.bot_user_id = bot_user_id
        self.app_token = app_token
        # what apps.connections.open hands out (Socket Mode): set it to a ws:// URL of a test server
        self.socket_url: str | None = None
        self.bot_id = bot_id
        self.team_id = team_id
        self.bot_token = bot_token
        self.calls: list[Call] = []
        self.uploads: dict[str, Upload] = {}
        self.usergroups: dict[
            str, list[str]
        ] = {}  # group id -> member user ids  # file id -> what was uploaded (files.uploadV2)
        self.failures: list[tuple[str, int]] = []
        self.messages: dict[tuple[str, str], Message] = {}
        self._lock = threading.Lock()
        self._faults: dict[str, deque[Fault]] = {}
        self._latency = 0.0
        self._counter = 0  # for ts and view ids; never reset, so ids stay unique across resets
        self._response_channels: dict[str, str] = {}

    @property
    def api_url(self) -> str:
        """Base URL for WebClient(base_url=...): the method name is appended to it."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, key: str, channel: str | None = None) -> str:
        """A response URL; with `channel`, "in_channel" responses to it are posted there."""
        if channel is not None:
            with self._lock:
                self._response_channels[key] = channel
        return f"http://127.0.0.1:{self.port}/respond/{quote(key, safe='')}"

    # -- inspection ----------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def responses(self, key: str | None = None) -> list[Call]:
        """Calls made to response URLs (all of them, or those for one key)."""
        with self._lock:
            return [
                c
                for c in self.calls
                if c.method == "response_url" and (key is None or c.key == key)
            ]

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        """Non-deleted messages whose thread_ts is `thread_ts` (the replies, not the parent), by ts."""
        channel = self._channel_id(channel)
        with self._lock:
            found = [
                m
                for m in self.messages.values()
                if m.channel == channel and m.thread_ts == thread_ts and not m.deleted
            ]
        return sorted(found, key=_ts_key)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll `predicate` every 10 ms until it holds (True) or `timeout` seconds pass (False)."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    # -- control ----------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        status: int = 503,
        times: int = 1,
        retry_after: float | None = None,
        drop: bool = False,
        delay: float = 0.0,
    ) -> None:
        """Make the next `times` calls to `method` fail (queued after earlier faults for it).

        `status` 429 sends `Retry-After` (retry_after, default 1, rounded up to whole seconds as
        HTTP requires and slack_sdk's int() parsing expects). `drop` closes the connection
        without a response. `delay` sleeps before failing. `method` "response_url" applies to
        response URL posts. Failed calls are not recorded in `calls`, only in `failures`.
        """
        if times <= 0:
            return
        with self._lock:
            self._faults.setdefault(method, deque()).append(
                Fault(status, times, retry_after, drop, delay)
            )

    def set_latency(self, seconds: float) -> None:
        """Every call sleeps this long before it is answered."""
        self._latency = max(0.0, seconds)

    def reset(self) -> None:
        """Forget calls, responses, failures, messages and pending faults (not latency)."""
        with self._lock:
            self.calls.clear()
            self.failures.clear()
            self.messages.clear()
            self._faults.clear()

    def heal(self) -> None:
        """Drop the faults still queued: Slack is back (the workspace's state is kept)."""
        with self._lock:
            self._faults.clear()

    # -- request handling (called from server threads) ------------------------------------------

    def _handle(
        self, command: str, path: str, headers: dict[str, str], body: bytes
    ) -> Reply | None:
        try:
            return self._dispatch(command, path, headers, body)
        except Exception as exc:  # a bug here must not look like a dropped connection
            return json_reply(
                {"ok": False, "error": "internal_error", "detail": repr(exc)}, status=500
            )

    def _dispatch(
        self, command: str, path: str, headers: dict[str, str], body: bytes
    ) -> Reply | None:
        parts = urlsplit(path)
        if parts.path.startswith("/api/") and len(parts.path) > len("/api/"):
            method = parts.path[len("/api/") :]
            key = None
        elif parts.path.startswith("/upload/") and command == "POST":
            # files.uploadV2's second step: the bytes go to the URL files.getUploadURLExternal gave
            file_id = unquote(parts.path[len("/upload/") :])
            with self._lock:
                if file_id not in self.uploads:
                    return Reply(404, b"not_found", "text/plain; charset=utf-8")
                self.uploads[file_id].content = body
            return Reply(200, b"OK - " + str(len(body)).encode(), "text/plain; charset=utf-8")
        elif parts.path.startswith("/respond/") and len(parts.path) > len("/respond/"):
            if command != "POST":
                return Reply(405, b"method_not_allowed", "text/plain; charset=utf-8")
            method = "response_url"
            key = unquote(parts.path[len("/respond/") :])
        else:
            return Reply(404, b"not_found", "text/plain; charset=utf-8")

        if self._latency > 0:
            time.sleep(self._latency)
        fault = self._take_fault(method)
        if fault is not None:
            return self._fault_reply(fault)

        lower = {k.lower(): v for k, v in headers.items()}
        params = _decode_params(lower.get("content-type", ""), body, parts.query)
        if params is None:
            return json_reply(_error("invalid_json"))

        if key is not None:
            return self._respond(key, params)

        token = params.pop("token", None)
        auth = lower.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            token = auth[7:].strip()
        if method == "apps.connections.open":  # Socket Mode: the app-level token, not the bot's
            if token != self.app_token:
                return json_reply(_error("invalid_auth"))
            with self._lock:
                self.calls.append(Call(method, params, token, None, time.monotonic()))
            if self.socket_url is None:
                return json_reply(_error("not_allowed_token_type"))
            return json_reply({"ok": True, "url": self.socket_url})
        if token != self.bot_token:
            return json_reply(_error("invalid_auth"))

        with self._lock:
            self.calls.append(Call(method, params, token, None, time.monotonic()))
            result = self._api(method, params)
        return json_reply(result)

    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.popleft()
            self.failures.append((method, 0 if fault.drop else fault.status))
        return fault

    def _fault_reply(self, fault: Fault) -> Reply | None:
        if fault.delay > 0:
            time.sleep(fault.delay)
        if fault.drop:
            return None
        error = _FAULT_ERRORS.get(fault.status)
        if error is None:
            try:
                error = HTTPStatus(fault.status).phrase.lower().replace(" ", "_")
            except ValueError:
                error = f"http_{fault.status}"
        reply = json_reply(_error(error), status=fault.status)
        if fault.status == 429:
            wait = 1.0 if fault.retry_after is None else max(0.0, fault.retry_after)
            reply.headers["Retry-After"] = str(math.ceil(wait))
        return reply

    def _respond(self, key: str, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.calls.append(Call("response_url", body, None, key, time.monotonic()))
            channel = self._response_channels.get(key)
            if body.get("response_type") == "in_channel" and channel is not None:
                blocks = body.get("blocks")
                self._store(
                    channel,
                    _text(body.get("text")),
                    blocks if isinstance(blocks, list) else [],
                    body.get("thread_ts") if isinstance(body.get("thread_ts"), str) else None,
                )
        return Reply(200, b"ok", "text/plain; charset=utf-8")

    # -- API methods (called with the lock held) ------------------------------------------------

    def _channel_id(self, channel: str) -> str:
        """A user id as a channel (a DM to that user) becomes the DM's channel id."""
        return "D" + channel[1:] if channel.startswith("U") else channel

    def _next_ts(self) -> str:
        self._counter += 1
        return f"{_TS_BASE + self._counter // 1_000_000}.{self._counter % 1_000_000:06d}"

    def _store(
        self,
        channel: str,
        text: str,
        blocks: list[Any],
        thread_ts: str | None,
        ephemeral_user: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Message:
        message = Message(
            channel=channel,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            user=self.bot_user_id,
            ephemeral_user=ephemeral_user,
            metadata=metadata,
        )
        self.messages[(channel, message.ts)] = message
        return message

    def _find(self, params: dict[str, Any]) -> Message | None:
        channel, ts = params.get("channel"), params.get("ts")
        if not isinstance(channel, str) or not isinstance(ts, str):
            return None
        message = self.messages.get((self._channel_id(channel), ts))
        return None if message is None or message.deleted else message

    def _api(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        if method in _OK_ONLY:
            return {"ok": True}
        handler = self._METHODS.get(method)
        if handler is None:
            return _error("unknown_method")
        return handler(self, p)

    def _auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://test.slack.com/",
            "team": "Test",
            "user": "itaku",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _post_message(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = p.get("channel")
        if not isinstance(channel, str) or not channel or channel.startswith(GONE_CHANNEL):
            return _error("channel_not_found")
        blocks = p.get("blocks")
        if not p.get("text") and not blocks and not p.get("attachments"):
            return _error("no_text")
        thread_ts = p.get("thread_ts")
        metadata = p.get("metadata")
        message = self._store(
            self._channel_id(channel),
            _text(p.get("text")),
            blocks if isinstance(blocks, list) else [],
            thread_ts if isinstance(thread_ts, str) and thread_ts else None,
            metadata=metadata if isinstance(metadata, dict) else None,
        )
        return {
            "ok": True,
            "channel": message.channel,
            "ts": message.ts,
            "message": message.as_dict(self.bot_user_id, self.bot_id),
        }

    def _update(self, p: dict[str, Any]) -> dict[str, Any]:
        message = self._find(p)
        if message is None:
            return _error("message_not_found")
        if "text" in p:
            message.text = _text(p["text"])
        blocks = p.get("blocks")
        if isinstance(blocks, list):
            message.blocks = blocks
        metadata = p.get("metadata")
        if isinstance(metadata, dict):
            message.metadata = metadata
        message.updates += 1
        return {
            "ok": True,
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": message.as_dict(self.bot_user_id, self.bot_id),
        }

    def _delete(self, p: dict[str, Any]) -> dict[str, Any]:
        message = self._find(p)
        if message is None:
            return _error("message_not_found")
        message.deleted = True
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _post_ephemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        channel, user = p.get("channel"), p.get("user")
        if not isinstance(channel, str) or not channel:
            return _error("channel_not_found")
        if not isinstance(user, str) or not user:
            return _error("user_not_in_channel")
        blocks = p.get("blocks")
        if not p.get("text") and not blocks and not p.get("attachments"):
            return _error("no_text")
        thread_ts = p.get("thread_ts")
        message = self._store(
            self._channel_id(channel),
            _text(p.get("text")),
            blocks if isinstance(blocks, list) else [],
            thread_ts if isinstance(thread_ts, str) and thread_ts else None,
            ephemeral_user=user,
        )
        return {"ok": True, "message_ts": message.ts}

    def _start_stream(self, p: dict[str, Any]) -> dict[str, Any]:
        channel, thread_ts = p.get("channel"), p.get("thread_ts")
        if not isinstance(channel, str) or not channel:
            return _error("channel_not_found")
        message = self._store(
            self._channel_id(channel),
            _text(p.get("markdown_text")),
            [],
            thread_ts if isinstance(thread_ts, str) and thread_ts else None,
        )
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _append_stream(self, p: dict[str, Any]) -> dict[str, Any]:
        message = self._find(p)
        if message is None:
            return _error("message_not_found")
        message.text += _text(p.get("markdown_text"))
        message.updates += 1
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _stop_stream(self, p: dict[str, Any]) -> dict[str, Any]:
        message = self._find(p)
        if message is None:
            return _error("message_not_found")
        message.text += _text(p.get("markdown_text"))
        blocks, metadata = p.get("blocks"), p.get("metadata")
        if isinstance(blocks, list):
            message.blocks = blocks
        if isinstance(metadata, dict):
            message.metadata = metadata
        message.updates += 1
        return {
            "ok": True,
            "channel": message.channel,
            "ts": message.ts,
            "message": message.as_dict(self.bot_user_id, self.bot_id),
        }

    def _view(self, view: Any, view_id: str | None = None) -> dict[str, Any] | None:
        if not isinstance(view, dict):
            return None
        if view_id is None:
            self._counter += 1
            view_id = f"V{self._counter:08d}"
        return {**view, "id": view_id, "team_id": self.team_id, "bot_id": self.bot_id}

    def _views_publish(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("user_id"):
            return _error("invalid_arguments")
        view = self._view(p.get("view"))
        return _error("invalid_arguments") if view is None else {"ok": True, "view": view}

    def _views_open(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("trigger_id") and not p.get("interactivity_pointer"):
            return _error("invalid_arguments")
        view = self._view(p.get("view"))
        return _error("invalid_arguments") if view is None else {"ok": True, "view": view}

    def _views_update(self, p: dict[str, Any]) -> dict[str, Any]:
        view_id = p.get("view_id")
        if not view_id and not p.get("external_id"):
            return _error("invalid_arguments")
        view = self._view(p.get("view"), view_id if isinstance(view_id, str) and view_id else None)
        return _error("invalid_arguments") if view is None else {"ok": True, "view": view}

    def _conversations_open(self, p: dict[str, Any]) -> dict[str, Any]:
        users = p.get("users")
        first = users[0] if isinstance(users, list) and users else users
        if isinstance(first, str):
            first = first.split(",", 1)[0].strip()
        if not isinstance(first, str) or not first:
            channel = p.get("channel")
            if isinstance(channel, str) and channel:
                return {"ok": True, "channel": {"id": channel}}
            return _error("users_list_not_supplied")
        return {"ok": True, "channel": {"id": "D" + first[1:]}}

    def _conversations_replies(self, p: dict[str, Any]) -> dict[str, Any]:
        channel, ts = p.get("channel"), p.get("ts")
        if not isinstance(channel, str) or not isinstance(ts, str):
            return _error("invalid_arguments")
        channel = self._channel_id(channel)
        replies = sorted(
            (
                m
                for m in self.messages.values()
                if m.channel == channel
                and m.thread_ts == ts
                and m.ts != ts
                and not m.deleted
                and m.ephemeral_user is None
            ),
            key=_ts_key,
        )
        out = []
        parent = self.messages.get((channel, ts))
        if parent is not None and not parent.deleted:
            head = parent.as_dict(self.bot_user_id, self.bot_id)
            if replies:
                head["thread_ts"] = ts
                head["reply_count"] = len(replies)
            out.append(head)
        elif not replies:
            return _error("thread_not_found")
        out.extend(m.as_dict(self.bot_user_id, self.bot_id) for m in replies)
        return {"ok": True, "messages": out, "has_more": False}

    def _users_info(self, p: dict[str, Any]) -> dict[str, Any]:
        user = p.get("user")
        if not isinstance(user, str) or not user:
            return _error("user_not_found")
        return {
            "ok": True,
            "user": {"id": user, "name": "user", "is_bot": False, "tz": "Asia/Tokyo"},
        }

    def _views_push(self, p: dict[str, Any]) -> dict[str, Any]:
        view = self._view(p.get("view"))
        return _error("invalid_arguments") if view is None else {"ok": True, "view": view}

    def _get_upload_url(self, p: dict[str, Any]) -> dict[str, Any]:
        filename = p.get("filename")
        if not isinstance(filename, str) or not filename or not str(p.get("length", "")).isdigit():
            return _error("invalid_arguments")
        self._counter += 1
        file_id = f"F{self._counter:09d}"
        self.uploads[file_id] = Upload(file_id, filename)
        return {
            "ok": True,
            "file_id": file_id,
            "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}",
        }

    def _complete_upload(self, p: dict[str, Any]) -> dict[str, Any]:
        files = p.get("files")
        if not isinstance(files, list) or not files:
            return _error("invalid_arguments")
        done = []
        for item in files:
            upload = self.uploads.get(str(item.get("id"))) if isinstance(item, dict) else None
            if upload is None or upload.content is None:
                return _error("file_not_found")
            upload.title = str(item.get("title") or upload.filename)
            upload.channel = _text(p.get("channel_id")) or None
            upload.initial_comment = _text(p.get("initial_comment"))
            upload.completed = True
            done.append({"id": upload.file_id, "name": upload.filename, "title": upload.title})
        if isinstance(p.get("channel_id"), str) and p["channel_id"]:
            self._store(
                self._channel_id(p["channel_id"]),
                _text(p.get("initial_comment")),
                [],
                _text(p.get("thread_ts")) or None,
            )
        return {"ok": True, "files": done}

    def _usergroup_users(self, p: dict[str, Any]) -> dict[str, Any]:
        group = p.get("usergroup")
        if not isinstance(group, str) or group not in self.usergroups:
            return _error("no_such_subteam")
        return {"ok": True, "users": list(self.usergroups[group])}

    _METHODS: ClassVar[dict[str, Callable[[SlackStandIn, dict[str, Any]], dict[str, Any]]]] = {
        "auth.test": _auth_test,
        "chat.postMessage": _post_message,
        "chat.update": _update,
        "chat.delete": _delete,
        "chat.postEphemeral": _post_ephemeral,
        "chat.startStream": _start_stream,
        "chat.appendStream": _append_stream,
        "chat.stopStream": _stop_stream,
        "views.publish": _views_publish,
        "views.open": _views_open,
        "views.update": _views_update,
        "views.push": _views_push,
        "conversations.open": _conversations_open,
        "conversations.replies": _conversations_replies,
        "users.info": _users_info,
        "files.getUploadURLExternal": _get_upload_url,
        "files.completeUploadExternal": _complete_upload,
        "usergroups.users.list": _usergroup_users,
    }
