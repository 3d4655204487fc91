"""Once-only processing of platform events, shared by every replica through the database.

`claim` is the only door: the first caller for an event (or for the message it is about) gets
it; a retry or a second replica gets DUPLICATE, unless the first owner left it unfinished past
its lease (it crashed), in which case the retry takes it over.
"""

from __future__ import annotations

import enum
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.store.db import Database, rowcount
from bot.store.tables import ProcessedEvent, utcnow

OWNER = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ClaimResult(enum.Enum):
    NEW = "new"
    TAKEN_OVER = "taken_over"  # an earlier owner left it unfinished past its lease
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class PendingEvent:
    key: str
    kind: str
    payload: dict[str, Any]
    reply_ref: str | None
    attempts: int
    answer_id: str | None = None


class EventLedger:
    def __init__(self, db: Database, lease_s: float = 120.0) -> None:
        self.db = db
        self.lease = timedelta(seconds=lease_s)

    def claim(
        self,
        key: str,
        kind: str,
        payload: dict[str, Any] | None = None,
        dedupe_key: str | None = None,
    ) -> ClaimResult:
        try:
            with self.db.session() as s:
                s.add(
                    ProcessedEvent(
                        key=key,
                        dedupe_key=dedupe_key,
                        kind=kind,
                        owner=OWNER,
                        payload=payload,
                        claimed_at=utcnow(),
                        attempts=1,
                        status="pending",
                    )
                )
            return ClaimResult.NEW
        except IntegrityError:
            pass
        return ClaimResult.TAKEN_OVER if self._take_over(key, dedupe_key) else ClaimResult.DUPLICATE

    def _take_over(self, key: str, dedupe_key: str | None) -> bool:
        now = utcnow()
        match = ProcessedEvent.key == key
        if dedupe_key is not None:
            match = or_(match, ProcessedEvent.dedupe_key == dedupe_key)
        with self.db.session() as s:
            row = s.execute(select(ProcessedEvent).where(match)).scalars().first()
            if row is None or row.status != "pending" or not self._expired(row.claimed_at, now):
                return False
            # compare-and-set on claimed_at: of several replicas taking over, one wins
            won = s.execute(
                update(ProcessedEvent)
                .where(ProcessedEvent.key == row.key, ProcessedEvent.claimed_at == row.claimed_at)
                .values(claimed_at=now, owner=OWNER, attempts=ProcessedEvent.attempts + 1)
            )
            return rowcount(won) == 1

    def _expired(self, claimed_at: datetime, now: datetime) -> bool:
        if claimed_at.tzinfo is None:  # SQLite hands datetimes back naive (they are UTC)
            now = now.replace(tzinfo=None)
        return claimed_at + self.lease < now

    def resolve(self, key: str) -> PendingEvent | None:
        """The pending event under `key` (or whose dedupe key is `key`)."""
        with self.db.session() as s:
            row = (
                s.execute(
                    select(ProcessedEvent).where(
                        or_(ProcessedEvent.key == key, ProcessedEvent.dedupe_key == key)
                    )
                )
                .scalars()
                .first()
            )
            if row is None or row.status != "pending":
                return None
            return PendingEvent(
                row.key, row.kind, row.payload or {}, row.reply_ref, row.attempts, row.answer_id
            )

    def set_reply_ref(self, key: str, ref: str) -> None:
        """Remember the message posted for this event (a placeholder), so a retry edits it
        instead of posting another."""
        with self.db.session() as s:
            s.execute(update(ProcessedEvent).where(ProcessedEvent.key == key).values(reply_ref=ref))

    def set_answer(self, key: str, answer_id: str) -> None:
        """Remember the answer prepared for this event, so a later attempt delivers that answer
        instead of answering (and recording) the question again."""
        with self.db.session() as s:
            s.execute(
                update(ProcessedEvent).where(ProcessedEvent.key == key).values(answer_id=answer_id)
            )

    def finish(self, key: str, status: str = "done") -> None:
        """Mark the event handled; the payload (it may hold message text) is dropped."""
        with self.db.session() as s:
            s.execute(
                update(ProcessedEvent)
                .where(ProcessedEvent.key == key)
                .values(status=status, finished_at=utcnow(), payload=None)
            )

    def stale(self, limit: int = 100) -> list[str]:
        """Keys of pending events whose lease ran out (their owner died): candidates to resume."""
        cutoff = utcnow() - self.lease
        with self.db.session() as s:
            return list(
                s.execute(
                    select(ProcessedEvent.key)
                    .where(ProcessedEvent.status == "pending", ProcessedEvent.claimed_at < cutoff)
                    .order_by(ProcessedEvent.claimed_at)
                    .limit(limit)
                ).scalars()
            )

    def take_over(self, key: str) -> bool:
        return self._take_over(key, None)

    def forget_given_up(self, key: str) -> bool:
        """Forget a claim whose work was given up (finished as failed, or expired by a sweeper
        that resumed it without knowing its work), so that the next claim of the key is new:
        for a delivery that must still go out (bot/delivery/contractors.py). A pending or done
        claim is kept. True when one was forgotten."""
        with self.db.session() as s:
            result = s.execute(
                delete(ProcessedEvent).where(
                    ProcessedEvent.key == key, ProcessedEvent.status.in_(("failed", "expired"))
                )
            )
            return rowcount(result) > 0

    def purge(self, older_than_days: float = 30) -> int:
        """Forget finished events older than this (Slack stops retrying after minutes)."""
        cutoff = utcnow() - timedelta(days=older_than_days)
        with self.db.session() as s:
            result = s.execute(
                delete(ProcessedEvent).where(
                    ProcessedEvent.status != "pending", ProcessedEvent.claimed_at < cutoff
                )
            )
            return rowcount(result)
