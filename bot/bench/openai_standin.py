"""An offline stand-in for an OpenAI-compatible API, for tests and benchmarks.

`OpenAIStandIn` is a small HTTP server on 127.0.0.1 that answers the endpoints an LLM client
uses (chat completions, streamed or not, with structured output; embeddings; the model list),
so the real `openai` client can be driven without a network. openai 3.x talks through `httpx2`,
which HTTP mocking libraries such as respx do not intercept, hence a real server.

    with OpenAIStandIn() as llm:
        client = openai.OpenAI(base_url=llm.base_url, api_key="sk-test", max_retries=0)
        llm.reply("こんにちは", {"answer": "はい"})
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        assert llm.chat_calls[0].messages[0]["content"] == "hi"

What a chat call answers, first match wins:
  1. the `responder` function, if one is set and it does not return None;
  2. the next reply queued with `reply(...)`;
  3. `default`.
A reply is a text (the message content as is), a dict (serialised with json.dumps, as a
structured output would be), or a function of the `ChatCall` returning either.

Faults (`fail`) are queued per endpoint and consumed one call at a time. A failed call does not
use up a queued reply (a cut stream streams the head of it), so its retry gets that reply.
Injected faults and what the openai client (3.57, max_retries=0) raises for them:
  - status 429 -> RateLimitError (sent with Retry-After: 0 and retry-after-ms: 1, so a
    retrying client retries at once); 500/503 -> InternalServerError; other 4xx -> the
    matching APIStatusError subclass.
  - drop -> APIConnectionError (the connection closes without a status line).
  - delay longer than the client's timeout -> APITimeoutError (a subclass of
    APIConnectionError, so catch it first). A token delay longer than the read timeout raises
    it mid-stream.
  - cut_stream_after=N on a streamed call -> the role chunk and N content chunks, then the
    connection closes mid-body (chunked encoding without its last chunk): iterating the
    stream raises APIConnectionError after the N chunks. No chunk with a finish_reason is
    sent. On a call that is not streamed, the body is cut in half: APIConnectionError.
  - malformed -> 200 with a body that is not valid JSON (for a streamed call, one `data:`
    event that is not valid JSON, then [DONE]). The client raises json.JSONDecodeError (a
    ValueError, not an openai error). To test content that does not fit a schema, queue a
    reply that does not fit it (e.g. a plain text for `parse`).

Calls are recorded (`chat_calls`, `embedding_calls`) once authenticated and well formed,
faulted or not; `failures` lists the faults as they were injected.

Standard library only. Not OpenAI: no tools, no n > 1, max_tokens is not enforced, token
counts are rough (a Japanese character is one token, four ASCII characters are one).
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import threading
import time
from base64 import b64encode
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, TypeAlias
from urllib.parse import unquote, urlsplit

from bot.bench.local_server import LocalServer, StandInHandler

DEFAULT_REPLY = "承知しました。確認のうえ、追ってご連絡いたします。"
DEFAULT_MODELS = ("gpt-4o-mini", "gpt-4o", "text-embedding-3-small")

Endpoint: TypeAlias = Literal["chat", "embeddings"]

# HTTP status -> (type, code) of the OpenAI-style error body sent with it.
_ERROR_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("service_unavailable", None),
}

_ERROR_MESSAGES = {
    429: "Rate limit reached (injected by the stand-in).",
    500: "The server had an error while processing your request (injected by the stand-in).",
    503: "The engine is currently overloaded (injected by the stand-in).",
}


@dataclass(frozen=True)
class ChatCall:
    """One request to /v1/chat/completions."""

    model: str
    messages: list[dict[str, Any]]
    stream: bool
    response_format: dict[str, Any] | None
    params: dict[str, Any]  # the whole request body

    @property
    def system(self) -> str:
        """The text of the system (or developer) messages, joined by newlines."""
        return "\n".join(
            _content_text(m.get("content"))
            for m in self.messages
            if m.get("role") in ("system", "developer")
        )

    @property
    def last_user(self) -> str:
        """The text of the last user message ("" when there is none)."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return _content_text(message.get("content"))
        return ""

    @property
    def schema_name(self) -> str | None:
        """The json_schema name of a structured-output request (the pydantic class for `parse`)."""
        if self.response_format is None or self.response_format.get("type") != "json_schema":
            return None
        schema = self.response_format.get("json_schema")
        name = schema.get("name") if isinstance(schema, dict) else None
        return name if isinstance(name, str) else None


ReplyValue: TypeAlias = str | dict[str, Any]
Reply: TypeAlias = str | dict[str, Any] | Callable[[ChatCall], ReplyValue]
Responder: TypeAlias = Callable[[ChatCall], Reply | None]


@dataclass
class _Fault:
    status: int
    remaining: int
    drop: bool
    delay: float
    cut_stream_after: int | None
    malformed: bool

    @property
    def kind(self) -> str:
        if self.drop:
            return "drop"
        if self.cut_stream_after is not None:
            return "cut"
        if self.malformed:
            return "malformed"
        return str(self.status)


@dataclass
class _Reply:
    """A whole response. `cut_at`: send only that many bytes of the body, then hang up."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    cut_at: int | None = None


@dataclass
class _StreamReply:
    """A Server-Sent Events response: (pause before, event) pairs, in chunked encoding.

    `complete` False: the connection is closed after the events, without the last chunk."""

    events: list[tuple[float, bytes]]
    complete: bool = True


_Response: TypeAlias = _Reply | _StreamReply | None  # None: drop the connection


class _Handler(StandInHandler):
    def reply(self, standin: Any, response: Any) -> None:
        if isinstance(response, _StreamReply):
            self._send_stream(standin, response)
        else:
            self._send_whole(response)

    def _send_whole(self, reply: _Reply) -> None:
        self.send_whole(reply.status, reply.content_type, reply.body, reply.headers)
        if reply.cut_at is None:
            self.wfile.write(reply.body)
        else:
            self.wfile.write(reply.body[: reply.cut_at])
            self.close_connection = True

    def _send_stream(self, standin: OpenAIStandIn, reply: _StreamReply) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for pause, event in reply.events:
            if pause > 0 and not standin._sleep(pause):
                self.close_connection = True
                return
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
        if reply.complete:
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.close_connection = True


class OpenAIStandIn(LocalServer):
    """A local HTTP server that behaves enough like the OpenAI API to run an LLM client offline."""

    handler = _Handler
    thread_name = "openai-standin"

    def __init__(self, api_key: str = "sk-test", embedding_dim: int = 64) -> None:
        super().__init__()
        if embedding_dim <= 0:
            raise ValueError("embedding_dim must be positive")
        self.api_key = api_key
        self.embedding_dim = embedding_dim
        self.default: Reply = DEFAULT_REPLY
        self.models: list[str] = list(DEFAULT_MODELS)  # what GET /v1/models lists
        self.chat_calls: list[ChatCall] = []
        self.embedding_calls: list[list[str]] = []
        self.failures: list[tuple[Endpoint, str]] = []  # (endpoint, "429" | "drop" | "cut" | ...)
        self._lock = threading.Lock()
        self._replies: deque[Reply] = deque()
        self._responder: Responder | None = None
        self._faults: dict[Endpoint, deque[_Fault]] = {"chat": deque(), "embeddings": deque()}
        self._latency = 0.0
        self._token_delay = 0.0
        self._counter = 0

    @property
    def base_url(self) -> str:
        """For openai.OpenAI(base_url=...)."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting ---------------------------------------------------------------------------

    def reply(self, *replies: Reply) -> None:
        """Queue replies for the next chat calls, in order (after those already queued)."""
        with self._lock:
            self._replies.extend(replies)

    def responder(self, fn: Responder | None) -> None:
        """Answer chat calls with `fn(call)`; when it returns None the queue (or default) answers.

        Takes precedence over the queue. `None` removes the responder."""
        with self._lock:
            self._responder = fn

    def fail(
        self,
        endpoint: Endpoint,
        status: int = 500,
        times: int = 1,
        *,
        drop: bool = False,
        delay: float = 0.0,
        cut_stream_after: int | None = None,
        malformed: bool = False,
    ) -> None:
        """Make the next `times` calls to `endpoint` fail (queued after earlier faults for it).

        By default they answer `status` with an OpenAI-style error body (429 also sends
        Retry-After: 0). `drop` closes the connection without a response; `cut_stream_after`
        sends that many content chunks of a stream and then closes the connection; `malformed`
        answers 200 with a body that is not JSON. At most one of these three. `delay` sleeps
        first, then the fault happens as it would without it (so `delay` alone answers 500
        late); with `status` below 400 and nothing else, the call then succeeds normally (one
        slow call, which uses up a queued reply).
        """
        if endpoint not in self._faults:
            raise ValueError(f"unknown endpoint {endpoint!r}")
        if sum((drop, cut_stream_after is not None, malformed)) > 1:
            raise ValueError("drop, cut_stream_after and malformed are exclusive")
        if not 100 <= status <= 599:
            raise ValueError(f"not an HTTP status: {status}")
        if cut_stream_after is not None and cut_stream_after < 0:
            raise ValueError("cut_stream_after must be >= 0")
        if times <= 0:
            return
        fault = _Fault(status, times, drop, max(0.0, delay), cut_stream_after, malformed)
        with self._lock:
            self._faults[endpoint].append(fault)

    def set_token_delay(self, seconds: float) -> None:
        """Streaming: pause this long between content chunks and before the finish_reason chunk.

        The role chunk and the first piece of content go out at once (after any latency)."""
        self._token_delay = max(0.0, seconds)

    def set_latency(self, seconds: float) -> None:
        """Every request sleeps this long before it is answered."""
        self._latency = max(0.0, seconds)

    def heal(self) -> None:
        """Drop the faults still queued."""
        with self._lock:
            for queue in self._faults.values():
                queue.clear()

    def reset(self) -> None:
        """Forget calls, failures, queued replies and pending faults.

        The responder, `default`, latency and token delay are kept."""
        with self._lock:
            self.chat_calls.clear()
            self.embedding_calls.clear()
            self.failures.clear()
            self._replies.clear()
            for queue in self._faults.values():
                queue.clear()

    @property
    def pending_replies(self) -> int:
        """How many queued replies are still unused."""
        with self._lock:
            return len(self._replies)

    # -- request handling (called from server threads) ------------------------------------------

    def _sleep(self, seconds: float) -> bool:
        """Sleep; False when the stand-in is stopping meanwhile."""
        return not self._stopping.wait(seconds)

    def _handle(self, command: str, path: str, headers: dict[str, str], body: bytes) -> _Response:
        try:
            return self._dispatch(command, path, headers, body)
        except Exception as exc:  # a bug (or a failing reply function) must not look like a drop
            return _error_reply(500, f"stand-in error: {exc!r}")

    def _dispatch(self, command: str, path: str, headers: dict[str, str], body: bytes) -> _Response:
        if self._latency > 0 and not self._sleep(self._latency):
            return None
        route = urlsplit(path).path.rstrip("/")
        lower = {k.lower(): v for k, v in headers.items()}

        if route not in ("/v1/chat/completions", "/v1/embeddings", "/v1/models") and not (
            route.startswith("/v1/models/")
        ):
            return _error_reply(404, f"Invalid URL ({command} {route})")
        auth = lower.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not token:
            return _error_reply(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        if token != self.api_key:
            return _error_reply(401, f"Incorrect API key provided: {_mask(token)}.")

        if route.startswith("/v1/models"):
            if command != "GET":
                return _error_reply(405, f"Method not allowed ({command} {route})")
            return self._models(
                unquote(route[len("/v1/models/") :]) if route != "/v1/models" else None
            )
        if command != "POST":
            return _error_reply(405, f"Method not allowed ({command} {route})")
        try:
            params = json.loads(body) if body.strip() else None
        except ValueError:
            params = None
        if not isinstance(params, dict):
            return _error_reply(400, "We could not parse the JSON body of your request.")
        if route == "/v1/chat/completions":
            return self._chat(params)
        return self._embeddings(params)

    def _take_fault(self, endpoint: Endpoint) -> _Fault | None:
        with self._lock:
            queue = self._faults[endpoint]
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.popleft()
            self.failures.append((endpoint, fault.kind))
        return fault

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}-standin{self._counter:06d}"

    def _models(self, model: str | None) -> _Reply:
        with self._lock:
            names = list(dict.fromkeys(self.models))
        entries = [
            {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "itaku-standin"}
            for name in names
        ]
        if model is None:
            return _json_reply({"object": "list", "data": entries})
        for entry in entries:
            if entry["id"] == model:
                return _json_reply(entry)
        return _error_reply(404, f"The model `{model}` does not exist.", code="model_not_found")

    # -- chat ----------------------------------------------------------------------------------

    def _chat(self, params: dict[str, Any]) -> _Response:
        model, messages = params.get("model"), params.get("messages")
        if not isinstance(model, str) or not model:
            return _error_reply(400, "you must provide a model parameter", param="model")
        if not isinstance(messages, list) or not messages:
            return _error_reply(400, "'messages' must be a non-empty array", param="messages")
        response_format = params.get("response_format")
        call = ChatCall(
            model=model,
            messages=[m if isinstance(m, dict) else {"content": m} for m in messages],
            stream=params.get("stream") is True,
            response_format=response_format if isinstance(response_format, dict) else None,
            params=params,
        )
        with self._lock:
            self.chat_calls.append(call)

        fault = self._take_fault("chat")
        if fault is not None:
            if fault.delay > 0 and not self._sleep(fault.delay):
                return None
            if fault.drop:
                return None
            if fault.status >= 400 and fault.cut_stream_after is None and not fault.malformed:
                return _fault_reply(fault.status)

        if fault is not None and fault.malformed and not call.stream:
            return _malformed_reply()
        # a faulted call leaves the queue alone, so that its retry gets the reply
        content = self._content_for(call, consume=fault is None or fault.status < 400)
        completion_id = self._next_id("chatcmpl")
        created = int(time.time())
        prompt_tokens = sum(4 + _rough_tokens(_content_text(m.get("content"))) for m in messages)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": _rough_tokens(content),
            "total_tokens": prompt_tokens + _rough_tokens(content),
        }

        if call.stream:
            options = params.get("stream_options")
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            return self._chat_stream(
                completion_id, created, model, content, usage if include_usage else None, fault
            )

        completion = {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_standin",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": usage,
        }
        reply = _json_reply(completion)
        if fault is not None and fault.cut_stream_after is not None:
            reply.cut_at = len(reply.body) // 2
        return reply

    def _chat_stream(
        self,
        completion_id: str,
        created: int,
        model: str,
        content: str,
        usage: dict[str, int] | None,
        fault: _Fault | None,
    ) -> _StreamReply:
        def chunk(delta: dict[str, Any], finish_reason: str | None) -> bytes:
            data: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_standin",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
                ],
            }
            if usage is not None:
                data["usage"] = None
            return _sse(data)

        pieces = _pieces(content)
        cut = fault.cut_stream_after if fault is not None else None
        if cut is not None:
            pieces = pieces[:cut]
        delay = self._token_delay
        events: list[tuple[float, bytes]] = [
            (0.0, chunk({"role": "assistant", "content": "", "refusal": None}, None))
        ]
        for i, piece in enumerate(pieces):
            events.append((delay if i > 0 else 0.0, chunk({"content": piece}, None)))
        if cut is not None:
            return _StreamReply(events, complete=False)
        if fault is not None and fault.malformed:
            broken = (
                b'data: {"id": "' + completion_id.encode() + b'", "choices": [{"delta": {"con\n\n'
            )
            events.append((delay, broken))
            events.append((0.0, b"data: [DONE]\n\n"))
            return _StreamReply(events)
        events.append((delay if pieces else 0.0, chunk({}, "stop")))
        if usage is not None:
            final = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_standin",
                "choices": [],
                "usage": usage,
            }
            events.append((0.0, _sse(final)))
        events.append((0.0, b"data: [DONE]\n\n"))
        return _StreamReply(events)

    def _content_for(self, call: ChatCall, consume: bool = True) -> str:
        with self._lock:
            responder = self._responder
        reply: Reply | None = responder(call) if responder is not None else None
        if reply is None:
            with self._lock:
                if not self._replies:
                    reply = self.default
                elif consume:
                    reply = self._replies.popleft()
                else:
                    reply = self._replies[0]
        value = reply(call) if callable(reply) else reply
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False)

    # -- embeddings ----------------------------------------------------------------------------

    def _embeddings(self, params: dict[str, Any]) -> _Response:
        model, raw = params.get("model"), params.get("input")
        if not isinstance(model, str) or not model:
            return _error_reply(400, "you must provide a model parameter", param="model")
        if isinstance(raw, str):
            texts = [raw]
        elif isinstance(raw, list) and raw:
            texts = [item if isinstance(item, str) else json.dumps(item) for item in raw]
        else:
            return _error_reply(400, "'input' must be a string or a non-empty array", param="input")
        dimensions = params.get("dimensions")
        dim = dimensions if isinstance(dimensions, int) and dimensions > 0 else self.embedding_dim
        base64 = params.get("encoding_format") == "base64"  # what the openai client asks for
        with self._lock:
            self.embedding_calls.append(texts)

        fault = self._take_fault("embeddings")
        if fault is not None:
            if fault.delay > 0 and not self._sleep(fault.delay):
                return None
            if fault.drop:
                return None
            if fault.malformed:
                return _malformed_reply()
            if fault.status >= 400 and fault.cut_stream_after is None:
                return _fault_reply(fault.status)

        data = []
        for index, text in enumerate(texts):
            vector = embed(text, dim)
            encoded: Any = (
                b64encode(struct.pack(f"<{dim}f", *vector)).decode("ascii") if base64 else vector
            )
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(_rough_tokens(text) for text in texts)
        reply = _json_reply(
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )
        if fault is not None and fault.cut_stream_after is not None:
            reply.cut_at = len(reply.body) // 2
        return reply


# -- helpers ---------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _embed(text: str, dim: int) -> tuple[float, ...]:
    raw: list[float] = []
    block = 0
    while len(raw) < dim:
        digest = hashlib.blake2b(
            text.encode("utf-8"), digest_size=64, person=block.to_bytes(16, "little")
        ).digest()
        raw.extend((b - 127.5) / 127.5 for b in digest)
        block += 1
    raw = raw[:dim]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    # rounded to float32, so the float and base64 encodings give the same numbers
    return struct.unpack(f"<{dim}f", struct.pack(f"<{dim}f", *(x / norm for x in raw)))


def embed(text: str, dim: int = 64) -> list[float]:
    """The stand-in's embedding of `text`: a deterministic unit vector (float32 values)."""
    return list(_embed(text, dim))


def _content_text(content: Any) -> str:
    """A message's content as text: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def _rough_tokens(text: str) -> int:
    ascii_chars = sum(1 for c in text if c.isascii())
    return (ascii_chars + 3) // 4 + len(text) - ascii_chars


_PIECE_SIZES = (2, 1, 3)


def _pieces(text: str) -> list[str]:
    """Stream pieces: up to 4 characters of ASCII, else 2, 1, 3, 2, ... characters."""
    out: list[str] = []
    i, turn = 0, 0
    while i < len(text):
        ascii_run = text[i].isascii()
        limit = 4 if ascii_run else _PIECE_SIZES[turn % len(_PIECE_SIZES)]
        if not ascii_run:
            turn += 1
        j = i + 1
        while j < len(text) and j - i < limit and text[j].isascii() == ascii_run:
            j += 1
        out.append(text[i:j])
        i = j
    return out


def _sse(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, ensure_ascii=False).encode("utf-8") + b"\n\n"


def _json_reply(payload: dict[str, Any], status: int = 200) -> _Reply:
    return _Reply(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def _error_reply(
    status: int, message: str, *, code: str | None = None, param: str | None = None
) -> _Reply:
    kind, default_code = _ERROR_KINDS.get(status, ("api_error", None))
    error = {"message": message, "type": kind, "param": param, "code": code or default_code}
    return _json_reply({"error": error}, status)


def _fault_reply(status: int) -> _Reply:
    reply = _error_reply(status, _ERROR_MESSAGES.get(status, f"Injected HTTP {status}."))
    if status == 429:
        reply.headers["Retry-After"] = "0"
        reply.headers["retry-after-ms"] = "1"  # openai ignores 0 and backs off ~0.5 s instead
    return reply


def _malformed_reply() -> _Reply:
    return _Reply(200, b'{"id": "chatcmpl-malformed", "object": "chat.completion", "choices": [')


def _mask(token: str) -> str:
    return token if len(token) <= 8 else f"{token[:3]}{'*' * 8}{token[-4:]}"
