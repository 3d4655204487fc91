"""`itaku serve`, `itaku manifest` and `itaku report gaps` as an admin runs them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bot.assistant.service import index_if_missing
from bot.bench.slack_requests import SlackSender, dm_event
from bot.bench.slack_standin import SlackStandIn
from bot.config import PROJECT_ROOT, Settings
from bot.slack import manifest
from bot.slack.ids import (
    CLAUSE_COMMAND,
    COMMAND,
    CONTRACTOR_COMMAND,
    INCIDENT_COMMAND,
    NDA_COMMAND,
    SUBCONTRACT_COMMAND,
)
from bot.store.answers import AnswerLog
from bot.store.db import open_database
from tests.test_cli import itaku

SECRET = "cli-secret"


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "SLACK_"))
    }
    env.update(extra)
    return env


def test_serve_without_tokens_says_what_is_missing(tmp_path: Path) -> None:
    for args, missing in ((["serve", "--http"], "SLACK_BOT_TOKEN"), (["serve"], "SLACK_APP_TOKEN")):
        r = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=_env(
                ITAKU_DATA_DIR=str(tmp_path), SLACK_BOT_TOKEN="" if "--http" in args else "xoxb-x"
            ),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 2 and missing in r.stderr and ".env.sample" in r.stderr


def test_serve_without_an_audit_key_refuses_outside_development(tmp_path: Path) -> None:
    base = {
        "ITAKU_DATA_DIR": str(tmp_path),
        "SLACK_BOT_TOKEN": "xoxb-x",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "ITAKU_AUDIT_KEY": "",
    }
    r = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--http", "--port", "0"],
        env=_env(**base),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "ITAKU_AUDIT_KEY" in r.stderr and "ITAKU_ENV" in r.stderr


@pytest.mark.slow
def test_serve_http_process_answers_and_stops_on_sigterm(
    bundled_data_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(bundled_data_dir, data)
    with SlackStandIn() as standin:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--http", "--host", "127.0.0.1", "--port", "0"],
            env=_env(
                ITAKU_DATA_DIR=str(data),
                SLACK_BOT_TOKEN=standin.bot_token,
                SLACK_SIGNING_SECRET=SECRET,
                SLACK_API_URL=standin.api_url,
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().split()[-1]
            assert url.endswith("/slack/events")
            with urllib.request.urlopen(url.replace("/slack/events", "/healthz"), timeout=10) as r:
                assert json.loads(r.read())["ok"] is True
            reply = SlackSender(url, SECRET).event(dm_event("再委託の条件は？", ts="1700002000.1"))
            assert reply.status == 200
            assert standin.wait_for(lambda: len(standin.calls_to("chat.update")) == 1, 30)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        assert (data / "itaku.db").exists()  # SQLite in the data folder by default


def test_first_start_indexes_an_empty_data_folder(small_kb: Path, tmp_path: Path) -> None:
    settings = Settings(ITAKU_DATA_DIR=tmp_path / "empty", ITAKU_KNOWLEDGE_DIR=small_kb)  # type: ignore[call-arg]
    assert index_if_missing(settings) is True
    assert index_if_missing(settings) is False


def test_manifest_matches_what_the_app_handles() -> None:
    data = manifest.load()
    assert [c["command"] for c in data["features"]["slash_commands"]] == [
        COMMAND,
        NDA_COMMAND,
        CLAUSE_COMMAND,
        SUBCONTRACT_COMMAND,
        CONTRACTOR_COMMAND,
        INCIDENT_COMMAND,
    ]
    events = set(data["settings"]["event_subscriptions"]["bot_events"])
    assert events == {
        "app_mention",
        "message.im",
        "app_home_opened",
        "message.channels",
        "message.groups",
    }
    scopes = set(data["oauth_config"]["scopes"]["bot"])
    assert {
        "app_mentions:read",
        "chat:write",
        "commands",
        "im:history",
        "im:write",
        "files:write",
    } <= scopes
    assert data["settings"]["socket_mode_enabled"] is True
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert data["features"]["app_home"]["home_tab_enabled"] is True


def test_manifest_for_http_mode(tmp_path: Path) -> None:
    r = itaku("manifest", "--url", "https://itaku.example.com/", data_dir=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    url = "https://itaku.example.com/slack/events"
    assert data["settings"]["socket_mode_enabled"] is False
    assert data["settings"]["event_subscriptions"]["request_url"] == url
    assert data["settings"]["interactivity"]["request_url"] == url
    assert data["features"]["slash_commands"][0]["url"] == url
    bad = itaku("manifest", "--url", "http://plain.example.com", data_dir=tmp_path)
    assert bad.returncode == 2 and "https" in bad.stderr
    assert json.loads((PROJECT_ROOT / "manifest.json").read_text()) == manifest.load()


def test_report_gaps(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'itaku.db'}")
    log = AnswerLog(db)
    for question, refused in (
        ("GDPRの制裁金は？", True),
        ("GDPRの制裁金は？", True),
        ("監査の頻度は？", False),
    ):
        answer_id = log.record(
            surface="dm",
            conversation=None,
            question=question,
            lang="ja",
            abstained=refused,
            reason=None,
            confidence=0.0,
            answer={},
            trace={},
        )
    log.vote(answer_id, "U1", False)
    db.dispose()
    r = itaku("report", "gaps", data_dir=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "GDPRの制裁金は？" in lines[1] and "監査の頻度は？" in lines[2]
    rows = [
        json.loads(line)
        for line in itaku("report", "gaps", "--json", data_dir=tmp_path).stdout.splitlines()
    ]
    assert [(x["asked"], x["refused"], x["unhelpful"]) for x in rows] == [(2, 2, 0), (1, 0, 1)]
    empty = itaku("report", "gaps", data_dir=tmp_path / "none")
    assert empty.returncode == 0 and "No refused" in empty.stdout


def test_env_sample_documents_every_setting() -> None:
    sample = (PROJECT_ROOT / ".env.sample").read_text(encoding="utf-8")
    documented = {
        line.split("=", 1)[0]
        for line in sample.splitlines()
        if "=" in line and not line.startswith("#")
    }
    expected = {str(field.validation_alias) for field in Settings.model_fields.values()}
    assert expected <= documented, f"undocumented: {sorted(expected - documented)}"
