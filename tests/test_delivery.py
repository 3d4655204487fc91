"""The work after an acknowledgement without any platform, as an adapter sees it: a finished
dialog handed off, a request's card posted and each notice told once (to a recording notifier),
reminders once from two replicas, escalation; events done, tried again, refused, resumed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.approvals.policy import ApprovalPolicy
from bot.approvals.risk import RiskRules, default_rules_path
from bot.approvals.service import ApprovalService, OutcomeName, RequestView
from bot.approvals.subcontract_fields import SubcontractAnswers
from bot.config import PROJECT_ROOT
from bot.delivery.events import EventWork, Failure
from bot.delivery.requests import Placement, RequestDesk, RequestNotifier
from bot.delivery.runner import JobRunner
from bot.dialogs.handoff import DraftReady, Handoff, NotFiled, RequestFiled
from bot.drafting.clauses import ClauseLibrary
from bot.drafting.nda_fields import NdaAnswers
from bot.store.db import Database, open_database
from bot.store.events import EventLedger, PendingEvent
from bot.store.tables import AuditEntry, ProcessedEvent, RevisionRecord, utcnow

POLICY = """
channel: CHANNEL
remind_after_hours: 24
escalate_after_hours: 72
escalation: [terminal:ciso]
levels:
  low: {stages: [{name: 部門長, approvers: [terminal:manager]}]}
  medium: {stages: [{name: 部門長, approvers: [terminal:manager]}]}
  high: {stages: [{name: 部門長, approvers: [terminal:manager]}]}
"""
ALICE, MANAGER = "terminal:alice", "terminal:manager"  # the policy names people by platform
REQUEST = SubcontractAnswers(
    our_contract="顧客管理システム運用委託契約",
    contractor_name="株式会社委託先",
    subcontractor_name="株式会社再委託先",
    subcontractor_address="東京都千代田区1-1",
    work_description="問い合わせ窓口の一次対応",
    reason="繁忙期の人員不足",
    period_start="2027-04-01",
    period_end="2028-03-31",
    certifications=["isms"],
    last_assessed="2026-10-01",
)


class Recorder:
    """A platform that only remembers what it was asked to deliver."""

    def __init__(self) -> None:
        self.sent: list[tuple[Any, ...]] = []

    def post_request(self, channel: str, view: RequestView) -> Placement:
        self.sent.append(("post", channel, view.id))
        return Placement(channel, f"msg-{view.id}")

    def update_request(self, at: Placement, view: RequestView) -> None:
        self.sent.append(("update", at.message, view.status))

    def thread_resubmitted(self, at: Placement, view: RequestView, by: str) -> None:
        self.sent.append(("resubmitted", at.message, by, view.revision))

    def thread_decision(
        self,
        at: Placement,
        view: RequestView,
        actor: str,
        outcome: OutcomeName,
        reason: str | None,
    ) -> None:
        self.sent.append(("decision", at.message, actor, outcome, reason))

    def thread_reminder(self, at: Placement, view: RequestView, escalated: bool) -> None:
        self.sent.append(("reminder", at.message, escalated))

    def direct_decision(
        self, view: RequestView, actor: str, outcome: OutcomeName, reason: str | None
    ) -> None:
        self.sent.append(("direct", view.requester, outcome))

    def kinds(self) -> list[str]:
        return [s[0] for s in self.sent]


@pytest.fixture()
def db(tmp_path: Path) -> Database:
    return open_database(f"sqlite:///{tmp_path / 'itaku.db'}")


@pytest.fixture()
def runner() -> Iterator[JobRunner]:
    runner = JobRunner(4)
    yield runner
    runner.shutdown(5)


def service(db: Database, tmp_path: Path) -> ApprovalService:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    return ApprovalService(
        db,
        ApprovalPolicy.load(policy),
        RiskRules.load(default_rules_path(PROJECT_ROOT / "knowledge")),
    )


def desk(db: Database, tmp_path: Path, runner: JobRunner, notifier: RequestNotifier) -> RequestDesk:
    return RequestDesk(
        service(db, tmp_path), EventLedger(db), runner, notifier, channel="CHANNEL", via="teams"
    )


def handoff(requests: RequestDesk) -> Handoff:
    clauses = ClauseLibrary.load(PROJECT_ROOT / "knowledge")
    return Handoff(clauses, requests.approvals, via="teams", on_filed=requests.filed)


def file(requests: RequestDesk, user: str = ALICE) -> RequestView:
    filed = handoff(requests).finish("dialog-1", user, REQUEST)
    assert isinstance(filed, RequestFiled)
    return filed.request


# -- requests ------------------------------------------------------------------------------------


def test_a_finished_request_dialog_is_filed_and_its_card_posted_once(
    db: Database, tmp_path: Path, runner: JobRunner
) -> None:
    notifier = Recorder()
    requests = desk(db, tmp_path, runner, notifier)
    view = file(requests)
    assert notifier.sent == [("post", "CHANNEL", view.id)]
    shown = requests.approvals.get(view.id)
    assert shown is not None and (shown.channel, shown.message_ts) == ("CHANNEL", f"msg-{view.id}")
    requests.sync(shown)  # in step: the card is updated, never posted again
    assert notifier.kinds() == ["post", "update"]


def test_a_decision_is_told_once_in_the_thread_and_to_the_requester(
    db: Database, tmp_path: Path, runner: JobRunner
) -> None:
    notifier = Recorder()
    requests = desk(db, tmp_path, runner, notifier)
    view = file(requests)
    assert requests.decide(view.id, 1, ALICE, "approved", None) == (
        False,
        "自分の申請は判断できません。",
    )
    assert requests.decide(view.id, 1, MANAGER, "approved", None) == (True, "")
    assert runner.wait_idle(10)
    assert notifier.sent[1:] == [
        ("update", f"msg-{view.id}", "approved"),
        ("decision", f"msg-{view.id}", MANAGER, "approved", None),
        ("direct", ALICE, "approved"),
    ]
    decided = requests.approvals.get(view.id)
    assert decided is not None
    requests.announce(decided, MANAGER, "approved", None)  # a second time: the card only
    assert notifier.kinds()[4:] == ["update"]


def test_a_reply_in_the_cards_thread_decides_and_other_replies_do_not(
    db: Database, tmp_path: Path, runner: JobRunner
) -> None:
    requests = desk(db, tmp_path, runner, Recorder())
    view = file(requests)
    card = Placement("CHANNEL", f"msg-{view.id}")
    assert requests.decide_by_reply(card, MANAGER, "よろしくお願いします") is None
    assert requests.decide_by_reply(Placement("CHANNEL", "elsewhere"), MANAGER, "承認") is None
    assert requests.decide_by_reply(card, ALICE, "承認") == (False, "自分の申請は判断できません。")
    assert requests.decide_by_reply(card, MANAGER, "却下 期間が長すぎます") == (True, "")
    assert runner.wait_idle(10)
    decided = requests.approvals.get(view.id)
    assert decided is not None and decided.status == "rejected"


def test_who_may_not_decide_is_told_why_before_a_reason_is_asked(
    db: Database, tmp_path: Path, runner: JobRunner
) -> None:
    requests = desk(db, tmp_path, runner, Recorder())
    view = file(requests)
    assert requests.refusal(view, 1, MANAGER, "rejected") is None
    assert requests.refusal(view, 2, MANAGER, "rejected") == "この申請は再提出されています。"
    assert requests.refusal(view, 1, ALICE, "rejected") == "自分の申請は判断できません。"
    with db.session() as s:
        trail = s.execute(select(AuditEntry).where(AuditEntry.action == "refused")).scalars()
        refused = [(e.actor, e.details["via"], e.details["why"]) for e in trail]
    assert refused == [(ALICE, "teams", "self_approval")]  # the attempt is in the audit trail


def test_a_revised_request_is_told_in_its_thread(
    db: Database, tmp_path: Path, runner: JobRunner
) -> None:
    notifier = Recorder()
    requests = desk(db, tmp_path, runner, notifier)
    view = file(requests)
    assert requests.decide(view.id, 1, MANAGER, "changes_requested", "期間を短く")[0]
    assert runner.wait_idle(10)
    revised = file(requests)
    assert revised.id == view.id and revised.revision == 2
    assert ("resubmitted", f"msg-{view.id}", ALICE, 2) in notifier.sent


def test_nothing_is_filed_without_approvals_and_a_draft_is_rendered(tmp_path: Path) -> None:
    clauses = ClauseLibrary.load(PROJECT_ROOT / "knowledge")
    off = Handoff(clauses, None, via="teams")
    assert isinstance(off.finish("dialog-1", ALICE, REQUEST), NotFiled)
    nda = NdaAnswers(
        disclosing_party="株式会社甲商事",
        receiving_party="乙システム株式会社",
        purpose="顧客管理システムの保守業務の委託",
        effective_date="2027-04-01",
    )
    draft = off.finish("dialog-2", ALICE, nda)
    assert isinstance(draft, DraftReady) and draft.dialog_id == "dialog-2"
    assert draft.files.docx[:2] == b"PK" and "秘密保持契約" in draft.files.markdown


def _waited(db: Database, request_id: str, hours: float) -> None:
    with db.session() as s:
        s.execute(
            update(RevisionRecord)
            .where(RevisionRecord.request_id == request_id)
            .values(created_at=utcnow() - timedelta(hours=hours))
        )


def test_a_reminder_goes_out_once_from_two_replicas_then_escalation_once(
    db: Database, tmp_path: Path, runner: JobRunner
) -> None:
    first, second = Recorder(), Recorder()
    replicas = [desk(db, tmp_path, runner, first), desk(db, tmp_path, runner, second)]
    view = file(replicas[0])
    _waited(db, view.id, 25)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(RequestDesk.sweep, replicas))
    reminders = [s for s in first.sent + second.sent if s[0] == "reminder"]
    assert reminders == [("reminder", f"msg-{view.id}", False)]
    _waited(db, view.id, 73)
    for replica in replicas:
        replica.sweep()
    sent = first.sent + second.sent
    escalated_flags = sorted(s[2] for s in sent if s[0] == "reminder")
    assert escalated_flags == [False, True]  # the reminder, then the escalation, each once
    escalated = replicas[0].approvals.get(view.id)
    assert escalated is not None and "terminal:ciso" in escalated.approvers


# -- events --------------------------------------------------------------------------------------


class Outage(Exception):
    pass


class Refusal(Exception):
    pass


def read_failure(e: Exception) -> Failure | None:
    if isinstance(e, Outage):
        return Failure(retry=True, why="HTTP 503")
    if isinstance(e, Refusal):
        return Failure(retry=False, why="channel_not_found")
    return None


def status(db: Database, key: str) -> str:
    with db.session() as s:
        return str(
            s.execute(select(ProcessedEvent.status).where(ProcessedEvent.key == key)).scalar()
        )


def work_failing(*errors: Exception) -> tuple[list[PendingEvent], Any]:
    done: list[PendingEvent] = []
    left = list(errors)

    def work(pending: PendingEvent) -> None:
        if left:
            raise left.pop(0)
        done.append(pending)

    return done, work


def test_an_event_is_done_once_and_a_duplicate_ignored(db: Database, runner: JobRunner) -> None:
    done, work = work_failing()
    events = EventWork(
        EventLedger(db), runner, {"question": work}, platform="Teams", failure=read_failure
    )
    assert events.take("ev1", "question", {"question": "再委託は？"}, "msg:1")
    assert not events.take("ev2", "question", {"question": "再委託は？"}, "msg:1")
    assert runner.wait_idle(10)
    assert [p.payload for p in done] == [{"question": "再委託は？"}]
    assert status(db, "ev1") == "done"


def test_an_outage_is_tried_again_after_pauses(db: Database, runner: JobRunner) -> None:
    done, work = work_failing(Outage(), Outage())
    events = EventWork(
        EventLedger(db),
        runner,
        {"question": work},
        platform="Teams",
        failure=read_failure,
        reattempt_delays=(0.01, 0.01),
    )
    events.take("ev1", "question", {})
    assert runner.wait_idle(10)
    assert len(done) == 1 and status(db, "ev1") == "done"


def test_a_refusal_is_recorded_and_not_tried_again(db: Database, runner: JobRunner) -> None:
    done, work = work_failing(Refusal())
    events = EventWork(
        EventLedger(db), runner, {"question": work}, platform="Teams", failure=read_failure
    )
    events.take("ev1", "question", {})
    assert runner.wait_idle(10)
    assert done == [] and status(db, "ev1") == "failed"
    assert events.sweep_once() == 0


def test_an_outage_longer_than_the_pauses_is_left_to_the_lease_and_resumed(
    db: Database, runner: JobRunner
) -> None:
    done, work = work_failing(Outage(), Outage())
    ledger = EventLedger(db, lease_s=0.2)
    events = EventWork(
        ledger,
        runner,
        {"question": work},
        platform="Teams",
        failure=read_failure,
        reattempt_delays=(0.01,),
    )
    events.take("ev1", "question", {})
    assert runner.wait_idle(10)
    assert done == [] and status(db, "ev1") == "pending"
    time.sleep(0.3)
    assert events.sweep_once() == 1
    assert runner.wait_idle(10)
    assert len(done) == 1 and done[0].attempts == 2 and status(db, "ev1") == "done"


def test_a_resumed_event_without_work_expires(db: Database, runner: JobRunner) -> None:
    ledger = EventLedger(db, lease_s=0.1)
    events = EventWork(ledger, runner, {}, platform="Teams", failure=read_failure)
    ledger.claim("home:1", "home")
    time.sleep(0.2)
    assert events.sweep_once() == 1
    assert runner.wait_idle(10)
    assert status(db, "home:1") == "expired"
