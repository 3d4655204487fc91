"""Teams request authentication (bot/teams/auth.py) against the stand-in's real OpenID metadata,
JWKS and token endpoint over HTTP on 127.0.0.1: every way a token can be wrong is refused with its
own reason, nothing but Unauthorized escapes, nothing hangs, the token is never logged; and the
outbound token provider caches, refreshes and survives its endpoint failing."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.bench.teams_standin import TeamsStandIn
from bot.config import Settings
from bot.inbound.validation import Rejected
from bot.teams.auth import (
    BOTFRAMEWORK_ISSUER,
    ConnectorTokens,
    InboundAuth,
    OpenIdKeys,
    Reason,
    TokenUnavailable,
    Unauthorized,
    allowed_tenants,
)
from bot.teams.schema import Message

EXAMPLES = int(os.environ.get("ITAKU_FUZZ_EXAMPLES", "100"))
MAX_BYTES = 256 * 1024


@pytest.fixture()
def teams() -> Iterator[TeamsStandIn]:
    with TeamsStandIn() as standin:
        yield standin


def auth_for(teams: TeamsStandIn, **keys: Any) -> InboundAuth:
    keys.setdefault("timeout_s", 2.0)
    return InboundAuth(
        teams.app_id,
        OpenIdKeys(teams.openid_metadata_url, **keys),
        allowed_tenants=[teams.tenant_id],
    )


@pytest.fixture()
def auth(teams: TeamsStandIn) -> InboundAuth:
    return auth_for(teams)


def body(teams: TeamsStandIn, **fields: Any) -> bytes:
    return json.dumps(teams.activity(**fields)).encode("utf-8")


def refused(auth: InboundAuth, header: str | None) -> Reason:
    with pytest.raises(Unauthorized) as caught:
        auth.authenticate(header)
    return caught.value.reason


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- accepted ----------------------------------------------------------------------------------------


def test_a_valid_token_and_activity_are_accepted(teams: TeamsStandIn, auth: InboundAuth) -> None:
    token = teams.mint()
    identity = auth.authenticate(f"Bearer {token}")
    assert identity.app_id == teams.app_id
    assert identity.issuer == teams.issuer
    assert identity.service_url == teams.service_url
    assert identity.endorsements == frozenset({"msteams"})
    assert identity.key_id == teams.signing_key.kid
    assert identity.expires_at > time.time()

    inbound = auth.check_request(f"Bearer {token}", body(teams, text="再委託とは"), MAX_BYTES)
    assert inbound.kind == "message" and inbound.handled
    assert isinstance(inbound.activity, Message) and inbound.activity.text == "再委託とは"
    assert teams.metadata_fetches == 1 and teams.jwks_fetches == 1  # the keys are cached


def test_the_bot_framework_issuer_is_accepted_too(teams: TeamsStandIn, auth: InboundAuth) -> None:
    auth.authenticate(f"Bearer {teams.mint(iss=BOTFRAMEWORK_ISSUER)}")
    # the scheme's letter case and surrounding spaces do not matter
    auth.authenticate(f"  bearer   {teams.mint()}  ")


def test_clock_skew_of_five_minutes_is_allowed(teams: TeamsStandIn, auth: InboundAuth) -> None:
    now = time.time()
    auth.authenticate(f"Bearer {teams.mint(exp=now - 240)}")
    auth.authenticate(f"Bearer {teams.mint(nbf=now + 240, iat=now + 240)}")


def test_from_settings(teams: TeamsStandIn) -> None:
    s = Settings(
        _env_file=None,  # type: ignore[call-arg]
        TEAMS_APP_ID=teams.app_id,
        TEAMS_TENANT_ID=teams.tenant_id,
        TEAMS_OPENID_METADATA_URL=teams.openid_metadata_url,
    )
    auth = InboundAuth.from_settings(s)
    auth.check_request(f"Bearer {teams.mint()}", body(teams), MAX_BYTES)
    with pytest.raises(Unauthorized) as caught:
        auth.check_request(f"Bearer {teams.mint()}", body(teams, tenant_id="other"), MAX_BYTES)
    assert caught.value.reason is Reason.TENANT


# -- refused, each for its own reason ------------------------------------------------------------


def test_header_missing_empty_or_of_another_scheme(auth: InboundAuth) -> None:
    assert refused(auth, None) is Reason.MISSING
    assert refused(auth, "") is Reason.MISSING
    assert refused(auth, "   ") is Reason.MISSING
    assert refused(auth, "Basic dXNlcjpwYXNz") is Reason.SCHEME
    assert refused(auth, "Bearer") is Reason.MALFORMED
    assert refused(auth, "Token abc.def.ghi") is Reason.SCHEME


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "..",
        "eyJhbGciOiJSUzI1NiJ9.e30",
        "eyJ.eyJ.sig",
        "not base64!.x.y",
        "%%%.%%%.%%%",
        "x" * 20_000,
        "ＢＥＡＲＥＲ.トークン.です",
    ],
)
def test_garbage_tokens_are_malformed(auth: InboundAuth, token: str) -> None:
    assert refused(auth, f"Bearer {token}") is Reason.MALFORMED


def test_forged_signature(teams: TeamsStandIn, auth: InboundAuth) -> None:
    forged = teams.mint(key=teams.forger, kid=teams.signing_key.kid)
    assert refused(auth, f"Bearer {forged}") is Reason.SIGNATURE
    # a valid token whose claims were swapped after signing
    header, _, signature = teams.mint().split(".")
    other_claims = teams.mint(aud=teams.app_id, extra={"admin": True}).split(".")[1]
    assert refused(auth, f"Bearer {header}.{other_claims}.{signature}") is Reason.SIGNATURE


def test_unknown_kid(teams: TeamsStandIn, auth: InboundAuth) -> None:
    assert refused(auth, f"Bearer {teams.mint(kid='no-such-key')}") is Reason.UNKNOWN_KEY
    assert refused(auth, f"Bearer {teams.mint(omit=['kid'])}") is Reason.UNKNOWN_KEY
    # an unpublished key under its own kid
    assert refused(auth, f"Bearer {teams.mint(key=teams.forger)}") is Reason.UNKNOWN_KEY


def test_expired_and_not_yet_valid(teams: TeamsStandIn, auth: InboundAuth) -> None:
    now = time.time()
    assert refused(auth, f"Bearer {teams.mint(exp=now - 400)}") is Reason.EXPIRED
    assert refused(auth, f"Bearer {teams.mint(nbf=now + 400)}") is Reason.NOT_YET_VALID
    assert refused(auth, f"Bearer {teams.mint(iat=now + 400)}") is Reason.NOT_YET_VALID
    assert refused(auth, f"Bearer {teams.mint(omit=['exp'])}") is Reason.MALFORMED


def test_wrong_audience_and_issuer(teams: TeamsStandIn, auth: InboundAuth) -> None:
    assert refused(auth, f"Bearer {teams.mint(aud='another-bot')}") is Reason.AUDIENCE
    assert refused(auth, f"Bearer {teams.mint(omit=['aud'])}") is Reason.AUDIENCE
    wrong_list = teams.mint(extra={"aud": [teams.app_id, "x"]})
    assert refused(auth, f"Bearer {wrong_list}") is Reason.AUDIENCE
    assert refused(auth, f"Bearer {teams.mint(iss='https://evil.example')}") is Reason.ISSUER
    assert refused(auth, f"Bearer {teams.mint(omit=['iss'])}") is Reason.ISSUER
    assert refused(auth, f"Bearer {teams.mint(extra={'iss': {'x': 1}})}") is Reason.ISSUER


def test_other_algorithms_are_refused(teams: TeamsStandIn, auth: InboundAuth) -> None:
    claims = {"aud": teams.app_id, "iss": teams.issuer, "exp": int(time.time()) + 600}
    kid = {"kid": teams.signing_key.kid}
    unsigned = jwt.encode(claims, None, algorithm="none", headers=kid)
    hmac = jwt.encode(
        claims, "a-shared-secret-of-32-bytes-or-more!", algorithm="HS256", headers=kid
    )
    assert refused(auth, f"Bearer {unsigned}") is Reason.MALFORMED  # no signature part at all
    assert refused(auth, f"Bearer {unsigned}AAAA") is Reason.ALGORITHM
    assert refused(auth, f"Bearer {hmac}") is Reason.ALGORITHM


def test_no_app_id_refuses_everything(teams: TeamsStandIn) -> None:
    auth = InboundAuth("", OpenIdKeys(teams.openid_metadata_url))
    assert refused(auth, f"Bearer {teams.mint()}") is Reason.NOT_CONFIGURED
    assert teams.metadata_fetches == 0


def check(auth: InboundAuth, token: str, raw: bytes) -> Reason:
    with pytest.raises(Unauthorized) as caught:
        auth.check_request(f"Bearer {token}", raw, MAX_BYTES)
    return caught.value.reason


def test_wrong_tenant(teams: TeamsStandIn, auth: InboundAuth) -> None:
    token = teams.mint()
    assert check(auth, token, body(teams, tenant_id="11111111-2222-3333-4444-555555555555")) is (
        Reason.TENANT
    )
    mixed = teams.activity()
    mixed["channelData"] = {"tenant": {"id": "11111111-2222-3333-4444-555555555555"}}
    assert check(auth, token, json.dumps(mixed).encode()) is Reason.TENANT_MISMATCH
    untenanted = teams.activity()
    del untenanted["channelData"], untenanted["conversation"]["tenantId"]
    assert check(auth, token, json.dumps(untenanted).encode()) is Reason.TENANT
    # the tenant in either place alone is enough, in any letter case
    only_data = teams.activity(tenant_id=teams.tenant_id.upper())
    del only_data["conversation"]["tenantId"]
    auth.check_request(f"Bearer {token}", json.dumps(only_data).encode(), MAX_BYTES)


def test_no_allow_list_accepts_any_tenant(teams: TeamsStandIn) -> None:
    auth = InboundAuth(teams.app_id, OpenIdKeys(teams.openid_metadata_url))
    auth.check_request(f"Bearer {teams.mint()}", body(teams, tenant_id="any-tenant"), MAX_BYTES)


def test_allowed_tenants_from_settings() -> None:
    def tenants(**env: str) -> frozenset[str]:
        return allowed_tenants(Settings(_env_file=None, **env))  # type: ignore[call-arg]

    assert tenants() == frozenset()
    assert tenants(TEAMS_TENANT_ID="Home") == {"home"}
    assert tenants(TEAMS_TENANT_ID="home", TEAMS_ALLOWED_TENANTS=" A, b ,,") == {"a", "b"}
    assert tenants(TEAMS_ALLOWED_TENANTS="a") == {"a"}


def test_service_url_mismatch(teams: TeamsStandIn, auth: InboundAuth) -> None:
    elsewhere = teams.mint(service_url="https://smba.trafficmanager.net/emea/")
    assert check(auth, elsewhere, body(teams)) is Reason.SERVICE_URL
    redirected = body(teams, serviceUrl="https://attacker.example/amer/")
    assert check(auth, teams.mint(), redirected) is Reason.SERVICE_URL
    # a final slash and the host's letter case do not matter
    relaxed = teams.mint(
        service_url=teams.service_url.rstrip("/").upper().replace("/AMER", "/amer")
    )
    auth.check_request(f"Bearer {relaxed}", body(teams), MAX_BYTES)
    # no claim: nothing to compare
    auth.check_request(f"Bearer {teams.mint(omit=['serviceurl'])}", body(teams), MAX_BYTES)


def test_endorsements_must_include_the_channel(teams: TeamsStandIn) -> None:
    skype_only = teams.rotate(endorsements=["skype"])
    auth = auth_for(teams)
    token = teams.mint(key=skype_only)
    identity = auth.authenticate(f"Bearer {token}")  # the token itself is fine
    assert identity.endorsements == frozenset({"skype"})
    assert check(auth, token, body(teams)) is Reason.CHANNEL_NOT_ENDORSED
    unendorsed = teams.rotate(endorsements=None)  # a key listing none restricts nothing
    auth = auth_for(teams)
    auth.check_request(f"Bearer {teams.mint(key=unendorsed)}", body(teams), MAX_BYTES)
    emulator = teams.mint(key=teams.keys[0])  # endorsed for msteams only
    assert check(auth, emulator, body(teams, channelId="emulator")) is Reason.CHANNEL_NOT_ENDORSED


def test_the_token_is_checked_before_the_body(teams: TeamsStandIn, auth: InboundAuth) -> None:
    for raw in (b"\xff\xfe not json", b"[" * 100_000, b"x" * (MAX_BYTES + 1)):
        with pytest.raises(Unauthorized):
            auth.check_request(None, raw, MAX_BYTES)
        with pytest.raises(Unauthorized):
            auth.check_request(f"Bearer {teams.mint(aud='x')}", raw, MAX_BYTES)
        with pytest.raises(Rejected):
            auth.check_request(f"Bearer {teams.mint()}", raw, MAX_BYTES)


# -- keys: rotation, outages, bounded time ------------------------------------------------------


def test_key_rotation_refetches_once(teams: TeamsStandIn) -> None:
    keys = OpenIdKeys(teams.openid_metadata_url, timeout_s=2.0, refetch_cooldown_s=0.0)
    auth = InboundAuth(teams.app_id, keys)
    auth.authenticate(f"Bearer {teams.mint()}")
    assert keys.fetches == 1 and teams.jwks_fetches == 1
    new = teams.rotate(retire=True)
    auth.authenticate(f"Bearer {teams.mint(key=new)}")
    assert keys.fetches == 2 and teams.metadata_fetches == 2 and teams.jwks_fetches == 2
    for _ in range(3):  # known keys cost nothing more
        auth.authenticate(f"Bearer {teams.mint(key=new)}")
    assert keys.fetches == 2
    # an unknown kid refetches once per token, then is refused
    assert refused(auth, f"Bearer {teams.mint(kid='still-unknown')}") is Reason.UNKNOWN_KEY
    assert keys.fetches == 3


def test_a_flood_of_unknown_kids_costs_one_fetch_per_cooldown(teams: TeamsStandIn) -> None:
    keys = OpenIdKeys(teams.openid_metadata_url, timeout_s=2.0, refetch_cooldown_s=60.0)
    auth = InboundAuth(teams.app_id, keys)
    auth.authenticate(f"Bearer {teams.mint()}")
    for i in range(20):
        assert refused(auth, f"Bearer {teams.mint(kid=f'made-up-{i}')}") is Reason.UNKNOWN_KEY
    assert keys.fetches == 1 and teams.jwks_fetches == 1
    auth.authenticate(f"Bearer {teams.mint()}")  # known keys still pass


def test_metadata_server_down_is_a_refusal_not_a_hang(teams: TeamsStandIn) -> None:
    down = f"http://127.0.0.1:{closed_port()}/v1/.well-known/openidconfiguration"
    auth = InboundAuth(teams.app_id, OpenIdKeys(down, timeout_s=1.0))
    started = time.monotonic()
    assert refused(auth, f"Bearer {teams.mint()}") is Reason.KEYS_UNAVAILABLE
    assert refused(auth, f"Bearer {teams.mint()}") is Reason.KEYS_UNAVAILABLE  # no refetch yet
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("route", ["metadata", "jwks"])
def test_a_hanging_key_server_is_a_refusal_in_bounded_time(teams: TeamsStandIn, route: str) -> None:
    teams.fail(route, delay=30, times=100)
    keys = OpenIdKeys(teams.openid_metadata_url, timeout_s=0.5)
    auth = InboundAuth(teams.app_id, keys)
    outcomes: list[Reason] = []

    def one() -> None:
        outcomes.append(refused(auth, f"Bearer {teams.mint()}"))

    started = time.monotonic()
    threads = [threading.Thread(target=one) for _ in range(4)]  # they queue behind the fetch
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=15)
    assert not any(t.is_alive() for t in threads)
    assert time.monotonic() - started < 10
    assert len(outcomes) == 4 and set(outcomes) == {Reason.KEYS_UNAVAILABLE}
    assert keys.fetches == 1  # the others did not try again within the cooldown
    teams.heal()
    keys.refetch_cooldown_s = 0.0
    auth.authenticate(f"Bearer {teams.mint()}")  # back: the next token refetches and passes


@pytest.mark.parametrize("status", [404, 500, 503])
def test_key_server_errors_refuse_until_it_is_back(teams: TeamsStandIn, status: int) -> None:
    teams.fail("jwks", status=status)
    keys = OpenIdKeys(teams.openid_metadata_url, timeout_s=2.0, refetch_cooldown_s=0.0)
    auth = InboundAuth(teams.app_id, keys)
    assert refused(auth, f"Bearer {teams.mint()}") is Reason.KEYS_UNAVAILABLE
    auth.authenticate(f"Bearer {teams.mint()}")


def test_dropped_connections_and_bad_documents_refuse(teams: TeamsStandIn) -> None:
    keys = OpenIdKeys(teams.openid_metadata_url, timeout_s=2.0, refetch_cooldown_s=0.0)
    auth = InboundAuth(teams.app_id, keys)
    teams.fail("metadata", drop=True)
    assert refused(auth, f"Bearer {teams.mint()}") is Reason.KEYS_UNAVAILABLE
    for key in list(teams.keys):  # a JWKS without any key
        teams.retire(key.kid)
    assert refused(auth, f"Bearer {teams.mint(key=teams.forger)}") is Reason.KEYS_UNAVAILABLE


def test_held_keys_serve_through_an_outage_for_a_while(teams: TeamsStandIn) -> None:
    keys = OpenIdKeys(teams.openid_metadata_url, timeout_s=1.0, ttl_s=0.5, refetch_cooldown_s=0.0)
    auth = InboundAuth(teams.app_id, keys)
    auth.authenticate(f"Bearer {teams.mint()}")
    teams.fail("metadata", status=503, times=100)
    time.sleep(0.6)  # past the TTL: the refresh fails, the held keys still serve
    auth.authenticate(f"Bearer {teams.mint()}")
    assert keys.fetches == 2
    time.sleep(0.5)  # past twice the TTL: no longer
    assert refused(auth, f"Bearer {teams.mint()}") is Reason.KEYS_UNAVAILABLE


def test_the_metadata_issuer_is_only_trusted_from_that_metadata(teams: TeamsStandIn) -> None:
    with TeamsStandIn(app_id=teams.app_id) as other:
        auth = auth_for(other)
        # signed by the right key, but claiming the other stand-in's issuer
        token = other.mint(iss=teams.issuer)
        assert refused(auth, f"Bearer {token}") is Reason.ISSUER


# -- hostile headers, and no token in the logs ---------------------------------------------------


def test_hostile_headers_only_ever_get_unauthorized(teams: TeamsStandIn, auth: InboundAuth) -> None:
    valid = teams.mint()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        st.one_of(
            st.text(max_size=300),
            st.text(alphabet="abcdefABCDEF0123456789-_.", max_size=300).map(
                lambda t: "Bearer " + t
            ),
            st.integers(0, len(valid) - 1).flatmap(
                lambda i: st.characters().map(lambda c: valid[:i] + c + valid[i + 1 :])
            ),
        )
    )
    def check_header(header: str) -> None:
        try:
            identity = auth.authenticate(header)
        except Unauthorized:
            return
        # only the untouched token (or a change that base64 decoding forgives) passes
        assert identity.app_id == teams.app_id

    check_header()


def test_the_token_is_never_logged(
    teams: TeamsStandIn, auth: InboundAuth, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = [
        teams.mint(),
        teams.mint(key=teams.forger, kid=teams.signing_key.kid),
        teams.mint(aud="x"),
        teams.mint(exp=time.time() - 1000),
        teams.mint(kid="unknown"),
    ]
    errors: list[str] = []
    for token in tokens:
        for raw in (body(teams), body(teams, tenant_id="elsewhere"), b"{bad"):
            try:
                auth.check_request(f"Bearer {token}", raw, MAX_BYTES)
            except (Unauthorized, Rejected) as e:
                errors.append(f"{e!s} {e!r}")
    teams.fail("metadata", status=500)
    down = auth_for(teams, refetch_cooldown_s=0.0)
    with pytest.raises(Unauthorized):
        down.authenticate(f"Bearer {tokens[0]}")
    assert errors
    for token in tokens:
        signature = token.rsplit(".", 1)[1]
        assert signature not in caplog.text
        assert all(signature not in e for e in errors)


# -- the outbound token ------------------------------------------------------------------------------


def provider(teams: TeamsStandIn, **kwargs: Any) -> ConnectorTokens:
    kwargs.setdefault("tenant", teams.tenant_id)
    kwargs.setdefault("timeout_s", 2.0)
    return ConnectorTokens(teams.app_id, teams.app_password, token_url=teams.token_url, **kwargs)


def send(teams: TeamsStandIn, authorization: str) -> int:
    request = urllib.request.Request(
        teams.service_url + "v3/conversations/a%3A1/activities",
        data=json.dumps({"type": "message", "text": "x"}).encode(),
        headers={"Content-Type": "application/json", "Authorization": authorization},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def test_the_token_is_fetched_once_and_cached(teams: TeamsStandIn) -> None:
    tokens = provider(teams)
    first = tokens.token()
    assert tokens.token() == first and tokens.authorization() == f"Bearer {first}"
    (request,) = teams.token_requests
    assert request.granted and request.tenant == teams.tenant_id
    assert request.client_id == teams.app_id
    assert request.scope == "https://api.botframework.com/.default"
    assert send(teams, tokens.authorization()) == 200


def test_a_multi_tenant_bot_asks_the_botframework_tenant(teams: TeamsStandIn) -> None:
    provider(teams, tenant=None).token()
    assert teams.token_requests[0].tenant == "botframework.com"


def test_the_token_is_refreshed_before_it_expires() -> None:
    with TeamsStandIn(token_lifetime_s=2) as teams:
        tokens = provider(teams)  # margin: half of the 2 s lifetime
        first = tokens.token()
        assert tokens.token() == first
        time.sleep(1.1)
        second = tokens.token()
        assert second != first and len(teams.token_requests) == 2
        assert send(teams, f"Bearer {second}") == 200


def test_a_refused_token_is_replaced_after_invalidate(teams: TeamsStandIn) -> None:
    tokens = provider(teams)
    first = tokens.token()
    teams.expire_tokens()
    assert send(teams, tokens.authorization()) == 401
    tokens.invalidate(first)
    second = tokens.token()
    assert second != first
    tokens.invalidate(first)  # a stale report does not drop the new token
    assert tokens.token() == second and len(teams.token_requests) == 2
    assert send(teams, tokens.authorization()) == 200


def test_concurrent_callers_share_one_fetch(teams: TeamsStandIn) -> None:
    teams.set_latency(0.3)
    tokens = provider(teams)
    got: list[str] = []
    threads = [threading.Thread(target=lambda: got.append(tokens.token())) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(got) == 16 and len(set(got)) == 1
    assert len(teams.token_requests) == 1 and tokens.fetches == 1


def test_a_wrong_secret_says_so_without_the_secret(teams: TeamsStandIn) -> None:
    secret = "the-wrong-client-secret"
    tokens = ConnectorTokens(
        teams.app_id, secret, tenant=teams.tenant_id, token_url=teams.token_url
    )
    with pytest.raises(TokenUnavailable) as caught:
        tokens.token()
    assert "401" in str(caught.value) and "invalid_client" in str(caught.value)
    assert secret not in repr(caught.value) and secret not in repr(vars(tokens))
    assert not teams.token_requests[0].granted


def test_an_unreachable_or_hanging_endpoint_fails_in_bounded_time(teams: TeamsStandIn) -> None:
    down = ConnectorTokens(
        "app",
        "secret",
        token_url=f"http://127.0.0.1:{closed_port()}/{{tenant}}/oauth2/v2.0/token",
        timeout_s=1.0,
    )
    with pytest.raises(TokenUnavailable):
        down.token()
    teams.fail("token", delay=30)
    started = time.monotonic()
    with pytest.raises(TokenUnavailable):
        provider(teams, timeout_s=0.5).token()
    assert time.monotonic() - started < 3
    teams.fail("token", drop=True)
    with pytest.raises(TokenUnavailable):
        provider(teams).token()
    teams.fail("token", status=429, retry_after=1)
    with pytest.raises(TokenUnavailable) as caught:
        provider(teams).token()
    assert "429" in str(caught.value)


def test_a_failed_refresh_keeps_serving_the_held_token() -> None:
    with TeamsStandIn(token_lifetime_s=4) as teams:
        tokens = provider(teams, retry_s=60.0)  # refresh from 2 s on, expiry at 4 s
        first = tokens.token()
        teams.fail("token", status=503, times=5)
        time.sleep(2.1)
        assert tokens.token() == first  # refresh failed: the held one is still valid
        assert tokens.token() == first  # and the next try waits for retry_s
        assert tokens.fetches == 2
        tokens.invalidate()
        with pytest.raises(TokenUnavailable):
            tokens.token()


def test_connector_tokens_from_settings(teams: TeamsStandIn) -> None:
    with pytest.raises(ValueError, match="TEAMS_APP_ID"):
        ConnectorTokens.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    s = Settings(
        _env_file=None,  # type: ignore[call-arg]
        TEAMS_APP_ID=teams.app_id,
        TEAMS_APP_PASSWORD=teams.app_password,
        TEAMS_TENANT_ID=teams.tenant_id,
        TEAMS_TOKEN_URL=teams.token_url,
    )
    tokens = ConnectorTokens.from_settings(s)
    assert send(teams, tokens.authorization()) == 200
    assert teams.app_password not in repr(s)
