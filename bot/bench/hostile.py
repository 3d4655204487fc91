"""Hostile requests to POST /slack/events, as an attacker (or a buggy proxy) would send them:
every payload kind the app handles, well-formed, then mutated (fields dropped, retyped, emptied,
nested deep, text with lone surrogates and control characters), signed or forged (bad, stale or
malformed signature and timestamp headers), plus bodies that are not JSON, not UTF-8 or too large.

One generator serves the property-based test (tests/test_slack_hostile.py, driven by hypothesis)
and `itaku bench fuzz` (against a real `itaku serve --http`): `case(kind, rnd)` builds a request
from a `random.Random`, so hypothesis chooses and shrinks the seed."""

from __future__ import annotations

import copy
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bot.bench.slack_requests import dm_event, mention_event, sign
from bot.slack import ids

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class HostileRequest:
    kind: str
    body: bytes
    content_type: str
    headers: dict[str, str]  # the signature headers (valid or forged) and any extra
    signed: bool = True  # whether the signature is valid (else the answer must be 401)


def _envelope(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "token": "legacy-unused",
        "team_id": "T0FUZZ",
        "api_app_id": "A0ITAKU",
        "type": "event_callback",
        "event_id": f"EvFUZZ{time.time_ns()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0FUZZ", "user_id": "U0ITAKU", "is_bot": True}],
        "event": event,
    }


def _interaction(kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "team": {"id": "T0FUZZ", "domain": "fuzz"},
        "user": {"id": "U0FUZZ", "team_id": "T0FUZZ", "name": "fuzz"},
        "api_app_id": "A0ITAKU",
        "trigger_id": f"{time.time_ns()}.trigger",
        **fields,
    }


def _view(callback_id: str = ids.DIALOG_VIEW) -> dict[str, Any]:
    return {
        "id": "V0FUZZ",
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": "not-a-valid-token",
        "hash": "h1",
        "state": {
            "values": {
                f"{ids.FIELD_BLOCK}party": {
                    "party": {"type": "plain_text_input", "value": "株式会社例"}
                },
                ids.REASON_BLOCK: {"reason": {"type": "plain_text_input", "value": "理由"}},
            }
        },
    }


def _button(action_id: str, value: str = "1") -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "block_id": "b",
        "value": value,
        "action_ts": f"{time.time():.6f}",
    }


def base_payload(kind: str, rnd: random.Random | None = None) -> tuple[dict[str, Any], str]:
    """A well-formed payload of one kind, and how it is sent ("json", "payload", "command")."""
    pick = (rnd or random.Random(0)).choice
    if kind == "message":
        return _envelope(dm_event("再委託の条件は？", user="U0FUZZ", channel="D0FUZZ")), "json"
    if kind == "app_mention":
        return _envelope(mention_event("NDAに入れる条項は？", user="U0FUZZ")), "json"
    if kind == "app_home_opened":
        event = {"type": "app_home_opened", "user": "U0FUZZ", "tab": "home", "channel": "D0FUZZ"}
        return _envelope({**event, "event_ts": f"{time.time():.6f}"}), "json"
    if kind in ("assistant_thread_started", "assistant_thread_context_changed"):
        thread = {"channel_id": "D0FUZZ", "thread_ts": "1700000000.000100", "user_id": "U0FUZZ"}
        return _envelope({"type": kind, "assistant_thread": thread, "event_ts": "1.2"}), "json"
    if kind == "url_verification":
        return {"type": "url_verification", "challenge": "fuzz-challenge", "token": "x"}, "json"
    if kind == "command":
        command = pick([ids.COMMAND, ids.NDA_COMMAND, ids.SUBCONTRACT_COMMAND, "/clause"])
        return {
            "command": command,
            "text": "help",
            "user_id": "U0FUZZ",
            "team_id": "T0FUZZ",
            "channel_id": "C0FUZZ",
            "trigger_id": f"{time.time_ns()}.trigger",
            "response_url": "http://127.0.0.1:9/response",
            "api_app_id": "A0ITAKU",
        }, "command"
    if kind == "block_actions":
        action_id = pick(
            [
                ids.VOTE_HELPFUL,
                ids.SHARE_ANSWER,
                ids.DIALOG_BACK,
                ids.REQ_APPROVE,
                ids.REQ_REJECT,
                ids.REQ_REVISE,
                ids.DRAFT_EDIT,
                "something_else",
            ]
        )
        return _interaction(
            "block_actions",
            actions=[_button(action_id)],
            container={"type": "message", "channel_id": "C0FUZZ", "message_ts": "1.1"},
            channel={"id": "C0FUZZ"},
            response_url="http://127.0.0.1:9/response",
        ), "payload"
    if kind in ("view_submission", "view_closed"):
        callback = pick([ids.DIALOG_VIEW, ids.REQ_REASON_VIEW, "other_view"])
        return _interaction(kind, view=_view(callback)), "payload"
    if kind in ("shortcut", "message_action"):
        extra: dict[str, Any] = {"callback_id": "itaku_shortcut"}
        if kind == "message_action":
            extra |= {"message": {"ts": "1.1", "text": "x"}, "channel": {"id": "C0FUZZ"}}
        return _interaction(kind, **extra), "payload"
    if kind == "block_suggestion":
        return _interaction(
            "block_suggestion", action_id="a", block_id="b", value="再委", view=_view()
        ), "payload"
    raise ValueError(f"unknown payload kind {kind}")


KINDS = (
    "message",
    "app_mention",
    "app_home_opened",
    "assistant_thread_started",
    "assistant_thread_context_changed",
    "url_verification",
    "command",
    "block_actions",
    "view_submission",
    "view_closed",
    "shortcut",
    "message_action",
    "block_suggestion",
)


def _nasty_value(rnd: random.Random, depth: int = 0) -> Any:
    choices: list[Callable[[], Any]] = [
        lambda: None,
        lambda: rnd.randint(-(2**63), 2**63),
        lambda: rnd.random() * 1e308,
        lambda: rnd.choice([True, False]),
        lambda: "",
        lambda: "\udfff\ud800" + "質問\x00\x1b[31m" + "\u202e",
        lambda: "x" * rnd.choice([65, 256, 5000]),
        lambda: [],
        lambda: {},
        lambda: [_nasty_value(rnd, depth + 1)] if depth < 3 else [],
        lambda: {"type": _nasty_value(rnd, depth + 1)} if depth < 3 else {},
        lambda: _deep(rnd.randint(10, 60)),
        lambda: "1e9",
    ]
    return rnd.choice(choices)()


def _deep(n: int) -> Any:
    value: Any = "x"
    for _ in range(n):
        value = {"a": [value]}
    return value


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((*prefix, k))
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.append((*prefix, i))
            out.extend(_paths(v, (*prefix, i)))
    return out


def mutate(payload: dict[str, Any], rnd: random.Random, times: int) -> dict[str, Any]:
    """The payload with `times` random changes: a field dropped, retyped or added anywhere."""
    data = copy.deepcopy(payload)
    for _ in range(times):
        paths = _paths(data)
        if not paths:
            break
        path = rnd.choice(paths)
        parent: Any = data
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        op = rnd.random()
        if op < 0.3 and isinstance(parent, dict):
            del parent[key]
        elif op < 0.85:
            parent[key] = _nasty_value(rnd)
        elif isinstance(parent, dict):
            parent[rnd.choice(["type", "user", "text", "view", "actions", "event", "x"])] = (
                _nasty_value(rnd)
            )
    return data


def _encode(data: Any, how: str) -> tuple[bytes, str]:
    if how == "json":
        return json.dumps(data).encode("utf-8", "surrogatepass"), JSON
    if how == "payload":
        text = json.dumps(data)  # ASCII escapes keep lone surrogates encodable
        return urlencode({"payload": text}).encode(), FORM
    if isinstance(data, dict):
        flat = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
        return urlencode(flat, encoding="utf-8", errors="surrogatepass").encode(), FORM
    return urlencode({"payload": json.dumps(data)}).encode(), FORM


_BAD_TIMESTAMPS = ("abc", "", "1e9", "-1", "99999999999999999999", " 1", "１２３")


def case(kind: str, rnd: random.Random, secret: str) -> HostileRequest:
    """One hostile request of a payload kind: usually mutated and correctly signed (so it
    reaches validation), sometimes forged, sometimes not a payload at all."""
    payload, how = base_payload(kind, rnd)
    roll = rnd.random()
    if roll < 0.7:
        data: Any = mutate(payload, rnd, rnd.randint(1, 4))
    elif roll < 0.8:
        data = payload
    else:
        data = rnd.choice([[payload], "string", 12, None, _deep(rnd.randint(30, 200))])
    body, content_type = _encode(data, how)
    shape = rnd.random()
    if shape < 0.05:
        body = body[: rnd.randint(0, len(body))]  # truncated
    elif shape < 0.08:
        body = b"\xff\xfe" + body  # not UTF-8
    elif shape < 0.1:
        content_type = rnd.choice([JSON, FORM, "text/plain", "", "multipart/form-data"])
    ts = int(time.time())
    forge = rnd.random()
    if forge < 0.75:
        headers = {
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(secret, body, ts),
        }
    elif forge < 0.85:
        headers = {
            "X-Slack-Request-Timestamp": rnd.choice(_BAD_TIMESTAMPS),
            "X-Slack-Signature": rnd.choice(["", "v0=00", "v0=" + "f" * 64, "v1=abc"]),
        }
    elif forge < 0.95:
        stale = ts + rnd.choice([-600, 600])
        headers = {
            "X-Slack-Request-Timestamp": str(stale),
            "X-Slack-Signature": sign(secret, body, stale),
        }
    else:
        headers = {}
    return HostileRequest(kind, body, content_type, headers, signed=forge < 0.75)


def oversized(secret: str, size: int) -> HostileRequest:
    """A correctly signed body of `size` bytes (a 413, never a reset)."""
    event = dm_event("あ" * (size // 3 + 1))
    body = json.dumps(_envelope(event), ensure_ascii=False).encode()[:size]
    ts = int(time.time())
    headers = {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(secret, body, ts)}
    return HostileRequest("oversized", body, JSON, headers)


@dataclass(frozen=True)
class Outcome:
    status: int  # 0 when the connection was reset or dropped before a status line
    reset: bool
    seconds: float


def send(host: str, port: int, req: HostileRequest, timeout: float = 10.0) -> Outcome:
    """POST one request to /slack/events on its own connection; a reset is an outcome, not an
    exception."""
    import http.client

    started = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.putrequest("POST", "/slack/events", skip_accept_encoding=True)
        if req.content_type:
            conn.putheader("Content-Type", req.content_type)
        conn.putheader("Content-Length", str(len(req.body)))
        for name, value in req.headers.items():
            conn.putheader(name, value.encode("utf-8", "surrogatepass"))
        conn.endheaders(req.body)
        reply = conn.getresponse()
        reply.read()
        return Outcome(reply.status, False, time.perf_counter() - started)
    except (ConnectionError, http.client.HTTPException, TimeoutError, OSError):
        return Outcome(0, True, time.perf_counter() - started)
    finally:
        conn.close()
