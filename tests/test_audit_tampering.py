"""The audit trail against someone with write access to the database (and sometimes to the
anchor file too), on SQLite and PostgreSQL: every way of rewriting history that the old
unkeyed chain let through is caught now (issue 12)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from bot.approvals.policy import ApprovalPolicy
from bot.approvals.risk import RiskRules, default_rules_path
from bot.approvals.service import ApprovalService
from bot.config import PROJECT_ROOT
from bot.store import audit
from bot.store.audit import AuditSeal
from bot.store.db import Database, open_database
from bot.store.tables import AuditEntry, DecisionRecord, RequestRecord, RevisionRecord
from tests.test_approvals import HIGH, LOW, SECURITY, policy_file

KEY = b"the-real-audit-key-0123456789"


def _approvals(db: Database, tmp_path: Path) -> ApprovalService:
    return ApprovalService(
        db,
        ApprovalPolicy.load(policy_file(tmp_path)),
        RiskRules.load(default_rules_path(PROJECT_ROOT / "knowledge")),
        resolve=lambda group: SECURITY if group == "S0SECURITY" else frozenset(),
    )


@pytest.fixture()
def service(database_url: str, tmp_path: Path) -> ApprovalService:
    db = open_database(database_url)
    db.audit_seal = AuditSeal("k1", KEY, anchor=tmp_path / "anchor" / "audit-anchor.log")
    svc = _approvals(db, tmp_path)
    # a history: filed, sent back with a reason, resubmitted, approved in two stages, another
    first = svc.file("U0ALICE", HIGH)
    svc.decide(first.id, "U0MANAGER", "changes_requested", "監査記録がない")
    svc.resubmit(first.id, "U0ALICE", HIGH)
    svc.decide(first.id, "U0MANAGER", "approved", "確認済み")
    svc.decide(first.id, "U0SEC1", "approved", "問題なし")
    second = svc.file("U0BOB", LOW)
    svc.decide(second.id, "U0MANAGER", "approved")
    assert audit.verify(db).ok
    return svc


def _entries(svc: ApprovalService) -> list[AuditEntry]:
    with svc.db.session() as s:
        return list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())


def _rechain(
    svc: ApprovalService, mac: Callable[[AuditEntry, str], str], key_id: str | None
) -> None:
    """Recompute every entry's link and MAC in place (what an attacker does after an edit)."""
    with svc.db.session() as s:
        prev = audit.GENESIS
        for e in s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars():
            e.key_id, e.prev_hash = key_id, prev
            e.hash = mac(e, prev)
            prev = e.hash


def _plain_sha(e: AuditEntry, prev: str) -> str:
    body = audit._body(e.seq, e.at, e.actor, e.action, e.request_id, e.details, None)
    return hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()


def _guessed_key(e: AuditEntry, prev: str) -> str:
    body = audit._body(e.seq, e.at, e.actor, e.action, e.request_id, e.details, "k1")
    return hmac.new(b"a-guessed-key-0000000000", f"{prev}\n{body}".encode(), "sha256").hexdigest()


def delete_last(n: int) -> Callable[[ApprovalService], None]:
    def tamper(svc: ApprovalService) -> None:
        last = _entries(svc)[-1].seq
        with svc.db.session() as s:
            s.execute(delete(AuditEntry).where(AuditEntry.seq > last - n))

    return tamper


def delete_all(svc: ApprovalService) -> None:
    with svc.db.session() as s:
        s.execute(delete(AuditEntry))


def edit_and_rechain_unkeyed(svc: ApprovalService) -> None:
    with svc.db.session() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="U0MALLORY"))
    _rechain(svc, _plain_sha, None)


def edit_and_rechain_with_a_guess(svc: ApprovalService) -> None:
    with svc.db.session() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="U0MALLORY"))
    _rechain(svc, _guessed_key, "k1")


def append_forged(seal_with: str) -> Callable[[ApprovalService], None]:
    """A new last entry with a correct-looking MAC: a plain SHA-256 ("none"), one under a
    guessed key ("guess"), or one under the published development key ("dev")."""

    def tamper(svc: ApprovalService) -> None:
        last = _entries(svc)[-1]
        key_id = {"none": None, "guess": "k1", "dev": audit.DEVELOPMENT_KEY_ID}[seal_with]
        with svc.db.session() as s:
            forged = AuditEntry(
                seq=last.seq + 1,
                at=last.at,
                actor="U0MALLORY",
                action="approved",
                request_id=last.request_id,
                details={},
                prev_hash=last.hash,
                key_id=key_id,
                hash="",
            )
            if seal_with == "dev":
                forged.hash = audit.entry_mac(audit.development_seal(), forged) or ""
            else:
                forged.hash = (_guessed_key if key_id else _plain_sha)(forged, last.hash)
            s.add(forged)

    return tamper


def swap_rows(svc: ApprovalService) -> None:
    a, b = _entries(svc)[1:3]
    with svc.db.session() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == a.seq).values(details=b.details))
        s.execute(update(AuditEntry).where(AuditEntry.seq == b.seq).values(details=a.details))


def edit_approver(svc: ApprovalService) -> None:
    with svc.db.session() as s:
        s.execute(update(DecisionRecord).where(DecisionRecord.stage == 1).values(approver="U0X"))


def edit_reason(svc: ApprovalService) -> None:
    with svc.db.session() as s:
        s.execute(
            update(DecisionRecord).where(DecisionRecord.reason.is_not(None)).values(reason="別")
        )


def edit_status(svc: ApprovalService) -> None:
    with svc.db.session() as s:
        s.execute(
            update(RequestRecord).where(RequestRecord.id == "SR-000002").values(status="rejected")
        )


def edit_revision(svc: ApprovalService) -> None:
    with svc.db.session() as s:
        rev = s.execute(select(RevisionRecord).where(RevisionRecord.number == 2)).scalar_one()
        rev.answers = {**rev.answers, "subcontractor_name": "株式会社別会社"}


def delete_decision(svc: ApprovalService) -> None:
    with svc.db.session() as s:
        s.execute(delete(DecisionRecord).where(DecisionRecord.request_id == "SR-000002"))


def add_decision(svc: ApprovalService) -> None:
    with svc.db.session() as s:
        s.add(
            DecisionRecord(
                request_id="SR-000001", revision=1, stage=1, approver="U0X", outcome="approved"
            )
        )


TAMPERING: dict[str, Callable[[ApprovalService], None]] = {
    "delete-last-1": delete_last(1),
    "delete-last-5": delete_last(5),
    "delete-all": delete_all,
    "edit-and-rechain-plain-sha256": edit_and_rechain_unkeyed,
    "edit-and-rechain-guessed-key": edit_and_rechain_with_a_guess,
    "append-forged-unkeyed": append_forged("none"),
    "append-forged-guessed-key": append_forged("guess"),
    "append-forged-development-key": append_forged("dev"),
    "swap-rows": swap_rows,
    "edit-decisions-approver": edit_approver,
    "edit-decision-reason": edit_reason,
    "edit-requests-status": edit_status,
    "edit-revision-answers": edit_revision,
    "delete-a-decision": delete_decision,
    "insert-a-decision": add_decision,
}


@pytest.mark.parametrize("name", list(TAMPERING))
def test_every_tampering_is_caught(service: ApprovalService, name: str) -> None:
    TAMPERING[name](service)
    report = audit.verify(service.db)
    assert not report.ok, name
    assert report.problems


def test_truncation_with_the_anchor_truncated_too_is_caught_by_a_kept_checkpoint(
    service: ApprovalService,
) -> None:
    head = audit.checkpoint(service.db)
    assert audit.verify(service.db, head).ok
    delete_last(3)(service)
    seal = audit.seal_of(service.db)
    assert seal.anchor is not None
    seal.anchor.unlink()  # the attacker reaches the anchor file as well
    report = audit.verify(service.db, head)
    assert not report.ok and any("チェックポイント" in p for p in report.problems)


def test_a_forged_checkpoint_is_refused(service: ApprovalService) -> None:
    head = audit.checkpoint(service.db)
    assert not audit.verify(service.db, {**head, "seq": head["seq"] - 1}).ok


def test_the_anchor_lags_only_by_what_has_not_committed(service: ApprovalService) -> None:
    seal = audit.seal_of(service.db)
    assert seal.anchor is not None
    anchored = audit.read_anchor(seal.anchor)
    assert sorted(anchored) == [e.seq for e in _entries(service)]
    assert all(mac == e.hash for e in _entries(service) for mac in [anchored[e.seq][1]])


def test_a_rotated_key_still_verifies_older_entries(service: ApprovalService) -> None:
    anchor = audit.seal_of(service.db).anchor
    service.db.audit_seal = AuditSeal("k2", b"the-next-key-9876543210", {"k1": KEY}, anchor)
    view = service.file("U0CAROL", LOW)
    service.decide(view.id, "U0MANAGER", "approved")
    assert {e.key_id for e in _entries(service)} == {"k1", "k2"}
    assert audit.verify(service.db).ok
    service.db.audit_seal = AuditSeal("k2", b"the-next-key-9876543210", {}, anchor)  # k1 lost
    report = audit.verify(service.db)
    assert not report.ok and any("不明な鍵（k1）" in p for p in report.problems)


def test_details_hold_ids_and_field_names_not_personal_data(service: ApprovalService) -> None:
    text = json.dumps([e.details for e in _entries(service)], ensure_ascii=False)
    for value in ("株式会社再委託先", "東京都千代田区", "監査記録がない", "繁忙期の人員不足"):
        assert value not in text
    filed = _entries(service)[0].details
    assert "subcontractor_name" in filed["fields"] and str(filed["answers"]).startswith("h:")


def test_the_cli_checkpoint_and_verify(tmp_path: Path) -> None:
    import os

    from tests.test_cli import itaku

    key = os.environ["ITAKU_AUDIT_KEY"].encode()  # what the command reads
    db = open_database(f"sqlite:///{tmp_path / 'itaku.db'}")
    db.audit_seal = AuditSeal("k1", key, anchor=tmp_path / "audit-anchor.log")
    svc = _approvals(db, tmp_path)
    view = svc.file("U0ALICE", LOW)
    svc.decide(view.id, "U0MANAGER", "approved")
    head = itaku("audit", "checkpoint", data_dir=tmp_path)
    assert head.returncode == 0, head.stderr
    (tmp_path / "head.json").write_text(head.stdout, encoding="utf-8")
    kept = str(tmp_path / "head.json")
    assert itaku("audit", "verify", "--checkpoint", kept, data_dir=tmp_path).returncode == 0
    with db.session() as s:
        s.execute(delete(AuditEntry))
    (tmp_path / "audit-anchor.log").unlink()
    tampered = itaku("audit", "verify", "--checkpoint", kept, data_dir=tmp_path)
    assert tampered.returncode == 1 and "TAMPERED" in tampered.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json", encoding="utf-8")
    assert itaku("audit", "verify", "--checkpoint", str(garbage), data_dir=tmp_path).returncode == 2


def test_entries_from_before_the_key_still_verify(tmp_path: Path) -> None:
    """An installation upgraded from the unkeyed chain: its old entries (raw reason in details,
    no key id) verify, and entries sealed afterwards chain on."""
    db = open_database(f"sqlite:///{tmp_path / 'itaku.db'}")
    db.audit_seal = AuditSeal("k1", KEY, anchor=tmp_path / "audit-anchor.log")
    svc = _approvals(db, tmp_path)
    view = svc.file("U0ALICE", LOW)
    svc.decide(view.id, "U0MANAGER", "changes_requested", "理由あり")
    # rewrite both entries as the previous version wrote them: raw details, plain SHA-256
    with db.session() as s:
        for e in s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars():
            if e.action == "changes_requested":
                e.details = {**e.details, "reason": "理由あり"}
    _rechain(svc, _plain_sha, None)
    (tmp_path / "audit-anchor.log").unlink()
    svc.resubmit(view.id, "U0ALICE", LOW)  # sealed with the key, after the old ones
    report = audit.verify(db)
    assert report.ok, report.problems
    assert any("鍵の設定前" in n for n in report.notes)


def test_a_checkpoint_of_an_empty_trail_verifies(tmp_path: Path) -> None:
    """A new installation: checkpoint, then verify, before anything was recorded."""
    db = open_database(f"sqlite:///{tmp_path / 'itaku.db'}")
    db.audit_seal = AuditSeal("k1", KEY, anchor=tmp_path / "audit-anchor.log")
    head = audit.checkpoint(db)
    assert head["seq"] == 0
    report = audit.verify(db, head)
    assert report.ok and report.entries == 0, report.problems
