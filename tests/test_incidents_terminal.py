"""Incidents from the terminal: `itaku incidents list|show` as a user runs them (subprocesses,
a real store), and the incident dialog in `itaku chat`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT
from bot.incidents.intake import IncidentIntake
from bot.incidents.service import IncidentService
from bot.store import audit
from bot.store.db import open_database

INTAKE = {
    "contractor": "株式会社ミドリ給与サービス",
    "what_happened": "委託先のファイルサーバーがランサムウェアに感染した",
    "learned_on": "2026-11-02",
    "data_kinds": ["name", "health"],
    "sensitive": "yes",
    "financial_damage": "no",
    "people": 300,
    "cause": "ransomware",
}


def itaku(*args: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_"))}
    env["ITAKU_DATA_DIR"] = str(data_dir)
    env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_list_and_show(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'itaku.db'}"
    service = IncidentService(open_database(url))
    filed = service.file("terminal:alice", IncidentIntake.model_validate(INTAKE))
    assert filed.incident is not None
    service.mark(filed.incident.id, "containment", True, "terminal:bob", expected_version=1)
    listed = itaku("incidents", "list", database_url=url, data_dir=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "IN-000001" in listed.stdout and "要報告" in listed.stdout
    assert "確報 2027-01-04" in listed.stdout  # ransomware: 60 days, day 60 in the closure
    closed = itaku("incidents", "list", "--status", "closed", database_url=url, data_dir=tmp_path)
    assert closed.returncode == 0 and "インシデントはありません" in closed.stdout
    shown = itaku("incidents", "show", "IN-000001", database_url=url, data_dir=tmp_path)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "発覚日：2026年11月2日（月）" in out and "2027年1月4日（月）まで（60日以内" in out
    assert "☑ 被害の拡大防止（封じ込め）（terminal:bob" in out and "□ 事実関係の確認" in out
    assert "第1号（要配慮個人情報）：該当" in out and "第3号（不正の目的による行為）：該当" in out
    assert "出典：個人情報保護委員会規則第7条第1号" in out
    assert "incident_filed" in out and "incident_step containment" in out
    missing = itaku("incidents", "show", "IN-000404", database_url=url, data_dir=tmp_path)
    assert missing.returncode == 2 and "見つかりません" in missing.stderr
    assert audit.verify(service.db).ok
