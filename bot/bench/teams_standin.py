"""An offline stand-in for Microsoft's side of a Teams bot, for tests and benchmarks.

`TeamsStandIn` is a small HTTP server on 127.0.0.1 that plays three parts:

- the Entra ID (AAD) token endpoint: POST /{tenant}/oauth2/v2.0/token, client credentials in, an
  opaque bearer token out (`token_url` is TEAMS_TOKEN_URL for the app under test);
- the Bot Connector under `service_url`: send (POST /v3/conversations/{id}/activities), reply
  (POST …/activities/{activityId}), update (PUT), delete (DELETE), create a 1:1 conversation
  (POST /v3/conversations) and get a member (GET /v3/conversations/{id}/members/{userId}). Each
  call must carry a token it issued (401 otherwise); it keeps what was sent (`activities`);
- the user's OneDrive upload session behind a file consent card: PUT /upload/{name} with the whole
  file and its Content-Range, no token (`upload_info` is what an accepted consent carries); it keeps
  each upload that arrived (`uploads`);
- the Bot Framework's OpenID metadata and JWKS, made from RSA keys generated here
  (`openid_metadata_url` is TEAMS_OPENID_METADATA_URL), and `mint` signs the inbound tokens the
  Bot Framework would send, with any claim overridden, so tests can send valid, forged, expired,
  wrong-audience… tokens. Keys rotate (`rotate`), may be retired, and list endorsements.

It records every call (`calls`, `token_requests`), and fails on demand (`fail`: the next N calls of
a route answer 429 with Retry-After, a 5xx, or drop the connection, optionally after a delay).

    with TeamsStandIn() as teams:
        tokens = ConnectorTokens(teams.app_id, teams.app_password, token_url=teams.token_url)
        ...  # POST teams.service_url + "v3/conversations/a%3A1/activities" with tokens.token()
        assert teams.calls_to("send")[0].body["text"] == "..."

Not Microsoft: only the fields bots usually read are returned, and most arguments are taken on
trust. Request bodies must carry a Content-Length (no chunked uploads).
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import re
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bot.bench.local_server import Fault, LocalServer, Reply, ReplyHandler, json_reply

SERVICE_PATH = "/amer/"  # Teams' service URLs have a regional path: clients must keep it
CONNECTOR_SCOPE = "https://api.botframework.com/.default"
MULTI_TENANT = "botframework.com"
GONE_CONVERSATION = "a:gone"  # a conversation id prefix answered 403 (the bot was removed)
GONE_USER = "29:gone"  # a user id prefix answered 404 (not a member)
METADATA_PATH = "/v1/.well-known/openidconfiguration"
JWKS_PATH = "/v1/.well-known/keys"

# Routes, as `fail` and `calls_to` name them.
CONNECTOR_ROUTES = frozenset({"send", "reply", "update", "delete", "create_conversation", "member"})
ROUTES = CONNECTOR_ROUTES | {"token", "metadata", "jwks", "upload"}
UPLOAD_PATH = "/upload/"
_CONTENT_RANGE = re.compile(r"^bytes 0-(\d+)/(\d+)$")

_ID_BASE = 1_700_000_000_000  # activity ids look like Teams' (a millisecond timestamp)
_FAULT_CODES = {
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
}


@dataclass(frozen=True)
class ConnectorCall:
    """One Bot Connector call that reached the stand-in (not an injected failure)."""

    route: str  # one of CONNECTOR_ROUTES
    method: str
    conversation_id: str | None
    activity_id: str | None  # the activity replied to, updated or deleted
    user_id: str | None  # for "member"
    body: dict[str, Any] | None  # the JSON body, if it was an object
    authorized: bool  # carried a token the stand-in issued and that had not expired
    at: float  # time.monotonic()


@dataclass(frozen=True)
class Upload:
    """One PUT to an upload session that reached the stand-in (accepted or not)."""

    name: str
    data: bytes
    content_range: str | None
    authorization: bool  # carried an Authorization header (an upload URL needs none)
    accepted: bool  # a whole file with a matching Content-Range
    at: float


@dataclass(frozen=True)
class TokenRequest:
    """One client-credentials request (the secret is checked, never kept)."""

    tenant: str
    client_id: str | None
    scope: str | None
    granted: bool
    at: float


@dataclass
class SentActivity:
    """An activity the bot sent, as the conversation shows it."""

    id: str
    conversation_id: str
    activity: dict[str, Any]  # as sent (the latest version, after updates)
    reply_to_id: str | None
    updates: int = 0
    deleted: bool = False


@dataclass
class TestKey:
    """An RSA key pair whose public half the JWKS may list (`published`)."""

    __test__ = False  # not a pytest class

    kid: str
    private_key: rsa.RSAPrivateKey
    endorsements: list[str] | None = None
    published: bool = True

    def jwk(self) -> dict[str, Any]:
        numbers = self.private_key.public_key().public_numbers()
        entry: dict[str, Any] = {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": _b64_uint(numbers.n),
            "e": _b64_uint(numbers.e),
        }
        if self.endorsements is not None:
            entry["endorsements"] = list(self.endorsements)
        return entry


def _b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def _b64_json(value: dict[str, Any]) -> bytes:
    return _b64(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _b64_uint(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big")).decode("ascii")


def new_key(endorsements: Iterable[str] | None = ("msteams",), published: bool = True) -> TestKey:
    """A fresh 2048-bit key pair with a random kid."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    listed = None if endorsements is None else list(endorsements)
    return TestKey(secrets.token_urlsafe(16), private, listed, published)


def _error(status: int, code: str, message: str) -> Reply:
    return json_reply({"error": {"code": code, "message": message}}, status)


def _aad_error(status: int, error: str, description: str) -> Reply:
    return json_reply({"error": error, "error_description": description}, status)


class TeamsStandIn(LocalServer):
    """A local HTTP server that behaves enough like Entra ID, the Bot Connector and the Bot
    Framework's key endpoints to run a Teams bot offline."""

    handler = ReplyHandler
    thread_name = "teams-standin"

    def __init__(
        self,
        app_id: str = "00000000-0000-4000-8000-0000000017a1",
        app_password: str = "standin-client-secret",
        tenant_id: str = "00000000-0000-4000-8000-000000007e17",
        token_lifetime_s: int = 3600,
        endorsements: Iterable[str] | None = ("msteams",),
    ) -> None:
        super().__init__()
        self.app_id = app_id
        self.app_password = app_password
        self.tenant_id = tenant_id
        self.token_lifetime_s = token_lifetime_s
        self.bot_id = f"28:{app_id}"
        self.calls: list[ConnectorCall] = []
        self.token_requests: list[TokenRequest] = []
        self.failures: list[tuple[str, int]] = []  # (route, status; 0 for a dropped connection)
        self.activities: dict[tuple[str, str], SentActivity] = {}
        self.members: dict[str, dict[str, Any]] = {}  # user id -> the profile "member" returns
        self.uploads: list[Upload] = []
        self.metadata_fetches = 0
        self.jwks_fetches = 0
        self.keys: list[TestKey] = [new_key(endorsements)]
        self._forger: TestKey | None = None
        self._issued: dict[str, float] = {}  # token -> time.monotonic() it expires
        self._conversations: dict[tuple[str, str], str] = {}  # (tenant, user) -> 1:1 conversation
        self._lock = threading.Lock()
        self._faults: dict[str, deque[Fault]] = {}
        self._latency = 0.0
        self._counter = 0

    # -- addresses -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def upload_info(self, name: str) -> dict[str, Any]:
        """The uploadInfo of an accepted file consent for a file called `name`, as Teams sends
        it: the upload session URL is this stand-in's (PUT /upload/{name})."""
        ext = name.rpartition(".")[2] if "." in name else ""
        return {
            "name": name,
            "uploadUrl": self.base_url + UPLOAD_PATH + quote(name, safe=""),
            "contentUrl": "https://contoso-my.sharepoint.com/personal/standin/Documents/"
            + "Applications/Itaku/"
            + quote(name, safe=""),
            "uniqueId": str(uuid.uuid5(uuid.NAMESPACE_URL, name)).upper(),
            "fileType": ext,
        }

    def uploaded(self, name: str | None = None) -> list[Upload]:
        """The accepted uploads (of `name`), in order."""
        with self._lock:
            return [u for u in self.uploads if u.accepted and name in (None, u.name)]

    @property
    def service_url(self) -> str:
        """The serviceUrl of the activities it stands in for (with a path, as Teams' have)."""
        return self.base_url + SERVICE_PATH

    @property
    def token_url(self) -> str:
        """For TEAMS_TOKEN_URL: `{tenant}` is filled in by the client."""
        return self.base_url + "/{tenant}/oauth2/v2.0/token"

    @property
    def openid_metadata_url(self) -> str:
        return self.base_url + METADATA_PATH

    @property
    def jwks_url(self) -> str:
        return self.base_url + JWKS_PATH

    @property
    def issuer(self) -> str:
        """The issuer its metadata names, and that minted tokens carry by default."""
        return self.base_url

    # -- keys and inbound tokens -----------------------------------------------------------------

    @property
    def signing_key(self) -> TestKey:
        """The key `mint` signs with by default: the newest published one."""
        with self._lock:
            return next(k for k in reversed(self.keys) if k.published)

    @property
    def forger(self) -> TestKey:
        """A key that is never published: sign with it under a published kid to forge."""
        with self._lock:
            if self._forger is None:
                self._forger = new_key(published=False)
            return self._forger

    def rotate(
        self, endorsements: Iterable[str] | None = ("msteams",), retire: bool = False
    ) -> TestKey:
        """Publish a new key, which `mint` then signs with; `retire` unpublishes the others."""
        key = new_key(endorsements)
        with self._lock:
            if retire:
                for old in self.keys:
                    old.published = False
            self.keys.append(key)
        return key

    def retire(self, kid: str) -> None:
        """The key with this kid leaves the JWKS."""
        with self._lock:
            for key in self.keys:
                if key.kid == kid:
                    key.published = False

    def mint(
        self,
        *,
        aud: str | None = None,
        iss: str | None = None,
        exp: float | None = None,
        nbf: float | None = None,
        iat: float | None = None,
        service_url: str | None = None,
        kid: str | None = None,
        key: TestKey | None = None,
        omit: Iterable[str] = (),
        extra: dict[str, Any] | None = None,
    ) -> str:
        """A token as the Bot Framework sends with an activity: RS256 with `key` (default: the
        current signing key) under `kid` (default: that key's), for `aud` (default: the app id)
        from `iss` (default: this stand-in's issuer), valid from a minute ago for an hour, with
        the serviceurl claim (default: `service_url`). `omit` drops claims or the header's kid
        ("kid"); `extra` adds claims."""
        signer = key or self.signing_key
        now = time.time()
        claims: dict[str, Any] = {
            "serviceurl": self.service_url if service_url is None else service_url,
            "nbf": int(now - 60 if nbf is None else nbf),
            "exp": int(now + 3600 if exp is None else exp),
            "iat": int(now - 60 if iat is None else iat),
            "iss": self.issuer if iss is None else iss,
            "aud": self.app_id if aud is None else aud,
            **(extra or {}),
        }
        header: dict[str, Any] = {
            "alg": "RS256",
            "typ": "JWT",
            "kid": signer.kid if kid is None else kid,
        }
        for name in omit:
            claims.pop(name, None)
            if name == "kid":
                header.pop("kid")
        # signed here rather than by PyJWT, which will not encode some of the wrong claims
        # (a non-string iss) that tests need to send
        signing_input = _b64_json(header) + b"." + _b64_json(claims)
        signature = signer.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return (signing_input + b"." + _b64(signature)).decode("ascii")

    def activity(
        self,
        text: str = "再委託の条件は？",
        *,
        kind: str = "message",
        user_id: str = "29:1standin-user",
        conversation_id: str = "a:1standin-personal",
        tenant_id: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """An inbound activity as the Bot Framework would send it to the bot (a personal chat
        message by default); `fields` are added or replace what is there."""
        with self._lock:
            self._counter += 1
            activity_id = str(_ID_BASE + self._counter)
        tenant = self.tenant_id if tenant_id is None else tenant_id
        body: dict[str, Any] = {
            "type": kind,
            "id": activity_id,
            "timestamp": "2026-12-01T00:00:00.000Z",
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "from": {
                "id": user_id,
                "name": "委託 太郎",
                "aadObjectId": str(uuid.uuid5(uuid.NAMESPACE_URL, user_id)),
            },
            "conversation": {
                "id": conversation_id,
                "conversationType": "personal",
                "tenantId": tenant,
            },
            "recipient": {"id": self.bot_id, "name": "Itaku"},
            "channelData": {"tenant": {"id": tenant}},
            "locale": "ja-JP",
        }
        if kind == "message":
            body["text"] = text
            body["textFormat"] = "plain"
        body.update(fields)
        return body

    # -- inspection ----------------------------------------------------------------------------

    def calls_to(self, route: str) -> list[ConnectorCall]:
        with self._lock:
            return [c for c in self.calls if c.route == route]

    def sent(self, conversation_id: str) -> list[SentActivity]:
        """What the bot sent to a conversation and did not delete, in order."""
        with self._lock:
            found = [
                a
                for (conversation, _), a in self.activities.items()
                if conversation == conversation_id and not a.deleted
            ]
        return sorted(found, key=lambda a: int(a.id))

    @property
    def last_token(self) -> str | None:
        """The newest token issued."""
        with self._lock:
            return next(reversed(self._issued), None)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll `predicate` every 10 ms until it holds (True) or `timeout` seconds pass (False)."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    # -- control ---------------------------------------------------------------------------------

    def fail(
        self,
        route: str,
        status: int = 503,
        times: int = 1,
        retry_after: float | None = None,
        drop: bool = False,
        delay: float = 0.0,
    ) -> None:
        """Make the next `times` calls to `route` (one of ROUTES) fail, queued after earlier
        faults for it. 429 sends Retry-After (`retry_after`, default 1, rounded up to whole
        seconds); `drop` closes the connection without a response; `delay` waits first. Failed
        calls are recorded in `failures`, not in `calls`."""
        if route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; one of {sorted(ROUTES)}")
        if times <= 0:
            return
        with self._lock:
            self._faults.setdefault(route, deque()).append(
                Fault(status, times, retry_after, drop, delay)
            )

    def set_latency(self, seconds: float) -> None:
        """Every call waits this long before it is answered."""
        self._latency = max(0.0, seconds)

    def expire_tokens(self) -> None:
        """Every token issued so far is expired: the Connector answers 401 to them."""
        with self._lock:
            for token in self._issued:
                self._issued[token] = 0.0

    def heal(self) -> None:
        """Drop the faults still queued."""
        with self._lock:
            self._faults.clear()

    def reset(self) -> None:
        """Forget calls, token requests, failures, activities and queued faults (not keys,
        tokens or latency)."""
        with self._lock:
            self.calls.clear()
            self.token_requests.clear()
            self.failures.clear()
            self.activities.clear()
            self.uploads.clear()
            self._faults.clear()
            self.metadata_fetches = self.jwks_fetches = 0

    # -- request handling (called from server threads) -------------------------------------------

    def _handle(
        self, command: str, path: str, headers: dict[str, str], body: bytes
    ) -> Reply | None:
        try:
            return self._dispatch(command, path, headers, body)
        except Exception as exc:  # a bug here must not look like a dropped connection
            return _error(500, "StandInBug", repr(exc))

    def _dispatch(
        self, command: str, path: str, headers: dict[str, str], body: bytes
    ) -> Reply | None:
        route, parts = _route(command, urlsplit(path).path)
        if route is None:
            return _error(404, "NotFound", "no such route")
        if self._latency > 0:
            self._stopping.wait(self._latency)
        fault = self._take_fault(route)
        if fault is not None:
            return self._fault_reply(route, fault)
        if route == "metadata":
            with self._lock:
                self.metadata_fetches += 1
            return json_reply(self._metadata())
        if route == "jwks":
            with self._lock:
                self.jwks_fetches += 1
                keys = [k.jwk() for k in self.keys if k.published]
            return json_reply({"keys": keys})
        if route == "token":
            return self._token(parts[0], headers, body)
        if route == "upload":
            return self._upload(parts[0], headers, body)
        return self._connector(route, command, parts, headers, body)

    def _take_fault(self, route: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(route)
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.popleft()
            self.failures.append((route, 0 if fault.drop else fault.status))
        return fault

    def _fault_reply(self, route: str, fault: Fault) -> Reply | None:
        if fault.delay > 0:
            self._stopping.wait(fault.delay)
        if fault.drop:
            return None
        code = _FAULT_CODES.get(fault.status, f"Http{fault.status}")
        reply = (
            _aad_error(fault.status, "temporarily_unavailable", "injected failure")
            if route == "token"
            else _error(fault.status, code, "injected failure")
        )
        if fault.status == 429:
            wait = 1.0 if fault.retry_after is None else max(0.0, fault.retry_after)
            reply.headers["Retry-After"] = str(math.ceil(wait))
        return reply

    def _metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.base_url + "/v1/.well-known/authorize",
            "jwks_uri": self.jwks_url,
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }

    # -- the token endpoint ----------------------------------------------------------------------

    def _token(self, tenant: str, headers: dict[str, str], body: bytes) -> Reply:
        lower = {k.lower(): v for k, v in headers.items()}
        form = lower.get("content-type", "").split(";")[0].strip().lower()
        params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, scope = params.get("client_id"), params.get("scope")

        def refuse(status: int, error: str, description: str) -> Reply:
            with self._lock:
                self.token_requests.append(
                    TokenRequest(tenant, client_id, scope, False, time.monotonic())
                )
            return _aad_error(status, error, description)

        if tenant not in (self.tenant_id, MULTI_TENANT):
            return refuse(400, "invalid_tenant", "AADSTS90002: tenant not found")
        if form != "application/x-www-form-urlencoded":
            return refuse(400, "invalid_request", "AADSTS900144: the body must be a form")
        if params.get("grant_type") != "client_credentials":
            return refuse(400, "unsupported_grant_type", "AADSTS70003: unsupported grant type")
        if client_id != self.app_id or not secrets.compare_digest(
            params.get("client_secret", "").encode(), self.app_password.encode()
        ):
            return refuse(401, "invalid_client", "AADSTS7000215: invalid client secret")
        if scope != CONNECTOR_SCOPE:
            return refuse(400, "invalid_scope", "AADSTS70011: invalid scope")
        token = "standin." + secrets.token_urlsafe(32)
        with self._lock:
            self._issued[token] = time.monotonic() + self.token_lifetime_s
            self.token_requests.append(
                TokenRequest(tenant, client_id, scope, True, time.monotonic())
            )
        return json_reply(
            {
                "token_type": "Bearer",
                "expires_in": self.token_lifetime_s,
                "ext_expires_in": self.token_lifetime_s,
                "access_token": token,
            }
        )

    # -- the upload session ---------------------------------------------------------------------

    def _upload(self, name: str, headers: dict[str, str], body: bytes) -> Reply:
        """The whole file in one PUT, as a OneDrive upload session takes a last (here: only)
        fragment: Content-Range "bytes 0-{n-1}/{n}" matching the body; 201 with the item."""
        lower = {k.lower(): v for k, v in headers.items()}
        content_range = lower.get("content-range")
        match = _CONTENT_RANGE.match(content_range or "")
        accepted = (
            match is not None
            and len(body) > 0
            and int(match.group(1)) == len(body) - 1
            and int(match.group(2)) == len(body)
        )
        with self._lock:
            self.uploads.append(
                Upload(
                    name,
                    bytes(body),
                    content_range,
                    "authorization" in lower,
                    accepted,
                    time.monotonic(),
                )
            )
        if not accepted:
            return _error(400, "invalidRange", "Content-Range must cover the whole body")
        item = {"id": uuid.uuid5(uuid.NAMESPACE_URL, name).hex, "name": name, "size": len(body)}
        return json_reply(item, 201)

    # -- the Bot Connector -----------------------------------------------------------------------

    def _connector(
        self,
        route: str,
        command: str,
        parts: list[str],
        headers: dict[str, str],
        raw: bytes,
    ) -> Reply:
        lower = {k.lower(): v for k, v in headers.items()}
        scheme, _, token = lower.get("authorization", "").partition(" ")
        body: dict[str, Any] | None = None
        if raw.strip():
            with contextlib.suppress(ValueError, RecursionError):
                decoded = json.loads(raw)
                body = decoded if isinstance(decoded, dict) else None
        conversation = parts[0] if parts else None
        activity_id = parts[1] if route in ("reply", "update", "delete") else None
        user_id = parts[1] if route == "member" else None
        with self._lock:
            expires = self._issued.get(token.strip()) if scheme.lower() == "bearer" else None
            authorized = expires is not None and time.monotonic() < expires
            self.calls.append(
                ConnectorCall(
                    route,
                    command,
                    conversation,
                    activity_id,
                    user_id,
                    body,
                    authorized,
                    time.monotonic(),
                )
            )
            if not authorized:
                return json_reply(
                    {"message": "Authorization has been denied for this request."}, 401
                )
            if conversation is not None and conversation.startswith(GONE_CONVERSATION):
                return _error(403, "BotNotInConversationRoster", "the bot is not in it")
            if route == "member":
                return self._member(user_id or "")
            if route == "delete":
                return self._delete(conversation or "", activity_id or "")
            if body is None:
                return _error(400, "BadArgument", "the body must be a JSON object")
            if route == "create_conversation":
                return self._create_conversation(body)
            if not isinstance(body.get("type"), str):
                return _error(400, "BadArgument", "the activity has no type")
            if route == "update":
                return self._update(conversation or "", activity_id or "", body)
            return self._store(conversation or "", body, activity_id)

    def _next_id(self) -> str:
        self._counter += 1
        return str(_ID_BASE + self._counter)

    def _store(self, conversation: str, body: dict[str, Any], reply_to: str | None) -> Reply:
        sent = SentActivity(self._next_id(), conversation, body, reply_to or body.get("replyToId"))
        self.activities[(conversation, sent.id)] = sent
        return json_reply({"id": sent.id})

    def _update(self, conversation: str, activity_id: str, body: dict[str, Any]) -> Reply:
        sent = self.activities.get((conversation, activity_id))
        if sent is None or sent.deleted:
            return _error(404, "NotFound", "no such activity")
        sent.activity = body
        sent.updates += 1
        return json_reply({"id": activity_id})

    def _delete(self, conversation: str, activity_id: str) -> Reply:
        sent = self.activities.get((conversation, activity_id))
        if sent is None or sent.deleted:
            return _error(404, "NotFound", "no such activity")
        sent.deleted = True
        return Reply(200, b"")

    def _create_conversation(self, body: dict[str, Any]) -> Reply:
        members = body.get("members")
        first = members[0] if isinstance(members, list) and members else None
        user = first.get("id") if isinstance(first, dict) else None
        if not isinstance(user, str) or not user:
            return _error(400, "BadArgument", "members must name the user")
        if user.startswith(GONE_USER):
            return _error(403, "Forbidden", "the user cannot be reached")
        data = body.get("channelData")
        tenant = body.get("tenantId")
        if not isinstance(tenant, str) and isinstance(data, dict):
            info = data.get("tenant")
            tenant = info.get("id") if isinstance(info, dict) else None
        if not isinstance(tenant, str) or not tenant:
            return _error(400, "BadArgument", "a tenant id is required")
        key = (tenant, user)
        conversation = self._conversations.get(key)
        if conversation is None:  # Teams gives the same 1:1 chat to the same bot and user
            conversation = self._conversations[key] = f"a:1standin-{len(self._conversations) + 1}"
        out: dict[str, Any] = {"id": conversation}
        activity = body.get("activity")
        if isinstance(activity, dict):
            sent = SentActivity(self._next_id(), conversation, activity, None)
            self.activities[(conversation, sent.id)] = sent
            out["activityId"] = sent.id
        return json_reply(out, 201)

    def _member(self, user: str) -> Reply:
        if not user or user.startswith(GONE_USER):
            return _error(404, "MemberNotFoundInConversation", "no such member")
        profile = self.members.get(user)
        if profile is None:
            aad = str(uuid.uuid5(uuid.NAMESPACE_URL, user))
            profile = {
                "id": user,
                "name": "委託 太郎",
                "aadObjectId": aad,
                "givenName": "太郎",
                "surname": "委託",
                "email": f"{aad[:8]}@example.test",
                "userPrincipalName": f"{aad[:8]}@example.test",
                "tenantId": self.tenant_id,
                "userRole": "user",
            }
        return json_reply(profile)


def _route(command: str, path: str) -> tuple[str | None, list[str]]:
    """The route a request is for, and its path parameters (unquoted)."""
    if path == METADATA_PATH and command == "GET":
        return "metadata", []
    if path == JWKS_PATH and command == "GET":
        return "jwks", []
    segments = path.split("/")
    if (
        command == "POST"
        and len(segments) == 5
        and segments[0] == ""
        and segments[2:] == ["oauth2", "v2.0", "token"]
        and segments[1]
    ):
        return "token", [unquote(segments[1])]
    if path.startswith(UPLOAD_PATH) and command == "PUT":
        name = unquote(path[len(UPLOAD_PATH) :])
        return ("upload", [name]) if name and "/" not in name else (None, [])
    if not path.startswith(SERVICE_PATH + "v3/conversations"):
        return None, []
    rest = [unquote(s) for s in path[len(SERVICE_PATH) + len("v3/conversations") :].split("/")]
    if rest == [""] and command == "POST":
        return "create_conversation", []
    if len(rest) < 3 or rest[0] != "" or not rest[1]:
        return None, []
    conversation, tail = rest[1], rest[2:]
    if tail == ["activities"] and command == "POST":
        return "send", [conversation]
    if len(tail) == 2 and tail[0] == "activities" and tail[1]:
        route = {"POST": "reply", "PUT": "update", "DELETE": "delete"}.get(command)
        return (route, [conversation, tail[1]]) if route else (None, [])
    if len(tail) == 2 and tail[0] == "members" and tail[1] and command == "GET":
        return "member", [conversation, tail[1]]
    return None, []
