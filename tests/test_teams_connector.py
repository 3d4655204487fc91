"""The Bot Connector client against the stand-in over real HTTP on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bot.bench.teams_standin import TeamsStandIn
from bot.teams.auth import ConnectorTokens
from bot.teams.connector import Connector, ConnectorError, safe_service_url

CONVERSATION = "a:1chat-with-user"


@pytest.fixture()
def teams() -> Iterator[TeamsStandIn]:
    with TeamsStandIn() as standin:
        yield standin


def connector(teams: TeamsStandIn, **kw: float) -> Connector:
    tokens = ConnectorTokens(teams.app_id, teams.app_password, token_url=teams.token_url)
    return Connector(tokens, backoff_s=0.01, **kw)  # type: ignore[arg-type]


def test_send_reply_update_delete(teams: TeamsStandIn) -> None:
    c = connector(teams)
    first = c.send(teams.service_url, CONVERSATION, {"type": "message", "text": "こんにちは"})
    second = c.reply(teams.service_url, CONVERSATION, first, {"type": "message", "text": "返信"})
    c.update(teams.service_url, CONVERSATION, second, {"type": "message", "text": "更新"})
    sent = {s.id: s for s in teams.sent(CONVERSATION)}
    assert sent[first].activity["text"] == "こんにちは"
    assert sent[second].reply_to_id == first
    assert sent[second].activity["text"] == "更新" and sent[second].updates == 1
    c.delete(teams.service_url, CONVERSATION, second)
    assert teams.activities[(CONVERSATION, second)].deleted
    assert len(teams.token_requests) == 1  # the token is kept between calls


def test_429_is_retried_after_the_time_it_names(teams: TeamsStandIn) -> None:
    c = connector(teams)
    teams.fail("send", 429, times=2, retry_after=1)
    start = time.monotonic()
    c.send(teams.service_url, CONVERSATION, {"type": "message", "text": "x"})
    assert time.monotonic() - start >= 1.9  # two waits of one second each
    assert c.retries == 2 and len(teams.sent(CONVERSATION)) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_and_dropped_connections_are_retried(teams: TeamsStandIn, status: int) -> None:
    c = connector(teams)
    teams.fail("send", status, times=1)
    teams.fail("send", drop=True, times=1)
    c.send(teams.service_url, CONVERSATION, {"type": "message", "text": "x"})
    assert len(teams.sent(CONVERSATION)) == 1 and c.retries == 2


def test_an_outage_longer_than_the_attempts_is_left_for_later(teams: TeamsStandIn) -> None:
    c = connector(teams, attempts=3)
    teams.fail("send", 503, times=10)
    with pytest.raises(ConnectorError) as e:
        c.send(teams.service_url, CONVERSATION, {"type": "message", "text": "x"})
    assert e.value.retry and e.value.status == 503
    assert teams.sent(CONVERSATION) == []


def test_refusals_are_final(teams: TeamsStandIn) -> None:
    c = connector(teams)
    with pytest.raises(ConnectorError) as e:
        c.send(teams.service_url, "a:gone-chat", {"type": "message", "text": "x"})
    assert not e.value.retry and e.value.status == 403
    assert len(teams.calls_to("send")) == 1  # not tried again


def test_an_expired_token_is_renewed_once(teams: TeamsStandIn) -> None:
    c = connector(teams)
    c.send(teams.service_url, CONVERSATION, {"type": "message", "text": "1"})
    teams.expire_tokens()
    c.send(teams.service_url, CONVERSATION, {"type": "message", "text": "2"})
    assert len(teams.token_requests) == 2
    assert [s.activity["text"] for s in teams.sent(CONVERSATION)] == ["1", "2"]


def test_proactive_conversation(teams: TeamsStandIn) -> None:
    c = connector(teams)
    conv, first = c.create_conversation(
        teams.service_url, teams.tenant_id, "29:user-1", {"type": "message", "text": "リマインド"}
    )
    again, _ = c.create_conversation(teams.service_url, teams.tenant_id, "29:user-1")
    assert conv == again and first is not None
    assert teams.activities[(conv, first)].activity["text"] == "リマインド"


def test_typing_never_raises(teams: TeamsStandIn) -> None:
    c = connector(teams)
    teams.fail("send", 503, times=5)
    c.typing(teams.service_url, CONVERSATION)  # best effort


def test_the_token_only_goes_to_safe_urls(teams: TeamsStandIn) -> None:
    assert safe_service_url("https://smba.trafficmanager.net/amer/")
    assert safe_service_url(teams.service_url)
    for bad in (
        "http://smba.example.com/",
        "ftp://127.0.0.1/",
        "https://user:pw@host/",
        "javascript:alert(1)",
        "http://[::1",
        "",
    ):
        assert not safe_service_url(bad), bad
    c = connector(teams)
    with pytest.raises(ConnectorError) as e:
        c.send("http://example.com/amer/", CONVERSATION, {"type": "message"})
    assert not e.value.retry
    assert teams.token_requests == []  # refused before any token was asked for
