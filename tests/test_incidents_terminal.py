"""Incidents from the terminal: `itaku incidents list|show` as a user runs them (subprocesses,
a real store), and the incident dialog in `itaku chat` (「委託先で漏えいが起きた」)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.config import PROJECT_ROOT
from bot.dialogs.engine import DialogEngine
from bot.dialogs.guidance import GuidanceLibrary
from bot.dialogs.specs import DIALOGS
from bot.drafting.clauses import ClauseLibrary
from bot.incidents.intake import IncidentIntake
from bot.incidents.service import IncidentService
from bot.store import audit
from bot.store.db import open_database
from bot.store.dialogs import DialogStore
from bot.terminal.chat import run_chat
from bot.terminal.dialog import TerminalDrafting, wants_incident

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


# -- the incident dialog in `itaku chat` -----------------------------------------------------------


def drafting(assistant: Any, tmp_path: Path) -> TerminalDrafting:
    db = open_database(f"sqlite:///{tmp_path / 'chat.db'}")
    return TerminalDrafting(
        DialogEngine(DIALOGS, DialogStore(db, 3600)),
        GuidanceLibrary(assistant.kb),
        ClauseLibrary.load(PROJECT_ROOT / "knowledge"),
        tmp_path / "drafts",
        owner="terminal:tester",
        incidents=IncidentService(db),
    )


def chat(assistant: Any, d: TerminalDrafting, lines: list[str]) -> str:
    out = io.StringIO()
    run_chat(assistant, io.StringIO("\n".join(lines) + "\n"), out, drafting=d)
    return out.getvalue()


WALK = [
    "委託先で漏えいが起きた",
    "CT-000009",  # not in the ledger: refused at its step
    "顧客名簿の入ったノートPCが盗まれた",
    "株式会社ミドリ給与サービス",  # a name the ledger does not hold is kept as typed
    "顧客名簿の入ったノートPCが盗まれた",
    "2027-02-30",  # 発覚日 that does not exist
    "",
    "2026-11-02",
    "2026-11-01",
    "1,2,3",  # 氏名、住所、電話番号
    "",
    "2",  # sensitive: no
    "2",  # financial damage: no
    "800",
    "はい",  # the possible maximum
    "4",  # theft
    "",  # encryption: no (the default)
    "作成",
]


def test_incident_filed_from_chat(bundled_assistant: Any, tmp_path: Path) -> None:
    d = drafting(bundled_assistant, tmp_path)
    out = chat(bundled_assistant, d, WALK)
    assert "【委託先での漏えい等の報告】" in out and "出典" in out
    assert "⚠ 発生した委託先" in out and "台帳にありません" in out
    assert "2027年2月は28日まで" in out
    assert "IN-000001を記録しました（株式会社ミドリ給与サービス）" in out
    assert "規則第7条第3号に該当" in out  # theft: item 3
    assert "2027年1月4日（月）まで（60日以内" in out
    assert "itaku incidents show IN-000001" in out
    files = sorted(p.name for p in (tmp_path / "drafts").iterdir())
    assert files == [
        "漏えい等報告_株式会社ミドリ給与サービス_2026-11-02.docx",
        "漏えい等報告_株式会社ミドリ給与サービス_2026-11-02.md",
    ]
    assert d.incidents is not None
    [view] = d.incidents.search()
    assert view.facts.people == 800 and view.facts.people_is_maximum
    assert view.facts.data_kinds == ("氏名", "住所", "電話番号")
    assert view.reporter == "terminal:tester" and view.dialog_id is not None


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("委託先で漏えいが起きた", True),
        ("外注先で個人情報の流出が発生しました", True),
        ("委託先でランサムウェア被害があった", True),
        ("/incident", True),
        ("/incident new", True),
        ("委託先で漏えいが起きたら何をすべき？", False),
        ("委託先で漏えいが起きた場合の報告期限は", False),
        ("漏えいの報告期限はいつ？", False),
        ("NDAを作りたい", False),
    ],
)
def test_incident_intent(said: str, expected: bool) -> None:
    assert wants_incident(said) is expected
