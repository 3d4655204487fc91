"""The HTTP server of `itaku serve`, whatever the platforms it serves: waitress, with the limits
that keep hostile clients from exhausting it, and a router when Slack and Teams share one port."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any, Protocol

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def status_line(code: int) -> str:
    """A WSGI status line ("413 Payload Too Large")."""
    return f"{code} {_REASONS.get(code, 'Status')}"


class _Sized(Protocol):
    """A WSGI app that knows the largest body it reads."""

    max_body: int

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]: ...


class Routes:
    """WSGI apps by path prefix (Slack's /slack/…, Teams' /api/messages); /healthz goes to the
    first. Its max_body is the largest of theirs (each still enforces its own)."""

    def __init__(self, apps: dict[str, _Sized]) -> None:
        self.apps = apps
        self.max_body = max(a.max_body for a in apps.values())

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        for prefix, app in self.apps.items():
            if path.startswith(prefix):
                return app(environ, start_response)
        return next(iter(self.apps.values()))(environ, start_response)


def serve_http(
    wsgi: _Sized,
    host: str,
    port: int,
    threads: int,
    drain_body: int,
    connections: int = 500,
    read_timeout: float = 15.0,
) -> Any:
    """A waitress server (not yet running): call .run() to serve, .close() to stop.
    Port 0 picks a free port: read it from .effective_port.

    waitress reads a whole request (spooling a large body to a temporary file) before it calls
    the app, up to `drain_body` bytes: within that, an oversized body is read, then answered 413
    by the app, so the client sees the reply instead of a reset. A Content-Length beyond it is
    answered 413 by waitress at once and the connection closed (nothing is read).

    Slow clients: waitress hands a request to a worker thread only once it has arrived whole, so
    a client that never finishes its body holds a connection, not a thread. Up to `connections`
    are held at once (beyond that waitress stops accepting, which is what starved /healthz at
    waitress's default of 100), and one idle for `read_timeout` seconds is closed. Waitress has
    no per-client limit: behind a proxy, limit connections per client there (README)."""
    from waitress.server import create_server

    return create_server(
        wsgi,
        host=host,
        port=port,
        threads=threads,
        max_request_body_size=max(drain_body, wsgi.max_body),
        connection_limit=connections,
        channel_timeout=read_timeout,
        cleanup_interval=max(1, int(read_timeout // 3)),
        ident="itaku",
        clear_untrusted_proxy_headers=True,
    )


def on_stop(stop: Callable[[], object]) -> None:
    """SIGTERM and SIGINT call `stop` (close the server, or end the wait)."""

    def handle(_sig: int, _frame: FrameType | None) -> None:
        stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handle)
