"""Table definitions. Every change to them needs a migration in migrations/versions/."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        dict[str, Any]: JSON,
        datetime: DateTime(timezone=True),
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
