"""The Slack stand-in, driven over real HTTP by slack_sdk's WebClient (and once by slack_bolt)."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.client import HTTPException
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import FixedValueRetryIntervalCalculator, builtin_handlers
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.bench.slack_standin import SlackStandIn

TOKEN = "xoxb-test-token"
NO_WAIT = FixedValueRetryIntervalCalculator(0.0)


@pytest.fixture()
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


def client_for(slack: SlackStandIn, **kwargs: Any) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.api_url, timeout=5, **kwargs)


class _Sleeps:
    """Replaces the `time` module inside slack_sdk's builtin handlers: records the waits they
    ask for instead of timing them (a loaded machine makes wall-clock checks flaky)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


class _NoJitter:
    """Replaces the `random` module inside slack_sdk's builtin handlers: jitter 0."""

    @staticmethod
    def random() -> float:
        return 0.0


def test_auth_test(slack: SlackStandIn) -> None:
    result = client_for(slack).auth_test()
    assert result["ok"] is True
    assert result["user_id"] == "U0ITAKU"
    assert result["bot_id"] == "B0ITAKU"
    assert result["team_id"] == "T0TEST"
    (call,) = slack.calls
    assert call.method == "auth.test"
    assert call.token == TOKEN
    assert call.at > 0


def test_api_url_and_response_url_shapes(slack: SlackStandIn) -> None:
    assert slack.api_url == f"http://127.0.0.1:{slack.port}/api/"
    assert slack.response_url("k 1") == f"http://127.0.0.1:{slack.port}/respond/k%201"


def test_post_update_and_thread(slack: SlackStandIn) -> None:
    client = client_for(slack)
    parent = client.chat_postMessage(channel="C1", text="質問です")
    assert parent["ok"] and parent["channel"] == "C1"
    assert parent["message"]["user"] == "U0ITAKU" and parent["message"]["bot_id"] == "B0ITAKU"
    first = client.chat_postMessage(channel="C1", text="考え中…", thread_ts=parent["ts"])
    second = client.chat_postMessage(channel="C1", text="補足", thread_ts=parent["ts"])
    assert parent["ts"] < first["ts"] < second["ts"]
    assert first["message"]["thread_ts"] == parent["ts"]

    updated = client.chat_update(channel="C1", ts=first["ts"], text="回答です")
    assert updated["ok"] and updated["text"] == "回答です" and updated["ts"] == first["ts"]

    replies = slack.thread("C1", parent["ts"])
    assert [m.text for m in replies] == ["回答です", "補足"]
    assert replies[0].updates == 1 and replies[1].updates == 0
    assert slack.messages[("C1", parent["ts"])].text == "質問です"

    client.chat_delete(channel="C1", ts=second["ts"])
    assert [m.text for m in slack.thread("C1", parent["ts"])] == ["回答です"]
    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel="C1", ts=second["ts"], text="x")
    assert err.value.response["error"] == "message_not_found"

    history = client.conversations_replies(channel="C1", ts=parent["ts"])
    assert [m["text"] for m in history["messages"]] == ["質問です", "回答です"]
    assert history["messages"][0]["reply_count"] == 1
    assert [c.method for c in slack.calls] == [
        "chat.postMessage",
        "chat.postMessage",
        "chat.postMessage",
        "chat.update",
        "chat.delete",
        "chat.update",
        "conversations.replies",
    ]


def test_blocks_round_trip_json_and_form(slack: SlackStandIn) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*太字* と `code`"}}]
    client = client_for(slack)
    posted = client.chat_postMessage(channel="C1", text="fallback", blocks=blocks)  # JSON body
    assert posted["message"]["blocks"] == blocks
    assert slack.messages[("C1", posted["ts"])].blocks == blocks
    assert slack.calls_to("chat.postMessage")[0].params["blocks"] == blocks

    # The same through a form-encoded body, where blocks travel as a JSON string.
    form = client.api_call(
        "chat.postMessage", params={"channel": "C1", "blocks": json.dumps(blocks), "text": "f"}
    )
    assert form["message"]["blocks"] == blocks
    assert slack.calls_to("chat.postMessage")[1].params["blocks"] == blocks


def test_dm_to_a_user_goes_to_a_dm_channel(slack: SlackStandIn) -> None:
    client = client_for(slack)
    opened = client.conversations_open(users="U123,U456")
    assert opened["channel"]["id"] == "D123"
    posted = client.chat_postMessage(channel="U123", text="hi")
    assert posted["channel"] == "D123"
    assert ("D123", posted["ts"]) in slack.messages


def test_other_methods(slack: SlackStandIn) -> None:
    client = client_for(slack)
    view = {"type": "home", "blocks": []}
    published = client.views_publish(user_id="U1", view=view)
    assert published["view"]["type"] == "home" and published["view"]["id"].startswith("V")
    assert slack.calls_to("views.publish")[0].params["view"] == view
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": []}
    opened = client.views_open(trigger_id="1.2.3", view=modal)
    assert (
        client.views_update(view_id=opened["view"]["id"], view=modal)["view"]["id"]
        == (opened["view"]["id"])
    )
    assert client.views_push(trigger_id="1.2.3", view=modal)["ok"]
    eph = client.chat_postEphemeral(channel="C1", user="U9", text="only you")
    assert slack.messages[("C1", eph["message_ts"])].ephemeral_user == "U9"
    assert client.reactions_add(channel="C1", timestamp=eph["message_ts"], name="eyes")["ok"]
    assert client.reactions_remove(channel="C1", timestamp=eph["message_ts"], name="eyes")["ok"]
    assert client.users_info(user="U9")["user"] == {
        "id": "U9",
        "name": "user",
        "is_bot": False,
        "tz": "Asia/Tokyo",
    }
    assert client.assistant_threads_setStatus(channel_id="D1", thread_ts="1.2", status="…")["ok"]
    with pytest.raises(SlackApiError) as err:
        client.api_call("no.such.method")
    assert err.value.response["error"] == "unknown_method"
    assert slack.calls[-1].method == "no.such.method"
    with pytest.raises(SlackApiError) as err, pytest.warns(UserWarning, match="text"):
        client.chat_postMessage(channel="C1", text="")
    assert err.value.response["error"] == "no_text"


def test_invalid_token_is_rejected_and_not_recorded(slack: SlackStandIn) -> None:
    bad = WebClient(token="xoxb-wrong", base_url=slack.api_url)
    with pytest.raises(SlackApiError) as err:
        bad.chat_postMessage(channel="C1", text="hi")
    assert err.value.response.status_code == 200
    assert err.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError):
        WebClient(base_url=slack.api_url).auth_test()  # no token at all
    assert slack.calls == [] and slack.messages == {}


def test_ratelimit_retry_with_retry_after_zero(
    slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # RateLimitErrorRetryHandler sleeps int(Retry-After) + random.random(): up to 1 s even for 0.
    monkeypatch.setattr(builtin_handlers, "random", _NoJitter)
    sleeps = _Sleeps()
    monkeypatch.setattr(builtin_handlers, "time", sleeps)
    client = client_for(slack)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    slack.fail("chat.postMessage", 429, times=2, retry_after=0)
    result = client.chat_postMessage(channel="C1", text="hi")
    assert sleeps.waits == [0, 0]  # Retry-After: 0, no jitter
    assert result["ok"]
    assert len(slack.messages) == 1
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert slack.failures == [("chat.postMessage", 429), ("chat.postMessage", 429)]


def test_ratelimit_retry_jitter_is_under_a_second(
    slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps = _Sleeps()
    monkeypatch.setattr(builtin_handlers, "time", sleeps)
    client = client_for(slack)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    slack.fail("auth.test", 429, retry_after=0)
    assert client.auth_test()["ok"]
    assert len(sleeps.waits) == 1 and 0 <= sleeps.waits[0] < 1.0


def test_ratelimit_header_and_body(slack: SlackStandIn) -> None:
    slack.fail("auth.test", 429, retry_after=2.5)
    request = urllib.request.Request(
        slack.api_url + "auth.test", data=b"", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with pytest.raises(HTTPError) as err:
        urllib.request.urlopen(request, timeout=5)
    assert err.value.code == 429
    assert err.value.headers["Retry-After"] == "3"  # whole seconds, rounded up
    assert json.loads(err.value.read()) == {"ok": False, "error": "ratelimited"}


def test_ratelimit_without_handler_surfaces(slack: SlackStandIn) -> None:
    slack.fail("chat.postMessage", 429)
    with pytest.raises(SlackApiError) as err:
        client_for(slack).chat_postMessage(channel="C1", text="hi")
    assert err.value.response.status_code == 429
    assert err.value.response["error"] == "ratelimited"
    assert err.value.response.headers["Retry-After"] == "1"
    assert slack.messages == {} and slack.calls == []
    # The fault is used up: the next call goes through.
    assert client_for(slack).chat_postMessage(channel="C1", text="hi")["ok"]


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_retry(slack: SlackStandIn, status: int) -> None:
    client = client_for(slack)
    client.retry_handlers.append(
        ServerErrorRetryHandler(max_retry_count=2, interval_calculator=NO_WAIT)
    )
    slack.fail("chat.postMessage", status, times=2)
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]
    assert len(slack.messages) == 1
    assert slack.failures == [("chat.postMessage", status)] * 2


def test_server_error_retry_does_not_cover_502(slack: SlackStandIn) -> None:
    client = client_for(slack)
    client.retry_handlers.append(
        ServerErrorRetryHandler(max_retry_count=2, interval_calculator=NO_WAIT)
    )
    slack.fail("chat.postMessage", 502)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="hi")
    assert err.value.response.status_code == 502
    assert slack.messages == {}


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_without_handler_surfaces(slack: SlackStandIn, status: int) -> None:
    slack.fail("chat.postMessage", status)
    with pytest.raises(SlackApiError) as err:
        client_for(slack).chat_postMessage(channel="C1", text="hi")
    assert err.value.response.status_code == status
    assert err.value.response["error"] in {"internal_error", "service_unavailable"}
    assert slack.messages == {}


def test_dropped_connection_retry(slack: SlackStandIn) -> None:
    client = client_for(slack, retry_handlers=[])
    client.retry_handlers.append(
        ConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=NO_WAIT)
    )
    slack.fail("chat.postMessage", drop=True, times=2)
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]
    assert len(slack.messages) == 1
    assert slack.failures == [("chat.postMessage", 0)] * 2


def test_dropped_connection_without_handler_surfaces(slack: SlackStandIn) -> None:
    # WebClient's default handlers retry one connection error (after 0.5-1.5 s): none here.
    assert [type(h) for h in client_for(slack).retry_handlers] == [ConnectionErrorRetryHandler]
    slack.fail("chat.postMessage", drop=True)
    with pytest.raises((URLError, ConnectionError, HTTPException)):
        client_for(slack, retry_handlers=[]).chat_postMessage(channel="C1", text="hi")
    assert slack.messages == {} and slack.calls == []


def test_delay_and_latency(slack: SlackStandIn) -> None:
    client = client_for(slack)
    slack.fail("auth.test", 503, delay=0.1)
    started = time.monotonic()
    with pytest.raises(SlackApiError):
        client.auth_test()
    assert time.monotonic() - started >= 0.1
    slack.set_latency(0.05)
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started >= 0.05
    slack.set_latency(0)


def test_response_url_post(slack: SlackStandIn) -> None:
    url = slack.response_url("cmd-1", channel="C7")
    body = {"text": "公開の回答", "response_type": "in_channel", "replace_original": True}
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
        assert response.read() == b"ok"
    (call,) = slack.responses("cmd-1")
    assert call.method == "response_url" and call.key == "cmd-1" and call.token is None
    assert call.params == body
    assert slack.responses("other") == []
    assert [m.text for m in slack.messages.values() if m.channel == "C7"] == ["公開の回答"]

    # An ephemeral response is recorded but posts nothing.
    request = urllib.request.Request(
        slack.response_url("cmd-2"),
        data=json.dumps({"text": "you only"}).encode("utf-8"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5):
        pass
    assert len(slack.responses()) == 2 and len(slack.messages) == 1


def test_unknown_path_is_404(slack: SlackStandIn) -> None:
    with pytest.raises(HTTPError) as err:
        urllib.request.urlopen(f"http://127.0.0.1:{slack.port}/nope", timeout=5)
    assert err.value.code == 404


def test_reset(slack: SlackStandIn) -> None:
    client = client_for(slack)
    client.chat_postMessage(channel="C1", text="hi")
    slack.fail("auth.test", 503)
    slack.fail("chat.postMessage", 503, times=5)
    with pytest.raises(SlackApiError):
        client.auth_test()
    slack.reset()
    assert slack.calls == [] and slack.messages == {} and slack.failures == []
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]


def test_concurrent_posts_get_unique_ts(slack: SlackStandIn) -> None:
    errors: list[BaseException] = []

    def post(n: int) -> None:
        client = client_for(slack)
        try:
            for i in range(25):
                client.chat_postMessage(channel="C1", text=f"{n}-{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(slack.messages) == 200
    assert len({ts for _, ts in slack.messages}) == 200
    assert len(slack.calls) == 200


def test_bolt_app_command_with_respond_and_say(slack: SlackStandIn) -> None:
    from slack_bolt import App
    from slack_bolt.request import BoltRequest

    app = App(client=client_for(slack), signing_secret="s", request_verification_enabled=False)
    assert [c.method for c in slack.calls] == ["auth.test"]  # token verification at start-up

    @app.command("/itaku")
    def handle(ack: Any, respond: Any, say: Any) -> None:
        ack()
        respond(text="考え中", response_type="in_channel")
        say("回答です")

    body = urlencode(
        {
            "command": "/itaku",
            "text": "質問",
            "team_id": "T0TEST",
            "user_id": "U1",
            "channel_id": "C5",
            "trigger_id": "1.2.3",
            "response_url": slack.response_url("c1", channel="C5"),
        }
    )
    response = app.dispatch(
        BoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"]})
    )
    assert response.status == 200
    assert slack.wait_for(lambda: len(slack.calls_to("chat.postMessage")) == 1, timeout=3)
    assert [c.params["text"] for c in slack.responses("c1")] == ["考え中"]
    assert sorted(m.text for m in slack.messages.values()) == sorted(["考え中", "回答です"])
