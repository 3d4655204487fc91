"""The audit trail: append-only entries chained by SHA-256. Each entry's hash covers its own
content and the previous entry's hash, so changing, inserting or deleting any entry breaks every
hash after it. Appends happen inside the caller's transaction (with the change they record)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.db import Database
from bot.store.tables import AuditEntry, utcnow

GENESIS = "0" * 64


def _iso(at: datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    request_id: str | None,
    details: dict[str, Any],
) -> str:
    body = json.dumps(
        {
            "seq": seq,
            "at": _iso(at),
            "actor": actor,
            "action": action,
            "request": request_id,
            "details": details,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def append(
    s: Session, actor: str, action: str, request_id: str | None, details: dict[str, Any]
) -> AuditEntry:
    """Add an entry after the newest one. Two writers racing for the same sequence number
    collide on its primary key: the caller's transaction fails and is retried."""
    last = s.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq = (last[0] + 1) if last else 1
    prev = last[1] if last else GENESIS
    at = utcnow()
    details = json.loads(json.dumps(details, ensure_ascii=False, default=str))
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        request_id=request_id,
        details=details,
        prev_hash=prev,
        hash=entry_hash(prev, seq, at, actor, action, request_id, details),
    )
    s.add(entry)
    s.flush()
    return entry


@dataclass(frozen=True)
class VerifyReport:
    entries: int
    ok: bool
    problems: tuple[str, ...]
    head: str


def _entries(db: Database, batch: int = 1000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        with db.session() as s:
            rows = list(
                s.execute(
                    select(AuditEntry)
                    .where(AuditEntry.seq > last)
                    .order_by(AuditEntry.seq)
                    .limit(batch)
                ).scalars()
            )
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify(db: Database) -> VerifyReport:
    """Recompute the chain: every hash, every link, no gap in the sequence."""
    problems: list[str] = []
    prev, expected_seq, count = GENESIS, 1, 0
    for e in _entries(db):
        count += 1
        if e.seq != expected_seq:
            problems.append(f"#{expected_seq}〜#{e.seq - 1}: 記録が欠けています（削除の疑い）")
        if e.prev_hash != prev:
            problems.append(f"#{e.seq}: 前の記録とのつながりが一致しません")
        computed = entry_hash(e.prev_hash, e.seq, e.at, e.actor, e.action, e.request_id, e.details)
        if computed != e.hash:
            problems.append(f"#{e.seq}: 内容が記録時から変更されています")
        prev, expected_seq = e.hash, e.seq + 1
    return VerifyReport(count, not problems, tuple(problems), prev)


CSV_COLUMNS = ("seq", "at", "actor", "action", "request_id", "details", "prev_hash", "hash")


def export_csv(db: Database) -> Iterator[str]:
    """The whole trail as CSV lines (UTF-8, with the hashes, so an auditor can re-verify)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for e in _entries(db):
        writer.writerow(
            (
                e.seq,
                _iso(e.at),
                e.actor,
                e.action,
                e.request_id or "",
                json.dumps(e.details, ensure_ascii=False, sort_keys=True),
                e.prev_hash,
                e.hash,
            )
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()
