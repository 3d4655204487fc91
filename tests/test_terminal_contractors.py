"""The contractor ledger in the terminal: 「委託先を登録したい」 in `itaku chat` to a registered
contractor, the subcontracting request started from a picked ledger contractor, `/review` in chat,
and `itaku contractors review | actions | close` as a user runs them."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.approvals.policy import ApprovalPolicy
from bot.approvals.risk import RiskRules, default_rules_path
from bot.approvals.service import ApprovalService
from bot.assistant.service import Assistant
from bot.config import PROJECT_ROOT
from bot.contractors.models import ContractorFields
from bot.contractors.reviews import ReviewService, review_check
from bot.contractors.risk import ContractorRules, default_contractor_rules_path
from bot.contractors.service import ContractorService, ContractorView
from bot.dialogs.engine import DialogEngine
from bot.dialogs.guidance import GuidanceLibrary
from bot.dialogs.specs import DIALOGS
from bot.drafting.clauses import ClauseLibrary
from bot.store.db import Database, open_database
from bot.store.dialogs import DialogStore
from bot.terminal.chat import run_chat
from bot.terminal.dialog import TerminalDrafting

TODAY = dt.date.today()
DAY = dt.timedelta(days=1)
OWNER = "terminal:tester"
RULES = ContractorRules.load(default_contractor_rules_path(PROJECT_ROOT / "knowledge"))
POLICY = """
channel: C0APPROVALS
remind_after_hours: 24
escalate_after_hours: 72
escalation: [terminal:ciso]
levels:
  low: {stages: [{name: 部門長, approvers: [terminal:manager]}]}
  medium: {stages: [{name: 部門長, approvers: [terminal:manager]}]}
  high: {stages: [{name: 部門長, approvers: [terminal:manager]}]}
"""


def drafting(assistant: Assistant, db: Database, tmp_path: Path) -> TerminalDrafting:
    contractors = ContractorService(db, RULES)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    engine = DialogEngine(DIALOGS, DialogStore(db, 3600))
    engine.checks["review"] = review_check(contractors)
    return TerminalDrafting(
        engine,
        GuidanceLibrary(assistant.kb),
        ClauseLibrary.load(PROJECT_ROOT / "knowledge"),
        tmp_path / "drafts",
        owner=OWNER,
        approvals=ApprovalService(
            db,
            ApprovalPolicy.load(policy),
            RiskRules.load(default_rules_path(PROJECT_ROOT / "knowledge")),
        ),
        contractors=contractors,
        reviews=ReviewService(contractors),
    )


def chat(assistant: Assistant, d: TerminalDrafting, lines: list[str]) -> str:
    out = io.StringIO()
    run_chat(assistant, io.StringIO("\n".join(lines) + "\n"), out, drafting=d)
    return out.getvalue()


def register(db: Database, owner: str = OWNER, **changes: Any) -> ContractorView:
    base: dict[str, Any] = {
        "name": "株式会社アオ印刷",
        "services": "印刷",
        "work": "請求書の印刷",
        "contract_start": (TODAY - 30 * DAY).isoformat(),
        "contract_end": (TODAY + 300 * DAY).isoformat(),
    }
    fields = ContractorFields.model_validate({**base, **changes})
    outcome = ContractorService(db, RULES).register(owner, fields, owner=owner)
    assert outcome.contractor is not None, outcome.message
    return outcome.contractor


# contractor (2), work (2), contract (3), data (4), data detail (1), location (1),
# security (5), assessment (1): blank keeps the default
REGISTRATION = [
    "委託先を登録したい",
    "株式会社ミドリ給与サービス",
    "",
    "給与計算",
    "月次の給与計算",
    "2",
    (TODAY - 30 * DAY).isoformat(),
    (TODAY + 700 * DAY).isoformat(),
    "はい",
    "",
    "",
    "",
    "800",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "作成",
]

# target (2, both filled in), method, report (3), findings (2), actions (6)
REVIEW = [
    "",
    "",
    "1,2",
    "はい",
    TODAY.isoformat(),
    "1 3",
    "2",
    "廃棄の記録に漏れがあった",
    "廃棄の記録を毎週確認する",
    (TODAY + 30 * DAY).isoformat(),
    "",
    "",
    "",
    "",
    "作成",
]


def test_a_contractor_is_registered_from_chat(bundled_assistant: Assistant, tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'itaku.db'}")
    d = drafting(bundled_assistant, db, tmp_path)
    out = chat(bundled_assistant, d, REGISTRATION)
    assert "委託先の登録" in out and "出典" in out
    assert "を台帳に登録しました（担当：terminal:tester）" in out
    assert d.contractors is not None
    [view] = d.contractors.search(owner=OWNER)
    assert view.name == "株式会社ミドリ給与サービス" and view.fields.contract_type == "jun_inin"
    assert view.fields.personal_data_count == 800 and "次回点検" in out


def test_a_review_is_recorded_from_chat(bundled_assistant: Assistant, tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'itaku.db'}")
    ct = register(db, last_assessed=(TODAY - 500 * DAY).isoformat())
    d = drafting(bundled_assistant, db, tmp_path)
    out = chat(bundled_assistant, d, [f"/review {ct.id}", *REVIEW])
    assert "委託先の定期点検" in out and "定期点検チェックリスト" in out
    assert f"[{ct.id}]" in out  # the contractor filled in
    assert "定期点検 CR-000001 を記録しました" in out and "軽微な指摘あり" in out
    assert "是正措置 CA-000001" in out and "次回の定期点検" in out
    assert d.contractors is not None
    after = d.contractors.get(ct.id)
    assert after is not None and after.fields.last_assessed == TODAY
    usage = chat(bundled_assistant, d, ["/review"])
    assert "使い方" in usage
    by_name = chat(bundled_assistant, d, ["/review 株式会社アオ印刷", "中断"])
    assert f"[{ct.id}]" in by_name and f"/review {ct.id}" in by_name


def test_the_request_starts_from_a_picked_ledger_contractor(
    bundled_assistant: Assistant, tmp_path: Path
) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'itaku.db'}")
    mine = register(db)
    register(db, owner="terminal:other", name="株式会社ほか")
    d = drafting(bundled_assistant, db, tmp_path)
    out = chat(bundled_assistant, d, ["再委託の承認を申請したい", "9", "1", "", "", "中断"])
    assert f"1. {mine.id} 株式会社アオ印刷" in out and "株式会社ほか" not in out
    assert "1〜1 の番号" in out  # 9 is not offered
    assert f"[印刷の委託契約（台帳 {mine.id}）]" in out and "[株式会社アオ印刷]" in out


def test_itaku_contractors_review_actions_and_close(bundled_data_dir: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'itaku.db'}"
    ct = register(open_database(url), last_assessed=(TODAY - 500 * DAY).isoformat())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_"))}
    env.update(ITAKU_DATA_DIR=str(bundled_data_dir), DATABASE_URL=url, PYTHONIOENCODING="utf-8")

    def itaku(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "contractors", *args],
            cwd=PROJECT_ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=180,
        )

    done = itaku("review", ct.id.lower(), stdin="\n".join(REVIEW) + "\n")
    assert done.returncode == 0, done.stderr
    assert "定期点検 CR-000001 を記録しました" in done.stdout and "出典" in done.stdout
    listed = itaku("actions", "--open")
    assert listed.returncode == 0 and "CA-000001" in listed.stdout and "対応中" in listed.stdout
    closed = itaku("close", "CA-000001", "--note", "報告書で確認", "--as", "terminal:sec")
    assert closed.returncode == 0 and "完了にしました" in closed.stdout
    assert "対応中の是正措置はありません" in itaku("actions", "--open").stdout
    every = itaku("actions")
    assert "CA-000001" in every.stdout and "[完了" in every.stdout
    assert "すでに完了" in itaku("close", "CA-000001").stdout
    unknown = itaku("close", "CA-999999")
    assert unknown.returncode == 1 and "見つかりません" in unknown.stderr
    missing = itaku("review", "株式会社ないない")
    assert missing.returncode == 1 and "台帳にありません" in missing.stdout
    assert itaku("review", " ").returncode == 2
    paused = itaku("review", ct.id, stdin="中断\n")
    assert paused.returncode == 1 and "中断しました" in paused.stdout
