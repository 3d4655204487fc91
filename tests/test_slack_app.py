"""The Slack app end to end over real HTTP: signed requests in, a Web API stand-in out."""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from bot.bench.slack_requests import dm_event, mention_event, sign
from bot.bench.slack_standin import GONE_CHANNEL
from bot.slack import ids
from bot.store.tables import AnswerRecord, DialogRecord, ProcessedEvent, Vote
from tests.slack_harness import SECRET, SlackHarness

QUESTION = "再委託を認める条件は？"


def bot_messages(slack: SlackHarness, channel: str, thread_ts: str) -> list[Any]:
    return slack.standin.thread(channel, thread_ts)


def answered(slack: SlackHarness, channel: str, thread_ts: str) -> Any:
    assert slack.settle()
    messages = bot_messages(slack, channel, thread_ts)
    assert len(messages) == 1, f"expected one reply, got {len(messages)}"
    return messages[0]


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


# -- questions -------------------------------------------------------------------------------------


def test_dm_question_gets_one_cited_answer_in_the_thread(slack: SlackHarness) -> None:
    event = dm_event(QUESTION, ts="1700000100.000100")
    reply = slack.sender.event(event)
    assert reply.status == 200
    message = answered(slack, "D0ALICE", "1700000100.000100")
    assert message.updates == 1  # the placeholder, replaced by the answer
    text = all_text(message.blocks)
    assert "出典" in text and "[1]" in text and "knowledge/" in text
    assert action_ids(message.blocks) == [ids.VOTE_HELPFUL, ids.VOTE_UNHELPFUL]
    placeholder = slack.standin.calls_to("chat.postMessage")[0].params
    assert "回答を準備しています" in placeholder["text"]
    assert placeholder["thread_ts"] == "1700000100.000100"
    with slack.db.session() as s:
        record = s.execute(select(AnswerRecord)).scalar_one()
        assert record.surface == "dm" and record.question == QUESTION
        assert record.trace["hits"] and record.trace["cited"]
        event_row = s.execute(select(ProcessedEvent)).scalar_one()
        assert event_row.status == "done" and event_row.payload is None  # no text kept


def test_mention_is_answered_in_its_thread_without_the_mention(slack: SlackHarness) -> None:
    slack.sender.event(mention_event(QUESTION, ts="1700000200.000001"))
    message = answered(slack, "C0GENERAL", "1700000200.000001")
    assert "[1]" in all_text(message.blocks)
    with slack.db.session() as s:
        record = s.execute(select(AnswerRecord)).scalar_one()
    assert record.question == QUESTION and record.surface == "mention"


def test_follow_up_in_the_same_thread_carries_its_context(slack: SlackHarness) -> None:
    root = "1700000300.000001"
    slack.sender.event(mention_event("委託先で個人データが漏えいしたら報告は必要？", ts=root))
    assert slack.settle()
    slack.sender.event(mention_event("その期限は？", ts="1700000301.000001", thread_ts=root))
    slack.sender.event(mention_event("その期限は？", ts="1700000400.000001"))  # another thread
    assert slack.settle()
    assert len(bot_messages(slack, "C0GENERAL", root)) == 2
    with slack.db.session() as s:
        rows = s.execute(select(AnswerRecord).order_by(AnswerRecord.created_at)).scalars().all()
    turns = sorted((r.question, r.trace["context_turns"]) for r in rows)
    assert turns == sorted(
        [
            ("委託先で個人データが漏えいしたら報告は必要？", 0),
            ("その期限は？", 1),
            ("その期限は？", 0),
        ]
    )


def test_dm_follow_up_without_a_thread_uses_recent_dm_questions(slack: SlackHarness) -> None:
    slack.sender.event(dm_event("委託先で個人データが漏えいしたら報告は必要？", ts="1700000310.1"))
    assert slack.settle()
    slack.sender.event(dm_event("その期限は？", ts="1700000311.1"))
    slack.sender.event(dm_event("その期限は？", user="U0BOB", channel="D0BOB", ts="1700000312.1"))
    assert slack.settle()
    with slack.db.session() as s:
        rows = s.execute(select(AnswerRecord)).scalars().all()
    turns = sorted((r.conversation, r.question, r.trace["context_turns"]) for r in rows)
    assert turns == [
        ("slack:T0TEST:D0ALICE:dm", "その期限は？", 1),
        ("slack:T0TEST:D0ALICE:dm", "委託先で個人データが漏えいしたら報告は必要？", 0),
        ("slack:T0TEST:D0BOB:dm", "その期限は？", 0),
    ]


def test_english_question_gets_english_interface(slack: SlackHarness) -> None:
    slack.sender.event(
        dm_event("When must a data breach at a contractor be reported?", ts="1700000500.1")
    )
    message = answered(slack, "D0ALICE", "1700000500.1")
    placeholder = slack.standin.calls_to("chat.postMessage")[0].params["text"]
    assert "Preparing an answer" in placeholder
    text = all_text(message.blocks)
    assert "Sources" in text and "Helpful" in text


def test_out_of_scope_question_is_refused_and_listed_as_a_gap(slack: SlackHarness) -> None:
    slack.sender.event(dm_event("社員食堂の今日のメニューは？", ts="1700000600.1"))
    message = answered(slack, "D0ALICE", "1700000600.1")
    assert "見つかりませんでした" in message.text
    gaps = slack.rt.desk.gaps()
    assert [(g.question, g.refused) for g in gaps] == [("社員食堂の今日のメニューは？", 1)]


def test_ack_comes_before_the_answer_even_when_slack_is_slow(slack: SlackHarness) -> None:
    slack.standin.set_latency(0.5)
    reply = slack.sender.event(dm_event(QUESTION, ts="1700000700.1"))
    assert reply.status == 200
    assert slack.standin.calls_to("chat.update") == []  # acknowledged first, answered after
    answered(slack, "D0ALICE", "1700000700.1")


# -- exactly once --------------------------------------------------------------------------------------


def test_slack_retries_get_one_answer(slack: SlackHarness) -> None:
    event = dm_event(QUESTION, ts="1700000800.1")
    first = slack.sender.event(event, event_id="EvRETRY1")
    again = [slack.sender.event(event, event_id="EvRETRY1", retry_num=n) for n in (1, 2, 3)]
    assert first.status == 200 and all(r.status == 200 for r in again)
    answered(slack, "D0ALICE", "1700000800.1")
    assert len(slack.standin.calls_to("chat.postMessage")) == 1


def test_two_events_about_one_message_get_one_answer(slack: SlackHarness) -> None:
    """A DM that also @mentions the bot can arrive as message.im and app_mention."""
    ts = "1700000900.1"
    slack.sender.event(dm_event(QUESTION, ts=ts), event_id="EvA")
    slack.sender.event(mention_event(QUESTION, channel="D0ALICE", ts=ts), event_id="EvB")
    answered(slack, "D0ALICE", ts)


def test_retry_after_a_restart_is_not_answered_again(
    slack: SlackHarness, bundled_assistant: Any
) -> None:
    event = dm_event(QUESTION, ts="1700001000.1")
    slack.sender.event(event, event_id="EvRESTART")
    answered(slack, "D0ALICE", "1700001000.1")
    url = str(slack.db.engine.url)
    restarted = SlackHarness(bundled_assistant, url)  # a new process on the same database
    try:
        restarted.sender.event(event, event_id="EvRESTART", retry_num=1)
        assert restarted.settle()
        assert restarted.standin.calls_to("chat.postMessage") == []
    finally:
        restarted.close()


def test_unfinished_event_is_resumed_once_without_a_second_placeholder(
    bundled_assistant: Any, tmp_path: Any
) -> None:
    """Slack is down longer than the retries: the event stays pending, and after its lease the
    sweeper finishes it, editing the placeholder it already posted."""
    slack = SlackHarness(
        bundled_assistant,
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        ITAKU_EVENT_LEASE=0.2,
        ITAKU_SLACK_RETRIES=1,
    )
    slack.rt.events.reattempt_delays = ()  # straight to the lease
    try:
        slack.standin.fail("chat.update", 503, times=2)
        slack.sender.event(dm_event(QUESTION, ts="1700001100.1"), event_id="EvDOWN")
        assert slack.settle()
        assert bot_messages(slack, "D0ALICE", "1700001100.1")[0].updates == 0
        time.sleep(0.3)
        assert slack.rt.runner.sweep_once(slack.rt.ledger, slack.rt.events.resume) == 1
        message = answered(slack, "D0ALICE", "1700001100.1")
        assert message.updates == 1
        assert len(slack.standin.calls_to("chat.postMessage")) == 1
        assert slack.rt.runner.sweep_once(slack.rt.ledger, slack.rt.events.resume) == 0
    finally:
        slack.close()


def test_slack_down_longer_than_the_retries_is_tried_again_in_process(
    bundled_assistant: Any, tmp_path: Any
) -> None:
    slack = SlackHarness(bundled_assistant, f"sqlite:///{tmp_path / 'db'}", ITAKU_SLACK_RETRIES=1)
    slack.rt.events.reattempt_delays = (0.05, 0.05)
    try:
        slack.standin.fail("chat.postMessage", drop=True, times=2)  # 1 try + 1 client retry
        slack.standin.fail("chat.update", 503, times=2)
        slack.sender.event(dm_event(QUESTION, ts="1700001150.1"), event_id="EvLONG")
        message = answered(slack, "D0ALICE", "1700001150.1")
        assert message.updates == 1 and len(slack.standin.calls_to("chat.postMessage")) == 1
        assert len(slack.standin.failures) == 4
        with slack.db.session() as s:
            assert s.execute(select(ProcessedEvent.status)).scalar_one() == "done"
            assert len(s.execute(select(AnswerRecord)).all()) == 1  # answered once, delivered later
    finally:
        slack.close()


def test_slack_refusing_for_good_is_recorded_and_not_retried(slack: SlackHarness) -> None:
    slack.sender.event(
        dm_event(QUESTION, channel=GONE_CHANNEL, ts="1700001160.1"), event_id="EvGONE"
    )
    assert slack.settle()
    with slack.db.session() as s:
        assert s.execute(select(ProcessedEvent.status)).scalar_one() == "failed"
    assert slack.rt.runner.sweep_once(slack.rt.ledger, slack.rt.events.resume) == 0


# -- Slack Web API faults -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "fault"),
    [
        ("chat.postMessage", {"status": 429, "retry_after": 0}),
        ("chat.postMessage", {"status": 503, "times": 2}),
        ("chat.update", {"status": 500}),
        ("chat.postMessage", {"drop": True}),
        ("chat.update", {"status": 502}),
    ],
)
def test_api_faults_are_retried_and_nothing_is_posted_twice(
    slack: SlackHarness, method: str, fault: dict[str, Any]
) -> None:
    slack.standin.fail(method, **fault)
    slack.sender.event(dm_event(QUESTION, ts="1700001200.1"))
    message = answered(slack, "D0ALICE", "1700001200.1")
    assert message.updates == 1
    assert slack.standin.failures  # the fault did happen
    assert len(slack.standin.calls_to("chat.postMessage")) == 1


# -- forged and bad requests -----------------------------------------------------------------------------


def _no_effect(slack: SlackHarness) -> None:
    assert slack.settle()
    assert [c.method for c in slack.standin.calls if c.method != "auth.test"] == []
    with slack.db.session() as s:
        assert s.execute(select(ProcessedEvent)).first() is None


@pytest.mark.parametrize(
    "forgery",
    [
        {"signature": "v0=" + "0" * 64},
        {"signature": ""},
        {"timestamp_offset": -6 * 60},
        {"timestamp_offset": +6 * 60},
    ],
    ids=["bad-signature", "no-signature", "stale", "future"],
)
def test_forged_requests_are_refused_and_do_nothing(
    slack: SlackHarness, forgery: dict[str, Any]
) -> None:
    body = slack.sender.event_body(dm_event(QUESTION))
    if "timestamp_offset" in forgery:  # computed now: parameters are built at collection time
        forgery = {"timestamp": int(time.time()) + forgery["timestamp_offset"]}
    reply = slack.sender.post(body, "application/json", **forgery)
    assert reply.status == 401
    _no_effect(slack)


def test_signature_over_another_body_is_refused(slack: SlackHarness) -> None:
    ts = int(time.time())
    signature = sign(SECRET, slack.sender.event_body(dm_event("harmless")), ts)
    body = slack.sender.event_body(dm_event(QUESTION))
    assert (
        slack.sender.post(body, "application/json", timestamp=ts, signature=signature).status == 401
    )
    _no_effect(slack)


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"\xff\xfe\x00garbage", "application/json", 400),
        (b"[1, 2, 3]", "application/json", 400),
        (b"payload=%7Bbroken", "application/x-www-form-urlencoded", 400),
        (b'{"type": "event_callback", "event": "not an object"}', "application/json", 400),
        (
            b'{"type": "event_callback", "event": {"type": "reaction_added"}}',
            "application/json",
            200,
        ),
        (b'{"type": "something_new"}', "application/json", 200),
    ],
    ids=[
        "bad-json",
        "bad-utf8",
        "json-array",
        "bad-form-payload",
        "odd-event",
        "unexpected-event",
        "unknown-type",
    ],
)
def test_malformed_or_unexpected_payloads_never_crash(
    slack: SlackHarness, body: bytes, content_type: str, status: int
) -> None:
    assert slack.sender.post(body, content_type).status == status
    _no_effect(slack)


def test_oversized_payload_is_refused_before_reading(slack: SlackHarness) -> None:
    """Only the headers are sent: a size beyond what the server drains gets a 413 at once, the
    body is never waited for."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", slack.server.effective_port, timeout=10)
    conn.putrequest("POST", "/slack/events")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(slack.settings.slack_drain_body_bytes + 1))
    conn.putheader("X-Slack-Request-Timestamp", str(int(time.time())))
    conn.putheader("X-Slack-Signature", "v0=" + "0" * 64)
    conn.endheaders()
    assert conn.getresponse().status == 413
    conn.close()
    _no_effect(slack)


def test_payload_just_over_the_limit_is_refused(slack: SlackHarness) -> None:
    limit = slack.settings.slack_max_body_bytes
    event = dm_event("あ" * (limit // 3 + 10))
    body = slack.sender.event_body(event)
    assert limit < len(body) < 2 * limit
    assert slack.sender.post(body, "application/json").status == 413
    _no_effect(slack)


def test_url_verification_and_health(slack: SlackHarness) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"}).encode()
    reply = slack.sender.post(body, "application/json")
    assert reply.status == 200 and b"abc123" in reply.body
    import urllib.request

    with urllib.request.urlopen(slack.base + "/healthz") as r:
        health = json.loads(r.read())
    assert health["ok"] is True and health["database"] is True
    req = urllib.request.Request(slack.base + "/slack/events", method="GET")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 405


# -- what the bot ignores --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        dm_event(QUESTION, user="U0ITAKU"),  # its own message
        {**dm_event(QUESTION, user="U0OTHERBOT"), "bot_id": "B0OTHER"},
        {**dm_event(QUESTION), "subtype": "bot_message"},
        {**dm_event(QUESTION), "subtype": "message_changed"},
        {**dm_event(QUESTION), "subtype": "message_deleted"},
        {**dm_event(QUESTION), "channel_type": "channel", "channel": "C0GENERAL"},
        {**mention_event(QUESTION), "edited": {"user": "U0ALICE", "ts": "1"}},
        {**mention_event(QUESTION), "bot_id": "B0OTHER"},
        {"type": "message", "channel_type": "im", "channel": "D0ALICE", "ts": "1.1"},  # no user
    ],
    ids=[
        "self",
        "other-bot",
        "bot-subtype",
        "edit",
        "delete",
        "channel-no-mention",
        "edited-mention",
        "bot-mention",
        "no-user",
    ],
)
def test_ignored_messages(slack: SlackHarness, event: dict[str, Any]) -> None:
    assert slack.sender.event(event).status == 200
    _no_effect(slack)


# -- slash command ----------------------------------------------------------------------------------------


def test_slash_command_answers_privately_with_a_share_button(slack: SlackHarness) -> None:
    url = slack.standin.response_url("cmd1", channel="C0GENERAL")
    reply = slack.sender.command(QUESTION, url)
    assert reply.status == 200
    ack = reply.json()
    assert ack["response_type"] == "ephemeral" and "回答を準備しています" in ack["text"]
    assert slack.settle()
    [response] = slack.standin.responses("cmd1")
    body = response.params
    assert body["replace_original"] is True and body["response_type"] == "ephemeral"
    assert action_ids(body["blocks"]) == [ids.VOTE_HELPFUL, ids.VOTE_UNHELPFUL, ids.SHARE_ANSWER]
    assert "出典" in all_text(body["blocks"])
    assert slack.standin.calls_to("chat.postMessage") == []  # nothing public


@pytest.mark.parametrize("text", ["help", "", "ヘルプ"])
def test_slash_help(slack: SlackHarness, text: str) -> None:
    reply = slack.sender.command(text, slack.standin.response_url("help"))
    body = reply.json()
    assert reply.status == 200 and "/itaku" in all_text(body["blocks"])
    assert slack.settle() and slack.standin.responses("help") == []


def test_unknown_command_gets_a_clear_reply(slack: SlackHarness) -> None:
    reply = slack.sender.command("x", slack.standin.response_url("u"), command="/unknown")
    assert reply.status == 200 and "/unknown" in reply.body.decode()


def _command_answer(slack: SlackHarness, key: str) -> tuple[str, str]:
    url = slack.standin.response_url(key, channel="C0GENERAL")
    slack.sender.command(QUESTION, url)
    assert slack.settle()
    blocks = slack.standin.responses(key)[-1].params["blocks"]
    answer_id = next(e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"])
    return answer_id, url


def test_share_posts_the_answer_in_channel_once(slack: SlackHarness) -> None:
    answer_id, url = _command_answer(slack, "share")
    for _ in range(2):  # a double click
        assert slack.sender.block_action(ids.SHARE_ANSWER, answer_id, url).status == 200
    assert slack.settle()
    shared = [
        r.params
        for r in slack.standin.responses("share")
        if r.params.get("response_type") == "in_channel"
    ]
    assert len(shared) == 1
    assert "<@U0ALICE>" in all_text(shared[0]["blocks"])
    assert ids.SHARE_ANSWER not in action_ids(shared[0]["blocks"])
    assert any(r.params.get("delete_original") for r in slack.standin.responses("share"))


# -- votes and the gap report ------------------------------------------------------------------------------


def test_votes_are_stored_once_per_person_without_identity(slack: SlackHarness) -> None:
    answer_id, url = _command_answer(slack, "vote")
    slack.sender.block_action(ids.VOTE_HELPFUL, answer_id, url)
    slack.sender.block_action(ids.VOTE_UNHELPFUL, answer_id, url)  # changes their mind
    slack.sender.block_action(ids.VOTE_UNHELPFUL, answer_id, url, user="U0BOB")
    assert slack.settle()
    with slack.db.session() as s:
        votes = s.execute(select(Vote)).scalars().all()
    assert sorted(v.helpful for v in votes) == [False, False]
    assert all("U0ALICE" not in v.voter and "U0BOB" not in v.voter for v in votes)
    thanks = [r.params["text"] for r in slack.standin.responses("vote") if "blocks" not in r.params]
    assert len(thanks) == 3 and all("ありがとう" in t for t in thanks)
    [gap] = slack.rt.desk.gaps()
    assert (gap.question, gap.unhelpful, gap.refused) == (QUESTION, 2, 0)


def test_vote_on_an_unknown_answer_is_explained(slack: SlackHarness) -> None:
    url = slack.standin.response_url("gone")
    assert slack.sender.block_action(ids.VOTE_HELPFUL, "0" * 32, url).status == 200
    assert slack.settle()
    assert "見つかりませんでした" in slack.standin.responses("gone")[0].params["text"]


def test_unknown_action_and_forged_values_are_ignored(slack: SlackHarness) -> None:
    url = slack.standin.response_url("x")
    assert slack.sender.block_action("someone_elses_button", "v", url).status == 200
    assert slack.sender.block_action(ids.VOTE_HELPFUL, "../../etc", url).status == 200
    assert slack.settle() and slack.standin.responses("x") == []


# -- App Home -------------------------------------------------------------------------------------------


def test_app_home_is_published_once_per_event(slack: SlackHarness) -> None:
    event = {
        "type": "app_home_opened",
        "user": "U0ALICE",
        "channel": "D0ALICE",
        "tab": "home",
        "event_ts": "1.2",
    }
    slack.sender.event(event, event_id="EvHOME")
    slack.sender.event(event, event_id="EvHOME", retry_num=1)
    assert slack.settle()
    [call] = slack.standin.calls_to("views.publish")
    assert call.params["user_id"] == "U0ALICE"
    view = all_text(call.params["view"]["blocks"])
    assert "/itaku" in view and "質問の例" in view


# -- privacy -----------------------------------------------------------------------------------------------


def test_logs_carry_no_message_text_or_tokens(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    secret_question = "機密プロジェクト鷹の委託先で再委託を認める条件は？"
    caplog.set_level(logging.DEBUG)
    slack.sender.event(dm_event(secret_question, ts="1700001300.1"))
    url = slack.standin.response_url("priv")
    slack.sender.command(secret_question, url)
    assert slack.settle()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged  # something was logged
    answer_text = slack.standin.calls_to("chat.update")[0].params["text"][:20]
    for needle in ("機密プロジェクト鷹", answer_text, slack.standin.bot_token, SECRET, "U0ALICE"):
        assert needle not in logged


# -- several replicas -------------------------------------------------------------------------------------


def test_two_replicas_answer_a_retried_event_once(
    database_url: str, bundled_assistant: Any
) -> None:
    """The load balancer sends the original to one replica and Slack's retry to another, at once."""
    import threading

    replicas = [SlackHarness(bundled_assistant, database_url) for _ in range(2)]
    try:
        event = dm_event(QUESTION, ts="1700001400.1")
        start = threading.Barrier(2)

        def send(i: int) -> int:
            start.wait()
            return replicas[i].sender.event(event, event_id="EvREPL", retry_num=i or None).status

        with ThreadPoolExecutor(2) as pool:
            assert list(pool.map(send, range(2))) == [200, 200]
        assert all(r.settle() for r in replicas)
        posted = sum(len(r.standin.calls_to("chat.postMessage")) for r in replicas)
        updated = sum(len(r.standin.calls_to("chat.update")) for r in replicas)
        assert (posted, updated) == (1, 1)
    finally:
        for r in replicas:
            r.close()


def test_the_periodic_retention_sweep_purges_what_is_past_the_period(slack: SlackHarness) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from bot.slack.app import purge_expired

    slack.sender.event(dm_event(QUESTION, ts="1700001999.1"), event_id="EvRETAIN")
    assert slack.settle()
    long_ago = datetime.now(UTC) - timedelta(days=slack.settings.retention_days + 1)
    with slack.db.session() as s:
        s.execute(update(AnswerRecord).values(created_at=long_ago))
        s.execute(update(ProcessedEvent).values(claimed_at=long_ago))
    owner = "slack:T0TEST:U0ALICE"
    slack.rt.dialogs.store.create("nda", owner, "parties", {"party_name": "株式会社例"})
    with slack.db.session() as s:
        s.execute(update(DialogRecord).values(updated_at=long_ago))
    assert purge_expired(slack.rt) == (1, 1, 1)
    with slack.db.session() as s:
        assert s.execute(select(AnswerRecord)).first() is None


@pytest.mark.parametrize("dies_in", ["set_reply_ref", "finish"])
def test_a_crash_mid_answer_leaves_no_orphan_placeholder_and_no_duplicate_answer(
    bundled_assistant: Any, tmp_path: Any, dies_in: str
) -> None:
    """The process dies right after posting the placeholder (before its ts is recorded), or
    after recording the answer (before the event is finished): the resumed event edits the
    placeholder already posted, and the answer is recorded once."""
    slack = SlackHarness(
        bundled_assistant, f"sqlite:///{tmp_path / 'db.sqlite'}", ITAKU_EVENT_LEASE=0.2
    )
    ledger = slack.rt.ledger
    real = getattr(ledger, dies_in)
    calls = {"n": 0}

    def dies_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    setattr(ledger, dies_in, dies_once)
    try:
        slack.sender.event(dm_event(QUESTION, ts="1700002100.1"), event_id="EvKILL")
        assert slack.settle()
        time.sleep(0.3)  # past the lease
        assert slack.rt.runner.sweep_once(ledger, slack.rt.events.resume) == 1
        message = answered(slack, "D0ALICE", "1700002100.1")
        assert "[1]" in message.text
        assert len(slack.standin.calls_to("chat.postMessage")) == 1
        with slack.db.session() as s:
            assert len(s.execute(select(AnswerRecord)).all()) == 1
            assert s.execute(select(ProcessedEvent.status)).scalar_one() == "done"
    finally:
        slack.close()
