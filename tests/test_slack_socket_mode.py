"""Socket Mode for real: Bolt's Socket Mode client gets its URL from the Web API stand-in
(apps.connections.open with the app-level token) and talks to a WebSocket server on 127.0.0.1."""

from __future__ import annotations

import json
import queue
import threading
from pathlib import Path
from typing import Any

from websockets.sync.server import ServerConnection, serve

from bot.assistant.service import Assistant
from bot.bench.slack_requests import SlackSender, dm_event
from bot.bench.slack_standin import SlackStandIn
from bot.config import Settings
from bot.slack.app import build_runtime
from bot.slack.serve import connect_socket
from bot.store.db import open_database


def test_socket_mode_answers_and_acknowledges_each_envelope(
    bundled_assistant: Assistant, tmp_path: Path
) -> None:
    acks: queue.Queue[dict[str, Any]] = queue.Queue()
    event = json.loads(
        SlackSender("unused", "unused").event_body(
            dm_event("再委託の条件は？", ts="1700003000.1"), "EvSOCK"
        )
    )
    envelope = {
        "envelope_id": "env-1",
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": 0,
        "retry_reason": "",
        "payload": event,
    }
    retried = {**envelope, "envelope_id": "env-2", "retry_attempt": 1, "retry_reason": "timeout"}

    def session(ws: ServerConnection) -> None:
        ws.send(
            json.dumps(
                {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0ITAKU"}}
            )
        )
        ws.send(json.dumps(envelope))
        ws.send(json.dumps(retried))
        for raw in ws:
            acks.put(json.loads(raw))

    with SlackStandIn() as standin, serve(session, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        standin.socket_url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}/link"
        settings = Settings(  # type: ignore[call-arg]
            SLACK_BOT_TOKEN=standin.bot_token,
            SLACK_APP_TOKEN=standin.app_token,
            SLACK_API_URL=standin.api_url,
            ITAKU_DATA_DIR=bundled_assistant.settings.data_dir,
        )
        rt = build_runtime(
            settings, assistant=bundled_assistant, db=open_database(f"sqlite:///{tmp_path / 'db'}")
        )
        handler = connect_socket(rt, standin.app_token)
        try:
            got = {acks.get(timeout=10)["envelope_id"], acks.get(timeout=10)["envelope_id"]}
            assert got == {"env-1", "env-2"}
            assert standin.wait_for(lambda: len(standin.calls_to("chat.update")) == 1, 10)
            assert rt.runner.wait_idle(10)
            assert (
                len(standin.calls_to("chat.postMessage")) == 1
            )  # the retry was not answered again
            [opened] = standin.calls_to("apps.connections.open")
            assert opened.token == standin.app_token
        finally:
            handler.close()
            rt.runner.shutdown(5)
