"""Periodic reviews (定期点検) of ledger contractors without any platform, on SQLite and
PostgreSQL: the review dialog from its first step to the recorded review (the next date computed,
the last assessment moved, the audit trail intact), corrective actions tracked to closure with
compare-and-set, the contractor registration dialog handed off, the ledger contractors offered to
the subcontracting request, and the ledger's sweep as every replica runs it: reminders once from
two replicas on one database, escalation to the security channel only when overdue, a failed
delivery sent by a later sweep, nothing sent twice after the event ledger is purged, approved
requests attached."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.approvals.policy import ApprovalPolicy
from bot.approvals.risk import RiskRules, default_rules_path
from bot.approvals.service import ApprovalService
from bot.approvals.subcontract_fields import SubcontractAnswers
from bot.assistant.service import Assistant
from bot.config import PROJECT_ROOT
from bot.contractors import prefill as ledger_prefill
from bot.contractors.models import ContractorFields
from bot.contractors.review_fields import ReviewAnswers
from bot.contractors.reviews import (
    ActionView,
    Closed,
    ReviewService,
    find_contractor,
    first_overdue,
    review_check,
    start_review,
)
from bot.contractors.risk import ContractorRules, add_months, default_contractor_rules_path
from bot.contractors.service import ContractorService, ContractorView, on_request_approved
from bot.delivery.contractors import ContractorDesk
from bot.dialogs.engine import DialogEngine, DialogState
from bot.dialogs.guidance import GuidanceLibrary
from bot.dialogs.handoff import ContractorRegistered, Handoff, NotFiled, ReviewRecorded
from bot.dialogs.spec import GENERAL
from bot.dialogs.specs import DIALOGS
from bot.dialogs.specs.review import REVIEW
from bot.drafting.clauses import ClauseLibrary
from bot.store import audit
from bot.store.db import Database, open_database
from bot.store.dialogs import DialogStore
from bot.store.events import EventLedger
from bot.store.tables import (
    AuditEntry,
    ContractorRecord,
    CorrectiveActionRecord,
    ProcessedEvent,
)

TODAY = dt.date.today()  # a review's date may not be in the future: the tests live in the present
DAY = dt.timedelta(days=1)
OWNER = "U0ALICE"
CHANNEL = "C0SECURITY"
RULES = ContractorRules.load(default_contractor_rules_path(PROJECT_ROOT / "knowledge"))

BASE: dict[str, Any] = {
    "name": "株式会社ミドリ給与サービス",
    "services": "給与計算",
    "work": "月次の給与計算と給与明細の発行",
    "contract_type": "jun_inin",
    "contract_start": (TODAY - 400 * DAY).isoformat(),
    "contract_end": (TODAY + 700 * DAY).isoformat(),
    "personal_data": True,
    "personal_data_count": 800,
    "certifications": ["pmark"],
    "pmark_expires": (TODAY + 300 * DAY).isoformat(),
}


class Clock:
    def __init__(self) -> None:
        self.today = TODAY

    def __call__(self) -> dt.date:
        return self.today


class Recorder:
    """A platform that remembers what it was asked to deliver (and can fail on demand)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.failures = 0

    def _send(self, kind: str, where: str, subject: str) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("platform unavailable")
        self.sent.append((kind, where, subject))

    def review_due(self, view: ContractorView, today: dt.date, overdue: bool) -> None:
        self._send("review_overdue_dm" if overdue else "review_due", view.owner, view.id)

    def review_overdue(self, channel: str, view: ContractorView, today: dt.date) -> None:
        self._send("review_escalated", channel, view.id)

    def action_due(self, action: ActionView, today: dt.date) -> None:
        self._send("action_due", action.owner, action.id)

    def action_overdue(self, channel: str, action: ActionView, today: dt.date) -> None:
        self._send("action_escalated", channel, action.id)


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def db(database_url: str) -> Iterator[Database]:
    db = open_database(database_url)
    yield db
    db.dispose()


@pytest.fixture()
def contractors(db: Database, clock: Clock) -> ContractorService:
    return ContractorService(db, RULES, today=clock)


@pytest.fixture()
def reviews(contractors: ContractorService) -> ReviewService:
    return ReviewService(contractors)


def register(service: ContractorService, owner: str = OWNER, **changes: Any) -> ContractorView:
    fields = ContractorFields.model_validate({**BASE, **changes})
    outcome = service.register(owner, fields, owner=owner)
    assert outcome.contractor is not None, outcome.message
    return outcome.contractor


def handoff(contractors: ContractorService, reviews: ReviewService) -> Handoff:
    return Handoff(
        ClauseLibrary.load(PROJECT_ROOT / "knowledge"),
        None,
        via="slack",
        contractors=contractors,
        reviews=reviews,
    )


def review_answers(contractor_id: str, **changes: Any) -> dict[str, dict[str, Any]]:
    steps: dict[str, dict[str, Any]] = {
        "target": {"contractor_id": contractor_id, "reviewed_on": TODAY.isoformat()},
        "method": {"methods": ["document", "onsite"]},
        "report": {
            "report_received": "true",
            "report_date": (TODAY - 3 * DAY).isoformat(),
            "checked": ["media", "handlers", "subcontracting"],
        },
        "findings": {
            "outcome": "minor",
            "findings": "鍵の管理簿に記入漏れ。担当の山田太郎（yamada@example.com）に確認済み",
        },
        "actions": {
            "action_1": "鍵の管理簿の様式を改め、記入を毎日確認する",
            "action_1_due": (TODAY + 30 * DAY).isoformat(),
            "action_2": "取扱者の名簿を更新する",
            "action_2_due": (TODAY + 10 * DAY).isoformat(),
        },
    }
    for step, values in changes.items():
        steps[step] = values
    return steps


def walk(
    engine: DialogEngine, owner: str, state: DialogState, answers: dict[str, dict[str, Any]]
) -> DialogState:
    while not state.at_review:
        state = engine.submit(state.id, owner, state.version, state.step, answers[state.step])
        assert not state.errors, (state.step, state.errors)
    return state


def finish_review(
    db: Database,
    contractors: ContractorService,
    reviews: ReviewService,
    contractor_id: str,
    owner: str = OWNER,
    **changes: Any,
) -> ReviewRecorded:
    engine = DialogEngine(DIALOGS, DialogStore(db, 3600))
    state, _ = start_review(engine, owner, contractor_id, TODAY)
    state = walk(engine, owner, state, review_answers(contractor_id, **changes))
    done, model = engine.finish(state.id, owner, state.version)
    assert isinstance(model, ReviewAnswers), done.errors
    result = handoff(contractors, reviews).finish(state.id, owner, model)
    assert isinstance(result, ReviewRecorded), result
    return result


def actions_of(db: Database) -> list[str]:
    with db.session() as s:
        return [e.action for e in s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()]


# -- the review dialog to the recorded review ----------------------------------------------------


def test_the_review_dialog_records_the_review_and_computes_the_next_date(
    db: Database, contractors: ContractorService, reviews: ReviewService
) -> None:
    ct = register(contractors, last_assessed=(TODAY - 400 * DAY).isoformat())
    assert ct.rating.overdue and ct.rating.level == "medium"  # overdue raises the level
    result = finish_review(db, contractors, reviews, ct.id)
    review = result.review
    assert review.contractor_id == ct.id and review.reviewed_on == TODAY
    assert review.methods == ("document", "onsite") and review.outcome == "minor"
    assert review.report_date == TODAY - 3 * DAY
    assert review.checked == ("media", "handlers", "subcontracting")
    # personal data typed into the findings is never stored
    assert review.findings is not None
    assert "山田" not in review.findings and "yamada@" not in review.findings
    assert "[EMAIL_1]" in review.findings
    # the contractor: last assessment moved to the review, next review one interval later
    after = result.contractor
    assert after is not None and after.fields.last_assessed == TODAY
    assert after.version == ct.version + 1
    assert not after.rating.overdue and after.rating.level == "low"
    assert after.rating.next_review == add_months(TODAY, RULES.reviews.months("low"))
    assert review.next_review == after.rating.next_review and review.level == "low"
    # the corrective actions, open, owned by the contractor's owner
    assert [(a.due, a.status, a.owner) for a in review.actions] == [
        (TODAY + 30 * DAY, "open", OWNER),
        (TODAY + 10 * DAY, "open", OWNER),
    ]
    assert [a.id for a in reviews.actions(open_only=True)] == [
        review.actions[1].id,  # by due date
        review.actions[0].id,
    ]
    trail = actions_of(db)
    assert trail[-4:] == [
        "contractor_reviewed",
        "action_opened",
        "action_opened",
        "review_recorded",
    ]
    assert audit.verify(db).ok
    assert reviews.history(ct.id)[0].id == review.id


def test_a_review_finished_twice_is_recorded_once(
    db: Database, contractors: ContractorService, reviews: ReviewService
) -> None:
    ct = register(contractors)
    engine = DialogEngine(DIALOGS, DialogStore(db, 3600))
    state, _ = start_review(engine, OWNER, ct.id, TODAY)
    state = walk(engine, OWNER, state, review_answers(ct.id))
    _, model = engine.finish(state.id, OWNER, state.version)
    assert isinstance(model, ReviewAnswers)
    h = handoff(contractors, reviews)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: h.finish(state.id, OWNER, model), range(4)))
    ids = {r.review.id for r in results if isinstance(r, ReviewRecorded)}
    assert len(ids) == 1 and len(results) == 4
    assert len(reviews.actions()) == 2
    assert actions_of(db).count("review_recorded") == 1
    assert audit.verify(db).ok


def test_a_review_without_findings_skips_the_corrective_actions(
    db: Database, contractors: ContractorService, reviews: ReviewService
) -> None:
    ct = register(contractors)
    engine = DialogEngine(DIALOGS, DialogStore(db, 3600))
    state, _ = start_review(engine, OWNER, ct.id, TODAY)
    answers = review_answers(ct.id, findings={"outcome": "satisfactory"})
    answers["report"] = {"report_received": "false"}
    state = walk(engine, OWNER, state, answers)
    assert state.position() == (5, 5)  # four steps and the review: no corrective actions
    _, model = engine.finish(state.id, OWNER, state.version)
    assert isinstance(model, ReviewAnswers) and model.action_1 is None
    result = handoff(contractors, reviews).finish(state.id, OWNER, model)
    assert isinstance(result, ReviewRecorded)
    assert result.review.actions == () and result.review.report_date is None


def test_an_earlier_review_does_not_move_the_last_assessment_back(
    db: Database, contractors: ContractorService, reviews: ReviewService
) -> None:
    ct = register(contractors, last_assessed=TODAY.isoformat())
    earlier = (TODAY - 20 * DAY).isoformat()
    result = finish_review(
        db,
        contractors,
        reviews,
        ct.id,
        target={"contractor_id": ct.id, "reviewed_on": earlier},
        report={"report_received": "false"},
        actions={"action_1": "手順書を改める", "action_1_due": TODAY.isoformat()},
    )
    assert result.contractor is not None and result.contractor.fields.last_assessed == TODAY
    assert result.contractor.version == ct.version  # unchanged
    assert audit.verify(db).ok


def test_a_review_of_an_unknown_contractor_is_not_recorded(
    db: Database, contractors: ContractorService, reviews: ReviewService
) -> None:
    answers = ReviewAnswers.model_validate(
        {
            "contractor_id": "CT-999999",
            "reviewed_on": TODAY,
            "methods": ["interview"],
            "report_received": False,
            "outcome": "satisfactory",
        }
    )
    result = handoff(contractors, reviews).finish("d1", OWNER, answers)
    assert isinstance(result, NotFiled) and "CT-999999" in result.message


@pytest.mark.parametrize(
    ("step", "values", "field", "expected"),
    [
        ("target", {"contractor_id": "A社", "reviewed_on": "2026-01-05"}, "contractor_id", "CT-"),
        (
            "target",
            {"contractor_id": "CT-000001", "reviewed_on": (TODAY + DAY).isoformat()},
            "reviewed_on",
            "未来",
        ),
        ("method", {}, "methods", "入力"),
        ("method", {"methods": ["hearsay"]}, "methods", "選択肢"),
        ("report", {"report_received": "true"}, GENERAL, "報告書を受け取った日"),
        ("findings", {"outcome": "major"}, GENERAL, "指摘事項の内容"),
        ("actions", {}, "action_1", "入力"),
        ("actions", {"action_1": "直す"}, GENERAL, "是正措置１の期限"),
        (
            "actions",
            {"action_1": "直す", "action_1_due": (TODAY - DAY).isoformat()},
            GENERAL,
            "点検の日より後",
        ),
        (
            "actions",
            {
                "action_1": "直す",
                "action_1_due": TODAY.isoformat(),
                "action_2_due": TODAY.isoformat(),
            },
            GENERAL,
            "是正措置２の内容",
        ),
    ],
)
def test_the_review_dialog_checks_each_step(
    db: Database, step: str, values: dict[str, Any], field: str, expected: str
) -> None:
    engine = DialogEngine(DIALOGS, DialogStore(db, 3600))
    state, _ = start_review(engine, OWNER, "CT-000001", TODAY)
    answers = review_answers("CT-000001")
    while state.step != step:
        state = engine.submit(state.id, OWNER, state.version, state.step, answers[state.step])
        assert not state.errors, state.errors
    checked = engine.submit(state.id, OWNER, state.version, step, values)
    assert expected in checked.errors.get(field, ""), checked.errors


def test_the_first_step_finds_the_contractor_in_the_ledger(
    db: Database, contractors: ContractorService
) -> None:
    ct = register(contractors)
    engine = DialogEngine(DIALOGS, DialogStore(db, 3600), {"review": review_check(contractors)})
    state, _ = start_review(engine, OWNER, "CT-999999", TODAY)
    refused = engine.submit(state.id, OWNER, state.version, "target", state.answers)
    assert "台帳にありません" in refused.errors["contractor_id"]
    moved = engine.submit(
        state.id, OWNER, state.version, "target", {**state.answers, "contractor_id": ct.id}
    )
    assert not moved.errors and moved.step == "method"
    assert find_contractor(contractors, ct.id.lower()) == ct
    assert find_contractor(contractors, "株式会社 ミドリ給与サービス") is not None
    assert find_contractor(contractors, "株式会社ないない") is None
    assert find_contractor(contractors, "  ") is None


def test_every_review_step_quotes_the_checklist(bundled_assistant: Assistant) -> None:
    library = GuidanceLibrary(bundled_assistant.kb)
    for step in REVIEW.steps:
        assert step.guidance is not None, step.id
        found = library.for_step(step.guidance)
        assert found is not None and found.source == step.guidance.source, step.id
        assert step.guidance.section in found.section and len(found.text) > 20, step.id
        assert found.url and found.url.startswith("https://"), step.id


def test_an_unfinished_review_resumes_for_the_same_contractor_only(db: Database) -> None:
    engine = DialogEngine(DIALOGS, DialogStore(db, 3600))
    first, resumed = start_review(engine, OWNER, "CT-000001", TODAY)
    assert not resumed and first.answers["contractor_id"] == "CT-000001"
    moved = engine.submit(first.id, OWNER, first.version, "target", first.answers)
    again, resumed = start_review(engine, OWNER, "CT-000001", TODAY)
    assert resumed and again.id == first.id and again.step == moved.step == "method"
    other, resumed = start_review(engine, OWNER, "CT-000002", TODAY)
    assert not resumed and other.id != first.id and other.step == "target"


# -- corrective actions ------------------------------------------------------------------------------


def test_corrective_actions_close_once_with_compare_and_set(
    db: Database, contractors: ContractorService, reviews: ReviewService
) -> None:
    ct = register(contractors)
    action = finish_review(db, contractors, reviews, ct.id).review.actions[0]
    stale = reviews.close(action.id, "U0BOB", expected_version=action.version + 1)
    assert stale.result is Closed.STALE and "更新されています" in stale.message
    done = reviews.close(
        action.id,
        "U0BOB",
        note="報告書で確認。窓口は090-1234-5678",
        expected_version=action.version,
    )
    assert done.result is Closed.CLOSED and done.action is not None
    assert done.action.status == "closed" and done.action.closed_by == "U0BOB"
    assert done.action.version == action.version + 1
    assert done.action.note is not None and "090-1234-5678" not in done.action.note
    again = reviews.close(action.id, "U0CAROL")
    assert again.result is Closed.ALREADY and again.action is not None
    assert again.action.closed_by == "U0BOB"
    assert reviews.close("CA-999999", "U0BOB").result is Closed.UNKNOWN
    assert action.id not in [a.id for a in reviews.actions(open_only=True)]
    assert action.id in [a.id for a in reviews.actions()]
    assert actions_of(db).count("action_closed") == 1
    assert audit.verify(db).ok


def test_two_people_closing_at_once_close_it_once(
    db: Database, contractors: ContractorService, reviews: ReviewService
) -> None:
    ct = register(contractors)
    action = finish_review(db, contractors, reviews, ct.id).review.actions[0]
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(
                lambda who: reviews.close(action.id, who, expected_version=action.version),
                ["U0A", "U0B", "U0C", "U0D"],
            )
        )
    assert [r.result for r in results].count(Closed.CLOSED) == 1
    assert actions_of(db).count("action_closed") == 1


# -- the registration dialog, and the request's ledger contractors ----------------------------------


def test_the_contractor_dialog_registers_a_contractor_owned_by_its_user(
    db: Database, contractors: ContractorService, reviews: ReviewService
) -> None:
    engine = DialogEngine(DIALOGS, DialogStore(db, 3600))
    answers = {
        "contractor": {"name": "株式会社アオ印刷"},
        "work": {"services": "印刷", "work": "請求書の印刷と封入"},
        "contract": {
            "contract_type": "ukeoi",
            "contract_start": (TODAY - 10 * DAY).isoformat(),
            "contract_end": (TODAY + 355 * DAY).isoformat(),
        },
        "data": {"personal_data": "true"},
        "data_detail": {"personal_data_count": "3000"},
        "location": {},
        "security": {"certifications": ["isms"], "isms_expires": (TODAY + 90 * DAY).isoformat()},
        "assessment": {},
    }
    state, _ = engine.start("contractor", "slack:T0:U0BOB", fresh=True)
    state = walk(engine, "slack:T0:U0BOB", state, answers)
    _, model = engine.finish(state.id, "slack:T0:U0BOB", state.version)
    assert model is not None
    result = handoff(contractors, reviews).finish(state.id, "U0BOB", model)
    assert isinstance(result, ContractorRegistered)
    view = result.contractor
    assert view.owner == "U0BOB" and view.name == "株式会社アオ印刷"
    assert view.fields.personal_data_count == 3000 and view.rating.next_review is None
    assert actions_of(db)[-1] == "contractor_registered"
    again = handoff(contractors, reviews).finish(state.id, "U0BOB", model)
    assert isinstance(again, NotFiled) and "すでに台帳にあります" in again.message
    no_ledger = Handoff(ClauseLibrary.load(PROJECT_ROOT / "knowledge"), None, via="terminal")
    assert isinstance(no_ledger.finish(state.id, "U0BOB", model), NotFiled)


def test_a_ledger_contractor_fills_in_the_subcontracting_request(
    db: Database, contractors: ContractorService
) -> None:
    mine = register(contractors)
    register(contractors, owner="U0BOB", name="株式会社ほかの会社")
    ended = register(
        contractors,
        name="株式会社むかし",
        contract_start="2020-01-01",
        contract_end="2021-01-01",
    )
    assert [v.id for v in ledger_prefill.choices(contractors, OWNER)] == [mine.id, ended.id]
    spec = DIALOGS["subcontract"]
    values = ledger_prefill.subcontract_values(spec, mine, TODAY)
    assert values == {
        "contractor_name": "株式会社ミドリ給与サービス",
        "our_contract": f"給与計算の委託契約（台帳 {mine.id}）",
        "period_end": mine.fields.contract_end.isoformat(),
    }
    assert "period_end" not in ledger_prefill.subcontract_values(spec, ended, TODAY)
    long = register(contractors, name="株式会社ながい", services="あ" * 100)
    assert len(ledger_prefill.subcontract_values(spec, long, TODAY)["our_contract"]) == 100
    # offered at the request's first step only
    engine = DialogEngine(DIALOGS, DialogStore(db, 3600))
    state, _ = engine.start("subcontract", "slack:T0:U0ALICE")
    assert len(ledger_prefill.offered(contractors, state, OWNER)) == 3
    nda, _ = engine.start("nda", "slack:T0:U0ALICE")
    assert ledger_prefill.offered(contractors, nda, OWNER) == []
    # the request, approved, joins the ledger under the picked contractor
    filled, _ = engine.start("subcontract", "slack:T0:U0ALICE", prefill=values)
    assert filled.answers["contractor_name"] == mine.name


# -- the sweep ---------------------------------------------------------------------------------------


def desk(
    db: Database,
    clock: Clock,
    notifier: Recorder,
    channel: str | None = CHANNEL,
    lease_s: float = 120.0,
) -> ContractorDesk:
    contractors = ContractorService(db, RULES, today=clock)
    return ContractorDesk(
        contractors, ReviewService(contractors), EventLedger(db, lease_s), notifier, channel=channel
    )


def test_a_review_due_is_reminded_then_escalated_when_overdue(
    db: Database, contractors: ContractorService, clock: Clock
) -> None:
    months = RULES.reviews.months("low")
    last = add_months(TODAY, -months) + 5 * DAY  # due in five days
    ct = register(contractors, last_assessed=last.isoformat())
    notifier = Recorder()
    d = desk(db, clock, notifier)
    d.sweep()
    assert notifier.sent == [("review_due", OWNER, ct.id)]  # within the notice period: DM only
    d.sweep()
    assert len(notifier.sent) == 1  # once
    clock.today = TODAY + 6 * DAY  # the date has passed
    d.sweep()
    assert notifier.sent[1:] == [("review_escalated", CHANNEL, ct.id)]
    d.sweep()
    assert len(notifier.sent) == 2
    trail = actions_of(db)
    assert trail.count("review_reminded") == 1 and trail.count("review_escalated") == 1
    assert audit.verify(db).ok


def test_no_reminder_before_the_notice_period(
    db: Database, contractors: ContractorService, clock: Clock
) -> None:
    register(contractors, last_assessed=(TODAY - 10 * DAY).isoformat())
    notifier = Recorder()
    desk(db, clock, notifier).sweep()
    assert notifier.sent == []


def test_overdue_without_a_security_channel_reminds_the_owner_only_until_one_is_set(
    db: Database, contractors: ContractorService, clock: Clock
) -> None:
    ct = register(contractors, last_assessed=(TODAY - 800 * DAY).isoformat())
    notifier = Recorder()
    desk(db, clock, notifier, channel=None).sweep()
    assert notifier.sent == [("review_overdue_dm", OWNER, ct.id)]
    desk(db, clock, notifier, channel=CHANNEL).sweep()
    assert notifier.sent[1:] == [("review_escalated", CHANNEL, ct.id)]


def test_a_contractor_never_assessed_is_due_at_once_and_overdue_after_the_grace(
    db: Database, contractors: ContractorService, clock: Clock
) -> None:
    ct = register(contractors)  # no last assessment
    notifier = Recorder()
    d = desk(db, clock, notifier)
    d.sweep()
    assert notifier.sent == [("review_due", OWNER, ct.id)]
    grace = RULES.reviews.first_within_days
    assert not first_overdue(ct, TODAY + grace * DAY, grace)
    clock.today = TODAY + (grace + 1) * DAY
    d.sweep()
    assert notifier.sent[1:] == [("review_escalated", CHANNEL, ct.id)]


def test_reminders_go_out_once_from_two_replicas_on_one_database(
    database_url: str, clock: Clock
) -> None:
    first, second = open_database(database_url), open_database(database_url)
    contractors = ContractorService(first, RULES, today=clock)
    overdue = [
        register(
            contractors, name=f"株式会社遅延{i}", last_assessed=(TODAY - 500 * DAY).isoformat()
        )
        for i in range(3)
    ]
    ct = register(contractors, name="株式会社是正")
    result = finish_review(first, contractors, ReviewService(contractors), ct.id)
    with first.session() as s:  # one corrective action already late
        s.execute(
            update(CorrectiveActionRecord)
            .where(CorrectiveActionRecord.id == result.review.actions[1].id)
            .values(due=TODAY - DAY)
        )
    notifiers = [Recorder(), Recorder()]
    desks = [desk(first, clock, notifiers[0]), desk(second, clock, notifiers[1])]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: desks[i % 2].sweep(), range(8)))
    sent = sorted(notifiers[0].sent + notifiers[1].sent)
    expected = sorted(
        [("review_overdue_dm", OWNER, v.id) for v in overdue]
        + [("review_escalated", CHANNEL, v.id) for v in overdue]
        + [
            ("action_due", OWNER, result.review.actions[1].id),
            ("action_escalated", CHANNEL, result.review.actions[1].id),
        ]
    )
    assert sent == expected  # each once, whichever replica sent it
    assert audit.verify(first).ok
    first.dispose()
    second.dispose()


def test_a_failed_reminder_is_sent_by_a_later_sweep(
    db: Database, contractors: ContractorService, clock: Clock
) -> None:
    ct = register(contractors, last_assessed=(TODAY - 800 * DAY).isoformat())
    notifier = Recorder()
    notifier.failures = 1
    d = desk(db, clock, notifier, channel=None)
    d.sweep()
    assert notifier.sent == []
    d.sweep()
    assert notifier.sent == [("review_overdue_dm", OWNER, ct.id)]
    d.sweep()
    assert len(notifier.sent) == 1


def test_a_claim_left_by_a_replica_that_died_is_sent_once_its_lease_is_over(
    db: Database, contractors: ContractorService, clock: Clock
) -> None:
    ct = register(contractors, last_assessed=(TODAY - 800 * DAY).isoformat())
    notifier = Recorder()
    d = desk(db, clock, notifier, channel=None, lease_s=0.0)
    key = f"review-due:{ct.id}:{ct.rating.next_review}"
    d.ledger.claim(key, "reminder")  # a replica claimed it and died before sending
    d.ledger.finish(key, "expired")  # the events' sweeper gave it up
    d.sweep()
    assert notifier.sent == [("review_overdue_dm", OWNER, ct.id)]


def test_reminders_are_not_repeated_after_the_event_ledger_is_purged(
    db: Database, contractors: ContractorService, clock: Clock
) -> None:
    register(contractors, last_assessed=(TODAY - 800 * DAY).isoformat())
    notifier = Recorder()
    d = desk(db, clock, notifier)
    d.sweep()
    assert len(notifier.sent) == 2
    assert d.ledger.purge(older_than_days=-1) >= 2  # the retention period is over
    with db.session() as s:
        assert s.execute(select(ProcessedEvent)).first() is None
    d.sweep()
    assert len(notifier.sent) == 2


def test_a_recorded_review_starts_a_new_cycle_of_reminders(
    db: Database, contractors: ContractorService, reviews: ReviewService, clock: Clock
) -> None:
    ct = register(contractors, last_assessed=(TODAY - 800 * DAY).isoformat())
    notifier = Recorder()
    d = desk(db, clock, notifier)
    d.sweep()
    assert len(notifier.sent) == 2
    result = finish_review(db, contractors, reviews, ct.id, findings={"outcome": "satisfactory"})
    assert result.contractor is not None
    next_review = result.contractor.rating.next_review
    assert next_review is not None
    d.sweep()
    assert len(notifier.sent) == 2  # reviewed: nothing due
    clock.today = next_review - 2 * DAY
    d.sweep()
    assert notifier.sent[2:] == [("review_due", OWNER, ct.id)]


def test_corrective_actions_are_reminded_before_their_due_date_and_escalated_after(
    db: Database, contractors: ContractorService, reviews: ReviewService, clock: Clock
) -> None:
    ct = register(contractors)
    review = finish_review(
        db,
        contractors,
        reviews,
        ct.id,
        actions={
            "action_1": "鍵の管理簿を改める",
            "action_1_due": (TODAY + 10 * DAY).isoformat(),
            "action_2": "名簿を更新する",
            "action_2_due": (TODAY + 20 * DAY).isoformat(),
        },
    ).review
    first, second = review.actions
    notifier = Recorder()
    d = desk(db, clock, notifier)
    d.sweep()
    assert [s for s in notifier.sent if s[0].startswith("action")] == []  # not yet
    clock.today = first.due - RULES.reviews.action_notice_days * DAY
    d.sweep()
    assert [s for s in notifier.sent if s[0].startswith("action")] == [
        ("action_due", OWNER, first.id)
    ]
    clock.today = first.due + DAY
    d.sweep()
    d.sweep()
    assert [s for s in notifier.sent if s[0].startswith("action")] == [
        ("action_due", OWNER, first.id),
        ("action_escalated", CHANNEL, first.id),
    ]
    # closed: no reminder for it again, the other still comes
    assert reviews.close(second.id, OWNER).result is Closed.CLOSED
    clock.today = second.due + DAY
    d.sweep()
    assert second.id not in [s[2] for s in notifier.sent]
    trail = actions_of(db)
    assert trail.count("action_reminded") == 1 and trail.count("action_escalated") == 1


POLICY = """
channel: C0APPROVALS
remind_after_hours: 24
escalate_after_hours: 72
escalation: [U0CISO]
levels:
  low: {stages: [{name: 部門長, approvers: [U0MANAGER]}]}
  medium: {stages: [{name: 部門長, approvers: [U0MANAGER]}]}
  high: {stages: [{name: 部門長, approvers: [U0MANAGER]}]}
"""


def test_the_sweep_attaches_requests_approved_before_their_contractor_was_registered(
    db: Database, contractors: ContractorService, clock: Clock, tmp_path: Path
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    approvals = ApprovalService(
        db,
        ApprovalPolicy.load(path),
        RiskRules.load(default_rules_path(PROJECT_ROOT / "knowledge")),
        on_approved=on_request_approved,
    )
    request = approvals.file(
        OWNER,
        SubcontractAnswers(
            our_contract="給与計算業務委託契約",
            contractor_name="株式会社ミドリ給与サービス",
            subcontractor_name="株式会社インサツ",
            subcontractor_address="東京都千代田区1-1",
            work_description="給与明細の印刷と封入",
            reason="繁忙期の人員不足",
            period_start=TODAY,
            period_end=TODAY + 300 * DAY,
        ),
    )
    approvals.decide(request.id, "U0MANAGER", "approved")
    top = register(contractors, last_assessed=TODAY.isoformat())
    d = desk(db, clock, Recorder())
    d.sweep()
    [child] = contractors.search(parent_id=top.id)
    assert child.source_request_id == request.id
    d.sweep()
    with db.session() as s:
        assert len(s.execute(select(ContractorRecord)).all()) == 2


def test_app_home_holds_the_users_contractors_what_is_due_and_open_actions(
    db: Database, contractors: ContractorService, reviews: ReviewService, clock: Clock
) -> None:
    due = register(contractors, last_assessed=(TODAY - 800 * DAY).isoformat())
    fine = register(contractors, name="株式会社あんしん", last_assessed=TODAY.isoformat())
    register(contractors, owner="U0BOB", name="株式会社ほか")
    review = finish_review(db, contractors, reviews, fine.id).review
    home = desk(db, clock, Recorder()).home(OWNER)
    assert [v.id for v in home.contractors] == [due.id, fine.id]
    assert [v.id for v in home.due] == [due.id]
    assert {a.id for a in home.actions} == {a.id for a in review.actions}
