"""The NDA dialog and /clause in `itaku chat`: the same engine, typed answers, files on disk."""

from __future__ import annotations

import io
from pathlib import Path

import docx

from bot.assistant.service import Assistant
from bot.config import PROJECT_ROOT
from bot.dialogs.engine import DialogEngine
from bot.dialogs.guidance import GuidanceLibrary
from bot.dialogs.specs import DIALOGS
from bot.drafting.clauses import ClauseLibrary
from bot.store.db import open_database
from bot.store.dialogs import DialogStore
from bot.terminal.chat import run_chat
from bot.terminal.dialog import TerminalDrafting, wants_nda


def drafting(assistant: Assistant, tmp_path: Path) -> TerminalDrafting:
    db = open_database(f"sqlite:///{tmp_path / 'itaku.db'}")
    return TerminalDrafting(
        DialogEngine(DIALOGS, DialogStore(db, 3600)),
        GuidanceLibrary(assistant.kb),
        ClauseLibrary.load(PROJECT_ROOT / "knowledge"),
        tmp_path / "drafts",
        owner="terminal:tester",
    )


def chat(assistant: Assistant, d: TerminalDrafting, lines: list[str]) -> str:
    out = io.StringIO()
    run_chat(assistant, io.StringIO("\n".join(lines) + "\n"), out, drafting=d)
    return out.getvalue()


# parties (3), purpose, scope (2), handlers (3), storage (2), disposal (2), personal (1),
# third party (2), breach (4), term (4): blank keeps the recommended default
WALK = [
    "NDAを作りたい",
    "株式会社委託元",
    "株式会社委託先",
    "",
    "顧客管理システムの開発委託の検討",
    "1",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "いいえ",
    "",
    "",
    "",
    "",
    "",
    "",
    "2027-04-01",
    "",
    "",
    "",
]


def test_nda_dialog_in_chat_writes_docx_and_markdown(
    bundled_assistant: Assistant, tmp_path: Path
) -> None:
    d = drafting(bundled_assistant, tmp_path)
    out = chat(bundled_assistant, d, [*WALK, "作成"])
    assert "ステップ 1/" in out and "出典" in out and "推奨の理由" in out
    files = sorted((tmp_path / "drafts").iterdir())
    assert [f.suffix for f in files] == [".docx", ".md"]
    text = "\n".join(p.text for p in docx.Document(str(files[0])).paragraphs)
    assert "株式会社委託先" in text and "{{" not in text
    assert "秘密と表示" in files[1].read_text(encoding="utf-8")  # definition 1 = 案A


def test_errors_back_and_pause_then_resume(bundled_assistant: Assistant, tmp_path: Path) -> None:
    d = drafting(bundled_assistant, tmp_path)
    out = chat(
        bundled_assistant,
        d,
        [
            "/nda",
            "<!channel>",
            "株式会社委託先",
            "",
            "株式会社委託元",
            "株式会社委託先",
            "",
            "戻る",
            "中断",
        ],
    )
    assert "メンション" in out and "中断しました" in out
    resumed = chat(bundled_assistant, d, ["/nda", "中断"])
    assert "前回の続き" in resumed


def test_clause_in_chat(bundled_assistant: Assistant, tmp_path: Path) -> None:
    d = drafting(bundled_assistant, tmp_path)
    out = chat(bundled_assistant, d, ["/clause", "/clause 再委託", "/clause ないトピック"])
    assert "条項のトピック" in out and "【再委託】" in out and "出典" in out and "⚠" in out


def test_nda_intent() -> None:
    assert wants_nda("NDAを作りたい") and wants_nda("秘密保持契約書のドラフトを用意したい")
    assert wants_nda("I want to draft an NDA") and wants_nda("/nda new")
    assert not wants_nda("NDAの有効期間は何年が一般的？")


SUBCONTRACT_WALK = [
    "再委託の承認を申請したい",
    "顧客管理システム運用委託契約",
    "株式会社委託先",
    "株式会社再委託先",
    "東京都千代田区1-1",
    "",
    "問い合わせ窓口の一次対応",
    "繁忙期の人員不足",
    "いいえ",
    "いいえ",
    "いいえ",
    "いいえ",
    "いいえ",
    "",
    "1",
    "",
    "2026-10-01",
    "いいえ",
    "",
    "",
    "2027-04-01",
    "2028-03-31",
    "作成",
]


def test_subcontract_request_filed_from_chat(bundled_assistant: Assistant, tmp_path: Path) -> None:
    from bot.approvals.policy import ApprovalPolicy
    from bot.approvals.risk import RiskRules, default_rules_path
    from bot.approvals.service import ApprovalService

    d = drafting(bundled_assistant, tmp_path)
    d.approvals = ApprovalService(
        d.engine.store.db,
        ApprovalPolicy.load(PROJECT_ROOT / "approval_policy.yaml"),
        RiskRules.load(default_rules_path(PROJECT_ROOT / "knowledge")),
    )
    out = chat(bundled_assistant, d, SUBCONTRACT_WALK)
    assert "申請 SR-000001 を提出しました" in out and "リスク：低" in out
    [view] = d.approvals.search()
    assert view.requester == "terminal:tester" and view.status == "pending"
    assert (
        d.approvals.decide(view.id, "terminal:manager", "approved", via="terminal").request
        is not None
    )
