"""Hostile input over real HTTP: every payload kind, mutated, signed and forged, never gets a 5xx,
a reset or a slow answer, and a normal question is answered afterwards (issue 11). The generator
is the one `itaku bench fuzz` runs against a real `itaku serve --http`; hypothesis picks and
shrinks its seeds. ITAKU_FUZZ_EXAMPLES bounds the examples per kind (CI: the default)."""

from __future__ import annotations

import json
import logging
import os
import random
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.assistant.service import Assistant
from bot.bench.hostile import FORM, JSON, KINDS, HostileRequest, base_payload, case, oversized, send
from bot.bench.slack_requests import dm_event, mention_event, sign
from tests.slack_harness import SECRET, SlackHarness, sqlite_url

EXAMPLES = int(os.environ.get("ITAKU_FUZZ_EXAMPLES", "100"))


@pytest.fixture(scope="module")
def harness(
    tmp_path_factory: pytest.TempPathFactory, bundled_assistant: Assistant
) -> Iterator[SlackHarness]:
    h = SlackHarness(bundled_assistant, sqlite_url(tmp_path_factory.mktemp("hostile")))
    yield h
    h.close()


def post(h: SlackHarness, req: HostileRequest) -> Any:
    return send("127.0.0.1", h.server.effective_port, req)


def signed(body: bytes, content_type: str, kind: str = "test") -> HostileRequest:
    import time

    ts = int(time.time())
    headers = {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(SECRET, body, ts)}
    return HostileRequest(kind, body, content_type, headers)


def interaction(payload: dict[str, Any]) -> HostileRequest:
    return signed(urlencode({"payload": json.dumps(payload)}).encode(), FORM)


def event(payload: dict[str, Any]) -> HostileRequest:
    return signed(json.dumps(payload).encode(), JSON)


def assert_question_still_answered(h: SlackHarness, text: str = "再委託を認める条件は？") -> None:
    ts = f"{random.randint(1_700_000_000, 1_800_000_000)}.{random.randint(0, 999999):06d}"
    reply = h.sender.event(dm_event(text, channel="D0AFTER", ts=ts))
    assert reply.status == 200
    assert h.settle(30)
    messages = h.answers_in("D0AFTER", ts)
    assert len(messages) == 1 and "[1]" in messages[0].text


# -- the property ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_no_payload_gets_a_5xx_a_reset_or_a_slow_answer(harness: SlackHarness, kind: str) -> None:
    seen: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.randoms(use_true_random=False))
    def check(rnd: random.Random) -> None:
        req = case(kind, rnd, SECRET)
        outcome = post(harness, req)
        assert not outcome.reset, "connection reset"
        assert 0 < outcome.status < 500, outcome
        assert outcome.seconds < 3.0, outcome
        if not req.signed:
            assert outcome.status == 401
        seen.append(outcome.status)

    check()
    assert harness.settle(30)
    assert harness.wsgi.unexpected == 0, "a payload passed validation and failed in dispatch"
    assert seen


def test_a_question_is_answered_after_the_fuzzing(harness: SlackHarness) -> None:
    for kind in KINDS:  # a burst of every kind first, as the property test leaves it
        rnd = random.Random(kind)
        for _ in range(5):
            post(harness, case(kind, rnd, SECRET))
    assert_question_still_answered(harness)


# -- the reproductions of the issue, one by one -----------------------------------------------------


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "-5", "１７００００００００"])
def test_a_malformed_timestamp_is_401_not_500(harness: SlackHarness, timestamp: str) -> None:
    body = json.dumps(base_payload("message")[0]).encode()
    for signature in ("", "v0=00", sign(SECRET, body, 0)):
        req = HostileRequest(
            "ts",
            body,
            JSON,
            {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature},
        )
        assert post(harness, req).status == 401


def _interaction_without(kind: str, **changes: Any) -> dict[str, Any]:
    payload, _ = base_payload(kind)
    for key, value in changes.items():
        if value is ...:
            payload.pop(key)
        else:
            payload[key] = value
    return payload


@pytest.mark.parametrize(
    "payload",
    [
        {
            **_interaction_without("view_submission"),
            "view": {"id": "V1", "callback_id": "itaku_dialog"},
        },
        _interaction_without("block_actions", actions=[]),
        _interaction_without("block_actions", actions=[{}]),
        _interaction_without("block_actions", actions=[{"action_id": 5, "value": "1"}]),
        _interaction_without("message_action", callback_id=7),
        _interaction_without("shortcut", callback_id=["x"]),
        _interaction_without("view_closed", view="V1"),
        _interaction_without("block_suggestion", action_id=None),
    ],
    ids=[
        "view-without-type",
        "no-actions",
        "empty-action",
        "numeric-action-id",
        "numeric-callback-id",
        "list-callback-id",
        "view-as-string",
        "suggestion-without-action",
    ],
)
def test_tampered_interactions_are_400(harness: SlackHarness, payload: dict[str, Any]) -> None:
    assert post(harness, interaction(payload)).status == 400
    assert harness.wsgi.unexpected == 0


@pytest.mark.parametrize("kind", ["assistant_thread_started", "assistant_thread_context_changed"])
def test_assistant_thread_events_without_their_thread_are_400(
    harness: SlackHarness, kind: str
) -> None:
    envelope, _ = base_payload(kind)
    del envelope["event"]["assistant_thread"]
    assert post(harness, event(envelope)).status == 400
    envelope, _ = base_payload(kind)  # the well-formed one is acknowledged
    assert post(harness, event(envelope)).status == 200


def test_unknown_well_formed_kinds_are_acknowledged_quietly(harness: SlackHarness) -> None:
    assert (
        post(harness, event({"type": "app_rate_limited", "minute_rate_limited": 1})).status == 200
    )
    assert (
        post(harness, interaction({"type": "interactive_message", "user": {"id": "U1"}})).status
        == 200
    )
    envelope = base_payload("message")[0]
    envelope["event"] = {"type": "reaction_added", "user": "U1", "item": {"ts": 5}}
    assert post(harness, event(envelope)).status == 200
    assert post(harness, signed(b"ssl_check=1&token=x", FORM)).status == 200


def test_lone_surrogates_and_control_characters_are_cleaned_before_the_answer(
    harness: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    ts = "1700009999.000001"
    mention = mention_event("再委託の条件\udfff\ud800は\x00？\u202e", channel="C0SURR", ts=ts)
    envelope = base_payload("message")[0] | {"event": mention}
    with caplog.at_level(logging.DEBUG):
        assert post(harness, event(envelope)).status == 200
        assert harness.settle(30)
    answers = harness.answers_in("C0SURR", ts)
    assert len(answers) == 1 and "[1]" in answers[0].text
    assert "UnicodeEncodeError" not in caplog.text


def test_rejections_log_the_kind_never_the_content(
    harness: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    secret_text = "社外秘の質問です"
    payload = _interaction_without("view_submission")
    payload["view"]["state"]["values"][secret_text] = {"x": {"type": 5}}
    forged_kind = _interaction_without("block_actions", type=secret_text)
    with caplog.at_level(logging.DEBUG):
        assert post(harness, interaction(payload)).status == 400
        assert post(harness, interaction(forged_kind)).status == 200
    assert secret_text not in caplog.text
    assert "kind=view_submission" in caplog.text


@pytest.mark.parametrize("size", [1024 * 1024, 4 * 1024 * 1024])
def test_large_signed_bodies_get_413_without_a_reset(harness: SlackHarness, size: int) -> None:
    for _ in range(3):
        outcome = post(harness, oversized(SECRET, size))
        assert not outcome.reset and outcome.status == 413
    assert_question_still_answered(harness, "秘密保持契約に入れるべき条項は？")


def test_a_body_nested_too_deep_is_400(harness: SlackHarness) -> None:
    envelope = base_payload("message")[0]
    envelope["event"]["blocks"] = "DEEP"
    for depth in (40, 5000, 100_000):
        deep = "[" * depth + '"x"' + "]" * depth
        body = json.dumps(envelope).replace('"DEEP"', deep).encode()
        assert post(harness, signed(body, JSON)).status == 400


def test_ids_longer_than_slack_sends_are_400(harness: SlackHarness) -> None:
    envelope = base_payload("message")[0]
    envelope["event"]["user"] = "U" * 500
    assert post(harness, event(envelope)).status == 400


def test_the_shared_layer_cleans_text() -> None:
    from bot.inbound.text import clean_text, clean_tree

    assert clean_text("a\udfff\ud800b\x00c\u202ed\n") == "abcd\n"
    assert clean_tree({"k\ud800": ["v\x07", 1, None]}) == {"k": ["v", 1, None]}


def test_socket_mode_payloads_are_checked_the_same_way() -> None:
    from bot.inbound.validation import Rejected
    from bot.slack.schema import check_socket

    good, _ = base_payload("block_actions")
    assert check_socket("interactive", good).dispatch
    with pytest.raises(Rejected):
        check_socket("interactive", {**good, "actions": []})
    envelope, _ = base_payload("message")
    envelope["event"]["text"] = "質問\ud800"
    assert check_socket("events_api", envelope).data["event"]["text"] == "質問"
    assert not check_socket("disconnect", {}).dispatch


def test_slow_clients_do_not_starve_health_checks(
    tmp_path_factory: pytest.TempPathFactory, bundled_assistant: Assistant
) -> None:
    """120 connections that send half a body and stall: /healthz still answers within a second,
    and the stalled ones are closed after the read timeout."""
    import socket
    import time
    import urllib.request

    h = SlackHarness(
        bundled_assistant,
        sqlite_url(tmp_path_factory.mktemp("slow")),
        ITAKU_HTTP_READ_TIMEOUT=2,
    )
    stalled: list[socket.socket] = []
    try:
        for _ in range(120):
            sock = socket.create_connection(("127.0.0.1", h.server.effective_port), timeout=5)
            sock.sendall(
                b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000\r\n\r\n" + b'{"type": "event_callback", '
            )
            stalled.append(sock)
        started = time.perf_counter()
        with urllib.request.urlopen(f"{h.base}/healthz", timeout=5) as r:
            assert r.status == 200
        assert time.perf_counter() - started < 1.5  # the stalled ones hold 2 s each
        time.sleep(4)  # past the read timeout: waitress closed the stalled connections
        stalled[0].settimeout(2)
        try:
            closed = stalled[0].recv(100) == b""
        except ConnectionResetError:
            closed = True
        assert closed
        assert_question_still_answered(h)
    finally:
        for sock in stalled:
            sock.close()
        h.close()
