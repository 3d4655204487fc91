"""The Teams stand-in over real HTTP on 127.0.0.1: its token endpoint, the Bot Connector routes,
the recorded calls, the injected failures, and the OpenID documents and tokens it mints (checked
here with PyJWT alone, independently of bot/teams/auth.py)."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import jwt
import pytest

from bot.bench.teams_standin import (
    GONE_CONVERSATION,
    GONE_USER,
    TeamsStandIn,
)

CHANNEL = "19:e4b1f7a3c0d94f3f8a6b5a3c2d1e0f9a@thread.tacv2;messageid=1481567603816"
USER = (
    "29:1GcS4EyB_oSI8A88XmWBN7NJFyMqe3QGnJdgLfFGkJnVelzRGos0bPbpsfJjcbAD22bmKc4GMbrY2g4JDrrA8vM06X1"
)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def call(
    method: str,
    url: str,
    body: Any = None,
    token: str | None = None,
    form: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> Answer:
    headers: dict[str, str] = {}
    data: bytes | None = None
    if form is not None:
        data = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json; charset=utf-8"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            raw, status, got = r.read(), r.status, dict(r.headers.items())
    except urllib.error.HTTPError as e:
        raw, status, got = e.read(), e.code, dict(e.headers.items())
    return Answer(status, got, json.loads(raw) if raw else None)


@pytest.fixture()
def teams() -> Iterator[TeamsStandIn]:
    with TeamsStandIn() as standin:
        yield standin


def grant(teams: TeamsStandIn, tenant: str | None = None, **changes: str) -> Answer:
    form = {
        "grant_type": "client_credentials",
        "client_id": teams.app_id,
        "client_secret": teams.app_password,
        "scope": "https://api.botframework.com/.default",
        **changes,
    }
    url = teams.token_url.replace("{tenant}", tenant or teams.tenant_id)
    return call("POST", url, form=form)


@pytest.fixture()
def token(teams: TeamsStandIn) -> str:
    answer = grant(teams)
    assert answer.status == 200
    return str(answer.body["access_token"])


def conversation_url(teams: TeamsStandIn, conversation: str, *rest: str) -> str:
    tail = "/".join(quote(part, safe="") for part in rest)
    url = f"{teams.service_url}v3/conversations/{quote(conversation, safe='')}"
    return f"{url}/{tail}" if tail else url


# -- the token endpoint ------------------------------------------------------------------------------


def test_client_credentials_give_a_bearer_token(teams: TeamsStandIn) -> None:
    answer = grant(teams)
    assert answer.status == 200
    assert answer.body["token_type"] == "Bearer"
    assert answer.body["expires_in"] == 3600
    assert answer.body["access_token"] == teams.last_token
    assert grant(teams, tenant="botframework.com").status == 200  # a multi-tenant bot's
    (first, second) = teams.token_requests
    assert first.granted and first.tenant == teams.tenant_id and first.client_id == teams.app_id
    assert second.tenant == "botframework.com"
    assert "client_secret" not in repr(teams.token_requests)


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "another-app"}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"scope": "https://graph.microsoft.com/.default"}, 400, "invalid_scope"),
    ],
)
def test_wrong_credentials_are_refused(
    teams: TeamsStandIn, changes: dict[str, str], status: int, error: str
) -> None:
    answer = grant(teams, **changes)
    assert answer.status == status and answer.body["error"] == error
    assert not teams.token_requests[0].granted and teams.last_token is None


def test_an_unknown_tenant_or_a_json_body_is_refused(teams: TeamsStandIn) -> None:
    assert grant(teams, tenant="someone-else").body["error"] == "invalid_tenant"
    url = teams.token_url.replace("{tenant}", teams.tenant_id)
    assert call("POST", url, body={"grant_type": "client_credentials"}).status == 400


# -- the Bot Connector ------------------------------------------------------------------------------


def test_send_reply_update_delete(teams: TeamsStandIn, token: str) -> None:
    activities = conversation_url(teams, CHANNEL, "activities")
    sent = call("POST", activities, {"type": "message", "text": "回答です"}, token)
    assert sent.status == 200 and sent.body["id"]
    first = sent.body["id"]
    replied = call(
        "POST",
        conversation_url(teams, CHANNEL, "activities", first),
        {"type": "message", "text": "補足"},
        token,
    )
    assert replied.status == 200 and replied.body["id"] != first
    updated = call(
        "PUT",
        conversation_url(teams, CHANNEL, "activities", first),
        {"type": "message", "text": "改訂"},
        token,
    )
    assert updated.status == 200 and updated.body == {"id": first}

    shown = teams.sent(CHANNEL)
    assert [a.activity["text"] for a in shown] == ["改訂", "補足"]
    assert shown[0].updates == 1 and shown[1].reply_to_id == first

    deleted = call(
        "DELETE", conversation_url(teams, CHANNEL, "activities", replied.body["id"]), token=token
    )
    assert deleted.status == 200 and deleted.body is None
    assert [a.activity["text"] for a in teams.sent(CHANNEL)] == ["改訂"]
    gone = conversation_url(teams, CHANNEL, "activities", replied.body["id"])
    assert call("PUT", gone, {"type": "message"}, token).status == 404
    assert call("DELETE", gone, token=token).status == 404

    assert [c.route for c in teams.calls] == [
        "send",
        "reply",
        "update",
        "delete",
        "update",
        "delete",
    ]
    assert all(c.authorized and c.conversation_id == CHANNEL for c in teams.calls)
    assert teams.calls_to("reply")[0].activity_id == first
    assert teams.calls_to("send")[0].body == {"type": "message", "text": "回答です"}


def test_a_1_to_1_conversation_for_proactive_messages(teams: TeamsStandIn, token: str) -> None:
    url = f"{teams.service_url}v3/conversations"
    request = {
        "bot": {"id": teams.bot_id},
        "members": [{"id": USER}],
        "channelData": {"tenant": {"id": teams.tenant_id}},
        "isGroup": False,
    }
    created = call("POST", url, request, token)
    assert created.status == 201 and created.body["id"].startswith("a:")
    again = call(
        "POST", url, {**request, "activity": {"type": "message", "text": "承認依頼"}}, token
    )
    assert again.body["id"] == created.body["id"] and again.body["activityId"]
    assert [a.activity["text"] for a in teams.sent(created.body["id"])] == ["承認依頼"]
    other = call("POST", url, {**request, "members": [{"id": "29:other"}]}, token)
    assert other.body["id"] != created.body["id"]
    assert call("POST", url, {"bot": {"id": teams.bot_id}, "members": []}, token).status == 400
    no_tenant = {"bot": {"id": teams.bot_id}, "members": [{"id": USER}]}
    assert call("POST", url, no_tenant, token).status == 400


def test_get_a_member(teams: TeamsStandIn, token: str) -> None:
    found = call("GET", conversation_url(teams, CHANNEL, "members", USER), token=token)
    assert found.status == 200 and found.body["id"] == USER
    assert found.body["tenantId"] == teams.tenant_id and found.body["aadObjectId"]
    teams.members[USER] = {"id": USER, "name": "Manager", "userRole": "user"}
    assert (
        call("GET", conversation_url(teams, CHANNEL, "members", USER), token=token).body["name"]
        == "Manager"
    )
    missing = call("GET", conversation_url(teams, CHANNEL, "members", GONE_USER + "x"), token=token)
    assert missing.status == 404 and missing.body["error"]["code"] == "MemberNotFoundInConversation"
    (first, *_rest) = teams.calls_to("member")
    assert first.user_id == USER and first.conversation_id == CHANNEL


def test_calls_need_an_issued_unexpired_token(teams: TeamsStandIn, token: str) -> None:
    activities = conversation_url(teams, CHANNEL, "activities")
    assert call("POST", activities, {"type": "message"}).status == 401
    assert call("POST", activities, {"type": "message"}, "made-up").status == 401
    assert call("POST", activities, {"type": "message"}, token).status == 200
    teams.expire_tokens()
    assert call("POST", activities, {"type": "message"}, token).status == 401
    assert [c.authorized for c in teams.calls] == [False, False, True, False]
    assert len(teams.sent(CHANNEL)) == 1


def test_bad_requests(teams: TeamsStandIn, token: str) -> None:
    activities = conversation_url(teams, CHANNEL, "activities")
    assert call("POST", activities, {"text": "no type"}, token).status == 400
    assert call("POST", activities, ["not", "an", "object"], token).status == 400
    removed = call(
        "POST",
        conversation_url(teams, GONE_CONVERSATION + "1", "activities"),
        {"type": "message"},
        token,
    )
    assert removed.status == 403 and removed.body["error"]["code"] == "BotNotInConversationRoster"
    assert call("GET", f"{teams.service_url}v3/nothing", token=token).status == 404
    # the service URL's path must be kept
    assert (
        call(
            "POST", f"{teams.base_url}/v3/conversations/x/activities", {"type": "message"}, token
        ).status
        == 404
    )
    with pytest.raises(ValueError, match="unknown route"):
        teams.fail("chat.postMessage")


# -- injected failures --------------------------------------------------------------------------------


def test_429_with_retry_after_then_success(teams: TeamsStandIn, token: str) -> None:
    teams.fail("send", status=429, times=2, retry_after=1.5)
    activities = conversation_url(teams, CHANNEL, "activities")
    for _ in range(2):
        limited = call("POST", activities, {"type": "message"}, token)
        assert limited.status == 429 and limited.headers["Retry-After"] == "2"
        assert limited.body["error"]["code"] == "TooManyRequests"
    assert call("POST", activities, {"type": "message"}, token).status == 200
    assert teams.failures == [("send", 429), ("send", 429)]
    assert len(teams.calls_to("send")) == 1  # failed calls are not recorded as calls


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors(teams: TeamsStandIn, token: str, status: int) -> None:
    teams.fail("update", status=status)
    url = conversation_url(teams, CHANNEL, "activities", "1")
    assert call("PUT", url, {"type": "message"}, token).status == status
    assert call("PUT", url, {"type": "message"}, token).status == 404  # then the real answer


def test_a_dropped_connection(teams: TeamsStandIn, token: str) -> None:
    teams.fail("send", drop=True)
    with pytest.raises((http.client.RemoteDisconnected, urllib.error.URLError, ConnectionError)):
        call("POST", conversation_url(teams, CHANNEL, "activities"), {"type": "message"}, token)
    assert teams.failures == [("send", 0)]
    assert (
        call(
            "POST", conversation_url(teams, CHANNEL, "activities"), {"type": "message"}, token
        ).status
        == 200
    )


def test_delays_and_faults_on_every_route(teams: TeamsStandIn) -> None:
    teams.fail("token", status=503, delay=0.3)
    started = time.monotonic()
    assert grant(teams).status == 503
    assert time.monotonic() - started >= 0.3
    teams.fail("metadata", status=500)
    assert call("GET", teams.openid_metadata_url).status == 500
    teams.fail("jwks", status=429)
    assert call("GET", teams.jwks_url).status == 429
    teams.fail("send", delay=30)  # a hanging call: the client's timeout ends it
    token = grant(teams).body["access_token"]
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        call(
            "POST",
            conversation_url(teams, CHANNEL, "activities"),
            {"type": "message"},
            token,
            timeout=0.5,
        )
    teams.heal()
    assert (
        call(
            "POST", conversation_url(teams, CHANNEL, "activities"), {"type": "message"}, token
        ).status
        == 200
    )


def test_concurrent_calls_are_all_recorded(teams: TeamsStandIn, token: str) -> None:
    ids: list[str] = []

    def send(i: int) -> None:
        answer = call(
            "POST",
            conversation_url(teams, CHANNEL, "activities"),
            {"type": "message", "text": str(i)},
            token,
        )
        ids.append(answer.body["id"])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(ids) == 24 and len(set(ids)) == 24
    assert len(teams.calls_to("send")) == 24 and len(teams.sent(CHANNEL)) == 24


def test_stop_does_not_wait_for_a_delayed_reply() -> None:
    teams = TeamsStandIn().start()
    teams.fail("metadata", delay=30)
    outcomes: list[object] = []

    def fetch() -> None:
        try:
            outcomes.append(call("GET", teams.openid_metadata_url, timeout=10).status)
        except (OSError, http.client.HTTPException) as e:
            outcomes.append(type(e).__name__)

    worker = threading.Thread(target=fetch, daemon=True)
    worker.start()
    assert teams.wait_for(lambda: bool(teams.failures))
    started = time.monotonic()
    teams.stop()
    assert time.monotonic() - started < 3
    worker.join(timeout=5)  # the delayed handler woke up and answered, or hung up
    assert not worker.is_alive() and outcomes


# -- OpenID metadata, JWKS and minted tokens ------------------------------------------------------


def test_metadata_points_at_the_published_keys(teams: TeamsStandIn) -> None:
    metadata = call("GET", teams.openid_metadata_url).body
    assert metadata["issuer"] == teams.issuer and metadata["jwks_uri"] == teams.jwks_url
    keys = call("GET", teams.jwks_url).body["keys"]
    assert [k["kid"] for k in keys] == [teams.signing_key.kid]
    assert keys[0]["kty"] == "RSA" and keys[0]["endorsements"] == ["msteams"]
    new = teams.rotate(endorsements=None)
    keys = call("GET", teams.jwks_url).body["keys"]
    assert [k["kid"] for k in keys] == [teams.keys[0].kid, new.kid]
    assert "endorsements" not in keys[1]
    teams.retire(new.kid)
    assert [k["kid"] for k in call("GET", teams.jwks_url).body["keys"]] == [teams.keys[0].kid]
    assert teams.metadata_fetches == 1 and teams.jwks_fetches == 3


def test_minted_tokens_verify_with_the_published_key(teams: TeamsStandIn) -> None:
    (jwk,) = call("GET", teams.jwks_url).body["keys"]
    public = jwt.PyJWK(jwk, algorithm="RS256").key
    token = teams.mint()
    assert jwt.get_unverified_header(token)["kid"] == jwk["kid"]
    claims = jwt.decode(
        token, public, algorithms=["RS256"], audience=teams.app_id, issuer=teams.issuer
    )
    assert claims["serviceurl"] == teams.service_url
    assert claims["nbf"] <= time.time() < claims["exp"]
    custom = jwt.decode(
        teams.mint(aud="x", iss="y", service_url="https://s/", extra={"k": 1}, omit=["nbf"]),
        public,
        algorithms=["RS256"],
        options={"verify_aud": False, "verify_iss": False},
    )
    assert (custom["aud"], custom["iss"], custom["serviceurl"], custom["k"]) == (
        "x",
        "y",
        "https://s/",
        1,
    )
    assert "nbf" not in custom
    forged = teams.mint(key=teams.forger, kid=jwk["kid"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, public, algorithms=["RS256"], audience=teams.app_id, issuer=teams.issuer)
    assert "kid" not in jwt.get_unverified_header(teams.mint(omit=["kid"]))


def test_activity_builder(teams: TeamsStandIn) -> None:
    activity = teams.activity("こんにちは", tenant_id="t2", replyToId="9")
    assert activity["text"] == "こんにちは" and activity["serviceUrl"] == teams.service_url
    assert activity["conversation"]["tenantId"] == "t2" and activity["replyToId"] == "9"
    assert activity["recipient"]["id"] == teams.bot_id
    assert "text" not in teams.activity(kind="conversationUpdate")
    assert teams.activity()["id"] != teams.activity()["id"]
