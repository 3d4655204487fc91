"""The Teams adapter on 127.0.0.1 against the Bot Connector stand-in, for tests."""

from __future__ import annotations

import contextlib
import http.client
import json
import tempfile
import threading
from pathlib import Path
from typing import Any

from bot.assistant.service import Assistant
from bot.bench.teams_standin import TeamsStandIn
from bot.config import Settings
from bot.inbound.server import serve_http
from bot.store.db import Database, open_database
from bot.teams.app import build_runtime
from bot.teams.runtime import TeamsRuntime
from bot.teams.serve import teams_wsgi


class TeamsHarness:
    def __init__(
        self,
        assistant: Assistant,
        database_url: str,
        *,
        db: Database | None = None,
        standin: TeamsStandIn | None = None,
        **settings: Any,
    ) -> None:
        self.standin = standin or TeamsStandIn().start()
        anchor_dir = Path(tempfile.mkdtemp(prefix="itaku-anchor-"))
        env: dict[str, Any] = {
            "TEAMS_APP_ID": self.standin.app_id,
            "TEAMS_APP_PASSWORD": self.standin.app_password,
            "TEAMS_TENANT_ID": self.standin.tenant_id,
            "TEAMS_OPENID_METADATA_URL": self.standin.openid_metadata_url,
            "TEAMS_TOKEN_URL": self.standin.token_url,
            "DATABASE_URL": database_url,
            "ITAKU_DATA_DIR": assistant.settings.data_dir,
            "ITAKU_AUDIT_ANCHOR": anchor_dir / "audit-anchor.log",
        }
        env.update(settings)
        self.settings = Settings(**env)
        self.db = db or open_database(database_url)
        self.rt: TeamsRuntime = build_runtime(self.settings, assistant=assistant, db=self.db)
        self.rt.connector.backoff_s = 0.05
        self.wsgi = teams_wsgi(self.rt)
        self.server = serve_http(
            self.wsgi,
            "127.0.0.1",
            0,
            8,
            self.settings.slack_drain_body_bytes,
            self.settings.http_connections,
            self.settings.http_read_timeout,
        )
        self.port = int(self.server.effective_port)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.server.run()

    def post(
        self, activity: dict[str, Any] | bytes, token: str | None = None, auth: bool = True
    ) -> tuple[int, Any]:
        """POST an activity to /api/messages with a valid token (or `token`); (status, JSON)."""
        body = activity if isinstance(activity, bytes) else json.dumps(activity).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = "Bearer " + (token or self.standin.mint())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("POST", "/api/messages", body=body, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        return response.status, json.loads(raw) if raw.strip() else None

    def settle(self, timeout: float = 15.0) -> bool:
        return self.rt.runner.wait_idle(timeout)

    def close(self) -> None:
        self.server.close()
        self.rt.runner.shutdown(timeout=5)
        self.rt.connector.close()
        self.standin.stop()
