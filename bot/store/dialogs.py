"""Dialog state in the database: survives restarts, shared by replicas, expires, and refuses a
change made from a stale view (optimistic locking on `version`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from bot.store.db import Database, rowcount
from bot.store.tables import DialogRecord, utcnow


class StaleDialogError(Exception):
    """The dialog changed since the view the user acted on (a double click, an old window)."""


@dataclass(frozen=True)
class DialogRow:
    id: str
    spec: str
    owner: str
    status: str
    step: str
    answers: dict[str, Any]
    version: int
    expires_at: datetime

    def expired(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        expires = self.expires_at
        if expires.tzinfo is None:  # SQLite hands datetimes back naive (they are UTC)
            now = now.replace(tzinfo=None)
        return expires <= now


def _row(r: DialogRecord) -> DialogRow:
    return DialogRow(
        r.id, r.spec, r.owner, r.status, r.step, dict(r.answers), r.version, r.expires_at
    )


class DialogStore:
    def __init__(self, db: Database, ttl_s: float) -> None:
        self.db = db
        self.ttl = timedelta(seconds=ttl_s)

    def purge(self, older_than_days: float) -> int:
        """Forget dialogs (and the answers in them) untouched for longer than the retention
        period, finished or not; returns how many went."""
        cutoff = utcnow() - timedelta(days=older_than_days)
        with self.db.session() as s:
            return rowcount(s.execute(delete(DialogRecord).where(DialogRecord.updated_at < cutoff)))

    def create(
        self, spec: str, owner: str, step: str, answers: dict[str, Any] | None = None
    ) -> DialogRow:
        now = utcnow()
        record = DialogRecord(
            id=uuid.uuid4().hex,
            spec=spec,
            owner=owner,
            status="active",
            step=step,
            answers=answers or {},
            version=1,
            created_at=now,
            updated_at=now,
            expires_at=now + self.ttl,
        )
        with self.db.session() as s:
            s.add(record)
        return _row(record)

    def get(self, dialog_id: str) -> DialogRow | None:
        with self.db.session() as s:
            record = s.get(DialogRecord, dialog_id)
            return _row(record) if record is not None else None

    def latest_active(self, owner: str, spec: str) -> DialogRow | None:
        with self.db.session() as s:
            record = (
                s.execute(
                    select(DialogRecord)
                    .where(
                        DialogRecord.owner == owner,
                        DialogRecord.spec == spec,
                        DialogRecord.status == "active",
                        DialogRecord.expires_at > utcnow(),
                    )
                    .order_by(DialogRecord.updated_at.desc())
                    .limit(1)
                )
                .scalars()
                .first()
            )
            return _row(record) if record is not None else None

    def save(
        self,
        row: DialogRow,
        *,
        step: str | None = None,
        answers: dict[str, Any] | None = None,
        status: str | None = None,
    ) -> DialogRow:
        """Write a change made from version `row.version`; StaleDialogError if another change
        came first. Every change extends the expiry."""
        now = utcnow()
        values: dict[str, Any] = {
            "version": row.version + 1,
            "updated_at": now,
            "expires_at": now + self.ttl,
        }
        if step is not None:
            values["step"] = step
        if answers is not None:
            values["answers"] = answers
        if status is not None:
            values["status"] = status
        with self.db.session() as s:
            result = s.execute(
                update(DialogRecord)
                .where(DialogRecord.id == row.id, DialogRecord.version == row.version)
                .values(**values)
            )
            if rowcount(result) != 1:
                raise StaleDialogError(row.id)
        return DialogRow(
            row.id,
            row.spec,
            row.owner,
            values.get("status", row.status),
            values.get("step", row.step),
            values.get("answers", row.answers),
            row.version + 1,
            values["expires_at"],
        )
