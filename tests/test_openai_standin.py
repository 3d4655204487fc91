"""The OpenAI stand-in, driven over real HTTP by the real openai client (which uses httpx2)."""

from __future__ import annotations

import json
import math
import time
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.error import HTTPError

import openai
import pydantic
import pytest

from bot.bench.openai_standin import DEFAULT_REPLY, ChatCall, OpenAIStandIn, Reply, embed

MODEL = "gpt-4o-mini"
MESSAGES: list[Any] = [
    {"role": "system", "content": "あなたは委託管理の担当者です。"},
    {"role": "user", "content": "再委託の条件を教えてください。"},
]


class Answer(pydantic.BaseModel):
    answer: str
    confidence: int


@pytest.fixture()
def llm() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn() as standin:
        yield standin


@pytest.fixture()
def client(llm: OpenAIStandIn) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=llm.base_url, api_key="sk-test", max_retries=0, timeout=5) as c:
        yield c


def ask(client: openai.OpenAI, content: str = "質問です", system: str | None = None) -> str:
    messages: list[Any] = [] if system is None else [{"role": "system", "content": system}]
    messages.append({"role": "user", "content": content})
    completion = client.chat.completions.create(model=MODEL, messages=messages)
    return completion.choices[0].message.content or ""


def stream_pieces(client: openai.OpenAI, **kwargs: Any) -> list[Any]:
    """Every chunk of a streamed completion of MESSAGES."""
    stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True, **kwargs)
    return list(stream)


# -- chat ----------------------------------------------------------------------------------------


def test_non_streaming_text(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    assert llm.base_url == f"http://127.0.0.1:{llm.port}/v1"
    completion = client.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=0.2)
    assert completion.object == "chat.completion"
    assert completion.model == MODEL
    assert completion.id.startswith("chatcmpl-")
    (choice,) = completion.choices
    assert choice.message.role == "assistant"
    assert choice.message.content == DEFAULT_REPLY
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == len(DEFAULT_REPLY)  # one per Japanese character
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )

    (call,) = llm.chat_calls
    assert call.model == MODEL and call.stream is False and call.response_format is None
    assert call.messages == MESSAGES
    assert call.params["temperature"] == 0.2
    assert call.system == "あなたは委託管理の担当者です。"
    assert call.last_user == "再委託の条件を教えてください。"


def test_streaming_reassembles_the_reply(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    text = "再委託には、委託元の事前の書面による承認が必要です。Please confirm."
    llm.reply(text)
    chunks = stream_pieces(client)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert "".join(pieces) == text
    japanese = [p for p in pieces if not p.isascii()]
    assert len(japanese) > 10 and all(1 <= len(p) <= 3 for p in japanese)
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    assert all(c.usage is None for c in chunks)
    assert llm.chat_calls[0].stream is True


def test_streaming_with_usage(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    llm.reply("はい。")
    chunks = stream_pieces(client, stream_options={"include_usage": True})
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None and last.usage.completion_tokens == 3
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks[:-1])


def test_structured_output_with_parse(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    llm.reply({"answer": "書面での承認が必要です", "confidence": 4})
    completion = client.chat.completions.parse(
        model=MODEL, messages=MESSAGES, response_format=Answer
    )
    parsed = completion.choices[0].message.parsed
    assert parsed == Answer(answer="書面での承認が必要です", confidence=4)
    # the content is the JSON text, Japanese unescaped
    assert completion.choices[0].message.content == (
        '{"answer": "書面での承認が必要です", "confidence": 4}'
    )
    (call,) = llm.chat_calls
    assert call.response_format is not None and call.response_format["type"] == "json_schema"
    assert call.schema_name == "Answer"


def test_json_object_response_format(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    llm.reply({"分類": "再委託"})
    completion = client.chat.completions.create(
        model=MODEL, messages=MESSAGES, response_format={"type": "json_object"}
    )
    content = completion.choices[0].message.content
    assert content == '{"分類": "再委託"}'
    assert llm.chat_calls[0].schema_name is None


def test_parse_of_content_that_does_not_fit_the_schema(
    llm: OpenAIStandIn, client: openai.OpenAI
) -> None:
    llm.reply("JSONではありません", {"answer": 1})
    for _ in range(2):
        with pytest.raises(pydantic.ValidationError):
            client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Answer)


def test_queue_order_then_default(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    llm.reply("一つ目", "二つ目")
    llm.reply(lambda call: f"三つ目:{call.last_user}")
    assert llm.pending_replies == 3
    assert [ask(client, "q") for _ in range(4)] == ["一つ目", "二つ目", "三つ目:q", DEFAULT_REPLY]
    llm.default = "既定"
    assert ask(client) == "既定"
    assert llm.pending_replies == 0


def test_responder_routes_and_takes_precedence(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    def route(call: ChatCall) -> Reply | None:
        if call.schema_name == "Answer":
            return {"answer": "構造化", "confidence": 1}
        if "分類" in call.system:
            return lambda c: f"分類:{c.last_user}"
        return None  # anything else: the queue, then the default

    llm.reply("キューから")
    llm.responder(route)
    assert ask(client, "契約書", system="文書を分類してください") == "分類:契約書"
    parsed = client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Answer)
    assert parsed.choices[0].message.parsed == Answer(answer="構造化", confidence=1)
    assert ask(client) == "キューから"
    assert ask(client) == DEFAULT_REPLY
    llm.responder(None)
    llm.reply("戻った")
    assert ask(client, system="文書を分類してください") == "戻った"


def test_reply_function_error_is_a_500(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    def broken(call: ChatCall) -> str:
        raise RuntimeError("boom")

    llm.reply(broken)
    with pytest.raises(openai.InternalServerError, match="boom"):
        ask(client)


# -- embeddings and models -------------------------------------------------------------------------


def test_embeddings_are_deterministic_unit_vectors() -> None:
    standin = OpenAIStandIn(embedding_dim=32).start()
    try:
        with openai.OpenAI(base_url=standin.base_url, api_key="sk-test", max_retries=0) as c:
            texts = ["再委託", "秘密保持", "再委託"]
            result = c.embeddings.create(model="text-embedding-3-small", input=texts)
            single = c.embeddings.create(model="text-embedding-3-small", input="再委託")
            as_floats = c.embeddings.create(
                model="text-embedding-3-small", input="再委託", encoding_format="float"
            )
            smaller = c.embeddings.create(
                model="text-embedding-3-small", input="再委託", dimensions=8
            )
    finally:
        standin.stop()
    vectors = [d.embedding for d in result.data]
    assert [d.index for d in result.data] == [0, 1, 2]
    assert all(len(v) == 32 for v in vectors)
    assert all(math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-5) for v in vectors)
    assert vectors[0] == vectors[2] != vectors[1]
    assert single.data[0].embedding == vectors[0] == as_floats.data[0].embedding
    assert vectors[0] == embed("再委託", 32)
    assert len(smaller.data[0].embedding) == 8
    assert result.model == "text-embedding-3-small"
    assert result.usage.prompt_tokens == 10  # one per Japanese character
    assert standin.embedding_calls == [texts, ["再委託"], ["再委託"], ["再委託"]]


def test_default_embedding_dim(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert [len(d.embedding) for d in result.data] == [64, 64]


def test_models(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    llm.models = ["local-chat", "local-embed"]
    assert [m.id for m in client.models.list()] == ["local-chat", "local-embed"]
    assert client.models.retrieve("local-chat").id == "local-chat"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("missing")


# -- auth and bad requests -------------------------------------------------------------------------


def test_bad_key_is_an_authentication_error(llm: OpenAIStandIn) -> None:
    with openai.OpenAI(base_url=llm.base_url, api_key="sk-wrong", max_retries=0) as bad:
        with pytest.raises(openai.AuthenticationError) as info:
            ask(bad)
        with pytest.raises(openai.AuthenticationError):
            bad.embeddings.create(model="e", input="x")
    assert info.value.status_code == 401
    assert info.value.code == "invalid_api_key"
    assert llm.chat_calls == [] and llm.embedding_calls == []


def _raw(llm: OpenAIStandIn, path: str, body: bytes | None, key: str | None) -> tuple[int, Any]:
    request = urllib.request.Request(
        llm.base_url + path, data=body, method="POST" if body else "GET"
    )
    request.add_header("Content-Type", "application/json")
    if key is not None:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_raw_errors(llm: OpenAIStandIn) -> None:
    status, payload = _raw(llm, "/models", None, None)
    assert status == 401 and payload["error"]["type"] == "invalid_request_error"
    assert _raw(llm, "/nowhere", None, "sk-test")[0] == 404
    assert _raw(llm, "/chat/completions", b"{not json", "sk-test")[0] == 400
    status, payload = _raw(llm, "/chat/completions", b'{"model": "m"}', "sk-test")
    assert status == 400 and payload["error"]["param"] == "messages"
    assert _raw(llm, "/embeddings", b'{"model": "m", "input": 3}', "sk-test")[0] == 400


# -- faults ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
        (400, openai.BadRequestError),
    ],
)
def test_status_faults(
    llm: OpenAIStandIn, client: openai.OpenAI, status: int, error: type[openai.APIStatusError]
) -> None:
    llm.reply("回復後")
    llm.fail("chat", status, times=2)
    for _ in range(2):
        with pytest.raises(error) as info:
            ask(client)
        assert info.value.status_code == status
        assert isinstance(info.value.body, dict) and "message" in info.value.body
        if status == 429:
            assert info.value.response.headers["retry-after"] == "0"
    assert ask(client) == "回復後"  # failed calls leave the queued reply alone
    assert len(llm.chat_calls) == 3
    assert llm.failures == [("chat", str(status))] * 2


def test_rate_limit_is_retried_at_once(llm: OpenAIStandIn) -> None:
    with openai.OpenAI(base_url=llm.base_url, api_key="sk-test", max_retries=2) as retrying:
        llm.fail("chat", 429, times=2)
        started = time.monotonic()
        assert ask(retrying) == DEFAULT_REPLY
        # openai would back off >= 1.1 s (twice) without it; the margin allows a loaded machine
        assert time.monotonic() - started < 1.0
    assert len(llm.chat_calls) == 3


def test_dropped_connection(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    llm.fail("chat", drop=True)
    with pytest.raises(openai.APIConnectionError) as info:
        ask(client)
    assert not isinstance(info.value, openai.APITimeoutError)
    llm.fail("chat", drop=True)
    with pytest.raises(openai.APIConnectionError):
        stream_pieces(client)
    assert ask(client) == DEFAULT_REPLY
    assert llm.failures == [("chat", "drop"), ("chat", "drop")]


def test_delay_beyond_the_timeout(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    llm.fail("chat", delay=2.0)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.2).chat.completions.create(model=MODEL, messages=MESSAGES)
    assert time.monotonic() - started < 1.8  # the reply comes at 2.0 s


def test_slow_success(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    llm.fail("chat", status=200, delay=0.1)
    started = time.monotonic()
    assert ask(client) == DEFAULT_REPLY
    assert time.monotonic() - started >= 0.1
    assert llm.failures == [("chat", "200")]


def test_cut_stream_raises_after_the_chunks(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    llm.reply("あいうえおかきくけこ")
    llm.fail("chat", cut_stream_after=2)
    received: list[Any] = []
    stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    with pytest.raises(openai.APIConnectionError):
        for chunk in stream:
            received.append(chunk)
    contents = [c.choices[0].delta.content for c in received]
    assert contents == ["", "あい", "う"]  # the role chunk, then two pieces of content
    assert all(c.choices[0].finish_reason is None for c in received)
    # the queued reply was not used up by the failed call
    assert "".join(c.choices[0].delta.content or "" for c in stream_pieces(client)) == (
        "あいうえおかきくけこ"
    )


def test_cut_non_streamed_body(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    llm.fail("chat", cut_stream_after=0)
    with pytest.raises(openai.APIConnectionError):
        ask(client)
    llm.fail("embeddings", cut_stream_after=0)
    with pytest.raises(openai.APIConnectionError):
        client.embeddings.create(model="e", input="x")


def test_malformed_body(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    llm.fail("chat", malformed=True, times=3)
    with pytest.raises(json.JSONDecodeError):
        ask(client)
    with pytest.raises(json.JSONDecodeError):
        client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Answer)
    with pytest.raises(json.JSONDecodeError):
        stream_pieces(client)
    llm.fail("embeddings", malformed=True)
    with pytest.raises(json.JSONDecodeError):
        client.embeddings.create(model="e", input="x")
    assert ask(client) == DEFAULT_REPLY


def test_embedding_faults(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    llm.fail("embeddings", 503)
    llm.fail("embeddings", drop=True)
    with pytest.raises(openai.InternalServerError):
        client.embeddings.create(model="e", input="x")
    with pytest.raises(openai.APIConnectionError):
        client.embeddings.create(model="e", input="x")
    assert len(client.embeddings.create(model="e", input="x").data) == 1
    assert ask(client) == DEFAULT_REPLY  # chat is unaffected
    assert llm.failures == [("embeddings", "503"), ("embeddings", "drop")]


def test_fail_rejects_conflicting_kinds(llm: OpenAIStandIn) -> None:
    with pytest.raises(ValueError):
        llm.fail("chat", drop=True, malformed=True)
    with pytest.raises(ValueError):
        llm.fail("chat", status=42)


def test_heal_and_reset(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    llm.fail("chat", 500, times=5)
    llm.heal()
    llm.reply("残り")
    assert ask(client) == "残り"
    llm.reply("消える")
    llm.fail("embeddings", 500)
    llm.reset()
    assert llm.chat_calls == [] and llm.pending_replies == 0
    assert ask(client) == DEFAULT_REPLY
    assert len(client.embeddings.create(model="e", input="x").data) == 1


# -- timing ------------------------------------------------------------------------------------------


def test_token_delay_makes_first_token_measurable(
    llm: OpenAIStandIn, client: openai.OpenAI
) -> None:
    text = "一二三四五六七八九十一二"  # six pieces (2, 1, 3, 2, 1, 3 characters)
    llm.reply(text)
    llm.set_token_delay(0.03)  # between pieces, and before the finish_reason chunk
    started = time.monotonic()
    first: float | None = None
    pieces: list[str] = []
    for chunk in client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True):
        piece = chunk.choices[0].delta.content if chunk.choices else None
        if piece and first is None:
            first = time.monotonic() - started
        if piece:
            pieces.append(piece)
    total = time.monotonic() - started
    assert "".join(pieces) == text and len(pieces) == 6
    assert first is not None
    assert total - first >= 6 * 0.03


def test_token_delay_beyond_the_timeout(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    llm.set_token_delay(1.0)
    received: list[str] = []
    with pytest.raises(openai.APITimeoutError):
        for chunk in client.with_options(timeout=0.15).chat.completions.create(
            model=MODEL, messages=MESSAGES, stream=True
        ):
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == DEFAULT_REPLY[:2]


def test_latency(llm: OpenAIStandIn, client: openai.OpenAI) -> None:
    llm.set_latency(0.1)
    started = time.monotonic()
    ask(client)
    assert time.monotonic() - started >= 0.1


def test_stop_does_not_wait_for_sleeping_handlers() -> None:
    standin = OpenAIStandIn().start()
    with openai.OpenAI(base_url=standin.base_url, api_key="sk-test", max_retries=0) as c:
        standin.fail("chat", delay=30)
        with pytest.raises(openai.APITimeoutError):
            c.with_options(timeout=0.1).chat.completions.create(model=MODEL, messages=MESSAGES)
    started = time.monotonic()
    standin.stop()
    assert time.monotonic() - started < 5  # the handler sleeps 30 s
