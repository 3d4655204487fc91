"""Incidents at contractors (委託先での漏えい等), platform-neutral: filed from an intake (the
contractor found in the ledger by id, corporate number or name, else kept as a free name), the
decision (PPC Rule 7) and deadlines (Rule 8) computed and stored with the facts, the response
checklist (containment, facts confirmed, individuals notified, PPC 速報, PPC 確報, prevention)
with each step's done / who / when, facts updated as they become known (decision and deadlines
computed again), reminders before each deadline.

Every change is a compare-and-set on the row's version, and every change is in the audit trail
in the same transaction: the incident's id, the names of the fields or the step that changed and
a keyed digest of the row, never its content (as bot/contractors/service.py does). Slack, Teams
and the terminal call this; nothing here knows them."""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.approvals.subcontract_fields import normalize_name
from bot.contractors.models import is_corporate_number, normalize_corporate_number
from bot.contractors.service import company_core, is_contractor_id
from bot.dialogs.spec import message_of
from bot.incidents.deadlines import Deadlines, Kind, deadlines_for, today_in_japan
from bot.incidents.facts import IncidentFacts
from bot.incidents.intake import IncidentIntake
from bot.incidents.rules import Decision, Verdict, decide
from bot.llm.pii import Masker
from bot.store import audit
from bot.store.db import Database, compare_and_set
from bot.store.tables import AuditEntry, ContractorRecord, IncidentRecord, utcnow

log = logging.getLogger(__name__)

ID_PREFIX = "IN-"
STEPS: dict[str, tuple[str, str]] = {
    "containment": ("被害の拡大防止（封じ込め）", "Containment"),
    "facts_confirmed": ("事実関係の確認", "Facts confirmed"),
    "individuals_notified": ("本人への通知", "Individuals notified"),
    "ppc_preliminary": ("個人情報保護委員会への速報", "PPC preliminary report (速報)"),
    "ppc_final": ("個人情報保護委員会への確報", "PPC final report (確報)"),
    "prevention": ("再発防止策", "Prevention"),
}
# the steps a report duty brings: not applicable when no report is required
DUTY_STEPS = ("individuals_notified", "ppc_preliminary", "ppc_final")
VERDICT_LABELS = {
    Verdict.REQUIRED: "報告が必要",
    Verdict.NOT_REQUIRED: "報告義務なし",
    Verdict.UNDETERMINED: "報告の要否は未確定",
}
STATUS_LABELS = {"open": "対応中", "closed": "対応完了"}


class Result(enum.Enum):
    RECORDED = "recorded"
    UNCHANGED = "unchanged"  # the step is already as asked (by someone else, perhaps)
    STALE = "stale"  # the version acted on is not the current one
    INVALID = "invalid"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class StepState:
    key: str
    label: str
    label_en: str
    applies: bool  # False: no report is required, so this duty does not arise
    done: bool
    by: str | None
    at: datetime | None


@dataclass(frozen=True)
class IncidentView:
    id: str
    contractor_id: str | None
    contractor_name: str
    reporter: str
    facts: IncidentFacts
    decision: Decision
    deadlines: Deadlines
    checklist: tuple[StepState, ...]
    status: str
    version: int
    dialog_id: str | None
    reminded: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    channel: str | None
    message_ts: str | None
    shown_version: int

    @property
    def learned_on(self) -> dt.date:
        return self.facts.learned_on

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS[self.decision.verdict]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def title(self) -> str:
        return f"{self.contractor_name}での漏えい等（発覚日 {self.learned_on.isoformat()}）"

    def step(self, key: str) -> StepState:
        return next(s for s in self.checklist if s.key == key)

    @property
    def open_steps(self) -> tuple[StepState, ...]:
        return tuple(s for s in self.checklist if s.applies and not s.done)


@dataclass(frozen=True)
class Outcome:
    result: Result
    incident: IncidentView | None = None
    message: str = ""
    resubmitted: bool = False  # the facts of an incident filed earlier from the same dialog

    @property
    def ok(self) -> bool:
        return self.result is Result.RECORDED


@dataclass(frozen=True)
class Resolved:
    """The contractor an intake names: the ledger's (id and name) or a free name; or why not."""

    contractor_id: str | None
    name: str
    problem: str | None = None


@dataclass(frozen=True)
class Reminder:
    """A reminder due for one deadline: `stage` is "3d", "1d" (before the due day) or
    "overdue"; `key` names it once per incident and due date."""

    deadline: Kind
    due: dt.date
    stage: str
    days_left: int  # negative when overdue

    @property
    def key(self) -> str:
        kind = "preliminary" if self.deadline is Kind.PRELIMINARY else "final"
        return f"{kind}:{self.due.isoformat()}:{self.stage}"


# days before the due date at which a reminder starts to be due ("overdue": the day after)
PRELIMINARY_REMINDERS = ((1, "1d"),)
FINAL_REMINDERS = ((3, "3d"), (1, "1d"))


def applies(step: str, decision: Decision) -> bool:
    return step not in DUTY_STEPS or decision.verdict is not Verdict.NOT_REQUIRED


def status_of(checklist: dict[str, Any], decision: Decision) -> str:
    done = all(bool(checklist.get(k, {}).get("done")) for k in STEPS if applies(k, decision))
    return "closed" if done else "open"


def stored_facts(facts: IncidentFacts) -> dict[str, Any]:
    """The facts as the store keeps them: personal data typed into what happened masked (the
    dialog masks it as it is typed; this covers every other caller)."""
    values = facts.model_dump(mode="json")
    if isinstance(values.get("what_happened"), str):
        values["what_happened"] = Masker().mask(values["what_happened"])
    return values


def facts_of(row: IncidentRecord) -> IncidentFacts:
    try:
        return IncidentFacts.model_validate(row.facts)
    except ValidationError:  # recorded under older rules: read as recorded
        return IncidentFacts.model_construct(**row.facts)


def _assessment(facts: IncidentFacts) -> tuple[Decision, Deadlines, dict[str, Any]]:
    decision = decide(facts)
    deadlines = deadlines_for(facts, decision)
    stored = {
        "decision": decision.model_dump(mode="json"),
        "deadlines": deadlines.model_dump(mode="json"),
    }
    return decision, deadlines, stored


def reminders_due(view: IncidentView, today: dt.date) -> list[Reminder]:
    """The reminders due today for an open incident: for each deadline that applies or may apply
    and whose step is not done, the latest stage reached (3 days before, the day before, or
    overdue). An earlier stage missed while nobody was running is not sent late."""
    if view.status != "open":
        return []
    out: list[Reminder] = []
    pre = view.deadlines.get(Kind.PRELIMINARY)
    final = view.deadlines.final
    for deadline, step, stages in (
        (pre, "ppc_preliminary", PRELIMINARY_REMINDERS),
        (final, "ppc_final", FINAL_REMINDERS),
    ):
        if deadline.applies is False or view.step(step).done:
            continue
        left = (deadline.due - today).days
        stage = "overdue" if left < 0 else None
        if stage is None:
            reached = [name for days, name in stages if left <= days]
            stage = reached[-1] if reached else None
        if stage is not None:
            out.append(Reminder(deadline.kind, deadline.due, stage, left))
    return out


class IncidentService:
    def __init__(self, db: Database, today: Callable[[], dt.date] = today_in_japan) -> None:
        self.db = db
        self.today = today  # Japan's date: deadlines and reminders count in days there

    # -- the contractor ------------------------------------------------------------------------

    def resolve_contractor(self, text: str) -> Resolved:
        """The ledger's contractor by id (CT-000001), corporate number or name (its legal form
        written any way); a name the ledger does not hold is kept as typed. An id or corporate
        number the ledger does not hold, or a name several contractors share, is refused."""
        key = " ".join(text.split())
        with self.db.session() as s:
            if is_contractor_id(key):
                row = s.get(ContractorRecord, key)
                if row is None:
                    return Resolved(None, key, f"委託先 {key} は台帳にありません。")
                return Resolved(row.id, row.name)
            if is_corporate_number(key):
                rows = list(
                    s.execute(
                        select(ContractorRecord)
                        .where(ContractorRecord.corporate_number == normalize_corporate_number(key))
                        .order_by(ContractorRecord.id)
                    ).scalars()
                )
                if not rows:
                    return Resolved(
                        None,
                        key,
                        "この法人番号の委託先は台帳にありません。委託先の名称を入力してください。",
                    )
            else:
                rows = list(
                    s.execute(
                        select(ContractorRecord)
                        .where(ContractorRecord.name_key == normalize_name(key))
                        .order_by(ContractorRecord.id)
                    ).scalars()
                )
                core = company_core(key)
                if not rows and core:
                    every = s.execute(select(ContractorRecord).order_by(ContractorRecord.id))
                    rows = [r for r in every.scalars() if company_core(r.name) == core]
            if len(rows) > 1:
                top = [r for r in rows if r.parent_id is None]
                rows = top if len(top) == 1 else rows
            if len(rows) > 1:
                ids = "、".join(r.id for r in rows[:5])
                return Resolved(
                    None,
                    key,
                    f"台帳にこの名称の委託先が複数あります（{ids}）。台帳のIDで指定してください。",
                )
            if rows:
                return Resolved(rows[0].id, rows[0].name)
        return Resolved(None, key[:100])

    def check_step(self, step_id: str, values: dict[str, Any]) -> dict[str, str]:
        """The dialog's check that needs the ledger (DialogEngine.checks): the contractor
        named at the first step must be found, or be a name the ledger does not hold."""
        text = values.get("contractor")
        if not isinstance(text, str):
            return {}
        problem = self.resolve_contractor(text).problem
        return {"contractor": problem} if problem else {}

    # -- filing ----------------------------------------------------------------------------------

    def submit(
        self, reporter: str, intake: IncidentIntake, *, dialog_id: str, via: str = "slack"
    ) -> Outcome:
        """A finished intake dialog: a new incident, or, for a dialog that filed one before
        (reopened to correct or complete the facts), that incident's facts updated."""
        existing = self.by_dialog(dialog_id)
        if existing is not None:
            outcome = self.update_facts(
                existing.id, reporter, intake, expected_version=existing.version, via=via
            )
            return Outcome(outcome.result, outcome.incident, outcome.message, resubmitted=True)
        return self.file(reporter, intake, dialog_id=dialog_id, via=via)

    def file(
        self,
        reporter: str,
        intake: IncidentIntake,
        *,
        dialog_id: str | None = None,
        via: str = "terminal",
    ) -> Outcome:
        resolved = self.resolve_contractor(intake.contractor)
        if resolved.problem:
            return Outcome(Result.INVALID, message=resolved.problem)
        try:
            facts = intake.facts(resolved.name)
        except ValidationError as e:
            return Outcome(Result.INVALID, message=message_of(e.errors()[0]))
        values = stored_facts(facts)
        decision, deadlines, assessment = _assessment(facts)
        checklist = {k: {"done": False, "by": None, "at": None} for k in STEPS}

        def work(s: Session) -> str | None:
            if dialog_id is not None:
                done = s.execute(
                    select(IncidentRecord.id).where(IncidentRecord.dialog_id == dialog_id)
                ).scalar()
                if done is not None:  # filed meanwhile (a retried hand-off)
                    return str(done)
            last = s.execute(select(func.max(IncidentRecord.id))).scalar()
            number = int(str(last).removeprefix(ID_PREFIX)) + 1 if last else 1
            incident_id = f"{ID_PREFIX}{number:06d}"
            now = utcnow()
            row = IncidentRecord(
                id=incident_id,
                contractor_id=resolved.contractor_id,
                contractor_name=resolved.name,
                reporter=reporter,
                learned_on=facts.learned_on,
                facts=values,
                verdict=decision.verdict.value,
                assessment=assessment,
                preliminary_due=deadlines.get(Kind.PRELIMINARY).due,
                final_due=deadlines.final.due,
                checklist=checklist,
                status=status_of(checklist, decision),
                dialog_id=dialog_id,
                reminded=[],
                version=1,
                created_at=now,
                updated_at=now,
                shown_version=0,
            )
            s.add(row)
            s.flush()  # a concurrent filing of the same id fails here: the transaction is retried
            audit.append(
                s,
                reporter,
                "incident_filed",
                incident_id,
                {
                    "via": via,
                    "version": 1,
                    "contractor": resolved.contractor_id,
                    "verdict": decision.verdict.value,
                    "fields": sorted(k for k, v in values.items() if v not in (None, False, [])),
                    "record": audit.digest(s, row.content()),
                },
            )
            return incident_id

        incident_id = self.db.transact(work)
        view = self.get(incident_id) if incident_id else None
        log.info("incident %s filed verdict=%s", incident_id, decision.verdict.value)
        return Outcome(Result.RECORDED, view)

    def update_facts(
        self,
        incident_id: str,
        actor: str,
        intake: IncidentIntake,
        *,
        expected_version: int,
        via: str = "terminal",
    ) -> Outcome:
        """New facts for the version the caller saw: the decision and deadlines computed again,
        the checklist kept. A newer version recorded meanwhile refuses it (STALE)."""
        resolved = self.resolve_contractor(intake.contractor)
        if resolved.problem:
            return Outcome(Result.INVALID, self.get(incident_id), resolved.problem)
        try:
            facts = intake.facts(resolved.name)
        except ValidationError as e:
            return Outcome(Result.INVALID, self.get(incident_id), message_of(e.errors()[0]))
        values = stored_facts(facts)
        decision, deadlines, assessment = _assessment(facts)

        def work(s: Session) -> tuple[Result, str]:
            row = s.get(IncidentRecord, incident_id)
            if row is None:
                return Result.UNKNOWN, f"インシデント {incident_id} は見つかりません。"
            if row.version != expected_version:
                return Result.STALE, _stale_message(row)
            changed = sorted(k for k in values if values[k] != row.facts.get(k))
            if resolved.contractor_id != row.contractor_id:
                changed.append("contractor")
            if not changed:
                return Result.UNCHANGED, "事実に変更はありません。"
            done = compare_and_set(
                s,
                IncidentRecord,
                incident_id,
                expected_version,
                contractor_id=resolved.contractor_id,
                contractor_name=resolved.name,
                learned_on=facts.learned_on,
                facts=values,
                verdict=decision.verdict.value,
                assessment=assessment,
                preliminary_due=deadlines.get(Kind.PRELIMINARY).due,
                final_due=deadlines.final.due,
                status=status_of(row.checklist, decision),
                updated_at=utcnow(),
            )
            if not done:
                s.refresh(row)
                return Result.STALE, _stale_message(row)
            s.refresh(row)
            audit.append(
                s,
                actor,
                "incident_facts_updated",
                incident_id,
                {
                    "via": via,
                    "version": expected_version + 1,
                    "verdict": decision.verdict.value,
                    "fields": changed,
                    "record": audit.digest(s, row.content()),
                },
            )
            return Result.RECORDED, ""

        result, message = self.db.transact(work)
        return Outcome(result, self.get(incident_id), message)

    # -- the checklist ---------------------------------------------------------------------------

    def mark(
        self,
        incident_id: str,
        step: str,
        done: bool,
        actor: str,
        *,
        expected_version: int,
        via: str = "terminal",
    ) -> Outcome:
        """Mark a checklist step done (or not done again) on the version the caller saw."""
        if step not in STEPS:
            return Outcome(Result.INVALID, message=f"チェックリストにない項目です：{step[:40]}")

        def work(s: Session) -> tuple[Result, str]:
            row = s.get(IncidentRecord, incident_id)
            if row is None:
                return Result.UNKNOWN, f"インシデント {incident_id} は見つかりません。"
            current = dict(row.checklist.get(step) or {})
            label = STEPS[step][0]
            if bool(current.get("done")) == done:
                by = current.get("by")
                who = f"（{by}）" if by and done else ""
                state = "完了" if done else "未完了"
                return Result.UNCHANGED, f"「{label}」はすでに{state}になっています{who}。"
            if row.version != expected_version:
                return Result.STALE, _stale_message(row)
            now = utcnow()
            checklist = {
                **row.checklist,
                step: {"done": done, "by": actor, "at": now.isoformat()},
            }
            decision = Decision.model_validate(row.assessment["decision"])
            changed = compare_and_set(
                s,
                IncidentRecord,
                incident_id,
                expected_version,
                checklist=checklist,
                status=status_of(checklist, decision),
                updated_at=now,
            )
            if not changed:
                s.refresh(row)
                return Result.STALE, _stale_message(row)
            s.refresh(row)
            audit.append(
                s,
                actor,
                "incident_step",
                incident_id,
                {
                    "via": via,
                    "version": expected_version + 1,
                    "step": step,
                    "done": done,
                    "closed": row.status == "closed",
                    "record": audit.digest(s, row.content()),
                },
            )
            return Result.RECORDED, ""

        result, message = self.db.transact(work)
        return Outcome(result, self.get(incident_id), message)

    # -- reminders ---------------------------------------------------------------------------------

    def due(self, today: dt.date | None = None) -> list[tuple[IncidentView, Reminder]]:
        """(incident, reminder) for every reminder due today and not yet recorded as sent."""
        today = today or self.today()
        out: list[tuple[IncidentView, Reminder]] = []
        for view in self.search(status="open", limit=1000):
            for reminder in reminders_due(view, today):
                if reminder.key not in view.reminded:
                    out.append((view, reminder))
        return out

    def record_reminder(self, incident_id: str, reminder: Reminder) -> bool:
        """Keep a sent reminder with the incident (once; False if it already was), in the audit
        trail too. The version does not change: nothing the card shows has."""

        def work(s: Session) -> bool:
            if self.db.dialect == "sqlite":
                # SQLite's driver begins the transaction at the first write and has no FOR
                # UPDATE: write first, so that the read below is under the file's write lock
                # and two replicas' reminders cannot both read the list and one lose the other
                s.execute(
                    update(IncidentRecord)
                    .where(IncidentRecord.id == incident_id)
                    .values(reminded=IncidentRecord.reminded)
                )
            row = s.get(IncidentRecord, incident_id, with_for_update=True)
            if row is None or reminder.key in row.reminded:
                return False
            row.reminded = [*row.reminded, reminder.key]
            audit.append(
                s,
                "itaku",
                "incident_reminded",
                incident_id,
                {"reminder": reminder.key, "days_left": reminder.days_left},
            )
            return True

        return self.db.transact(work)

    # -- where it is shown -----------------------------------------------------------------------

    def set_message(self, incident_id: str, channel: str, ts: str) -> None:
        with self.db.session() as s:
            s.execute(
                update(IncidentRecord)
                .where(IncidentRecord.id == incident_id)
                .values(channel=channel, message_ts=ts)
            )

    def mark_shown(self, incident_id: str, version: int) -> None:
        with self.db.session() as s:
            s.execute(
                update(IncidentRecord)
                .where(IncidentRecord.id == incident_id, IncidentRecord.shown_version < version)
                .values(shown_version=version)
            )

    def out_of_date(self, limit: int = 100) -> list[IncidentView]:
        """Incidents whose card shows an older state than the recorded one (or none yet)."""
        with self.db.session() as s:
            ids = list(
                s.execute(
                    select(IncidentRecord.id)
                    .where(IncidentRecord.shown_version < IncidentRecord.version)
                    .order_by(IncidentRecord.id)
                    .limit(limit)
                ).scalars()
            )
        return [v for v in (self.get(i) for i in ids) if v is not None]

    # -- reading ---------------------------------------------------------------------------------

    def get(self, incident_id: str) -> IncidentView | None:
        with self.db.session() as s:
            row = s.get(IncidentRecord, incident_id)
            return _view(row) if row is not None else None

    def by_dialog(self, dialog_id: str) -> IncidentView | None:
        with self.db.session() as s:
            row = s.execute(
                select(IncidentRecord).where(IncidentRecord.dialog_id == dialog_id)
            ).scalar_one_or_none()
            return _view(row) if row is not None else None

    def search(
        self,
        *,
        status: str | None = None,
        reporter: str | None = None,
        contractor_id: str | None = None,
        limit: int = 100,
    ) -> list[IncidentView]:
        """Newest first (by the day learned of, then id)."""
        stmt = (
            select(IncidentRecord)
            .order_by(IncidentRecord.learned_on.desc(), IncidentRecord.id.desc())
            .limit(limit)
        )
        if status is not None:
            stmt = stmt.where(IncidentRecord.status == status)
        if reporter is not None:
            stmt = stmt.where(IncidentRecord.reporter == reporter)
        if contractor_id is not None:
            stmt = stmt.where(IncidentRecord.contractor_id == contractor_id)
        with self.db.session() as s:
            return [_view(r) for r in s.execute(stmt).scalars()]

    def history(self, incident_id: str) -> list[tuple[datetime, str, str, dict[str, Any]]]:
        """(when, who, action, details) of the incident's audit entries, oldest first."""
        with self.db.session() as s:
            rows = s.execute(
                select(AuditEntry)
                .where(AuditEntry.request_id == incident_id)
                .order_by(AuditEntry.seq)
            ).scalars()
            return [(e.at, e.actor, e.action, dict(e.details)) for e in rows]


def _view(row: IncidentRecord) -> IncidentView:
    decision = Decision.model_validate(row.assessment["decision"])
    deadlines = Deadlines.model_validate(row.assessment["deadlines"])
    steps = []
    for key, (label, label_en) in STEPS.items():
        entry = row.checklist.get(key) or {}
        at = entry.get("at")
        steps.append(
            StepState(
                key=key,
                label=label,
                label_en=label_en,
                applies=applies(key, decision),
                done=bool(entry.get("done")),
                by=entry.get("by"),
                at=datetime.fromisoformat(at) if isinstance(at, str) else None,
            )
        )
    return IncidentView(
        id=row.id,
        contractor_id=row.contractor_id,
        contractor_name=row.contractor_name,
        reporter=row.reporter,
        facts=facts_of(row),
        decision=decision,
        deadlines=deadlines,
        checklist=tuple(steps),
        status=row.status,
        version=row.version,
        dialog_id=row.dialog_id,
        reminded=tuple(row.reminded or ()),
        created_at=row.created_at,
        updated_at=row.updated_at,
        channel=row.channel,
        message_ts=row.message_ts,
        shown_version=row.shown_version,
    )


def _stale_message(row: IncidentRecord) -> str:
    return (
        f"{row.id} は、表示されている内容のあとに更新されています（現在は第{row.version}版）。"
        "最新の内容を確かめてから、もう一度操作してください。"
    )


def open_incidents(settings: Any, db: Database | None = None) -> IncidentService:
    """The service as configured: the database with its sealed audit trail."""
    from bot.store.db import open_database

    db = db or open_database(settings.resolved_database_url)
    if db.audit_seal is None:
        db.audit_seal = audit.seal_from_settings(settings)
    return IncidentService(db)
