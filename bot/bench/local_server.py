"""What every local stand-in shares: an HTTP server on 127.0.0.1 (any free port) served from a
daemon thread, with start / stop / `with` / port. The subclass gives the request handler and
answers requests in its `_handle`."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self


class StandInServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for handlers sleeping out a delay
    request_queue_size = 128  # bursts of concurrent clients must not be refused

    def __init__(self, owner: Any, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.standin = owner

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up are not our concern; handler bugs are answered with a 500


class StandInHandler(BaseHTTPRequestHandler):
    """Reads each request whole and hands it to the stand-in's `_handle`; the subclass sends
    what comes back (`reply`)."""

    protocol_version = "HTTP/1.1"  # keep-alive for clients that pool connections
    disable_nagle_algorithm = True  # headers, body and stream chunks leave at once

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        server = self.server
        assert isinstance(server, StandInServer)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        response = server.standin._handle(self.command, self.path, dict(self.headers.items()), body)
        try:
            if response is None:  # an injected dropped connection: nothing at all
                self.close_connection = True
            else:
                self.reply(server.standin, response)
        except OSError:  # the client went away
            self.close_connection = True

    def reply(self, standin: Any, response: Any) -> None:
        raise NotImplementedError

    def send_whole(
        self, status: int, content_type: str, body: bytes, headers: dict[str, str]
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()


class LocalServer:
    handler: ClassVar[type[StandInHandler]]
    thread_name: ClassVar[str] = "standin"

    def __init__(self) -> None:
        self._server: StandInServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()  # set by stop(): sleeping handlers hang up

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = StandInServer(self, self.handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # stop() waits for one poll
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        self._stopping.set()
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return int(self._server.server_address[1])


@dataclass
class Fault:
    """A failure a stand-in answers the next calls of a route with."""

    status: int
    remaining: int
    retry_after: float | None
    drop: bool
    delay: float


@dataclass
class Reply:
    """A stand-in's answer to one call."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(payload: object, status: int = 200) -> Reply:
    return Reply(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


class ReplyHandler(StandInHandler):
    """Sends a stand-in's Reply whole."""

    def reply(self, standin: Any, response: Any) -> None:
        assert isinstance(response, Reply)
        self.send_whole(response.status, response.content_type, response.body, response.headers)
        self.wfile.write(response.body)
