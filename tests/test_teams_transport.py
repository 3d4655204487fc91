"""The Bot Connector's HTTP transport: kept-alive connections, reused while they are alive and
replaced when the server has hung up; HTTPS_PROXY / NO_PROXY as urllib reads them."""

from __future__ import annotations

import base64
import http.client
import socket
from collections.abc import Iterator

import pytest

from bot.bench.teams_standin import TeamsStandIn
from bot.teams.auth import ConnectorTokens
from bot.teams.connector import Connector, _hung_up, _proxy

CONVERSATION = "a:1chat-with-user"


@pytest.fixture()
def teams() -> Iterator[TeamsStandIn]:
    with TeamsStandIn() as standin:
        yield standin


def connector(teams: TeamsStandIn) -> Connector:
    tokens = ConnectorTokens(teams.app_id, teams.app_password, token_url=teams.token_url)
    return Connector(tokens, backoff_s=0.01)


def idle(c: Connector) -> list[http.client.HTTPConnection]:
    return [conn for conns in c._transport._idle.values() for conn, _ in conns]


def test_one_connection_carries_consecutive_calls(teams: TeamsStandIn) -> None:
    c = connector(teams)
    c.send(teams.service_url, CONVERSATION, {"type": "message", "text": "1"})
    first = idle(c)
    assert len(first) == 1
    c.typing(teams.service_url, CONVERSATION)
    c.send(teams.service_url, CONVERSATION, {"type": "message", "text": "2"})
    assert idle(c) == first
    assert [s.activity.get("text") for s in teams.sent(CONVERSATION)] == ["1", None, "2"]
    c.close()
    assert idle(c) == []


def test_a_connection_the_server_closed_is_replaced_without_a_retry(teams: TeamsStandIn) -> None:
    c = connector(teams)
    c.send(teams.service_url, CONVERSATION, {"type": "message", "text": "1"})
    [conn] = idle(c)
    assert conn.sock is not None
    conn.sock.shutdown(socket.SHUT_WR)  # the server sees EOF and closes its side
    teams.wait_for(lambda: _hung_up(conn), 2)
    c.send(teams.service_url, CONVERSATION, {"type": "message", "text": "2"})
    assert c.retries == 0 and idle(c) != [conn]
    assert len(teams.sent(CONVERSATION)) == 2


def test_a_connection_idle_too_long_is_replaced(teams: TeamsStandIn) -> None:
    c = connector(teams)
    c._transport.idle_s = 0.0
    c.send(teams.service_url, CONVERSATION, {"type": "message", "text": "1"})
    [conn] = idle(c)
    c.send(teams.service_url, CONVERSATION, {"type": "message", "text": "2"})
    assert idle(c) != [conn] and conn.sock is None  # closed


def test_hung_up() -> None:
    ours, theirs = socket.socketpair()
    conn = http.client.HTTPConnection("127.0.0.1")
    conn.sock = ours
    assert not _hung_up(conn)
    theirs.close()
    assert _hung_up(conn)
    conn.close()
    assert _hung_up(conn)  # no socket at all


def test_the_proxy_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert _proxy("smba.trafficmanager.net") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://itaku%40corp:p%3Ass@proxy.corp.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    host, port, headers = _proxy("smba.trafficmanager.net") or ("", 0, {})
    assert (host, port) == ("proxy.corp.example", 3128)
    credentials = headers["Proxy-Authorization"].removeprefix("Basic ")
    assert base64.b64decode(credentials) == b"itaku@corp:p:ss"
    assert _proxy("bot.internal.example") is None
    monkeypatch.setenv("HTTPS_PROXY", "proxy.corp.example")  # no scheme, no port, no password
    assert _proxy("smba.trafficmanager.net") == ("proxy.corp.example", 80, {})
