"""Incidents at contractors without any platform, on SQLite and PostgreSQL: filing (the ledger's
contractor by id or name, else a free name), the decision and deadlines stored, the checklist
with compare-and-set, facts updated, the audit trail, reminders once from two replicas, cards
caught up, and the intake dialog's validation."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from bot.config import PROJECT_ROOT
from bot.contractors.models import ContractorFields
from bot.contractors.risk import ContractorRules, default_contractor_rules_path
from bot.contractors.service import ContractorService
from bot.delivery.incidents import IncidentDesk
from bot.delivery.requests import Placement
from bot.delivery.runner import JobRunner
from bot.dialogs.engine import DialogEngine
from bot.dialogs.spec import GENERAL, REVIEW
from bot.dialogs.specs import DIALOGS
from bot.incidents.deadlines import Kind, today_in_japan
from bot.incidents.intake import IncidentIntake
from bot.incidents.render import incident_text, reasoning, reminder_text, timeline
from bot.incidents.rules import Verdict
from bot.incidents.service import (
    STEPS,
    IncidentService,
    IncidentView,
    Reminder,
    Result,
    reminders_due,
)
from bot.store import audit
from bot.store.db import Database, open_database
from bot.store.dialogs import DialogStore
from bot.store.events import EventLedger
from bot.store.tables import AuditEntry, IncidentRecord, ProcessedEvent

LEARNED = dt.date(
    2026, 11, 2
)  # a Monday: 速報 target 11-04 to 11-06, 確報 12-01 (30) or 2027-01-04 (60)
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
MIDORI = "株式会社ミドリ給与サービス"


def intake(**changes: Any) -> IncidentIntake:
    base: dict[str, Any] = {
        "contractor": MIDORI,
        "what_happened": "給与明細のPDFを別の顧客に誤送信した。担当の山田太郎（taro@example.com）が気付いた。",
        "learned_on": LEARNED.isoformat(),
        "data_kinds": ["name", "address"],
        "sensitive": "no",
        "financial_damage": "no",
        "people": 1500,
        "cause": "none",
    }
    return IncidentIntake.model_validate({**base, **changes})


@pytest.fixture()
def db(database_url: str) -> Database:
    return open_database(database_url)


@pytest.fixture()
def incidents(db: Database) -> IncidentService:
    return IncidentService(db)


@pytest.fixture()
def contractor_id(db: Database) -> str:
    ledger = ContractorService(
        db, ContractorRules.load(default_contractor_rules_path(PROJECT_ROOT / "knowledge"))
    )
    outcome = ledger.register(
        ALICE,
        ContractorFields.model_validate(
            {
                "name": MIDORI,
                "work": "月次の給与計算",
                "contract_start": "2026-04-01",
                "contract_end": "2027-03-31",
            }
        ),
        owner=ALICE,
    )
    assert outcome.contractor is not None
    return outcome.contractor.id


def file(incidents: IncidentService, **changes: Any) -> IncidentView:
    outcome = incidents.file(ALICE, intake(**changes), via="test")
    assert outcome.result is Result.RECORDED and outcome.incident is not None, outcome.message
    return outcome.incident


def entries(db: Database) -> list[AuditEntry]:
    with db.session() as s:
        return list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())


# -- filing --------------------------------------------------------------------------------------


def test_filing_stores_the_decision_the_deadlines_and_an_open_checklist(
    incidents: IncidentService, contractor_id: str
) -> None:
    view = file(incidents, contractor=contractor_id)
    assert view.id == "IN-000001" and view.version == 1 and view.status == "open"
    assert view.contractor_id == contractor_id and view.contractor_name == MIDORI
    assert view.decision.verdict is Verdict.REQUIRED  # 1,500 people: item 4
    assert [a.item for a in view.decision.applicable] == [4]
    pre, final = view.deadlines.get(Kind.PRELIMINARY), view.deadlines.final
    assert (pre.window_start, pre.due) == (dt.date(2026, 11, 4), dt.date(2026, 11, 6))
    assert final.kind is Kind.FINAL and final.due == dt.date(2026, 12, 1)
    assert [s.key for s in view.checklist] == list(STEPS)
    assert not any(s.done for s in view.checklist) and all(s.applies for s in view.checklist)
    with incidents.db.session() as s:
        row = s.get(IncidentRecord, view.id)
        assert row is not None
        assert (row.verdict, row.preliminary_due, row.final_due) == (
            "required",
            dt.date(2026, 11, 6),
            dt.date(2026, 12, 1),
        )
    assert [v.id for v in incidents.search()] == [view.id]
    assert incidents.get("IN-999999") is None


def test_the_contractor_is_found_by_id_or_name_or_kept_as_a_free_name(
    incidents: IncidentService, contractor_id: str
) -> None:
    by_name = file(
        incidents, contractor="(株)ミドリ給与サービス"
    )  # the legal form written otherwise
    assert by_name.contractor_id == contractor_id and by_name.contractor_name == MIDORI
    free = file(incidents, contractor="株式会社どこにもない")
    assert free.contractor_id is None and free.contractor_name == "株式会社どこにもない"
    refused = incidents.file(ALICE, intake(contractor="CT-999999"))
    assert refused.result is Result.INVALID and "台帳にありません" in refused.message
    assert incidents.check_step("what", {"contractor": "CT-999999"}) == {
        "contractor": "委託先 CT-999999 は台帳にありません。"
    }
    assert incidents.check_step("what", {"contractor": contractor_id}) == {}
    assert incidents.check_step("when", {"learned_on": "2026-11-02"}) == {}


def test_personal_data_typed_into_what_happened_is_masked_at_rest(
    incidents: IncidentService,
) -> None:
    view = file(incidents)
    assert view.facts.what_happened is not None
    assert "山田" not in view.facts.what_happened
    assert "taro@example.com" not in view.facts.what_happened
    assert "誤送信" in view.facts.what_happened


def test_many_filings_at_once_get_distinct_ids(incidents: IncidentService) -> None:
    with ThreadPoolExecutor(6) as pool:
        views = list(pool.map(lambda _: file(incidents), range(12)))
    assert len({v.id for v in views}) == 12


def test_a_dialog_files_once_and_then_updates_its_incident(incidents: IncidentService) -> None:
    first = incidents.submit(ALICE, intake(), dialog_id="d1", via="test")
    assert first.result is Result.RECORDED and not first.resubmitted
    again = incidents.submit(ALICE, intake(cause="ransomware"), dialog_id="d1", via="test")
    assert again.resubmitted and again.result is Result.RECORDED and again.incident is not None
    assert again.incident.id == first.incident.id if first.incident else False
    assert again.incident.version == 2
    assert again.incident.deadlines.final.kind is Kind.FINAL_IMPROPER
    assert again.incident.deadlines.final.due == dt.date(2027, 1, 4)  # day 60 in the closure
    assert len(incidents.search()) == 1


# -- the checklist --------------------------------------------------------------------------------


def test_the_checklist_is_compare_and_set(incidents: IncidentService) -> None:
    view = file(incidents)
    done = incidents.mark(view.id, "containment", True, BOB, expected_version=1)
    assert done.result is Result.RECORDED and done.incident is not None
    step = done.incident.step("containment")
    assert step.done and step.by == BOB and step.at is not None and done.incident.version == 2
    stale = incidents.mark(view.id, "facts_confirmed", True, CAROL, expected_version=1)
    assert stale.result is Result.STALE and "第2版" in stale.message
    twice = incidents.mark(view.id, "containment", True, CAROL, expected_version=1)
    assert twice.result is Result.UNCHANGED and BOB in twice.message
    undone = incidents.mark(view.id, "containment", False, CAROL, expected_version=2)
    assert undone.result is Result.RECORDED and undone.incident is not None
    assert not undone.incident.step("containment").done and undone.incident.version == 3
    unknown = incidents.mark(view.id, "party", True, CAROL, expected_version=3)
    assert unknown.result is Result.INVALID
    missing = incidents.mark("IN-000404", "containment", True, CAROL, expected_version=1)
    assert missing.result is Result.UNKNOWN


def test_simultaneous_clicks_on_one_version_record_one(incidents: IncidentService) -> None:
    view = file(incidents)
    start = threading.Barrier(4)

    def click(args: tuple[str, str]) -> Result:
        user, step = args
        start.wait()
        return incidents.mark(view.id, step, True, user, expected_version=1).result

    results = list(
        ThreadPoolExecutor(4).map(
            click,
            [
                (BOB, "containment"),
                (CAROL, "containment"),
                (ALICE, "prevention"),
                ("U0D", "facts_confirmed"),
            ],
        )
    )
    assert results.count(Result.RECORDED) == 1
    fresh = incidents.get(view.id)
    assert fresh is not None and fresh.version == 2
    assert sum(s.done for s in fresh.checklist) == 1
    assert [e.action for e in entries(incidents.db)].count("incident_step") == 1


def test_all_steps_done_closes_the_incident_and_no_duty_steps_when_not_reportable(
    incidents: IncidentService,
) -> None:
    view = file(incidents)
    version = view.version
    for key in STEPS:
        outcome = incidents.mark(view.id, key, True, BOB, expected_version=version)
        assert outcome.incident is not None
        version = outcome.incident.version
    assert outcome.incident.status == "closed" and outcome.incident.status_label == "対応完了"
    small = file(incidents, people=12)  # names and addresses of 12 people, mis-sent: no item
    assert small.decision.verdict is Verdict.NOT_REQUIRED
    assert [s.key for s in small.checklist if not s.applies] == [
        "individuals_notified",
        "ppc_preliminary",
        "ppc_final",
    ]
    version = small.version
    for key in ("containment", "facts_confirmed", "prevention"):
        outcome = incidents.mark(small.id, key, True, BOB, expected_version=version)
        assert outcome.incident is not None
        version = outcome.incident.version
    assert outcome.incident.status == "closed"
    assert [v.id for v in incidents.search(status="open")] == []


def test_updated_facts_recompute_and_a_stale_update_is_refused(
    incidents: IncidentService,
) -> None:
    view = file(incidents, people=None, sensitive="unknown")
    assert view.decision.verdict is Verdict.UNDETERMINED
    incidents.mark(view.id, "containment", True, BOB, expected_version=1)
    stale = incidents.update_facts(view.id, ALICE, intake(people=3000), expected_version=1)
    assert stale.result is Result.STALE
    updated = incidents.update_facts(view.id, ALICE, intake(people=3000), expected_version=2)
    assert updated.result is Result.RECORDED and updated.incident is not None
    assert updated.incident.decision.verdict is Verdict.REQUIRED
    assert updated.incident.step("containment").done  # the checklist is kept
    same = incidents.update_facts(view.id, ALICE, intake(people=3000), expected_version=3)
    assert same.result is Result.UNCHANGED


# -- the audit trail -----------------------------------------------------------------------------


def test_every_change_is_in_the_audit_trail_without_the_content(
    incidents: IncidentService, contractor_id: str
) -> None:
    view = file(incidents, contractor=contractor_id)
    incidents.mark(view.id, "containment", True, BOB, expected_version=1)
    incidents.update_facts(
        view.id, CAROL, intake(contractor=contractor_id, people=900), expected_version=2
    )
    trail = [e for e in entries(incidents.db) if e.request_id == view.id]
    assert [(e.actor, e.action) for e in trail] == [
        (ALICE, "incident_filed"),
        (BOB, "incident_step"),
        (CAROL, "incident_facts_updated"),
    ]
    assert [e.details["version"] for e in trail] == [1, 2, 3]
    assert trail[0].details["contractor"] == contractor_id
    assert (
        trail[0].details["verdict"] == "required" and trail[2].details["verdict"] == "not_required"
    )
    assert trail[1].details["step"] == "containment" and trail[1].details["done"] is True
    assert trail[2].details["fields"] == ["people"]
    assert all(str(e.details["record"]).startswith("h:") for e in trail)
    # the digests are hex: a number in the content may turn up in one by chance
    text = json.dumps(
        [{k: v for k, v in e.details.items() if k != "record"} for e in trail],
        ensure_ascii=False,
    )
    for secret in ("誤送信", "山田", "taro", "ミドリ", "1500", "900"):
        assert secret not in text
    assert [h[2] for h in incidents.history(view.id)][-1] == "incident_facts_updated"
    assert audit.verify(incidents.db).ok


def test_an_incident_edited_behind_the_trails_back_is_named(incidents: IncidentService) -> None:
    view = file(incidents)
    with incidents.db.session() as s:
        s.execute(
            update(IncidentRecord)
            .where(IncidentRecord.id == view.id)
            .values(checklist={k: {"done": True, "by": "x", "at": None} for k in STEPS})
        )
    report = audit.verify(incidents.db)
    assert not report.ok and any(view.id in p and "内容" in p for p in report.problems)


# -- reminders -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 11, 4), []),
        (dt.date(2026, 11, 5), [("preliminary", "1d", 1)]),  # the day before the target's end
        (dt.date(2026, 11, 6), [("preliminary", "1d", 0)]),  # missed: still the same reminder
        (dt.date(2026, 11, 7), [("preliminary", "overdue", -1)]),
        (dt.date(2026, 11, 27), [("preliminary", "overdue", -21)]),
        (dt.date(2026, 11, 28), [("preliminary", "overdue", -22), ("final", "3d", 3)]),
        (dt.date(2026, 11, 30), [("preliminary", "overdue", -24), ("final", "1d", 1)]),
        (dt.date(2026, 12, 2), [("preliminary", "overdue", -26), ("final", "overdue", -1)]),
    ],
)
def test_which_reminder_is_due(
    incidents: IncidentService, today: dt.date, expected: list[tuple[str, str, int]]
) -> None:
    view = file(incidents)
    got = [
        ("preliminary" if r.deadline is Kind.PRELIMINARY else "final", r.stage, r.days_left)
        for r in reminders_due(view, today)
    ]
    assert got == expected


def test_no_reminder_for_a_step_done_or_a_report_not_required(incidents: IncidentService) -> None:
    view = file(incidents)
    done = incidents.mark(view.id, "ppc_preliminary", True, BOB, expected_version=1).incident
    assert done is not None
    assert [r.deadline for r in reminders_due(done, dt.date(2026, 11, 30))] == [Kind.FINAL]
    small = file(incidents, people=12)
    assert reminders_due(small, dt.date(2026, 11, 30)) == []
    open_question = file(incidents, people=None)  # item 4 open: remind as if it applied
    assert [r.stage for r in reminders_due(open_question, dt.date(2026, 11, 5))] == ["1d"]


class Recorder:
    """A platform that only remembers what it was asked to deliver."""

    def __init__(self) -> None:
        self.sent: list[tuple[Any, ...]] = []
        self.lock = threading.Lock()

    def _add(self, *item: Any) -> None:
        with self.lock:
            self.sent.append(item)

    def post_incident(self, channel: str, view: IncidentView) -> Placement:
        self._add("post", channel, view.id, view.version)
        return Placement(channel, f"msg-{view.id}")

    def update_incident(self, at: Placement, view: IncidentView) -> None:
        self._add("update", at.message, view.version)

    def thread_reasoning(self, at: Placement, view: IncidentView) -> None:
        self._add("reasoning", at.message, view.version)

    def thread_reminder(self, at: Placement, view: IncidentView, reminder: Reminder) -> None:
        self._add("reminder", at.message, reminder.key)

    def direct_reminder(self, view: IncidentView, reminder: Reminder) -> None:
        self._add("direct_reminder", view.reporter, reminder.key)

    def kinds(self) -> list[str]:
        return [s[0] for s in self.sent]


@pytest.fixture()
def runner() -> Iterator[JobRunner]:
    runner = JobRunner(4)
    yield runner
    runner.shutdown(5)


def desk(
    db: Database, runner: JobRunner, notifier: Recorder, channel: str | None = "C0INCIDENTS"
) -> IncidentDesk:
    return IncidentDesk(
        IncidentService(db), EventLedger(db), runner, notifier, channel=channel, via="test"
    )


def test_card_and_reasoning_once_then_updated_on_a_click(db: Database, runner: JobRunner) -> None:
    notifier = Recorder()
    d = desk(db, runner, notifier)
    view = file(d.incidents)
    d.filed(view, False, ALICE)
    d.filed(view, False, ALICE)  # a retried hand-off: the card is updated, not posted again
    assert notifier.kinds() == ["post", "reasoning", "update"]
    ok, message = d.mark(view.id, "containment", True, BOB, 1)
    assert ok and message == ""
    assert runner.wait_idle(5)
    assert notifier.sent[-1] == ("update", f"msg-{view.id}", 2)
    ok, message = d.mark(view.id, "facts_confirmed", True, CAROL, 1)  # clicked on the old card
    assert not ok and "更新されています" in message
    fresh = d.incidents.get(view.id)
    assert fresh is not None and fresh.shown_version == 2 and fresh.message_ts == f"msg-{view.id}"


def test_reminders_once_from_two_replicas_and_not_again_after_the_ledger_forgets(
    database_url: str, runner: JobRunner
) -> None:
    first, second = open_database(database_url), open_database(database_url)
    a, b = Recorder(), Recorder()
    desk_a, desk_b = desk(first, runner, a), desk(second, runner, b)
    view = file(desk_a.incidents)
    desk_a.filed(view, False, ALICE)
    today = dt.date(2026, 11, 28)  # 速報 overdue, 確報 in 3 days
    with ThreadPoolExecutor(2) as pool:
        counts = list(pool.map(lambda d: d.sweep(today), [desk_a, desk_b]))
    reminders = [s for s in a.sent + b.sent if s[0] == "reminder"]
    assert sorted(r[2] for r in reminders) == [
        "final:2026-12-01:3d",
        "preliminary:2026-11-06:overdue",
    ]
    assert sum(counts) == 2
    with first.session() as s:  # the retention period passes: the ledger forgets its claims
        s.execute(delete(ProcessedEvent))
    assert desk_a.sweep(today) == 0 and desk_b.sweep(today) == 0
    assert desk_b.sweep(dt.date(2026, 11, 30)) == 1  # the day before: the next stage, once
    assert desk_a.sweep(dt.date(2026, 11, 30)) == 0
    trail = [e for e in entries(first) if e.action == "incident_reminded"]
    assert len(trail) == 3 and all(e.request_id == view.id for e in trail)
    assert audit.verify(first).ok


def test_a_card_left_behind_is_caught_up_and_without_a_channel_the_reporter_is_reminded(
    db: Database, runner: JobRunner
) -> None:
    view = file(IncidentService(db))  # filed from the terminal: no card yet
    notifier = Recorder()
    desk(db, runner, notifier).sweep(dt.date(2026, 11, 3))
    assert notifier.kinds() == ["post", "reasoning"]
    desk(db, runner, notifier).sweep(dt.date(2026, 11, 3))
    assert notifier.kinds() == ["post", "reasoning"]  # nothing more to do
    nowhere = Recorder()
    other = file(IncidentService(db))
    desk(db, runner, nowhere, channel=None).sweep(dt.date(2026, 11, 5))
    assert ("direct_reminder", ALICE, "preliminary:2026-11-06:1d") in nowhere.sent
    assert view.id != other.id


# -- words -----------------------------------------------------------------------------------------


def test_the_incident_in_words(incidents: IncidentService) -> None:
    view = file(incidents, cause="unknown")
    lines = dict(timeline(view))
    assert lines["発覚日"].startswith("2026年11月2日（月）")
    assert "2026年11月4日（水）～2026年11月6日（金）" in lines["速報"]
    assert "2026年12月1日（火）" in lines["確報"] and "第3号に該当するかが未確認" in lines["確報"]
    assert "2027年1月4日（月）" in lines["確報（第3号の場合）"]
    why = reasoning(view)
    assert why[0] == view.decision.summary_ja
    assert any("第4号" in line and "規則第7条第4号" in line for line in why)
    text = incident_text(view)
    assert "□ 被害の拡大防止（封じ込め）" in text and "出典" in text
    reminder = Reminder(Kind.FINAL, dt.date(2026, 12, 1), "3d", 3)
    assert "あと3日" in reminder_text(view, reminder)
    late = Reminder(Kind.PRELIMINARY, dt.date(2026, 11, 6), "overdue", -2)
    assert "2日過ぎています" in reminder_text(view, late)


# -- the intake dialog ---------------------------------------------------------------------------

STEPS_OK: dict[str, dict[str, Any]] = {
    "what": {"contractor": MIDORI, "what_happened": "委託先のサーバーが不正アクセスを受けた"},
    "when": {"learned_on": "2026-11-02"},
    "data": {"data_kinds": ["name", "card"], "sensitive": "no", "financial_damage": "yes"},
    "people": {"people": "800", "people_is_maximum": "true"},
    "cause": {"cause": "unauthorized_access"},
    "encryption": {"encrypted": "false"},
}


@pytest.fixture()
def engine(db: Database, incidents: IncidentService) -> DialogEngine:
    return DialogEngine(
        DIALOGS, DialogStore(db, ttl_s=3600), checks={"incident": incidents.check_step}
    )


def test_the_dialog_runs_to_a_valid_intake(engine: DialogEngine) -> None:
    state, _ = engine.start("incident", ALICE, fresh=True)
    while not state.at_review:
        state = engine.submit(state.id, ALICE, state.version, state.step, STEPS_OK[state.step])
        assert not state.errors, (state.step, state.errors)
    assert state.step == REVIEW
    _, model = engine.finish(state.id, ALICE, state.version)
    assert isinstance(model, IncidentIntake)
    facts = model.facts(MIDORI)
    assert facts.improper_purpose is True and facts.financial_damage is True
    assert facts.data_kinds == ("氏名", "クレジットカード番号") and facts.people == 800


@pytest.mark.parametrize(
    ("step", "raw", "field", "expected"),
    [
        ("when", {"learned_on": "2027-02-30"}, "learned_on", "2027年2月は28日まで"),
        ("when", {"learned_on": "2026-13-01"}, "learned_on", "月は01～12"),
        ("when", {"learned_on": "11/2"}, "learned_on", "YYYY-MM-DD"),
        ("when", {"learned_on": "1999-12-31"}, "learned_on", "受け付ける最も早い日付"),
        ("when", {}, "learned_on", "入力してください"),
        (
            "when",
            {"learned_on": "2026-11-02", "occurred_on": "2026-11-03"},
            GENERAL,
            "発生日が発覚日より後",
        ),
        (
            "what",
            {"contractor": "CT-999999", "what_happened": "x"},
            "contractor",
            "台帳にありません",
        ),
        ("what", {"contractor": "CT-12", "what_happened": "x"}, "contractor", "CT-000001 の形"),
        ("what", {"contractor": "<!channel>", "what_happened": "x"}, "contractor", "メンション"),
        (
            "data",
            {"data_kinds": ["health"], "sensitive": "no", "financial_damage": "no"},
            GENERAL,
            "要配慮個人情報は「含まれる」",
        ),
        ("data", {"data_kinds": ["name"]}, "sensitive", "入力してください"),
        ("data", {"sensitive": "maybe", "financial_damage": "no"}, "sensitive", "選択肢から"),
        ("people", {"people": "0"}, "people", "1以上"),
        ("people", {"people": "千人"}, "people", "半角数字"),
    ],
)
def test_the_dialog_refuses_bad_answers_at_their_step(
    engine: DialogEngine, step: str, raw: dict[str, Any], field: str, expected: str
) -> None:
    state, _ = engine.start("incident", ALICE, fresh=True)
    for earlier in ("what", "when", "data", "people", "cause", "encryption"):
        if earlier == step:
            break
        state = engine.submit(state.id, ALICE, state.version, state.step, STEPS_OK[earlier])
    refused = engine.submit(state.id, ALICE, state.version, step, raw)
    assert field in refused.errors and expected in refused.errors[field], refused.errors
    assert refused.version == state.version  # nothing kept


def test_a_future_learned_date_is_refused_in_japan_time(engine: DialogEngine) -> None:
    tomorrow = today_in_japan() + dt.timedelta(days=1)
    state, _ = engine.start("incident", ALICE, fresh=True)
    state = engine.submit(state.id, ALICE, state.version, "what", STEPS_OK["what"])
    refused = engine.submit(state.id, ALICE, state.version, "when", {"learned_on": str(tomorrow)})
    assert "未来の日付にできません" in refused.errors["learned_on"]
    today = engine.submit(
        state.id, ALICE, state.version, "when", {"learned_on": str(today_in_japan())}
    )
    assert not today.errors and today.step == "data"


def test_every_step_quotes_guidance_from_the_knowledge_base(bundled_assistant: Any) -> None:
    from bot.dialogs.guidance import GuidanceLibrary

    library = GuidanceLibrary(bundled_assistant.kb)
    for step in DIALOGS["incident"].steps:
        found = library.for_step(step.guidance)
        assert found is not None and found.text, step.id
        assert found.source.startswith("knowledge/")
