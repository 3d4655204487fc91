"""Periodic reviews (定期点検) of ledger contractors, platform-neutral: a finished review dialog
recorded (the review, its corrective actions, the contractor's last assessment moved to the
review's date, each in the audit trail, in one transaction), what is due (reviews by their next
date, corrective actions by theirs), and corrective actions closed with compare-and-set.

When a review is due is the risk rules' (bot/contractors/risk.py): the last assessment plus the
interval of the contractor's level; recording a review moves the last assessment, so the next date
follows. Audit entries hold ids, dates, choices and keyed digests of the rows, never the findings
or an action's text. Slack, Teams and the terminal call this; nothing here knows them."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.contractors.review_fields import CHECKED, METHODS, OUTCOMES, ReviewAnswers
from bot.contractors.risk import ContractorRating
from bot.contractors.service import (
    FIELD_NAMES,
    ContractorService,
    ContractorView,
    Result,
    _apply,
    _parents,
    _tier,
    fields_of,
    is_contractor_id,
)
from bot.dialogs.engine import DialogEngine, DialogState, StepCheck
from bot.llm.pii import Masker
from bot.store import audit
from bot.store.db import compare_and_set
from bot.store.tables import (
    ContractorRecord,
    ContractorReviewRecord,
    CorrectiveActionRecord,
    ReviewNoticeRecord,
    utcnow,
)

REVIEW_PREFIX = "CR-"
ACTION_PREFIX = "CA-"
_ACTION_ID = re.compile(r"^CA-\d{6,}$")
NOTE_MAX = 500
STALE_ATTEMPTS = 5  # a contractor edited while its review is recorded: read it again this often
REVIEW_DIALOG = "review"  # bot/dialogs/specs/review.py


def is_action_id(value: str) -> bool:
    return bool(_ACTION_ID.match(value))


class Closed(enum.Enum):
    CLOSED = "closed"
    ALREADY = "already"  # closed before (by anyone): nothing changed
    STALE = "stale"  # the version acted on is not the current one
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ActionView:
    id: str
    review_id: str
    contractor_id: str
    contractor_name: str
    description: str  # as stored: personal data masked
    due: dt.date
    owner: str
    status: str  # open | closed
    note: str | None
    version: int
    closed_by: str | None
    closed_at: datetime | None

    @property
    def open(self) -> bool:
        return self.status == "open"

    def overdue(self, today: dt.date) -> bool:
        return self.open and self.due < today

    def days_left(self, today: dt.date) -> int:
        return (self.due - today).days


@dataclass(frozen=True)
class ReviewView:
    id: str
    contractor_id: str
    contractor_name: str
    reviewed_on: dt.date
    methods: tuple[str, ...]
    report_received: bool
    report_date: dt.date | None
    checked: tuple[str, ...]
    outcome: str
    findings: str | None
    level: str
    next_review: dt.date | None
    reviewer: str
    created_at: datetime
    actions: tuple[ActionView, ...]

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome)

    @property
    def method_labels(self) -> list[str]:
        return [METHODS.get(m, m) for m in self.methods]

    @property
    def checked_labels(self) -> list[str]:
        return [CHECKED.get(c, c) for c in self.checked]


@dataclass(frozen=True)
class Recorded:
    """What recording a finished review dialog gave: the review (None, and why, if refused)."""

    review: ReviewView | None
    contractor: ContractorView | None = None  # after the review: its next date, its level
    message: str = ""
    again: bool = False  # the dialog's review was recorded before (a finish delivered twice)


@dataclass(frozen=True)
class ClosedAction:
    result: Closed
    action: ActionView | None
    message: str = ""


class ReviewService:
    def __init__(
        self,
        contractors: ContractorService,
        today: Callable[[], dt.date] | None = None,
    ) -> None:
        self.contractors = contractors
        self.db = contractors.db
        self.today = today or contractors.today

    @property
    def intervals(self) -> Any:
        """The rules' review settings (months per level, when reminders go out)."""
        return self.contractors.rules.reviews

    # -- recording a review ----------------------------------------------------------------------

    def record(
        self, actor: str, answers: ReviewAnswers, *, dialog_id: str | None, via: str
    ) -> Recorded:
        """The review, its corrective actions (owned by the contractor's owner) and the
        contractor's last assessment, in one transaction with their audit entries. A dialog
        recorded before gives that review again, unchanged."""
        masker = Masker()
        findings = masker.mask(answers.findings) if answers.findings else None
        actions = [(masker.mask(text), due) for text, due in answers.actions()]

        def work(s: Session) -> tuple[str | None, str, bool]:
            if dialog_id is not None:
                done = s.execute(
                    select(ContractorReviewRecord.id).where(
                        ContractorReviewRecord.dialog_id == dialog_id
                    )
                ).scalar()
                if done is not None:
                    return str(done), "", True
            row = s.get(ContractorRecord, answers.contractor_id)
            if row is None:
                return None, f"委託先 {answers.contractor_id} は台帳にありません。", False
            # the last assessment moves to the review's date (never back), compare-and-set
            # on the contractor's version, with the ledger's own audit entry
            last = row.last_assessed
            if last is None or answers.reviewed_on > last:
                values = {name: getattr(row, name) for name in FIELD_NAMES}
                values["last_assessed"] = answers.reviewed_on
                result, message = _apply(
                    s,
                    row,
                    actor,
                    values,
                    owner=row.owner,
                    parent_id=row.parent_id,
                    key=row.ledger_key,
                    action="contractor_reviewed",
                    details={"via": via},
                )
                if result is Result.STALE:  # changed meanwhile: the whole transaction again
                    return None, message, True
            rating = self.contractors.rules.rate(
                fields_of(row), today=self.today(), tier=_tier(_parents(s), row.id)
            )
            review_id = _next_id(s, ContractorReviewRecord.id, REVIEW_PREFIX)
            review = ContractorReviewRecord(
                id=review_id,
                contractor_id=row.id,
                dialog_id=dialog_id,
                reviewed_on=answers.reviewed_on,
                methods=list(answers.methods),
                report_received=answers.report_received,
                report_date=answers.report_date,
                checked=list(answers.checked),
                outcome=answers.outcome,
                findings=findings,
                level=rating.level,
                next_review=rating.next_review,
                reviewer=actor,
                created_at=utcnow(),
            )
            s.add(review)
            s.flush()  # a concurrent finish of the same dialog fails here, and is retried
            opened: list[str] = []
            for text, due in actions:
                action_id = _next_id(s, CorrectiveActionRecord.id, ACTION_PREFIX)
                now = utcnow()
                action = CorrectiveActionRecord(
                    id=action_id,
                    review_id=review_id,
                    contractor_id=row.id,
                    description=text,
                    due=due,
                    owner=row.owner,
                    status="open",
                    note=None,
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
                s.add(action)
                s.flush()
                audit.append(
                    s,
                    actor,
                    "action_opened",
                    action_id,
                    {
                        "via": via,
                        "review": review_id,
                        "contractor": row.id,
                        "due": due.isoformat(),
                        "version": 1,
                        "record": audit.digest(s, action.content()),
                    },
                )
                opened.append(action_id)
            audit.append(
                s,
                actor,
                "review_recorded",
                review_id,
                {
                    "via": via,
                    "contractor": row.id,
                    "reviewed_on": answers.reviewed_on.isoformat(),
                    "methods": list(answers.methods),
                    "report": answers.report_received,
                    "outcome": answers.outcome,
                    "actions": opened,
                    "next_review": rating.next_review.isoformat() if rating.next_review else None,
                    "record": audit.digest(s, review.content()),
                },
            )
            return review_id, "", False

        for _ in range(STALE_ATTEMPTS):
            review_id, message, again = self.db.transact(work)
            if review_id is not None or not again:
                break
        if review_id is None:
            return Recorded(None, message=message)
        review = self.get(review_id)
        contractor = self.contractors.get(review.contractor_id) if review else None
        return Recorded(review, contractor, again=again)

    # -- reading -----------------------------------------------------------------------------------

    def get(self, review_id: str) -> ReviewView | None:
        with self.db.session() as s:
            row = s.get(ContractorReviewRecord, review_id)
            return _review_view(s, row) if row is not None else None

    def history(self, contractor_id: str, limit: int = 20) -> list[ReviewView]:
        """The contractor's reviews, newest first."""
        with self.db.session() as s:
            rows = s.execute(
                select(ContractorReviewRecord)
                .where(ContractorReviewRecord.contractor_id == contractor_id)
                .order_by(
                    ContractorReviewRecord.reviewed_on.desc(), ContractorReviewRecord.id.desc()
                )
                .limit(limit)
            ).scalars()
            return [_review_view(s, r) for r in rows]

    def action(self, action_id: str) -> ActionView | None:
        with self.db.session() as s:
            row = s.get(CorrectiveActionRecord, action_id)
            return _action_view(s, row) if row is not None else None

    def actions(
        self,
        *,
        open_only: bool = False,
        owner: str | None = None,
        contractor_id: str | None = None,
        due_by: dt.date | None = None,
        limit: int = 1000,
    ) -> list[ActionView]:
        """Corrective actions by due date (then id); `due_by` only those due by that day."""
        stmt = (
            select(CorrectiveActionRecord)
            .order_by(CorrectiveActionRecord.due, CorrectiveActionRecord.id)
            .limit(limit)
        )
        if open_only:
            stmt = stmt.where(CorrectiveActionRecord.status == "open")
        if owner is not None:
            stmt = stmt.where(CorrectiveActionRecord.owner == owner)
        if contractor_id is not None:
            stmt = stmt.where(CorrectiveActionRecord.contractor_id == contractor_id)
        if due_by is not None:
            stmt = stmt.where(CorrectiveActionRecord.due <= due_by)
        with self.db.session() as s:
            names = _names(s)
            return [_action_view(s, r, names) for r in s.execute(stmt).scalars()]

    # -- what is due -------------------------------------------------------------------------------

    def reviews_due(self) -> list[tuple[ContractorView, bool]]:
        """(contractor, overdue) for every contractor whose review is within its notice period,
        due, or overdue. Overdue: the date has passed, or, never assessed, it was registered
        more than `first_within_days` ago."""
        today = self.today()
        settings = self.intervals
        out = []
        for view in self.contractors.search(due_within_days=settings.notice_days):
            out.append((view, first_overdue(view, today, settings.first_within_days)))
        return out

    def actions_due(self) -> list[ActionView]:
        """Open corrective actions within their notice period, due, or overdue."""
        today = self.today()
        return self.actions(
            open_only=True, due_by=today + dt.timedelta(days=self.intervals.action_notice_days)
        )

    # -- closing a corrective action --------------------------------------------------------------

    def close(
        self,
        action_id: str,
        actor: str,
        *,
        note: str | None = None,
        expected_version: int | None = None,
        via: str = "terminal",
    ) -> ClosedAction:
        """Close an open corrective action (how it was confirmed in `note`, personal data
        masked). `expected_version`: the version the caller saw; a newer one refuses (STALE)."""
        clean = (note or "").strip()[:NOTE_MAX] or None
        masked = Masker().mask(clean) if clean else None

        def work(s: Session) -> tuple[Closed, str]:
            row = s.get(CorrectiveActionRecord, action_id)
            if row is None:
                return Closed.UNKNOWN, f"是正措置 {action_id} は見つかりません。"
            if row.status == "closed":
                return Closed.ALREADY, f"是正措置 {action_id} はすでに完了しています。"
            version = row.version if expected_version is None else expected_version
            done = compare_and_set(
                s,
                CorrectiveActionRecord,
                action_id,
                version,
                CorrectiveActionRecord.status == "open",
                status="closed",
                note=masked,
                closed_by=actor,
                closed_at=utcnow(),
                updated_at=utcnow(),
            )
            if not done:
                return (
                    Closed.STALE,
                    f"是正措置 {action_id} は、表示されている内容のあとに更新されています。最新の内容を確かめてください。",
                )
            s.refresh(row)
            audit.append(
                s,
                actor,
                "action_closed",
                action_id,
                {
                    "via": via,
                    "contractor": row.contractor_id,
                    "version": row.version,
                    "late": row.due < self.today(),
                    "record": audit.digest(s, row.content()),
                },
            )
            return Closed.CLOSED, ""

        result, message = self.db.transact(work)
        return ClosedAction(result, self.action(action_id), message)

    # -- reminders sent ------------------------------------------------------------------------------

    def sent(self, key: str) -> bool:
        """A reminder under this key went out before (kept for good, unlike the ledger's claims)."""
        with self.db.session() as s:
            return s.get(ReviewNoticeRecord, key) is not None

    def mark_sent(self, key: str, subject: str, kind: str, details: dict[str, Any]) -> None:
        """Remember that the reminder went out, with its audit entry (once: a second mark of
        the same key records nothing)."""

        def work(s: Session) -> None:
            if s.get(ReviewNoticeRecord, key) is not None:
                return
            s.add(ReviewNoticeRecord(key=key, subject=subject, kind=kind, sent_at=utcnow()))
            s.flush()
            audit.append(s, "itaku", kind, subject, details)

        self.db.transact(work)


def first_overdue(view: ContractorView, today: dt.date, first_within_days: int) -> bool:
    """The contractor's review is overdue: its date has passed, or, never assessed, it has been
    in the ledger longer than `first_within_days`."""
    rating: ContractorRating = view.rating
    if rating.next_review is not None:
        return rating.next_review < today
    registered = view.created_at.date()
    return registered + dt.timedelta(days=first_within_days) < today


def start_review(
    engine: DialogEngine, owner: str, contractor_id: str, today: dt.date
) -> tuple[DialogState, bool]:
    """The review dialog for this contractor: the owner's unfinished one if it is about the same
    contractor (resumed: True), else a new one with the contractor and today's date filled in."""
    current = engine.store.latest_active(owner, REVIEW_DIALOG)
    if (
        current is not None
        and not current.expired()
        and current.answers.get("contractor_id") == contractor_id
    ):
        return engine.start(REVIEW_DIALOG, owner)
    prefill = {"contractor_id": contractor_id, "reviewed_on": today.isoformat()}
    return engine.start(REVIEW_DIALOG, owner, prefill=prefill)


def review_check(contractors: ContractorService) -> StepCheck:
    """The review dialog's check that needs the ledger (DialogEngine `checks`): the contractor
    named at the first step is in it."""

    def check(step_id: str, values: dict[str, Any]) -> dict[str, str]:
        contractor_id = str(values.get("contractor_id") or "")
        if step_id == "target" and contractors.get(contractor_id) is None:
            return {"contractor_id": f"委託先 {contractor_id} は台帳にありません。"}
        return {}

    return check


def review_target(text: str) -> str | None:
    """A contractor id as typed after a command (`review ct-000001`), or None."""
    value = text.strip().upper()
    return value if is_contractor_id(value) else None


def find_contractor(contractors: ContractorService, text: str) -> ContractorView | None:
    """The contractor a command names: its ledger id, corporate number, or name (when only one
    contractor has it)."""
    key = " ".join(text.split())
    if not key or len(key) > 100:
        return None
    contractor_id = review_target(key)
    return contractors.get(contractor_id) if contractor_id else contractors.find(key)


# -- rows to views --------------------------------------------------------------------------------


def _next_id(s: Session, column: Any, prefix: str) -> str:
    last = s.execute(select(func.max(column)).where(column.like(f"{prefix}%"))).scalar()
    number = int(str(last).removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{number:06d}"


def _names(s: Session) -> dict[str, str]:
    return {
        str(i): str(n) for i, n in s.execute(select(ContractorRecord.id, ContractorRecord.name))
    }


def _action_view(
    s: Session, row: CorrectiveActionRecord, names: dict[str, str] | None = None
) -> ActionView:
    if names is None:
        contractor = s.get(ContractorRecord, row.contractor_id)
        name = contractor.name if contractor is not None else row.contractor_id
    else:
        name = names.get(row.contractor_id, row.contractor_id)
    return ActionView(
        id=row.id,
        review_id=row.review_id,
        contractor_id=row.contractor_id,
        contractor_name=name,
        description=row.description,
        due=row.due,
        owner=row.owner,
        status=row.status,
        note=row.note,
        version=row.version,
        closed_by=row.closed_by,
        closed_at=row.closed_at,
    )


def _review_view(s: Session, row: ContractorReviewRecord) -> ReviewView:
    contractor = s.get(ContractorRecord, row.contractor_id)
    actions = s.execute(
        select(CorrectiveActionRecord)
        .where(CorrectiveActionRecord.review_id == row.id)
        .order_by(CorrectiveActionRecord.id)
    ).scalars()
    name = contractor.name if contractor is not None else row.contractor_id
    return ReviewView(
        id=row.id,
        contractor_id=row.contractor_id,
        contractor_name=name,
        reviewed_on=row.reviewed_on,
        methods=tuple(row.methods),
        report_received=row.report_received,
        report_date=row.report_date,
        checked=tuple(row.checked),
        outcome=row.outcome,
        findings=row.findings,
        level=row.level,
        next_review=row.next_review,
        reviewer=row.reviewer,
        created_at=row.created_at,
        actions=tuple(_action_view(s, a, {row.contractor_id: name}) for a in actions),
    )
