"""Teams end to end over real HTTP on 127.0.0.1: signed activities in, the Bot Connector
stand-in records what the bot sends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.assistant.service import Assistant
from tests.slack_harness import sqlite_url
from tests.teams_harness import TeamsHarness

CHANNEL = "19:abc123@thread.tacv2;messageid=1700000000001"


@pytest.fixture()
def teams(tmp_path: Path, bundled_assistant: Assistant) -> Iterator[TeamsHarness]:
    harness = TeamsHarness(bundled_assistant, sqlite_url(tmp_path))
    yield harness
    harness.close()


def messages(teams: TeamsHarness, conversation: str) -> list[dict[str, Any]]:
    """What the bot said in a conversation (typing indicators aside)."""
    return [s.activity for s in teams.standin.sent(conversation) if s.activity["type"] == "message"]


def cards_in(teams: TeamsHarness, conversation: str) -> list[dict[str, Any]]:
    return [a["content"] for m in messages(teams, conversation) for a in m.get("attachments") or []]


def card_text(card: dict[str, Any]) -> str:
    return "\n".join(str(b.get("text", "")) for b in card.get("body", []))


def test_personal_question_is_answered_with_sources_and_votes(teams: TeamsHarness) -> None:
    activity = teams.standin.activity("再委託を認めるときの条件は？")
    status, _ = teams.post(activity)
    assert status == 200
    assert teams.settle()
    conv = activity["conversation"]["id"]
    assert [s.activity["type"] for s in teams.standin.sent(conv)] == ["typing", "message"]
    card = cards_in(teams, conv)[0]
    assert "承認" in card_text(card) and "[1]" in card_text(card)
    verbs = [a["verb"] for a in card["actions"]]
    assert verbs == ["itaku.vote", "itaku.vote"]
    # a vote replaces the card for the voter, and is recorded once per person
    data = card["actions"][0]["data"]
    vote = teams.standin.activity(
        kind="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "itaku.vote", "data": data}},
    )
    status, body = teams.post(vote)
    assert status == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "actions" not in body["value"]
    assert teams.rt.desk.log.get(data["answer_id"]) is not None


def test_a_retried_activity_is_answered_once(teams: TeamsHarness) -> None:
    activity = teams.standin.activity("NDAに入れるべき条項は？")
    for _ in range(3):
        assert teams.post(activity)[0] == 200
    assert teams.settle()
    assert len(messages(teams, activity["conversation"]["id"])) == 1


def test_channel_mention_and_follow_up_in_the_thread(teams: TeamsHarness) -> None:
    mention = {
        "type": "mention",
        "text": "<at>Itaku</at>",
        "mentioned": {"id": teams.standin.bot_id, "name": "Itaku"},
    }
    conversation = {
        "id": CHANNEL,
        "conversationType": "channel",
        "isGroup": True,
        "tenantId": teams.standin.tenant_id,
    }
    first = teams.standin.activity(
        "<at>Itaku</at> 委託先で漏えいが起きたら個人情報保護委員会への報告期限は？",
        conversation=conversation,
        entities=[mention],
    )
    assert teams.post(first)[0] == 200
    assert teams.settle()
    follow = teams.standin.activity(
        "<at>Itaku</at> 確報は？", conversation=conversation, entities=[mention]
    )
    assert teams.post(follow)[0] == 200
    assert teams.settle()
    cards = cards_in(teams, CHANNEL)
    assert len(cards) == 2
    assert "Itaku" not in card_text(cards[0]).split("\n")[0]
    assert "30日" in card_text(cards[1])  # the follow-up was understood in the thread's context


def test_out_of_scope_question_is_refused(teams: TeamsHarness) -> None:
    activity = teams.standin.activity("社員食堂の今日のメニューは？")
    teams.post(activity)
    assert teams.settle()
    card = cards_in(teams, activity["conversation"]["id"])[0]
    assert "[1]" not in card_text(card)


def test_help_and_ask(teams: TeamsHarness) -> None:
    activity = teams.standin.activity("help")
    teams.post(activity)
    ask = teams.standin.activity("ask 再委託とは？")
    teams.post(ask)
    assert teams.settle()
    sent = messages(teams, activity["conversation"]["id"])
    assert "subcontract" in sent[0]["text"]
    assert cards_in(teams, ask["conversation"]["id"])


@pytest.mark.parametrize(
    "forge",
    [
        lambda s: s.mint(key=s.forger),  # signed by someone else
        lambda s: s.mint(exp=time.time() - 3600, nbf=time.time() - 7200),  # expired
        lambda s: s.mint(aud="another-bot"),  # wrong audience
        lambda s: s.mint(iss="https://evil.example.com"),
        lambda s: "not-a-token",
    ],
)
def test_forged_tokens_get_401_and_nothing_happens(teams: TeamsHarness, forge: Any) -> None:
    activity = teams.standin.activity("再委託の条件は？")
    status, _ = teams.post(activity, token=forge(teams.standin))
    assert status == 401
    assert teams.post(activity, auth=False)[0] == 401
    time.sleep(0.2)
    assert teams.standin.sent(activity["conversation"]["id"]) == []  # not even typing


def test_wrong_tenant_is_refused(teams: TeamsHarness) -> None:
    activity = teams.standin.activity(
        "再委託の条件は？", tenant_id="11111111-0000-4000-8000-000000000000"
    )
    assert teams.post(activity)[0] == 401


def test_malformed_and_oversized_bodies(teams: TeamsHarness) -> None:
    assert teams.post(b"{not json")[0] == 400
    assert teams.post({"type": "message"})[0] == 400
    big = teams.standin.activity("あ" * 300_000)
    assert teams.post(big)[0] in (400, 413)
    assert teams.wsgi.unexpected == 0


def test_connector_outage_is_retried_and_answered_once(teams: TeamsHarness) -> None:
    teams.standin.fail("send", 503, times=2)
    teams.standin.fail("send", 429, times=1, retry_after=1)
    activity = teams.standin.activity("秘密保持契約の有効期間は？")
    teams.post(activity)
    assert teams.settle(20)
    assert len(messages(teams, activity["conversation"]["id"])) == 1


def test_restart_mid_answer_is_resumed_by_the_sweeper(
    tmp_path: Path, bundled_assistant: Assistant
) -> None:
    """A replica claims a question and dies before answering; another one, after the lease,
    answers it exactly once."""
    url = sqlite_url(tmp_path)
    first = TeamsHarness(bundled_assistant, url, ITAKU_EVENT_LEASE=1)
    activity = first.standin.activity("再委託の条件は？")
    first.rt.events.runner.submit = lambda *a, **k: None  # type: ignore[method-assign]
    assert first.post(activity)[0] == 200  # claimed, never worked on: the replica "dies"
    first.server.close()
    second = TeamsHarness(bundled_assistant, url, standin=first.standin, ITAKU_EVENT_LEASE=1)
    try:
        time.sleep(1.2)
        assert second.rt.events.sweep_once() == 1
        assert second.settle()
        assert len(messages(second, activity["conversation"]["id"])) == 1
        assert second.post(activity)[0] == 200  # the Bot Framework's retry: nothing more
        assert second.settle()
        assert len(messages(second, activity["conversation"]["id"])) == 1
    finally:
        second.close()
        first.rt.runner.shutdown(timeout=1)


def test_signing_keys_unavailable_is_503_so_the_bot_framework_retries(
    tmp_path: Path, bundled_assistant: Assistant
) -> None:
    harness = TeamsHarness(bundled_assistant, sqlite_url(tmp_path))
    harness.wsgi.auth.keys.refetch_cooldown_s = 0.2
    try:
        harness.standin.fail("metadata", 503, times=50)
        activity = harness.standin.activity("再委託の条件は？")
        assert harness.post(activity)[0] == 503
        harness.standin.heal()
        time.sleep(0.3)  # the keys are fetched again after the cooldown
        assert harness.post(activity)[0] == 200
    finally:
        harness.close()
