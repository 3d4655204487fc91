"""The audit trail: append-only entries chained by a keyed MAC, anchored outside the database.

- Each entry's MAC (HMAC-SHA256 with `ITAKU_AUDIT_KEY`, which is never stored in the database)
  covers its content and the previous entry's MAC: changing, inserting, deleting or reordering
  an entry breaks every MAC after it, and without the key nobody can compute new ones. The key
  id is recorded per entry, so a key can be rotated (old keys stay in `ITAKU_AUDIT_OLD_KEYS`
  for verifying).
- Each committed entry's sequence number and MAC are also appended to an anchor file outside
  the database (`ITAKU_AUDIT_ANCHOR`), and `itaku audit checkpoint` prints a signed head an
  auditor keeps: deleting the newest entries, or every entry, is found by comparing with them.
- Details hold ids, field names and keyed digests, never the personal data itself, so the
  trail never has to be broken to erase someone; `verify` recomputes the digests from the
  requests, revisions, decisions, contractors and incidents tables, so a direct edit there is
  named too.

Appends happen inside the caller's transaction (with the change they record); the anchor line
is written once that transaction commits. Entries written before the key existed (no key id)
carry a plain SHA-256 chain and are accepted only before every keyed entry."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from bot.store.db import Database
from bot.store.tables import (
    AuditEntry,
    ContractorRecord,
    DecisionRecord,
    IncidentRecord,
    RequestRecord,
    RevisionRecord,
    utcnow,
)

log = logging.getLogger(__name__)

GENESIS = "0" * 64
DEVELOPMENT_KEY_ID = "dev"
_DEVELOPMENT_KEY = b"itaku development audit key: not a secret, not proof"
_PENDING = "itaku_audit_pending"
DECISIONS = ("approved", "rejected", "changes_requested")


@dataclass(frozen=True)
class AuditSeal:
    """The key that seals new entries, the keys that verify older ones, and the anchor file."""

    key_id: str
    key: bytes
    old_keys: dict[str, bytes] = field(default_factory=dict)
    anchor: Path | None = None

    @property
    def development(self) -> bool:
        return self.key_id == DEVELOPMENT_KEY_ID

    def key_for(self, key_id: str) -> bytes | None:
        if key_id == self.key_id:
            return self.key
        if key_id == DEVELOPMENT_KEY_ID:
            return _DEVELOPMENT_KEY
        return self.old_keys.get(key_id)

    def mac(self, key_id: str, message: str) -> str | None:
        key = self.key_for(key_id)
        if key is None:
            return None
        return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()

    def digest(self, value: Any, key_id: str | None = None) -> str | None:
        """A keyed digest of a value (answers, a reason): equal values give equal digests, and
        without the key nobody can test a guess against it. None: a key this seal lacks."""
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        mac = self.mac(key_id or self.key_id, "digest\n" + text)
        return None if mac is None else "h:" + mac[:32]


def development_seal(anchor: Path | None = None) -> AuditSeal:
    return AuditSeal(DEVELOPMENT_KEY_ID, _DEVELOPMENT_KEY, anchor=anchor)


def seal_from_settings(settings: Any) -> AuditSeal:
    """The seal as configured; the development key when no key is set (`itaku serve` refuses
    that outside ITAKU_ENV=development: see bot/slack/app.py)."""
    anchor = settings.resolved_audit_anchor
    if settings.audit_key is None:
        return development_seal(anchor)
    return AuditSeal(
        settings.audit_key_id,
        settings.audit_key.get_secret_value().encode("utf-8"),
        settings.audit_old_key_map(),
        anchor,
    )


def seal_of(db: Database) -> AuditSeal:
    """The database's seal; one not configured by its opener takes the configured key (from
    the environment) without an anchor."""
    seal = db.audit_seal
    if not isinstance(seal, AuditSeal):
        from bot.config import Settings

        configured = seal_from_settings(Settings())
        seal = db.audit_seal = AuditSeal(configured.key_id, configured.key, configured.old_keys)
    return seal


def _seal(s: Session) -> AuditSeal:
    database = s.info.get("database")
    return seal_of(database) if isinstance(database, Database) else development_seal()


def digest(s: Session, value: Any) -> str | None:
    """A keyed digest for an entry's details, with the session's seal."""
    return _seal(s).digest(value)


def _iso(at: datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _body(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    request_id: str | None,
    details: dict[str, Any],
    key_id: str | None,
) -> str:
    content: dict[str, Any] = {
        "seq": seq,
        "at": _iso(at),
        "actor": actor,
        "action": action,
        "request": request_id,
        "details": details,
    }
    if key_id is not None:
        content["key"] = key_id
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entry_mac(seal: AuditSeal, e: AuditEntry) -> str | None:
    """The MAC an entry should carry (None: sealed with a key this seal does not hold)."""
    body = _body(e.seq, e.at, e.actor, e.action, e.request_id, e.details, e.key_id)
    if e.key_id is None:  # before the key: a plain hash chain
        return hashlib.sha256(f"{e.prev_hash}\n{body}".encode()).hexdigest()
    return seal.mac(e.key_id, f"{e.prev_hash}\n{body}")


def append(
    s: Session, actor: str, action: str, request_id: str | None, details: dict[str, Any]
) -> AuditEntry:
    """Add an entry after the newest one. Two writers racing for the same sequence number
    collide on its primary key: the caller's transaction fails and is retried."""
    seal = _seal(s)
    last = s.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq = (last[0] + 1) if last else 1
    prev = last[1] if last else GENESIS
    details = json.loads(json.dumps(details, ensure_ascii=False, default=str))
    entry = AuditEntry(
        seq=seq,
        at=utcnow(),
        actor=actor,
        action=action,
        request_id=request_id,
        details=details,
        prev_hash=prev,
        key_id=seal.key_id,
        hash="",
    )
    entry.hash = entry_mac(seal, entry) or ""
    s.add(entry)
    s.flush()
    if seal.anchor is not None:
        s.info.setdefault(_PENDING, []).append(f"{seq}\t{seal.key_id}\t{entry.hash}\n")
    return entry


@event.listens_for(Session, "after_commit")
def _write_anchor(s: Session) -> None:
    lines = s.info.pop(_PENDING, None)
    if not lines:
        return
    seal = _seal(s)
    if seal.anchor is None:
        return
    try:
        seal.anchor.parent.mkdir(parents=True, exist_ok=True)
        with open(seal.anchor, "a", encoding="ascii") as fh:  # one write per line: O_APPEND
            for line in lines:
                fh.write(line)
                fh.flush()
    except OSError as e:
        log.error("audit anchor could not be written: %s", type(e).__name__)


@event.listens_for(Session, "after_rollback")
def _forget_anchor(s: Session) -> None:
    s.info.pop(_PENDING, None)


# -- checkpoints ----------------------------------------------------------------------------------


def _checkpoint_message(head: dict[str, Any]) -> str:
    fields = {k: head[k] for k in ("entries", "seq", "mac", "key", "at")}
    return "checkpoint\n" + json.dumps(fields, sort_keys=True, separators=(",", ":"))


def checkpoint(db: Database) -> dict[str, Any]:
    """The signed head of the trail now (an auditor keeps it; `verify --checkpoint` compares),
    also appended to the anchor file."""
    seal = seal_of(db)
    with db.session() as s:
        last = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar()
        count = int(s.execute(select(func.count()).select_from(AuditEntry)).scalar_one())
    head: dict[str, Any] = {
        "entries": count,
        "seq": last.seq if last else 0,
        "mac": last.hash if last else GENESIS,
        "key": seal.key_id,
        "at": _iso(utcnow()),
    }
    head["signature"] = seal.mac(seal.key_id, _checkpoint_message(head))
    if seal.anchor is not None and head["seq"]:  # an empty trail has nothing to anchor
        seal.anchor.parent.mkdir(parents=True, exist_ok=True)
        with open(seal.anchor, "a", encoding="ascii") as fh:
            fh.write(f"{head['seq']}\t{head['key']}\t{head['mac']}\n")
    return head


# -- verifying --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyReport:
    entries: int
    ok: bool
    problems: tuple[str, ...]
    head: str
    notes: tuple[str, ...] = ()


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


def read_anchor(path: Path) -> dict[int, tuple[str, str]]:
    """seq -> (key id, MAC) of every anchored entry (a torn last line is skipped)."""
    out: dict[int, tuple[str, str]] = {}
    for line in path.read_text(encoding="ascii", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0].isdigit() and int(parts[0]) > 0 and len(parts[2]) == 64:
            out[int(parts[0])] = (parts[1], parts[2])
    return out


def verify(db: Database, checkpoint_head: dict[str, Any] | None = None) -> VerifyReport:
    """Recompute the chain (every MAC, every link, no gap), compare it with the anchor file and
    a kept checkpoint, and check that requests, revisions and decisions agree with it."""
    seal = seal_of(db)
    problems: list[str] = []
    notes: list[str] = []
    prev, expected_seq, count = GENESIS, 1, 0
    macs: dict[int, str] = {}
    keyed_seen = unkeyed = developed = 0
    trail: list[AuditEntry] = []
    for e in _entries(db):
        count += 1
        if e.seq != expected_seq:
            problems.append(f"#{expected_seq}〜#{e.seq - 1}: 記録が欠けています（削除の疑い）")
        if e.prev_hash != prev:
            problems.append(f"#{e.seq}: 前の記録とのつながりが一致しません")
        # entries without a key, or under the published development key, are weak: anyone can
        # compute them, so they are accepted only before the first entry under a real key
        weak = e.key_id is None or e.key_id == DEVELOPMENT_KEY_ID
        unkeyed += e.key_id is None
        developed += e.key_id == DEVELOPMENT_KEY_ID
        if weak and keyed_seen:
            problems.append(
                f"#{e.seq}: 鍵のない（または開発用の鍵の）記録が本番の鍵の記録の後にあります（偽造の疑い）"
            )
        keyed_seen += not weak
        expected = entry_mac(seal, e)
        if expected is None:
            problems.append(f"#{e.seq}: 不明な鍵（{e.key_id}）で封印されています")
        elif not hmac.compare_digest(expected, e.hash):
            problems.append(f"#{e.seq}: 内容が記録時から変更されています")
        macs[e.seq] = e.hash
        prev, expected_seq = e.hash, e.seq + 1
        if e.request_id is not None:
            trail.append(e)
    problems += _compare_anchor(seal, macs, count)
    if checkpoint_head is not None:
        problems += _compare_checkpoint(seal, checkpoint_head, macs)
    problems += _compare_tables(db, seal, trail)
    problems += _compare_contractors(db, seal, trail)
    problems += _compare_incidents(db, seal, trail)
    if unkeyed:
        notes.append(f"{unkeyed} 件は鍵の設定前の記録です（鍵のないハッシュの連鎖）")
    if developed:
        notes.append(
            f"{developed} 件は開発用の鍵で封印されています：ITAKU_AUDIT_KEY を設定するまで証拠になりません"
        )
    return VerifyReport(count, not problems, tuple(problems), prev, tuple(notes))


def _compare_anchor(seal: AuditSeal, macs: dict[int, str], count: int) -> list[str]:
    if seal.anchor is None:
        return []
    if not seal.anchor.is_file():
        return [f"控えの記録（{seal.anchor.name}）がありません"] if count else []
    anchored = read_anchor(seal.anchor)
    problems: list[str] = []
    missing = sorted(seq for seq in anchored if seq not in macs)
    if missing:
        problems.append(
            f"#{missing[0]}〜#{missing[-1]}: 控えにある記録がデータベースにありません（削除の疑い）"
        )
    changed = [seq for seq, (_, mac) in anchored.items() if seq in macs and macs[seq] != mac]
    for seq in sorted(changed)[:20]:
        problems.append(f"#{seq}: 控えの記録と一致しません（書き換えの疑い）")
    return problems


def _compare_checkpoint(seal: AuditSeal, head: dict[str, Any], macs: dict[int, str]) -> list[str]:
    try:
        signature = seal.mac(str(head["key"]), _checkpoint_message(head))
        seq, mac = int(head["seq"]), str(head["mac"])
    except (KeyError, TypeError, ValueError):
        return ["チェックポイントの形式が正しくありません"]
    if signature is None or not hmac.compare_digest(signature, str(head.get("signature", ""))):
        return ["チェックポイントの署名が一致しません"]
    if seq and macs.get(seq) != mac:
        return [f"#{seq}: チェックポイント時点の記録と一致しません（削除または書き換えの疑い）"]
    return []


def _compare_tables(db: Database, seal: AuditSeal, trail: list[AuditEntry]) -> list[str]:
    """Requests, revisions and decisions as the trail says they are."""
    problems: list[str] = []
    status: dict[str, str] = {}
    revisions: dict[tuple[str, int], tuple[str, str | None]] = {}
    decisions: dict[tuple[str, int, int], AuditEntry] = {}
    for e in trail:
        rid, d = str(e.request_id), e.details
        if "status" in d:
            status[rid] = str(d["status"])
        if e.action in ("filed", "resubmitted") and isinstance(d.get("answers"), str):
            revisions[(rid, int(d.get("revision", 1)))] = (d["answers"], e.key_id)
        if e.action in DECISIONS and "stage" in d and "revision" in d:
            decisions[(rid, int(d["revision"]), int(d["stage"]))] = e
    with db.session() as s:
        for req in s.execute(select(RequestRecord)).scalars():
            if req.id in status and status[req.id] != req.status:
                problems.append(f"{req.id}: 状態が記録と一致しません（{req.status}）")
        for rev in s.execute(select(RevisionRecord)).scalars():
            logged = revisions.get((rev.request_id, rev.number))
            if logged is None:
                continue
            recomputed = seal.digest(rev.answers, logged[1])
            if recomputed is not None and logged[0] != recomputed:
                problems.append(f"{rev.request_id} 第{rev.number}版: 申請内容が記録と一致しません")
        rows = {
            (d.request_id, d.revision, d.stage): d
            for d in s.execute(select(DecisionRecord)).scalars()
        }
    for key, e in decisions.items():
        row = rows.get(key)
        name = f"{key[0]} 第{key[1]}版 第{key[2] + 1}段階"
        if row is None:
            problems.append(f"{name}: 記録にある判断がありません")
            continue
        if row.approver != e.actor or row.outcome != e.action:
            problems.append(f"{name}: 判断者または判断が記録と一致しません")
        keyed = e.key_id is not None  # entries from before the key hold the reason itself
        if (
            keyed
            and "reason" in e.details
            and e.details["reason"] != _reason_digest(seal, row.reason, e.key_id)
        ):
            problems.append(f"{name}: 理由が記録と一致しません")
    for key in rows.keys() - decisions.keys():
        if any(k[0] == key[0] for k in decisions) or key[0] in status:
            problems.append(f"{key[0]} 第{key[1]}版 第{key[2] + 1}段階: 記録にない判断があります")
    return problems


def _compare_contractors(db: Database, seal: AuditSeal, trail: list[AuditEntry]) -> list[str]:
    """The contractor ledger as the trail says it is: each contractor's newest entry holds its
    version and a digest of its row (bot/contractors/service.py)."""
    newest: dict[str, AuditEntry] = {}
    for e in trail:
        if e.action.startswith("contractor_") and "record" in e.details:
            newest[str(e.request_id)] = e
    problems: list[str] = []
    with db.session() as s:
        rows = {r.id: r for r in s.execute(select(ContractorRecord)).scalars()}
    for contractor_id, row in sorted(rows.items()):
        logged = newest.get(contractor_id)
        if logged is None:
            problems.append(f"{contractor_id}: 記録にない委託先があります")
        elif logged.details.get("version") != row.version:
            problems.append(f"{contractor_id}: 委託先の版が記録と一致しません（第{row.version}版）")
        else:
            recomputed = seal.digest(row.content(), logged.key_id)
            if recomputed is not None and recomputed != logged.details["record"]:
                problems.append(f"{contractor_id}: 委託先の登録内容が記録と一致しません")
    for contractor_id in sorted(newest.keys() - rows.keys()):
        problems.append(f"{contractor_id}: 記録にある委託先がありません（削除の疑い）")
    return problems


def _compare_incidents(db: Database, seal: AuditSeal, trail: list[AuditEntry]) -> list[str]:
    """Incidents as the trail says they are: each incident's newest entry with a digest holds
    its version and a digest of its row (bot/incidents/service.py)."""
    newest: dict[str, AuditEntry] = {}
    for e in trail:
        if e.action.startswith("incident_") and "record" in e.details:
            newest[str(e.request_id)] = e
    problems: list[str] = []
    with db.session() as s:
        rows = {r.id: r for r in s.execute(select(IncidentRecord)).scalars()}
    for incident_id, row in sorted(rows.items()):
        logged = newest.get(incident_id)
        if logged is None:
            problems.append(f"{incident_id}: 記録にないインシデントがあります")
        elif logged.details.get("version") != row.version:
            problems.append(
                f"{incident_id}: インシデントの版が記録と一致しません（第{row.version}版）"
            )
        else:
            recomputed = seal.digest(row.content(), logged.key_id)
            if recomputed is not None and recomputed != logged.details["record"]:
                problems.append(f"{incident_id}: インシデントの内容が記録と一致しません")
    for incident_id in sorted(newest.keys() - rows.keys()):
        problems.append(f"{incident_id}: 記録にあるインシデントがありません（削除の疑い）")
    return problems


def _reason_digest(seal: AuditSeal, reason: str | None, key_id: str | None = None) -> str | None:
    return seal.digest(reason, key_id) if reason else None


def reason_digest(s: Session, reason: str | None) -> str | None:
    """What a decision's entry holds of its reason (the reason is in the decisions table)."""
    return _reason_digest(_seal(s), reason)


CSV_COLUMNS = (
    "seq",
    "at",
    "actor",
    "action",
    "request_id",
    "details",
    "key_id",
    "prev_hash",
    "hash",
)


def export_csv(db: Database) -> Iterator[str]:
    """The whole trail as CSV lines (UTF-8, with the MACs and key ids, so an auditor holding the
    key can re-verify)."""
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
                e.key_id or "",
                e.prev_hash,
                e.hash,
            )
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()
