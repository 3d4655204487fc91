"""Table definitions. Every change to them needs a migration in migrations/versions/."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        dict[str, Any]: JSON,
        list[str]: JSON,
        datetime: DateTime(timezone=True),
        date: Date,
    }


class ProcessedEvent(Base):
    """A platform event (or other once-only delivery) that this installation has taken on.

    `key` is the platform's id (a Slack event_id); `dedupe_key` names the thing the event is about
    (one user message), so two different events about the same message are answered once. A row
    left `pending` past its lease by a crashed replica may be taken over.
    """

    __tablename__ = "processed_events"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    owner: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    payload: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    reply_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    answer_id: Mapped[str | None] = mapped_column(String(32), default=None)


class AnswerRecord(Base):
    """A question that was answered (or refused), with the retrieval trace behind the answer."""

    __tablename__ = "answers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    surface: Mapped[str] = mapped_column(String(20))
    conversation: Mapped[str | None] = mapped_column(String(200), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(Text)
    question_key: Mapped[str] = mapped_column(String(200), index=True)
    abstained: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(40))
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    answer: Mapped[dict[str, Any]] = mapped_column()
    trace: Mapped[dict[str, Any]] = mapped_column()


class Vote(Base):
    """Helpful / not helpful on one answer. `voter` is a one-way pseudonym valid for that answer
    only: enough to keep one vote per person, not enough to say who voted."""

    __tablename__ = "votes"

    answer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True
    )
    voter: Mapped[str] = mapped_column(String(64), primary_key=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    voted_at: Mapped[datetime] = mapped_column(default=utcnow)


class DialogRecord(Base):
    """A guided dialog in progress (or finished): whose, which step, the answers so far.
    `version` grows with every change, so a stale or doubled submission is refused."""

    __tablename__ = "dialogs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    spec: Mapped[str] = mapped_column(String(40))
    owner: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    step: Mapped[str] = mapped_column(String(40))
    answers: Mapped[dict[str, Any]] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class RequestRecord(Base):
    """A subcontracting approval request; its answers live in revisions, its decisions apart."""

    __tablename__ = "requests"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)  # SR-000001
    requester: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    risk_level: Mapped[str] = mapped_column(String(10))
    risk: Mapped[dict[str, Any]] = mapped_column()
    title: Mapped[str] = mapped_column(String(200))
    dialog_id: Mapped[str | None] = mapped_column(String(32), default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # the stage whose approvers were widened to the escalation group (-1: none)
    escalated_stage: Mapped[int] = mapped_column(Integer, default=-1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # where the request is shown (Slack: approvals channel and parent message), and which
    # version of the request that message shows: lower than `version` means it must catch up
    channel: Mapped[str | None] = mapped_column(String(40), default=None)
    message_ts: Mapped[str | None] = mapped_column(String(40), default=None)
    shown_version: Mapped[int] = mapped_column(Integer, default=0)


class RevisionRecord(Base):
    __tablename__ = "request_revisions"

    request_id: Mapped[str] = mapped_column(
        String(20), ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    answers: Mapped[dict[str, Any]] = mapped_column()
    risk: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DecisionRecord(Base):
    """One decision per approval stage of a revision: the primary key makes a second one (a
    double click, a second approver at the same moment, a retry) impossible."""

    __tablename__ = "decisions"

    request_id: Mapped[str] = mapped_column(
        String(20), ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[int] = mapped_column(Integer, primary_key=True)
    approver: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(20))  # approved | rejected | changes_requested
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Append-only, chained by a keyed MAC: each entry's MAC covers its content and the previous
    MAC, so a changed, inserted or deleted entry breaks the chain (`itaku audit verify`)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column()
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[str | None] = mapped_column(String(20), index=True)
    details: Mapped[dict[str, Any]] = mapped_column()
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)  # the entry's MAC
    key_id: Mapped[str | None] = mapped_column(String(16), default=None)  # None: before the key


# the columns of a contractor that its audit entries' digests cover (bot/contractors/service.py)
CONTRACTOR_CONTENT = (
    "name",
    "corporate_number",
    "services",
    "work",
    "contract_type",
    "contract_start",
    "contract_end",
    "personal_data",
    "personal_data_count",
    "sensitive_data",
    "my_number",
    "confidential_business_data",
    "processing_country",
    "certifications",
    "isms_expires",
    "pmark_expires",
    "certification_other",
    "certification_other_expires",
    "last_assessed",
    "owner",
    "parent_id",
    "source_request_id",
)


class ContractorRecord(Base):
    """A contractor in the ledger (委託先台帳): one row per company under a given parent (our own
    contractor, or a 再委託先 under one of them). `ledger_key` (the parent's id and the company's
    corporate number, else its normalised name) keeps one row per relationship; `version` grows
    with every change, so a stale update is refused. Its columns are ContractorFields'."""

    __tablename__ = "contractors"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)  # CT-000001
    ledger_key: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100), index=True)
    corporate_number: Mapped[str | None] = mapped_column(String(13), index=True)
    services: Mapped[str | None] = mapped_column(String(100))
    work: Mapped[str] = mapped_column(Text)
    contract_type: Mapped[str | None] = mapped_column(String(10))
    contract_start: Mapped[date] = mapped_column()
    contract_end: Mapped[date] = mapped_column()
    personal_data: Mapped[bool] = mapped_column(Boolean)
    personal_data_count: Mapped[int | None] = mapped_column(Integer)
    sensitive_data: Mapped[bool] = mapped_column(Boolean)
    my_number: Mapped[bool] = mapped_column(Boolean)
    confidential_business_data: Mapped[bool] = mapped_column(Boolean)
    processing_country: Mapped[str] = mapped_column(String(50))
    certifications: Mapped[list[str]] = mapped_column()
    isms_expires: Mapped[date | None] = mapped_column()
    pmark_expires: Mapped[date | None] = mapped_column()
    certification_other: Mapped[str | None] = mapped_column(String(100))
    certification_other_expires: Mapped[date | None] = mapped_column()
    last_assessed: Mapped[date | None] = mapped_column()
    owner: Mapped[str] = mapped_column(String(100), index=True)
    parent_id: Mapped[str | None] = mapped_column(
        String(20), ForeignKey("contractors.id"), index=True
    )
    # the approved subcontracting request this 再委託先 came from (no foreign key: a ledger
    # imported from another installation names requests this one does not hold)
    source_request_id: Mapped[str | None] = mapped_column(String(20), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    def content(self) -> dict[str, Any]:
        """What an audit entry's digest covers, as JSON values (dates as YYYY-MM-DD)."""
        out: dict[str, Any] = {}
        for name in CONTRACTOR_CONTENT:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, date) else value
        return out


# the columns of an incident that its audit entries' digests cover (bot/incidents/service.py)
INCIDENT_CONTENT = (
    "contractor_id",
    "contractor_name",
    "reporter",
    "learned_on",
    "facts",
    "verdict",
    "preliminary_due",
    "final_due",
    "checklist",
    "status",
    "dialog_id",
)


class IncidentRecord(Base):
    """An incident at a contractor (委託先での漏えい等): the facts as filed (free text masked), the
    decision and deadlines computed from them (`assessment`, with `verdict` and the due dates as
    columns to query), and the response checklist (step -> done, by whom, when). `version` grows
    with every change, so a stale change is refused; `reminded` lists the reminders sent (kept
    here as well as claimed in the event ledger, whose rows are purged after the retention
    period). Where its card is shown (`channel`, `message_ts`) and which version it shows, as
    for requests."""

    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)  # IN-000001
    # the ledger's contractor (no foreign key: the incident outlives any edit of the ledger)
    contractor_id: Mapped[str | None] = mapped_column(String(20), index=True)
    contractor_name: Mapped[str] = mapped_column(String(100))
    reporter: Mapped[str] = mapped_column(String(100), index=True)
    learned_on: Mapped[date] = mapped_column(index=True)
    facts: Mapped[dict[str, Any]] = mapped_column()
    verdict: Mapped[str] = mapped_column(String(16))
    assessment: Mapped[dict[str, Any]] = mapped_column()
    preliminary_due: Mapped[date] = mapped_column()
    final_due: Mapped[date] = mapped_column()
    checklist: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | closed
    dialog_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    reminded: Mapped[list[str]] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    channel: Mapped[str | None] = mapped_column(String(40), default=None)
    message_ts: Mapped[str | None] = mapped_column(String(40), default=None)
    shown_version: Mapped[int] = mapped_column(Integer, default=0)

    def content(self) -> dict[str, Any]:
        """What an audit entry's digest covers, as JSON values (dates as YYYY-MM-DD)."""
        out: dict[str, Any] = {}
        for name in INCIDENT_CONTENT:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, date) else value
        return out


# the columns of a review and of a corrective action that their audit entries' digests cover
# (bot/contractors/reviews.py)
REVIEW_CONTENT = (
    "contractor_id",
    "reviewed_on",
    "methods",
    "report_received",
    "report_date",
    "checked",
    "outcome",
    "findings",
    "level",
    "next_review",
    "reviewer",
)
ACTION_CONTENT = ("review_id", "contractor_id", "description", "due", "owner", "status", "note")


def _content(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(row, name)
        out[name] = value.isoformat() if isinstance(value, date) else value
    return out


class ContractorReviewRecord(Base):
    """A periodic review (定期点検) of a ledger contractor, as recorded: how it was checked, the
    report, the findings (personal data masked), the risk level then and the next review's date
    it set. Written once (`dialog_id` is unique: a dialog finished twice records one review)."""

    __tablename__ = "contractor_reviews"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)  # CR-000001
    contractor_id: Mapped[str] = mapped_column(String(20), ForeignKey("contractors.id"), index=True)
    dialog_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    reviewed_on: Mapped[date] = mapped_column()
    methods: Mapped[list[str]] = mapped_column()
    report_received: Mapped[bool] = mapped_column(Boolean)
    report_date: Mapped[date | None] = mapped_column()
    checked: Mapped[list[str]] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(20))
    findings: Mapped[str | None] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(10))
    next_review: Mapped[date | None] = mapped_column()
    reviewer: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    def content(self) -> dict[str, Any]:
        return _content(self, REVIEW_CONTENT)


class CorrectiveActionRecord(Base):
    """A corrective action a review asked for (是正措置), tracked to closure: open until someone
    closes it; `version` grows with every change, so a stale close is refused."""

    __tablename__ = "corrective_actions"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)  # CA-000001
    review_id: Mapped[str] = mapped_column(
        String(20), ForeignKey("contractor_reviews.id"), index=True
    )
    contractor_id: Mapped[str] = mapped_column(String(20), ForeignKey("contractors.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    due: Mapped[date] = mapped_column(index=True)
    owner: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(10), index=True)  # open | closed
    note: Mapped[str | None] = mapped_column(Text)  # how it was confirmed, when closed
    version: Mapped[int] = mapped_column(Integer, default=1)
    closed_by: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def content(self) -> dict[str, Any]:
        return _content(self, ACTION_CONTENT)


class ReviewNoticeRecord(Base):
    """A reminder about a review or a corrective action that went out (its key, as claimed in the
    event ledger): kept here for good, since the ledger's rows are purged after the retention
    period, so a reminder is never sent twice however long a review stays overdue."""

    __tablename__ = "review_notices"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    subject: Mapped[str] = mapped_column(String(20), index=True)  # CT-… or CA-…
    kind: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
