"""Who may talk to the bot, and how the bot talks back.

Inbound: every request from the Bot Framework carries `Authorization: Bearer <JWT>`, signed
(RS256) with one of the keys that the OpenID metadata document points at (`jwks_uri`).
`InboundAuth.authenticate` checks it before the body is parsed; `InboundAuth.authorize` checks what
only the body can tell (the signing key's endorsements include the activity's channelId, the
token's serviceurl claim is the activity's serviceUrl, the tenant is allowed);
`InboundAuth.check_request` does the three in that order. Every failure is `Unauthorized` with a
reason code that the adapter logs and answers 401; nothing else escapes, and the token is never
logged nor put in an exception.

Outbound: `ConnectorTokens` gets the client-credentials token that calls to the Bot Connector
carry, and keeps it until shortly before it expires (thread-safe: one fetch at a time)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import http.client
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey, RSAPublicNumbers
from pydantic import SecretStr

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.teams.schema import Activity, Inbound

log = logging.getLogger(__name__)

BOTFRAMEWORK_ISSUER = "https://api.botframework.com"
OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
CONNECTOR_SCOPE = "https://api.botframework.com/.default"
MULTI_TENANT = "botframework.com"  # the token endpoint's tenant for a multi-tenant bot
CLOCK_SKEW_S = 300.0
MAX_AUTHORIZATION_CHARS = 8192  # a Bot Framework token is about 1.5 KB

_MAX_DOCUMENT_BYTES = 1 << 20
_MAX_KEYS = 100
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", re.ASCII)
_KID = re.compile(r"[A-Za-z0-9_.:=+/-]{1,128}", re.ASCII)
_ERROR_CODE = re.compile(r"[a-z_]{1,64}", re.ASCII)


class Reason(StrEnum):
    """Why a request was refused: for the log line (never the token or the body)."""

    NOT_CONFIGURED = "not_configured"  # no TEAMS_APP_ID: no token can be checked
    MISSING = "missing_authorization"
    SCHEME = "wrong_scheme"
    MALFORMED = "malformed_token"
    ALGORITHM = "wrong_algorithm"
    UNKNOWN_KEY = "unknown_key"
    KEYS_UNAVAILABLE = "keys_unavailable"  # the metadata or its keys could not be fetched
    SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    AUDIENCE = "wrong_audience"
    ISSUER = "wrong_issuer"
    CHANNEL_NOT_ENDORSED = "channel_not_endorsed"
    SERVICE_URL = "service_url_mismatch"
    TENANT = "tenant_not_allowed"
    TENANT_MISMATCH = "tenant_mismatch"  # conversation.tenantId and channelData.tenant.id differ


class Unauthorized(Exception):
    """A request the adapter answers 401; `reason` is all that may be logged about it."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason


# -- fetching (bounded in time and size) --------------------------------------------------------------


class _FetchFailed(Exception):
    """A document could not be had; the message is ours (never a server's text)."""


def _http(
    url: str,
    timeout_s: float,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """Status and body of one request. Each network step waits at most `timeout_s`, the body is
    read within `timeout_s` of the response and cut at 1 MiB; raises _FetchFailed."""
    try:
        scheme = urlsplit(url).scheme
    except ValueError:
        raise _FetchFailed("bad url") from None
    if scheme not in ("http", "https"):
        raise _FetchFailed("bad url")
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        response: Any = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as e:
        response = e
    except (OSError, ValueError, http.client.HTTPException) as e:
        raise _FetchFailed(type(e).__name__) from None
    status = int(getattr(response, "status", None) or getattr(response, "code", 0) or 0)
    deadline = time.monotonic() + timeout_s
    chunks: list[bytes] = []
    size = 0
    try:
        read = getattr(response, "read1", None) or response.read
        while True:
            if time.monotonic() > deadline:
                raise _FetchFailed("timeout")
            chunk = read(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > _MAX_DOCUMENT_BYTES:
                raise _FetchFailed("too large")
            chunks.append(chunk)
    except (OSError, ValueError, http.client.HTTPException) as e:
        raise _FetchFailed(type(e).__name__) from None
    finally:
        with contextlib.suppress(Exception):  # closing a broken response: nothing to recover
            response.close()
    return status, b"".join(chunks)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise _FetchFailed("not json") from None


# -- the signing keys ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    kid: str
    public_key: RSAPublicKey
    endorsements: frozenset[str] | None  # None: the JWKS entry lists none (any channel)


def _b64_int(value: str) -> int:
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    return int.from_bytes(raw, "big")


def _signing_key(entry: object) -> SigningKey | None:
    """An RSA signing key of a JWKS, or None for an entry that is not one (skipped)."""
    if not isinstance(entry, dict) or entry.get("kty") != "RSA":
        return None
    if entry.get("use", "sig") != "sig" or entry.get("alg", "RS256") != "RS256":
        return None
    kid, n, e = entry.get("kid"), entry.get("n"), entry.get("e")
    if not isinstance(kid, str) or not _KID.fullmatch(kid):
        return None
    if not isinstance(n, str) or not isinstance(e, str) or len(n) > 2048 or len(e) > 16:
        return None
    try:
        public = RSAPublicNumbers(_b64_int(e), _b64_int(n)).public_key()
    except (ValueError, TypeError, binascii.Error):
        return None
    if public.key_size < 2048:
        return None
    listed = entry.get("endorsements")
    if listed is None:
        return SigningKey(kid, public, None)
    if not isinstance(listed, list) or not all(isinstance(x, str) for x in listed):
        return None  # a key whose restrictions cannot be read is not used unrestricted
    return SigningKey(kid, public, frozenset(listed))


class OpenIdKeys:
    """The signing keys that an OpenID metadata document points at (`jwks_uri`).

    They are kept for `ttl_s`. A kid that is not among them refetches the metadata and keys once,
    at most every `refetch_cooldown_s` (a flood of made-up kids costs one fetch per cooldown, not
    one per request); so does a failed or expired cache. Each document is fetched within
    `timeout_s`, and no caller waits on another's fetch for longer than the fetch may take. When a
    refresh fails, the keys held keep serving up to twice their TTL; with none, every token is
    refused (keys_unavailable)."""

    def __init__(
        self,
        metadata_url: str,
        *,
        timeout_s: float = 5.0,
        ttl_s: float = 24 * 3600.0,
        refetch_cooldown_s: float = 30.0,
    ) -> None:
        self.metadata_url = metadata_url
        self.timeout_s = timeout_s
        self.ttl_s = ttl_s
        self.refetch_cooldown_s = refetch_cooldown_s
        self.fetches = 0  # refresh attempts, successful or not
        self._keys: dict[str, SigningKey] = {}
        self._issuer: str | None = None
        self._fetched_at: float | None = None  # time.monotonic() of the last good refresh
        self._attempted_at: float | None = None
        self._lock = threading.Lock()

    @property
    def issuer(self) -> str | None:
        """The metadata document's `issuer`, once it has been fetched."""
        return self._issuer

    def key(self, kid: str) -> SigningKey:
        """The key with this kid; raises Unauthorized (unknown_key or keys_unavailable)."""
        keys, fetched_at = self._keys, self._fetched_at
        if fetched_at is not None and time.monotonic() - fetched_at < self.ttl_s and kid in keys:
            return keys[kid]  # the common case takes no lock
        # a refresh fetches two documents, each within the timeout (plus the connect step)
        if not self._lock.acquire(timeout=4 * self.timeout_s + 1):
            raise Unauthorized(Reason.KEYS_UNAVAILABLE)
        try:
            now = time.monotonic()
            attempted = False
            if self._expired(now) and self._may_attempt(now):
                attempted = True
                self._refresh()
            found = self._usable(kid)
            if found is None and not attempted and self._may_attempt(time.monotonic()):
                self._refresh()
                found = self._usable(kid)
            if found is None:
                held = self._fetched_at is not None and not self._too_old(time.monotonic())
                raise Unauthorized(Reason.UNKNOWN_KEY if held else Reason.KEYS_UNAVAILABLE)
            return found
        finally:
            self._lock.release()

    def _expired(self, now: float) -> bool:
        return self._fetched_at is None or now - self._fetched_at >= self.ttl_s

    def _too_old(self, now: float) -> bool:
        return self._fetched_at is None or now - self._fetched_at >= 2 * self.ttl_s

    def _may_attempt(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self.refetch_cooldown_s

    def _usable(self, kid: str) -> SigningKey | None:
        if self._too_old(time.monotonic()):
            return None
        return self._keys.get(kid)

    def _refresh(self) -> bool:
        """Fetch the metadata and its keys; False (logged, keys kept) when that fails."""
        self._attempted_at = time.monotonic()
        self.fetches += 1
        try:
            metadata = self._document(self.metadata_url, "metadata")
            jwks_uri = metadata.get("jwks_uri")
            if not isinstance(jwks_uri, str) or len(jwks_uri) > 2048:
                raise _FetchFailed("metadata without jwks_uri")
            keys: dict[str, SigningKey] = {}
            entries = self._document(jwks_uri, "keys").get("keys")
            for entry in entries[:_MAX_KEYS] if isinstance(entries, list) else []:
                key = _signing_key(entry)
                if key is not None:
                    keys[key.kid] = key
            if not keys:
                raise _FetchFailed("no usable RSA signing key")
        except _FetchFailed as e:
            log.warning("teams: could not refresh the token signing keys (%s)", e)
            return False
        issuer = metadata.get("issuer")
        self._issuer = issuer if isinstance(issuer, str) and 0 < len(issuer) <= 2048 else None
        self._keys = keys
        self._fetched_at = time.monotonic()
        log.debug("teams: %d token signing keys fetched", len(keys))
        return True

    def _document(self, url: str, what: str) -> dict[str, Any]:
        status, body = _http(url, self.timeout_s, headers={"Accept": "application/json"})
        if status != 200:
            raise _FetchFailed(f"{what}: http {status}")
        document = _json(body)
        if not isinstance(document, dict):
            raise _FetchFailed(f"{what}: not an object")
        return document


# -- inbound requests ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BotIdentity:
    """What a valid token says: the bot it was issued for and where replies may go."""

    app_id: str
    issuer: str
    service_url: str | None  # the token's serviceurl claim, if it has one
    endorsements: frozenset[str] | None  # the signing key's channels, if it lists any
    key_id: str
    expires_at: int  # epoch seconds


def allowed_tenants(settings: Settings) -> frozenset[str]:
    """TEAMS_ALLOWED_TENANTS; empty: TEAMS_TENANT_ID alone; both empty: any (the empty set)."""
    listed = [t.strip().lower() for t in settings.teams_allowed_tenants.split(",")]
    tenants = frozenset(t for t in listed if t)
    if tenants:
        return tenants
    home = settings.teams_tenant_id.strip().lower()
    return frozenset({home}) if home else frozenset()


class InboundAuth:
    """Checks the Bot Framework's requests: the token (`authenticate`, before the body is read),
    then the activity against it (`authorize`). Raises Unauthorized and nothing else."""

    def __init__(
        self,
        app_id: str,
        keys: OpenIdKeys,
        *,
        allowed_tenants: Iterable[str] = (),
        issuers: Iterable[str] = (BOTFRAMEWORK_ISSUER,),
        clock_skew_s: float = CLOCK_SKEW_S,
    ) -> None:
        self.app_id = app_id.strip()
        self.keys = keys
        self.allowed_tenants = frozenset(t.strip().lower() for t in allowed_tenants if t.strip())
        self.issuers = tuple(issuers)
        self.clock_skew_s = clock_skew_s

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout_s: float = 5.0) -> InboundAuth:
        keys = OpenIdKeys(settings.teams_openid_metadata_url, timeout_s=timeout_s)
        return cls(settings.teams_app_id, keys, allowed_tenants=allowed_tenants(settings))

    def check_request(self, authorization: str | None, raw: bytes, max_bytes: int) -> Inbound:
        """The token, then the body (bot/teams/schema.read_activity), then the activity against
        the token. Raises Unauthorized (answer 401) or Rejected (answer 400)."""
        from bot.teams.schema import read_activity

        identity = self.authenticate(authorization)
        inbound = read_activity(raw, max_bytes)
        self.authorize(identity, inbound.activity)
        return inbound

    def authenticate(self, authorization: str | None) -> BotIdentity:
        """The identity of a valid `Authorization` header's token; raises Unauthorized."""
        try:
            return self._authenticate(authorization)
        except Unauthorized:
            raise
        except Exception as e:  # whatever a hostile token trips over, it is only refused
            log.warning("teams: token check failed unexpectedly (%s)", type(e).__name__)
            raise Unauthorized(Reason.MALFORMED) from None

    def authorize(self, identity: BotIdentity, activity: Activity) -> None:
        """The activity may come with this token; raises Unauthorized."""
        try:
            self.authorize_fields(
                identity,
                channel_id=activity.channel_id,
                service_url=activity.service_url,
                tenant_ids=activity.tenant_ids,
            )
        except Unauthorized:
            raise
        except Exception as e:
            log.warning("teams: activity check failed unexpectedly (%s)", type(e).__name__)
            raise Unauthorized(Reason.MALFORMED) from None

    def authorize_fields(
        self,
        identity: BotIdentity,
        *,
        channel_id: str | None,
        service_url: str | None,
        tenant_ids: Iterable[str | None],
    ) -> None:
        """`authorize` on plain values: the activity's channelId, serviceUrl and every tenant id
        it names (conversation.tenantId, channelData.tenant.id)."""
        endorsed = identity.endorsements
        if endorsed is not None and (not channel_id or channel_id not in endorsed):
            raise Unauthorized(Reason.CHANNEL_NOT_ENDORSED)
        if identity.service_url is not None and not _same_url(identity.service_url, service_url):
            raise Unauthorized(Reason.SERVICE_URL)
        tenants = {t.strip().lower() for t in tenant_ids if t and t.strip()}
        if len(tenants) > 1:
            raise Unauthorized(Reason.TENANT_MISMATCH)
        if self.allowed_tenants and not (tenants and tenants <= self.allowed_tenants):
            raise Unauthorized(Reason.TENANT)

    def _authenticate(self, authorization: str | None) -> BotIdentity:
        if not self.app_id:
            raise Unauthorized(Reason.NOT_CONFIGURED)
        if authorization is None or not authorization.strip():
            raise Unauthorized(Reason.MISSING)
        if len(authorization) > MAX_AUTHORIZATION_CHARS:
            raise Unauthorized(Reason.MALFORMED)
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise Unauthorized(Reason.SCHEME)
        token = token.strip()
        if not _JWT.fullmatch(token):
            raise Unauthorized(Reason.MALFORMED)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized(Reason.MALFORMED) from None
        if header.get("alg") != "RS256":
            raise Unauthorized(Reason.ALGORITHM)
        kid = header.get("kid")
        if not isinstance(kid, str) or not _KID.fullmatch(kid):
            raise Unauthorized(Reason.UNKNOWN_KEY if kid is None else Reason.MALFORMED)
        key = self.keys.key(kid)
        issuers = [*self.issuers]
        if self.keys.issuer is not None:
            issuers.append(self.keys.issuer)
        claims = self._decode(token, key, issuers)
        service_url = claims.get("serviceurl", claims.get("serviceUrl"))
        if service_url is not None and not isinstance(service_url, str):
            raise Unauthorized(Reason.MALFORMED)
        return BotIdentity(
            app_id=self.app_id,
            issuer=str(claims["iss"]),
            service_url=service_url,
            endorsements=key.endorsements,
            key_id=kid,
            expires_at=int(claims["exp"]),
        )

    def _decode(self, token: str, key: SigningKey, issuers: list[str]) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.public_key,
                algorithms=["RS256"],
                audience=self.app_id,
                issuer=issuers,
                leeway=self.clock_skew_s,
                options={"require": ["exp", "iss", "aud"], "strict_aud": True},
            )
        except jwt.InvalidSignatureError:
            raise Unauthorized(Reason.SIGNATURE) from None
        except jwt.ExpiredSignatureError:
            raise Unauthorized(Reason.EXPIRED) from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized(Reason.NOT_YET_VALID) from None
        except jwt.InvalidAudienceError:
            raise Unauthorized(Reason.AUDIENCE) from None
        except jwt.InvalidIssuerError:
            raise Unauthorized(Reason.ISSUER) from None
        except jwt.InvalidAlgorithmError:
            raise Unauthorized(Reason.ALGORITHM) from None
        except jwt.MissingRequiredClaimError as e:
            missing = {"aud": Reason.AUDIENCE, "iss": Reason.ISSUER}
            raise Unauthorized(missing.get(e.claim, Reason.MALFORMED)) from None
        except jwt.PyJWTError:
            raise Unauthorized(Reason.MALFORMED) from None
        return claims


def _same_url(expected: str, actual: str | None) -> bool:
    """Same scheme, host and path (letter case of scheme and host and a final / aside)."""
    if not actual:
        return False
    try:
        a, b = urlsplit(expected), urlsplit(actual)
    except ValueError:
        return False
    return (a.scheme.lower(), a.netloc.lower(), a.path.rstrip("/"), a.query) == (
        b.scheme.lower(),
        b.netloc.lower(),
        b.path.rstrip("/"),
        b.query,
    )


# -- outbound: the Bot Connector token -------------------------------------------------------------


class TokenUnavailable(Exception):
    """No token for the Bot Connector; the message is a short reason (an HTTP status, the
    endpoint's error code or a network failure), never the secret or a token."""


@dataclass(frozen=True)
class _Issued:
    token: str
    expires_at: float  # time.monotonic()
    refresh_at: float


class ConnectorTokens:
    """The client-credentials token for calls to the Bot Connector (scope
    https://api.botframework.com/.default), kept until `refresh_margin_s` before it expires (or
    half its lifetime, if shorter). One fetch at a time; a failed refresh while the held token is
    still valid keeps serving it, and is tried again after `retry_s`."""

    def __init__(
        self,
        app_id: str,
        app_password: str | SecretStr,
        *,
        tenant: str | None = None,
        token_url: str = TOKEN_URL,
        scope: str = CONNECTOR_SCOPE,
        timeout_s: float = 10.0,
        refresh_margin_s: float = 300.0,
        retry_s: float = 10.0,
    ) -> None:
        self.app_id = app_id
        self._password = (
            app_password if isinstance(app_password, SecretStr) else SecretStr(app_password)
        )
        self.url = token_url.replace("{tenant}", quote((tenant or "").strip() or MULTI_TENANT))
        self.scope = scope
        self.timeout_s = timeout_s
        self.refresh_margin_s = refresh_margin_s
        self.retry_s = retry_s
        self.fetches = 0  # token requests made, successful or not
        self._issued: _Issued | None = None
        self._retry_at = 0.0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout_s: float = 10.0) -> ConnectorTokens:
        if not settings.teams_app_id.strip() or not settings.teams_app_password.get_secret_value():
            raise ValueError("TEAMS_APP_ID and TEAMS_APP_PASSWORD are needed to call Teams")
        return cls(
            settings.teams_app_id.strip(),
            settings.teams_app_password,
            tenant=settings.teams_tenant_id,
            token_url=settings.teams_token_url,
            timeout_s=timeout_s,
        )

    def token(self) -> str:
        """A valid access token; raises TokenUnavailable."""
        issued = self._issued
        if issued is not None and time.monotonic() < issued.refresh_at:
            return issued.token
        with self._lock:
            issued, now = self._issued, time.monotonic()
            if issued is not None and (now < issued.refresh_at or now < self._retry_at):
                return issued.token
            try:
                self._issued = self._fetch()
            except TokenUnavailable as e:
                if issued is not None and time.monotonic() < issued.expires_at - 1:
                    log.warning("teams: token refresh failed (%s); the held one serves", e)
                    self._retry_at = time.monotonic() + self.retry_s
                    return issued.token
                raise
            return self._issued.token

    def authorization(self) -> str:
        """The `Authorization` header value for a Bot Connector call."""
        return "Bearer " + self.token()

    def invalidate(self, token: str | None = None) -> None:
        """Forget the held token (the Connector refused it): the next call fetches another. With
        `token`, only if that is still the one held (a newer one stays)."""
        with self._lock:
            if self._issued is not None and (token is None or self._issued.token == token):
                self._issued = None
                self._retry_at = 0.0

    def _fetch(self) -> _Issued:
        self.fetches += 1
        form = urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": self.app_id,
                "client_secret": self._password.get_secret_value(),
                "scope": self.scope,
            }
        ).encode("ascii")
        started = time.monotonic()
        try:
            status, body = _http(
                self.url,
                self.timeout_s,
                data=form,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/json",
                },
            )
        except _FetchFailed as e:
            raise TokenUnavailable(f"token endpoint unreachable ({e})") from None
        try:
            answer = json.loads(body)
        except (ValueError, RecursionError):
            answer = None
        if status != 200:
            code = answer.get("error") if isinstance(answer, dict) else None
            detail = f" {code}" if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else ""
            raise TokenUnavailable(f"token endpoint answered http {status}{detail}")
        if not isinstance(answer, dict):
            raise TokenUnavailable("token endpoint answered no JSON object")
        token, kind, lifetime = (
            answer.get("access_token"),
            answer.get("token_type", "Bearer"),
            answer.get("expires_in"),
        )
        if isinstance(lifetime, str) and lifetime.isascii() and lifetime.isdigit():
            lifetime = int(lifetime)
        if (
            not isinstance(token, str)
            or not 0 < len(token) <= 16384
            or not token.isascii()
            or not token.isprintable()
            or not isinstance(kind, str)
            or kind.lower() != "bearer"
            or not isinstance(lifetime, int)
            or isinstance(lifetime, bool)
            or lifetime <= 0
        ):
            raise TokenUnavailable("token endpoint answered an unusable token")
        lifetime = min(lifetime, 24 * 3600)
        margin = min(self.refresh_margin_s, lifetime / 2)
        return _Issued(token, started + lifetime, started + lifetime - margin)
