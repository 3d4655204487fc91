"""The approval lifecycle without any platform, on SQLite and PostgreSQL: routing by risk, who may
decide, simultaneous clicks (threads and processes), changes and resubmission, reminders and
escalation once, and an audit trail that detects tampering."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from bot.approvals.policy import ApprovalPolicy
from bot.approvals.risk import RiskRules, default_rules_path
from bot.approvals.service import ApprovalService, Result
from bot.approvals.subcontract_fields import SubcontractAnswers
from bot.config import PROJECT_ROOT
from bot.store import audit
from bot.store.db import open_database
from bot.store.tables import AuditEntry, DecisionRecord, RevisionRecord, utcnow

POLICY = """
channel: C0APPROVALS
remind_after_hours: 24
escalate_after_hours: 72
escalation: [U0CISO]
levels:
  low: {stages: [{name: 部門長, approvers: [U0MANAGER, U0DEPUTY, terminal:manager]}]}
  medium: {stages: [{name: 部門長, approvers: [U0MANAGER, U0DEPUTY]}]}
  high:
    stages:
      - {name: 部門長, approvers: [U0MANAGER, U0DEPUTY]}
      - {name: 情報セキュリティ部, approvers: [S0SECURITY]}
"""
SECURITY = frozenset({"U0SEC1", "U0SEC2", "U0DEPUTY"})

BASE = {
    "our_contract": "顧客管理システム運用委託契約",
    "contractor_name": "株式会社委託先",
    "subcontractor_name": "株式会社再委託先",
    "subcontractor_address": "東京都千代田区1-1",
    "work_description": "問い合わせ窓口の一次対応",
    "reason": "繁忙期の人員不足",
    "period_start": "2027-04-01",
    "period_end": "2028-03-31",
    "certifications": ["isms"],
    "last_assessed": "2026-10-01",
}
LOW = SubcontractAnswers(**BASE)
HIGH = SubcontractAnswers(
    **{**BASE, "personal_data": True, "personal_data_count": 5000, "my_number": True}
)


def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return path


@pytest.fixture()
def service(database_url: str, tmp_path: Path) -> ApprovalService:
    return ApprovalService(
        open_database(database_url),
        ApprovalPolicy.load(policy_file(tmp_path)),
        RiskRules.load(default_rules_path(PROJECT_ROOT / "knowledge")),
        resolve=lambda group: SECURITY if group == "S0SECURITY" else frozenset(),
    )


def test_low_risk_one_approval(service: ApprovalService) -> None:
    view = service.file("U0ALICE", LOW)
    assert view.id == "SR-000001" and view.risk.level == "low" and view.status == "pending"
    assert view.stage_name == "部門長"
    result = service.decide(view.id, "U0MANAGER", "approved")
    assert result.result is Result.RECORDED and result.request is not None
    assert result.request.status == "approved" and result.request.stage is None


def test_high_risk_needs_two_different_approvers_with_reasons_shown(
    service: ApprovalService,
) -> None:
    view = service.file("U0ALICE", HIGH)
    assert view.risk.level == "high" and view.stages == ("部門長", "情報セキュリティ部")
    assert any(
        "番号法" in r.source or "マイナンバー" in r.text or "個人番号" in r.text
        for r in view.risk.reasons
    )
    first = service.decide(view.id, "U0DEPUTY", "approved")
    assert first.request is not None and first.request.status == "pending"
    assert first.request.stage_name == "情報セキュリティ部"
    # U0DEPUTY is also in the security group, but decided the first stage already
    same = service.decide(view.id, "U0DEPUTY", "approved")
    assert same.result is Result.NOT_ALLOWED and "別の承認者" in same.message
    second = service.decide(view.id, "U0SEC1", "approved")
    assert second.request is not None and second.request.status == "approved"
    assert [d.approver for d in second.request.decisions] == ["U0DEPUTY", "U0SEC1"]


def test_requester_and_outsiders_cannot_decide_and_are_recorded(service: ApprovalService) -> None:
    view = service.file("U0MANAGER", LOW)  # a manager filing their own request
    own = service.decide(view.id, "U0MANAGER", "approved")
    assert own.result is Result.SELF_APPROVAL
    outsider = service.decide(view.id, "U0MALLORY", "approved")
    assert outsider.result is Result.NOT_ALLOWED
    refused = [e for e in _entries(service) if e.action == "refused"]
    assert [(e.actor, e.details["why"]) for e in refused] == [
        ("U0MANAGER", "self_approval"),
        ("U0MALLORY", "not_allowed"),
    ]
    assert service.decide(view.id, "U0DEPUTY", "approved").result is Result.RECORDED


def test_reason_required_to_reject_or_send_back(service: ApprovalService) -> None:
    view = service.file("U0ALICE", LOW)
    assert service.decide(view.id, "U0MANAGER", "rejected", "  ").result is Result.REASON_REQUIRED
    rejected = service.decide(view.id, "U0MANAGER", "rejected", "再委託先の監査記録がない")
    assert rejected.request is not None and rejected.request.status == "rejected"
    late = service.decide(view.id, "U0DEPUTY", "approved")
    assert (
        late.result is Result.ALREADY_DECIDED
        and late.by == "U0MANAGER"
        and "U0MANAGER" in late.message
    )


def test_changes_requested_then_resubmitted_keeps_history(service: ApprovalService) -> None:
    view = service.file("U0ALICE", LOW)
    service.decide(view.id, "U0MANAGER", "changes_requested", "期間を1年以内にしてください")
    revised = SubcontractAnswers(**{**BASE, "period_end": "2027-12-31"})
    assert service.resubmit(view.id, "U0BOB", revised).result is Result.NOT_ALLOWED
    again = service.resubmit(view.id, "U0ALICE", revised)
    assert (
        again.request is not None
        and again.request.revision == 2
        and again.request.status == "pending"
    )
    assert again.request.answers["period_end"] == "2027-12-31"
    stale = service.decide(view.id, "U0MANAGER", "approved", revision=1)
    assert stale.result is Result.STALE_REVISION
    done = service.decide(view.id, "U0MANAGER", "approved", revision=2)
    assert done.request is not None and done.request.status == "approved"
    assert [(d.revision, d.outcome) for d in done.request.decisions] == [
        (1, "changes_requested"),
        (2, "approved"),
    ]
    with service.db.session() as s:
        assert len(s.execute(select(RevisionRecord)).all()) == 2


def test_simultaneous_clicks_record_one_decision(service: ApprovalService) -> None:
    view = service.file("U0ALICE", LOW)
    start = threading.Barrier(8)
    approvers = ["U0MANAGER", "U0DEPUTY"] * 4

    def click(user: str) -> Result:
        start.wait()
        return service.decide(view.id, user, "approved").result

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(click, approvers))
    assert results.count(Result.RECORDED) == 1
    assert set(results) <= {Result.RECORDED, Result.ALREADY_DECIDED}
    with service.db.session() as s:
        assert len(s.execute(select(DecisionRecord)).all()) == 1
    assert audit.verify(service.db).ok


def _decide_in_a_process(args: tuple[str, str, str]) -> str:
    url, policy, user = args
    service = ApprovalService(
        open_database(url),
        ApprovalPolicy.load(Path(policy)),
        RiskRules.load(default_rules_path(PROJECT_ROOT / "knowledge")),
    )
    return service.decide("SR-000001", user, "approved").result.value


def test_simultaneous_clicks_from_separate_processes(
    service: ApprovalService, database_url: str, tmp_path: Path
) -> None:
    service.file("U0ALICE", LOW)
    args = [(database_url, str(policy_file(tmp_path)), u) for u in ("U0MANAGER", "U0DEPUTY") * 2]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.map(_decide_in_a_process, args)
    assert results.count("recorded") == 1 and results.count("already_decided") == 3
    assert audit.verify(service.db).ok


def test_many_writers_keep_one_chain(service: ApprovalService) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: service.file(f"U0USER{i}", LOW), range(16)))
    report = audit.verify(service.db)
    assert report.ok and report.entries == 16
    assert len({v.id for v in service.search(limit=100)}) == 16


def test_reminder_then_escalation(service: ApprovalService) -> None:
    view = service.file("U0ALICE", LOW)
    assert service.due() == []
    later = utcnow() + timedelta(hours=25)
    assert [(v.id, kind) for v, kind in service.due(later)] == [(view.id, "remind")]
    much_later = utcnow() + timedelta(hours=73)
    assert [kind for _, kind in service.due(much_later)] == ["escalate"]
    escalated = service.escalate(view.id, 0)
    assert escalated is not None and "U0CISO" in escalated.approvers
    assert service.escalate(view.id, 0) is None  # once, whoever asks
    assert service.decide(view.id, "U0CISO", "approved").result is Result.RECORDED


def test_audit_trail_detects_changes_and_deletions(service: ApprovalService) -> None:
    view = service.file("U0ALICE", LOW)
    service.decide(view.id, "U0MANAGER", "changes_requested", "理由A")
    service.resubmit(view.id, "U0ALICE", LOW)
    service.decide(view.id, "U0MANAGER", "approved")
    assert audit.verify(service.db).ok
    rows = list(audit.export_csv(service.db))
    parsed = list(csv.reader(io.StringIO("".join(rows))))
    assert parsed[0] == list(audit.CSV_COLUMNS) and [r[3] for r in parsed[1:]] == [
        "filed",
        "changes_requested",
        "resubmitted",
        "approved",
    ]
    with service.db.session() as s:  # someone edits a reason in the database
        s.execute(
            update(AuditEntry).where(AuditEntry.seq == 2).values(details={"reason": "書き換え"})
        )
    report = audit.verify(service.db)
    assert not report.ok and any("#2" in p for p in report.problems)


def test_audit_trail_detects_a_deleted_entry(service: ApprovalService) -> None:
    view = service.file("U0ALICE", LOW)
    service.decide(view.id, "U0MALLORY", "approved")
    service.decide(view.id, "U0MANAGER", "approved")
    with service.db.session() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    report = audit.verify(service.db)
    assert not report.ok and any("欠け" in p for p in report.problems)


def _entries(service: ApprovalService) -> list[AuditEntry]:
    with service.db.session() as s:
        return list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())


def test_cli_approvals_and_audit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'itaku.db'}"
    service = ApprovalService(
        open_database(url),
        ApprovalPolicy.load(policy_file(tmp_path)),
        RiskRules.load(default_rules_path(PROJECT_ROOT / "knowledge")),
    )
    view = service.file("U0ALICE", LOW)
    env = {
        "ITAKU_DATA_DIR": str(tmp_path),
        "ITAKU_APPROVAL_POLICY": str(policy_file(tmp_path)),
        "PATH": "/usr/bin:/bin",
        "ITAKU_AUDIT_KEY": os.environ["ITAKU_AUDIT_KEY"],
    }

    def itaku(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    listed = itaku("approvals", "list", "--waiting-for", "terminal:manager")
    assert view.id in listed.stdout
    shown = itaku("approvals", "show", view.id)
    assert "リスク：低" in shown.stdout and "株式会社再委託先" in shown.stdout
    refused = itaku("approvals", "decide", view.id, "reject", "--as", "terminal:manager")
    assert refused.returncode == 2 and "理由" in refused.stderr
    ok = itaku("approvals", "decide", view.id, "approve", "--as", "terminal:manager")
    assert ok.returncode == 0 and "承認済み" in ok.stdout, ok.stderr
    assert itaku("audit", "verify").returncode == 0
    exported = itaku("audit", "export", "--format", "csv", "--output", str(tmp_path / "audit.csv"))
    assert exported.returncode == 0
    assert "terminal:manager" in (tmp_path / "audit.csv").read_text(encoding="utf-8")
    with service.db.session() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(actor="U0SOMEONE"))
    tampered = itaku("audit", "verify")
    assert tampered.returncode == 1 and "TAMPERED" in tampered.stderr


def test_personal_data_in_a_requests_free_text_is_masked_at_rest(service: ApprovalService) -> None:
    answers = SubcontractAnswers(
        **{**BASE, "reason": "担当の鈴木一郎（ichiro@example.com、03-1234-5678）が不在のため"}
    )
    view = service.file("U0ALICE", answers)
    with service.db.session() as s:
        rev = s.execute(
            select(RevisionRecord).where(RevisionRecord.request_id == view.id)
        ).scalar_one()
        stored = json.dumps(rev.answers, ensure_ascii=False)
    for value in ("鈴木", "ichiro@example.com", "03-1234-5678"):
        assert value not in stored
    assert "株式会社再委託先" in stored and "東京都千代田区1-1" in stored  # what the request needs
    assert audit.verify(service.db).ok
