"""The Slack app in HTTP mode on 127.0.0.1 against the Web API stand-in, for tests."""

from __future__ import annotations

import contextlib
import tempfile
import threading
from pathlib import Path
from typing import Any

from bot.assistant.service import Assistant
from bot.bench.slack_requests import SlackSender
from bot.bench.slack_standin import SlackStandIn
from bot.config import Settings
from bot.inbound.server import serve_http
from bot.slack.app import build_runtime, create_app
from bot.slack.http import SlackWsgi
from bot.slack.runtime import SlackRuntime
from bot.slack.serve import health
from bot.store.db import Database, open_database

SECRET = "test-signing-secret"


class SlackHarness:
    def __init__(
        self,
        assistant: Assistant,
        database_url: str,
        *,
        db: Database | None = None,
        **settings: Any,
    ) -> None:
        self.standin = SlackStandIn().start()
        env: dict[str, Any] = {
            "SLACK_BOT_TOKEN": self.standin.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.standin.api_url,
            "DATABASE_URL": database_url,
            "ITAKU_DATA_DIR": assistant.settings.data_dir,
            "ITAKU_SLACK_RETRIES": 3,
        }
        # each harness its own anchor file, as each deployment has (a fresh database beside an
        # older anchor is reported as a truncated trail)
        anchor_dir = Path(tempfile.mkdtemp(prefix="itaku-anchor-"))
        env["ITAKU_AUDIT_ANCHOR"] = anchor_dir / "audit-anchor.log"
        env.update(settings)
        self.settings = Settings(**env)
        self.db = db or open_database(database_url)
        self.rt: SlackRuntime = build_runtime(self.settings, assistant=assistant, db=self.db)
        self.app = create_app(self.rt)
        self.wsgi = wsgi = SlackWsgi(
            self.app, SECRET, self.settings.slack_max_body_bytes, lambda: health(self.rt)
        )
        self.server = serve_http(
            wsgi,
            "127.0.0.1",
            0,
            8,
            self.settings.slack_drain_body_bytes,
            self.settings.http_connections,
            self.settings.http_read_timeout,
        )
        self.base = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        self.sender = SlackSender(self.base + "/slack/events", SECRET)

    def _serve(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.server.run()

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until every queued job has finished."""
        return self.rt.runner.wait_idle(timeout)

    def answers_in(self, channel: str, thread_ts: str) -> list[Any]:
        return self.standin.thread(channel, thread_ts)

    def close(self) -> None:
        self.server.close()
        self.rt.runner.shutdown(timeout=5)
        self.standin.stop()


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'itaku.db'}"
