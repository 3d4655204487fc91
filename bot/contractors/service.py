"""The contractor ledger (委託先台帳), platform-neutral: register, update (compare-and-set on the
row's version), read, list (by owner, by review due), the chain 委託先 → 再委託先 → 再々委託先,
and approved subcontracting requests attached as children. Every change is in the audit trail,
in the same transaction as the change it records (as bot/approvals/service.py does); entries
hold the contractor's id, the names of the fields that changed and a keyed digest of the row,
never its content. Slack, Teams and the terminal call this; nothing here knows them."""

from __future__ import annotations

import datetime as dt
import enum
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.approvals.subcontract_fields import normalize_name
from bot.contractors.models import (
    CONTRACT_TYPE_SHORT,
    WORK_MAX,
    ContractorFields,
    identity_key,
    is_corporate_number,
    normalize_corporate_number,
)
from bot.contractors.risk import ContractorRating, ContractorRules
from bot.dialogs.spec import field_spec, mask_free_text, message_of
from bot.llm.pii import Masker
from bot.store import audit
from bot.store.db import Database, compare_and_set
from bot.store.tables import (
    AuditEntry,
    ContractorRecord,
    RequestRecord,
    RevisionRecord,
    utcnow,
)

if TYPE_CHECKING:
    from bot.approvals.service import RequestView

log = logging.getLogger(__name__)

ID_PREFIX = "CT-"
_ID = re.compile(r"^CT-\d{6,}$")
_OWNER = re.compile(r"^[^\s\x00-\x1f\x7f]{1,100}$")
_TREE_LOCK_ID = 7_355_609  # PostgreSQL advisory lock held while a contractor changes parent
TIER_LABELS = {1: "委託先", 2: "再委託先", 3: "再々委託先"}
FIELD_NAMES = tuple(ContractorFields.model_fields)
RELATIONS = ("owner", "parent_id")  # what an update may change besides the fields


class Result(enum.Enum):
    RECORDED = "recorded"
    UNCHANGED = "unchanged"  # an update that changes nothing: no new version, no entry
    STALE = "stale"  # the version acted on is not the current one
    DUPLICATE = "duplicate"  # the same company is already under the same parent
    INVALID = "invalid"
    CYCLE = "cycle"  # the parent asked for is the contractor itself or below it
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ContractorView:
    id: str
    fields: ContractorFields
    owner: str
    parent_id: str | None
    source_request_id: str | None
    tier: int  # 1: our contractor, 2: 再委託先, 3: 再々委託先 ...
    rating: ContractorRating
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def name(self) -> str:
        return self.fields.name

    @property
    def tier_label(self) -> str:
        return TIER_LABELS.get(self.tier, f"{self.tier - 1}次委託先")

    @property
    def contract_type_label(self) -> str:
        kind = self.fields.contract_type
        return CONTRACT_TYPE_SHORT[kind] if kind else "（未確認）"


@dataclass(frozen=True)
class Outcome:
    result: Result
    contractor: ContractorView | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.result in (Result.RECORDED, Result.UNCHANGED)


@dataclass(frozen=True)
class ChainLink:
    depth: int  # 0 for the top of the chain
    contractor: ContractorView


def stored_values(fields: ContractorFields) -> dict[str, Any]:
    """The fields as the ledger keeps them (the columns' values): personal data typed into the
    free-text field (the work description) masked, as a request's free text is; names, dates
    and facts kept."""
    values = {name: getattr(fields, name) for name in FIELD_NAMES}
    return mask_free_text(ContractorFields, values, Masker())


def fields_of(row: ContractorRecord) -> ContractorFields:
    """The row's fields as recorded (not re-validated: a date that was fine when recorded stays
    readable whatever day it is)."""
    return ContractorFields.model_construct(**{name: getattr(row, name) for name in FIELD_NAMES})


def describe_invalid(
    error: ValidationError, model: type[ContractorFields] = ContractorFields
) -> str:
    """A validation error as `label：message`, the first problem."""
    first = error.errors()[0]
    loc = first.get("loc") or ()
    name = str(loc[0]) if loc else ""
    text_ = message_of(first)
    if name in model.model_fields:
        return f"{field_spec(name, model.model_fields[name]).label}：{text_}"
    return text_


def check_owner(owner: str) -> str | None:
    """Why an owner id cannot be recorded (None: it can)."""
    if not _OWNER.match(owner or ""):
        return "担当者は、空白を含まない100文字以内のユーザーID（Slack の U…、terminal:名前 など）で指定してください。"
    return None


def ledger_key(parent_id: str | None, name: str, corporate_number: str | None) -> str:
    return f"{parent_id or '-'}/{identity_key(name, corporate_number)}"


def is_contractor_id(value: str) -> bool:
    return bool(_ID.match(value))


class ContractorService:
    def __init__(
        self,
        db: Database,
        rules: ContractorRules,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.db = db
        self.rules = rules
        self.today = today

    # -- registering ------------------------------------------------------------------------------

    def register(
        self,
        actor: str,
        fields: ContractorFields,
        *,
        owner: str,
        parent_id: str | None = None,
        source_request_id: str | None = None,
        via: str = "terminal",
    ) -> Outcome:
        problem = check_owner(owner)
        if problem:
            return Outcome(Result.INVALID, message=problem)
        values = stored_values(fields)

        def work(s: Session) -> tuple[Result, str | None, str]:
            return _insert(
                s,
                actor,
                values,
                owner=owner,
                parent_id=parent_id,
                source_request_id=source_request_id,
                action="contractor_registered",
                details={"via": via},
            )

        result, contractor_id, message = self.db.transact(work)
        return Outcome(result, self.get(contractor_id) if contractor_id else None, message)

    # -- updating ---------------------------------------------------------------------------------

    def update(
        self,
        contractor_id: str,
        actor: str,
        changes: Mapping[str, Any],
        *,
        expected_version: int,
        via: str = "terminal",
    ) -> Outcome:
        """Change fields (and `owner`, `parent_id`) of the version the caller saw. A newer
        version, recorded meanwhile by someone else, refuses the change (STALE) instead of
        overwriting it."""
        unknown = sorted(set(changes) - set(FIELD_NAMES) - set(RELATIONS))
        if unknown:
            return Outcome(Result.INVALID, message=f"変更できない項目です：{', '.join(unknown)}")
        if "owner" in changes:
            problem = check_owner(str(changes["owner"] or ""))
            if problem:
                return Outcome(Result.INVALID, message=problem)

        def work(s: Session) -> tuple[Result, str]:
            row = s.get(ContractorRecord, contractor_id)
            if row is None:
                return Result.UNKNOWN, f"委託先 {contractor_id} は台帳にありません。"
            if row.version != expected_version:
                return Result.STALE, _stale_message(row)
            current = fields_of(row).model_dump(mode="json")
            edited = {k: v for k, v in changes.items() if k in FIELD_NAMES}
            if "work" not in edited:  # as stored (masked): checked when it is typed
                current["work"] = row.work[:WORK_MAX]
            try:
                fields = ContractorFields.model_validate({**current, **edited})
            except ValidationError as e:
                return Result.INVALID, describe_invalid(e)
            values = stored_values(fields)
            if "work" not in edited:
                values["work"] = row.work
            owner = str(changes.get("owner", row.owner))
            parent_id = changes.get("parent_id", row.parent_id)
            if parent_id != row.parent_id:
                problem = _check_parent(s, row.id, parent_id)
                if problem is not None:
                    return problem
            key = ledger_key(parent_id, values["name"], values["corporate_number"])
            if key != row.ledger_key:
                other = _by_key(s, key)
                if other is not None and other.id != row.id:
                    return Result.DUPLICATE, _duplicate_message(other)
            return _apply(
                s,
                row,
                actor,
                values,
                owner=owner,
                parent_id=parent_id,
                key=key,
                action="contractor_updated",
                details={"via": via},
            )

        result, message = self.db.transact(work)
        return Outcome(result, self.get(contractor_id), message)

    # -- reading ----------------------------------------------------------------------------------

    def get(self, contractor_id: str) -> ContractorView | None:
        with self.db.session() as s:
            row = s.get(ContractorRecord, contractor_id)
            if row is None:
                return None
            return self._view(row, _tier(_parents(s), row.id))

    def find(self, key: str) -> ContractorView | None:
        """A contractor by id, corporate number, or name (when only one has it)."""
        if is_contractor_id(key):
            return self.get(key)
        with self.db.session() as s:
            stmt = select(ContractorRecord)
            if is_corporate_number(key):
                stmt = stmt.where(
                    ContractorRecord.corporate_number == normalize_corporate_number(key)
                )
            else:
                stmt = stmt.where(ContractorRecord.name_key == normalize_name(key))
            rows = list(s.execute(stmt.limit(2)).scalars())
            if len(rows) != 1:
                return None
            return self._view(rows[0], _tier(_parents(s), rows[0].id))

    def search(
        self,
        *,
        owner: str | None = None,
        due_within_days: int | None = None,
        parent_id: str | None = None,
        limit: int = 10_000,
    ) -> list[ContractorView]:
        """Contractors by id; `owner` only theirs; `due_within_days` only those whose review is
        due by then (0: due today or overdue; never assessed counts as due)."""
        stmt = select(ContractorRecord).order_by(ContractorRecord.id).limit(limit)
        if owner is not None:
            stmt = stmt.where(ContractorRecord.owner == owner)
        if parent_id is not None:
            stmt = stmt.where(ContractorRecord.parent_id == parent_id)
        today = self.today()
        with self.db.session() as s:
            parents = _parents(s)
            views = [self._view(r, _tier(parents, r.id)) for r in s.execute(stmt).scalars()]
        if due_within_days is not None:
            views = [v for v in views if v.rating.due(today, due_within_days)]
        return views

    def ancestors(self, contractor_id: str) -> list[ContractorView]:
        """From the top of the chain down to the contractor itself (a cycle, which the ledger
        never records but a hand-edited database could hold, stops the walk)."""
        with self.db.session() as s:
            parents = _parents(s)
            ids = _path(parents, contractor_id)
            rows = {
                r.id: r
                for r in s.execute(
                    select(ContractorRecord).where(ContractorRecord.id.in_(ids))
                ).scalars()
            }
            return [self._view(rows[i], depth + 1) for depth, i in enumerate(ids) if i in rows]

    def chain(self, contractor_id: str) -> list[ChainLink]:
        """The whole chain the contractor belongs to, from its top: each contractor followed by
        its subcontractors, depth first (every contractor once, whatever the data holds)."""
        with self.db.session() as s:
            parents = _parents(s)
            if contractor_id not in parents:
                return []
            top = _path(parents, contractor_id)[0]
            children: dict[str, list[str]] = {}
            for child, parent in sorted(parents.items()):
                if parent is not None:
                    children.setdefault(parent, []).append(child)
            order: list[tuple[int, str]] = []
            seen: set[str] = set()
            stack = [(0, top)]
            while stack:
                depth, current = stack.pop()
                if current in seen:
                    continue
                seen.add(current)
                order.append((depth, current))
                stack.extend((depth + 1, c) for c in reversed(children.get(current, [])))
            rows = {
                r.id: r
                for r in s.execute(
                    select(ContractorRecord).where(ContractorRecord.id.in_([i for _, i in order]))
                ).scalars()
            }
            return [ChainLink(depth, self._view(rows[i], depth + 1)) for depth, i in order]

    def history(self, contractor_id: str) -> list[tuple[datetime, str, str, dict[str, Any]]]:
        """(when, who, action, details) of the contractor's audit entries, oldest first."""
        with self.db.session() as s:
            rows = s.execute(
                select(AuditEntry)
                .where(AuditEntry.request_id == contractor_id)
                .order_by(AuditEntry.seq)
            ).scalars()
            return [(e.at, e.actor, e.action, dict(e.details)) for e in rows]

    def rate(self, fields: ContractorFields, tier: int = 1) -> ContractorRating:
        return self.rules.rate(fields, today=self.today(), tier=tier)

    def _view(self, row: ContractorRecord, tier: int) -> ContractorView:
        fields = fields_of(row)
        return ContractorView(
            id=row.id,
            fields=fields,
            owner=row.owner,
            parent_id=row.parent_id,
            source_request_id=row.source_request_id,
            tier=tier,
            rating=self.rate(fields, tier),
            version=row.version,
            created_by=row.created_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    # -- approved subcontracting requests ---------------------------------------------------------

    def attach_approved(self, actor: str = "itaku") -> list[str]:
        """Attach every approved request not yet in the ledger whose contractor now is (a
        request approved before its contractor was registered). The contractors attached."""
        with self.db.session() as s:
            linked = select(ContractorRecord.source_request_id).where(
                ContractorRecord.source_request_id.is_not(None)
            )
            pending = list(
                s.execute(
                    select(RequestRecord.id)
                    .where(RequestRecord.status == "approved", RequestRecord.id.not_in(linked))
                    .order_by(RequestRecord.id)
                ).scalars()
            )
        out: list[str] = []
        for request_id in pending:
            attached = self._attach_one(request_id, actor)
            if attached is not None and attached.changed:
                out.append(attached.contractor_id)
        return out

    def _attach_one(self, request_id: str, actor: str) -> Attached | None:
        def work(s: Session) -> Attached | None:
            req = s.get(RequestRecord, request_id)
            rev = s.get(RevisionRecord, (request_id, req.revision)) if req else None
            if req is None or rev is None or req.status != "approved":
                return None
            return attach_request(s, req.id, req.requester, rev.answers, actor, via="catch_up")

        return self.db.transact(work)


# -- the hook the approvals flow calls ---------------------------------------------------------------


def on_request_approved(s: Session, request: RequestView, actor: str) -> None:
    """ApprovalService's `on_approved`: in the approval's own transaction, the approved
    request's subcontractor joins the ledger under its contractor."""
    attach_request(s, request.id, request.requester, request.answers, actor, via="approval")


@dataclass(frozen=True)
class Attached:
    contractor_id: str
    changed: bool  # False: the request was already covered by this entry


def attach_request(
    s: Session,
    request_id: str,
    requester: str,
    answers: Mapping[str, Any],
    actor: str,
    *,
    via: str = "approval",
) -> Attached | None:
    """The approved request's subcontractor as a child of its contractor (found by the name the
    request gives), in the caller's transaction, once:
    - a request already attached, or a child already in the ledger that came from an earlier
      request, gives that child again, unchanged;
    - a child registered by hand before (same company under the same contractor) is linked to
      the request, its fields left as they are;
    - otherwise a new child is registered from the request's answers (what a request does not
      say, the contract type and the certificates' expiry, stays unknown).
    None, and nothing changed, when the contractor is not in the ledger (or several are so
    named) or the request cannot make a ledger entry: the approval stands either way, and
    `ContractorService.attach_approved` catches up once the contractor is registered."""
    done = s.execute(
        select(ContractorRecord.id).where(ContractorRecord.source_request_id == request_id)
    ).scalar()
    if done is not None:
        return Attached(str(done), False)
    parent = _parent_for(s, str(answers.get("contractor_name") or ""))
    if parent is None:
        return None
    try:
        fields = _fields_from_request(answers)
    except ValidationError as e:
        log.warning(
            "request %s not attached to the ledger (%d problems)", request_id, e.error_count()
        )
        return None
    values = stored_values(fields)
    key = ledger_key(parent.id, values["name"], values["corporate_number"])
    existing = _by_key(s, key)
    if existing is not None:
        if existing.source_request_id is not None:
            return Attached(existing.id, False)
        result, _ = _apply(
            s,
            existing,
            actor,
            {name: getattr(existing, name) for name in FIELD_NAMES},
            owner=existing.owner,
            parent_id=existing.parent_id,
            key=existing.ledger_key,
            action="contractor_attached",
            details={"via": via, "request": request_id},
            source_request_id=request_id,
        )
        return Attached(existing.id, result is Result.RECORDED)
    result, contractor_id, _ = _insert(
        s,
        actor,
        values,
        owner=requester if check_owner(requester) is None else actor,
        parent_id=parent.id,
        source_request_id=request_id,
        action="contractor_attached",
        details={"via": via, "request": request_id},
    )
    return Attached(contractor_id, True) if contractor_id is not None else None


def _fields_from_request(answers: Mapping[str, Any]) -> ContractorFields:
    """What a subcontracting request says about the subcontractor, as ledger fields. What it does
    not say (the contract type, certificates' expiry) stays unknown."""
    overseas = bool(answers.get("overseas_processing"))
    country = answers.get("processing_country") if overseas else None
    country = country or answers.get("subcontractor_country") or "日本"
    return ContractorFields.model_validate(
        {
            "name": answers.get("subcontractor_name"),
            "work": answers.get("work_description"),
            "contract_start": answers.get("period_start"),
            "contract_end": answers.get("period_end"),
            "personal_data": bool(answers.get("personal_data")),
            "personal_data_count": answers.get("personal_data_count"),
            "sensitive_data": bool(answers.get("sensitive_data")),
            "my_number": bool(answers.get("my_number")),
            "confidential_business_data": bool(answers.get("confidential_business_data")),
            "processing_country": country,
            "certifications": list(answers.get("certifications") or []),
            "certification_other": answers.get("certification_other"),
            "last_assessed": answers.get("last_assessed"),
        }
    )


_LEGAL_FORMS = re.compile(
    r"株式会社|有限会社|合同会社|合資会社|合名会社|一般社団法人|一般財団法人|\((?:株|有|同|資|名)\)"
)


def company_core(name: str) -> str:
    """A company's name without its legal form (株式会社ミドリ, (株)ミドリ, ㈱ミドリ: ミドリ), to
    recognise the contractor a request names however it writes the form."""
    return normalize_name(_LEGAL_FORMS.sub("", unicodedata.normalize("NFKC", name)))


def _parent_for(s: Session, contractor_name: str) -> ContractorRecord | None:
    """The ledger contractor a request names: by its name, else by its name without the legal
    form; several so named: the one directly under us, if only one is."""
    key = normalize_name(contractor_name)
    if not key:
        return None
    rows = list(
        s.execute(
            select(ContractorRecord)
            .where(ContractorRecord.name_key == key)
            .order_by(ContractorRecord.id)
        ).scalars()
    )
    if not rows and company_core(contractor_name):
        core = company_core(contractor_name)
        candidates = s.execute(select(ContractorRecord).order_by(ContractorRecord.id)).scalars()
        rows = [r for r in candidates if company_core(r.name) == core]
    if len(rows) > 1:
        rows = [r for r in rows if r.parent_id is None]
    return rows[0] if len(rows) == 1 else None


# -- writing, inside a transaction -------------------------------------------------------------------


def _insert(
    s: Session,
    actor: str,
    values: dict[str, Any],
    *,
    owner: str,
    parent_id: str | None,
    source_request_id: str | None,
    action: str,
    details: dict[str, Any],
) -> tuple[Result, str | None, str]:
    if parent_id is not None and s.get(ContractorRecord, parent_id) is None:
        return Result.UNKNOWN, None, f"親の委託先 {parent_id} は台帳にありません。"
    key = ledger_key(parent_id, values["name"], values["corporate_number"])
    other = _by_key(s, key)
    if other is not None:
        return Result.DUPLICATE, None, _duplicate_message(other)
    last = s.execute(select(func.max(ContractorRecord.id))).scalar()
    number = int(str(last).removeprefix(ID_PREFIX)) + 1 if last else 1
    contractor_id = f"{ID_PREFIX}{number:06d}"
    now = utcnow()
    row = ContractorRecord(
        id=contractor_id,
        ledger_key=key,
        name_key=normalize_name(values["name"]),
        owner=owner,
        parent_id=parent_id,
        source_request_id=source_request_id,
        version=1,
        created_by=actor,
        created_at=now,
        updated_at=now,
        **values,
    )
    s.add(row)
    s.flush()  # a concurrent insert of the same id or key fails here: the transaction is retried
    audit.append(
        s,
        actor,
        action,
        contractor_id,
        {
            **details,
            "version": 1,
            "parent": parent_id,
            "fields": sorted(k for k in FIELD_NAMES if values.get(k) not in (None, False, [])),
            "record": audit.digest(s, row.content()),
        },
    )
    return Result.RECORDED, contractor_id, ""


def _apply(
    s: Session,
    row: ContractorRecord,
    actor: str,
    values: dict[str, Any],
    *,
    owner: str,
    parent_id: str | None,
    key: str,
    action: str,
    details: dict[str, Any],
    source_request_id: str | None = None,
) -> tuple[Result, str]:
    """Write new values over the row's version (compare-and-set), with its audit entry."""
    before = row.content()
    expected = row.version
    changes: dict[str, Any] = {
        **values,
        "owner": owner,
        "parent_id": parent_id,
        "ledger_key": key,
        "name_key": normalize_name(values["name"]),
    }
    if source_request_id is not None:
        changes["source_request_id"] = source_request_id
    changed = sorted(
        k
        for k in (*FIELD_NAMES, "owner", "parent_id", "source_request_id")
        if k in changes and _jsonable(changes[k]) != before.get(k)
    )
    if not changed:
        return Result.UNCHANGED, "変更はありません。"
    done = compare_and_set(s, ContractorRecord, row.id, expected, **changes, updated_at=utcnow())
    if not done:
        s.refresh(row)
        return Result.STALE, _stale_message(row)
    s.refresh(row)
    audit.append(
        s,
        actor,
        action,
        row.id,
        {
            **details,
            "version": expected + 1,
            "fields": changed,
            "record": audit.digest(s, row.content()),
        },
    )
    return Result.RECORDED, ""


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _check_parent(
    s: Session, contractor_id: str, parent_id: str | None
) -> tuple[Result, str] | None:
    """Why the contractor cannot go under this parent (None: it can). Changes of parent are
    taken one at a time (PostgreSQL: an advisory lock; SQLite has one writer), so two at once
    cannot make a cycle that each alone would not."""
    if parent_id is None:
        return None
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _TREE_LOCK_ID})
    if s.get(ContractorRecord, parent_id) is None:
        return Result.UNKNOWN, f"親の委託先 {parent_id} は台帳にありません。"
    if contractor_id in _path(_parents(s), parent_id):
        return (
            Result.CYCLE,
            f"{parent_id} は {contractor_id} 自身か、その再委託先です。親にすると委託の連鎖が輪になります。",
        )
    return None


def _by_key(s: Session, key: str) -> ContractorRecord | None:
    return s.execute(
        select(ContractorRecord).where(ContractorRecord.ledger_key == key)
    ).scalar_one_or_none()


def _parents(s: Session) -> dict[str, str | None]:
    return {
        str(i): p
        for i, p in s.execute(select(ContractorRecord.id, ContractorRecord.parent_id)).all()
    }


def _path(parents: Mapping[str, str | None], contractor_id: str) -> list[str]:
    """Ids from the top of the chain down to `contractor_id` (cycle-safe)."""
    path: list[str] = []
    seen: set[str] = set()
    current: str | None = contractor_id
    while current is not None and current not in seen and current in parents:
        seen.add(current)
        path.append(current)
        current = parents[current]
    return path[::-1]


def _tier(parents: Mapping[str, str | None], contractor_id: str) -> int:
    return max(1, len(_path(parents, contractor_id)))


def _stale_message(row: ContractorRecord) -> str:
    return (
        f"{row.name}（{row.id}）は、表示されている内容のあとに更新されています（現在は第{row.version}版）。"
        "最新の内容を確かめてから、もう一度変更してください。"
    )


def _duplicate_message(other: ContractorRecord) -> str:
    where = f"（{other.parent_id} の再委託先）" if other.parent_id else ""
    return f"{other.name}{where}はすでに台帳にあります（{other.id}）。変更するときは {other.id} を更新してください。"
