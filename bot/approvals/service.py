"""The request lifecycle, platform-neutral: file, decide (approve / reject / request changes),
resubmit, remind and escalate; who may decide; every step in the audit trail, in the same
transaction as the change it records. Slack and the terminal call this; nothing here knows them."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.approvals.policy import ApprovalPolicy, GroupResolver
from bot.approvals.risk import LEVEL_LABELS, RiskAssessment, RiskRules
from bot.approvals.subcontract_fields import SubcontractAnswers
from bot.dialogs.spec import mask_free_text
from bot.llm.pii import Masker
from bot.store import audit
from bot.store.db import Database, rowcount
from bot.store.tables import DecisionRecord, RequestRecord, RevisionRecord, utcnow

OutcomeName = Literal["approved", "rejected", "changes_requested"]
OUTCOME_LABELS = {"approved": "承認", "rejected": "却下", "changes_requested": "差戻し"}
STATUS_LABELS = {
    "pending": "承認待ち",
    "approved": "承認済み",
    "rejected": "却下",
    "changes_requested": "差戻し（修正待ち）",
}


class Result(enum.Enum):
    RECORDED = "recorded"
    ALREADY_DECIDED = "already_decided"
    NOT_ALLOWED = "not_allowed"
    SELF_APPROVAL = "self_approval"
    NOT_PENDING = "not_pending"
    REASON_REQUIRED = "reason_required"
    STALE_REVISION = "stale_revision"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Decision:
    revision: int
    stage: int
    stage_name: str
    approver: str
    outcome: OutcomeName
    reason: str | None
    decided_at: datetime


@dataclass(frozen=True)
class RequestView:
    id: str
    requester: str
    status: str
    revision: int
    title: str
    risk: RiskAssessment
    answers: dict[str, Any]
    decisions: tuple[Decision, ...]  # every revision's, oldest first
    stage: int | None  # the stage waiting for a decision (None unless pending)
    stage_name: str | None
    approvers: tuple[str, ...]  # who may decide that stage (ids and groups), escalation included
    stages: tuple[str, ...]
    version: int
    escalated_stage: int
    created_at: datetime
    updated_at: datetime
    channel: str | None
    message_ts: str | None
    shown_version: int
    dialog_id: str | None

    @property
    def current_decisions(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.revision == self.revision)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS.get(self.risk.level, self.risk.level)


@dataclass(frozen=True)
class DecideResult:
    result: Result
    request: RequestView | None = None
    by: str | None = None  # who had already decided
    message: str = ""
    resubmitted: bool = False  # `submit` revised a request sent back, rather than filing one


# called in the transaction of a request's final approval (the request, who approved it), e.g.
# to attach the subcontractor to the contractor ledger (bot/contractors/service.py)
OnApproved = Callable[[Session, RequestView, str], object]


class ApprovalService:
    def __init__(
        self,
        db: Database,
        policy: ApprovalPolicy,
        rules: RiskRules,
        resolve: GroupResolver | None = None,
        on_approved: OnApproved | None = None,
    ) -> None:
        self.db = db
        self.policy = policy
        self.rules = rules
        self.resolve = resolve
        self.on_approved = on_approved

    # -- filing -----------------------------------------------------------------------------------

    def file(
        self,
        requester: str,
        answers: SubcontractAnswers,
        *,
        dialog_id: str | None = None,
        via: str = "slack",
    ) -> RequestView:
        risk = self.rules.assess(answers)
        data = masked_answers(answers)
        title = f"{answers.subcontractor_name}への再委託（{answers.contractor_name}・{answers.our_contract}）"[
            :200
        ]

        def work(s: Session) -> str:
            last = s.execute(select(func.max(RequestRecord.id))).scalar()
            number = int(str(last).removeprefix("SR-")) + 1 if last else 1
            request_id = f"SR-{number:06d}"
            now = utcnow()
            s.add(
                RequestRecord(
                    id=request_id,
                    requester=requester,
                    status="pending",
                    revision=1,
                    risk_level=risk.level,
                    risk=risk.to_json(),
                    title=title,
                    dialog_id=dialog_id,
                    version=1,
                    escalated_stage=-1,
                    created_at=now,
                    updated_at=now,
                    shown_version=0,
                )
            )
            s.flush()
            s.add(
                RevisionRecord(
                    request_id=request_id,
                    number=1,
                    answers=data,
                    risk=risk.to_json(),
                    created_at=now,
                )
            )
            audit.append(
                s,
                requester,
                "filed",
                request_id,
                {
                    "via": via,
                    "revision": 1,
                    "risk": risk.level,
                    "score": risk.score,
                    "fields": sorted(data),
                    "answers": audit.digest(s, data),  # the answers are in the revision
                    "status": "pending",
                },
            )
            return request_id

        return self._view(self.db.transact(work))

    def submit(
        self, requester: str, answers: SubcontractAnswers, *, dialog_id: str, via: str = "slack"
    ) -> DecideResult:
        """A finished request dialog: the revision of the request it filed earlier if that one
        was sent back for changes, else a new request."""
        previous = self.by_dialog(dialog_id)
        if previous is not None and previous.status == "changes_requested":
            outcome = self.resubmit(previous.id, requester, answers, via=via)
            return DecideResult(
                outcome.result, outcome.request, message=outcome.message, resubmitted=True
            )
        return DecideResult(
            Result.RECORDED, self.file(requester, answers, dialog_id=dialog_id, via=via)
        )

    def resubmit(
        self, request_id: str, requester: str, answers: SubcontractAnswers, *, via: str = "slack"
    ) -> DecideResult:
        """A revised request after "request changes": a new revision, decided from the first stage."""
        risk = self.rules.assess(answers)
        data = masked_answers(answers)

        def work(s: Session) -> DecideResult:
            req = s.get(RequestRecord, request_id)
            if req is None:
                return DecideResult(Result.UNKNOWN, message="申請が見つかりません。")
            if req.requester != requester:
                return DecideResult(Result.NOT_ALLOWED, message="再提出できるのは申請者だけです。")
            if req.status != "changes_requested":
                return DecideResult(
                    Result.NOT_PENDING, message="この申請は差戻し中ではありません。"
                )
            number = req.revision + 1
            s.add(
                RevisionRecord(
                    request_id=request_id,
                    number=number,
                    answers=data,
                    risk=risk.to_json(),
                    created_at=utcnow(),
                )
            )
            req.revision, req.status, req.risk_level, req.risk = (
                number,
                "pending",
                risk.level,
                risk.to_json(),
            )
            req.escalated_stage, req.version, req.updated_at = -1, req.version + 1, utcnow()
            audit.append(
                s,
                requester,
                "resubmitted",
                request_id,
                {
                    "via": via,
                    "revision": number,
                    "risk": risk.level,
                    "fields": sorted(data),
                    "answers": audit.digest(s, data),
                    "status": "pending",
                },
            )
            return DecideResult(Result.RECORDED)

        outcome = self.db.transact(work)
        return (
            outcome
            if outcome.result is not Result.RECORDED
            else DecideResult(Result.RECORDED, self._view(request_id))
        )

    # -- deciding -----------------------------------------------------------------------------------

    def check(
        self, view: RequestView, user: str, mention: Callable[[str], str] = str
    ) -> tuple[Result, str]:
        """May `user` decide this request now? (RECORDED means yes.) The reason names people
        as `mention` renders them (the platform's mention; plain ids by default)."""
        if view.status != "pending" or view.stage is None:
            last = view.current_decisions[-1] if view.current_decisions else None
            if last is not None:
                return (
                    Result.ALREADY_DECIDED,
                    f"この申請はすでに {mention(last.approver)} さんが{OUTCOME_LABELS[last.outcome]}しています。",
                )
            return (
                Result.NOT_PENDING,
                f"この申請は「{view.status_label}」で、判断を受け付けていません。",
            )
        if user == view.requester:
            return Result.SELF_APPROVAL, "自分の申請は判断できません。"
        if any(d.approver == user for d in view.current_decisions):
            return (
                Result.NOT_ALLOWED,
                "前の段階で判断した人は、次の段階を判断できません（別の承認者が必要です）。",
            )
        if user not in self.policy.members(list(view.approvers), self.resolve):
            return (
                Result.NOT_ALLOWED,
                f"この段階（{view.stage_name}）の承認者ではないため、判断できません。",
            )
        return Result.RECORDED, ""

    def decide(
        self,
        request_id: str,
        actor: str,
        outcome: OutcomeName,
        reason: str | None = None,
        *,
        revision: int | None = None,
        via: str = "slack",
        mention: Callable[[str], str] = str,
    ) -> DecideResult:
        reason = (reason or "").strip() or None
        if outcome != "approved" and not reason:
            return DecideResult(Result.REASON_REQUIRED, message="却下・差戻しには理由が必要です。")

        def work(s: Session) -> DecideResult:
            req = s.get(RequestRecord, request_id)
            if req is None:
                return DecideResult(Result.UNKNOWN, message="申請が見つかりません。")
            view = self._view_in(s, req)
            if revision is not None and revision != req.revision and view.status == "pending":
                return DecideResult(
                    Result.STALE_REVISION,
                    view,
                    message="この申請は再提出されています。最新の版で判断してください。",
                )
            verdict, message = self.check(view, actor, mention)
            if verdict is not Result.RECORDED:
                if verdict is not Result.ALREADY_DECIDED:
                    audit.append(
                        s,
                        actor,
                        "refused",
                        request_id,
                        {
                            "via": via,
                            "attempt": outcome,
                            "why": verdict.value,
                            "revision": req.revision,
                        },
                    )
                by = view.current_decisions[-1].approver if view.current_decisions else None
                return DecideResult(verdict, view, by, message)
            assert view.stage is not None
            s.add(
                DecisionRecord(
                    request_id=request_id,
                    revision=req.revision,
                    stage=view.stage,
                    approver=actor,
                    outcome=outcome,
                    reason=reason,
                    decided_at=utcnow(),
                )
            )
            s.flush()  # a concurrent decision on this stage fails here: retried, then seen above
            last_stage = view.stage == len(view.stages) - 1
            req.status = "pending" if outcome == "approved" and not last_stage else outcome
            req.version, req.updated_at = req.version + 1, utcnow()
            audit.append(
                s,
                actor,
                outcome,
                request_id,
                {
                    "via": via,
                    "revision": req.revision,
                    "stage": view.stage,
                    "stage_name": view.stage_name,
                    "reason": audit.reason_digest(s, reason),  # the reason is in the decision
                    "status": req.status,
                },
            )
            if req.status == "approved" and self.on_approved is not None:
                self.on_approved(s, self._view_in(s, req), actor)
            return DecideResult(Result.RECORDED)

        result = self.db.transact(work)
        if result.result is Result.RECORDED:
            return DecideResult(Result.RECORDED, self._view(request_id))
        return result

    # -- reminders and escalation ---------------------------------------------------------------------

    def waiting_since(self, view: RequestView) -> datetime:
        times = [d.decided_at for d in view.current_decisions]
        return max([*times, self._revision_time(view)])

    def due(self, now: datetime | None = None) -> list[tuple[RequestView, str]]:
        """(request, "remind" | "escalate") for pending requests waiting too long at their stage."""
        now = now or utcnow()
        out: list[tuple[RequestView, str]] = []
        for view in self.search(status="pending", limit=500):
            waited = _naive(now) - _naive(self.waiting_since(view))
            if (
                waited >= timedelta(hours=self.policy.escalate_after_hours)
                and self.policy.escalation
                and view.escalated_stage < (view.stage or 0)
            ):
                out.append((view, "escalate"))
            elif waited >= timedelta(hours=self.policy.remind_after_hours):
                out.append((view, "remind"))
        return out

    def escalate(self, request_id: str, stage: int) -> RequestView | None:
        """Widen a stage's approvers to the escalation group, once (compare-and-set)."""

        def work(s: Session) -> bool:
            changed = rowcount(
                s.execute(
                    update(RequestRecord)
                    .where(
                        RequestRecord.id == request_id,
                        RequestRecord.escalated_stage < stage,
                        RequestRecord.status == "pending",
                    )
                    .values(
                        escalated_stage=stage,
                        version=RequestRecord.version + 1,
                        updated_at=utcnow(),
                    )
                )
            )
            if changed:
                audit.append(
                    s,
                    "itaku",
                    "escalated",
                    request_id,
                    {"stage": stage, "to": self.policy.escalation},
                )
            return bool(changed)

        return self._view(request_id) if self.db.transact(work) else None

    def note(
        self, actor: str, action: str, request_id: str | None, details: dict[str, Any]
    ) -> None:
        """Record something that changes no state (a reminder sent, a refused click) in the trail."""
        self.db.transact(lambda s: audit.append(s, actor, action, request_id, details))

    # -- where it is shown ------------------------------------------------------------------------------

    def set_message(self, request_id: str, channel: str, ts: str) -> None:
        with self.db.session() as s:
            s.execute(
                update(RequestRecord)
                .where(RequestRecord.id == request_id)
                .values(channel=channel, message_ts=ts)
            )

    def mark_shown(self, request_id: str, version: int) -> None:
        with self.db.session() as s:
            s.execute(
                update(RequestRecord)
                .where(RequestRecord.id == request_id, RequestRecord.shown_version < version)
                .values(shown_version=version)
            )

    def out_of_date(self, limit: int = 100) -> list[RequestView]:
        """Requests whose Slack message shows an older state than the recorded one."""
        with self.db.session() as s:
            ids = list(
                s.execute(
                    select(RequestRecord.id)
                    .where(RequestRecord.shown_version < RequestRecord.version)
                    .limit(limit)
                ).scalars()
            )
        return [v for v in (self.get(i) for i in ids) if v is not None]

    # -- reading ------------------------------------------------------------------------------------------

    def get(self, request_id: str) -> RequestView | None:
        with self.db.session() as s:
            req = s.get(RequestRecord, request_id)
            return self._view_in(s, req) if req is not None else None

    def search(
        self, *, status: str | None = None, requester: str | None = None, limit: int = 50
    ) -> list[RequestView]:
        stmt = select(RequestRecord).order_by(RequestRecord.updated_at.desc()).limit(limit)
        if status:
            stmt = stmt.where(RequestRecord.status == status)
        if requester:
            stmt = stmt.where(RequestRecord.requester == requester)
        with self.db.session() as s:
            return [self._view_in(s, r) for r in s.execute(stmt).scalars()]

    def waiting_for(self, user: str) -> list[RequestView]:
        return [
            v
            for v in self.search(status="pending", limit=500)
            if self.check(v, user)[0] is Result.RECORDED
        ]

    def by_dialog(self, dialog_id: str) -> RequestView | None:
        """The newest request filed from this dialog (a resubmission reuses the dialog)."""
        with self.db.session() as s:
            req = (
                s.execute(
                    select(RequestRecord)
                    .where(RequestRecord.dialog_id == dialog_id)
                    .order_by(RequestRecord.created_at.desc())
                    .limit(1)
                )
                .scalars()
                .first()
            )
            return self._view_in(s, req) if req is not None else None

    def by_message(self, channel: str, ts: str) -> RequestView | None:
        with self.db.session() as s:
            req = (
                s.execute(
                    select(RequestRecord).where(
                        RequestRecord.channel == channel, RequestRecord.message_ts == ts
                    )
                )
                .scalars()
                .first()
            )
            return self._view_in(s, req) if req is not None else None

    def answers_of(self, request_id: str, revision: int | None = None) -> dict[str, Any] | None:
        with self.db.session() as s:
            req = s.get(RequestRecord, request_id)
            if req is None:
                return None
            rev = s.get(RevisionRecord, (request_id, revision or req.revision))
            return dict(rev.answers) if rev is not None else None

    def _view(self, request_id: str) -> RequestView:
        view = self.get(request_id)
        assert view is not None
        return view

    def _revision_time(self, view: RequestView) -> datetime:
        with self.db.session() as s:
            rev = s.get(RevisionRecord, (view.id, view.revision))
            return rev.created_at if rev is not None else view.created_at

    def _view_in(self, s: Session, req: RequestRecord) -> RequestView:
        stages = self.policy.stages(req.risk_level)
        rows = s.execute(
            select(DecisionRecord)
            .where(DecisionRecord.request_id == req.id)
            .order_by(DecisionRecord.revision, DecisionRecord.stage)
        ).scalars()
        decisions = tuple(
            Decision(
                d.revision,
                d.stage,
                stages[d.stage].name if d.stage < len(stages) else str(d.stage),
                d.approver,
                cast(OutcomeName, d.outcome),
                d.reason,
                d.decided_at,
            )
            for d in rows
        )
        current = [d for d in decisions if d.revision == req.revision]
        stage = len(current) if req.status == "pending" and len(current) < len(stages) else None
        approvers: tuple[str, ...] = ()
        if stage is not None:
            approvers = tuple(stages[stage].approvers)
            if req.escalated_stage >= stage:
                approvers += tuple(self.policy.escalation)
        rev = s.get(RevisionRecord, (req.id, req.revision))
        return RequestView(
            id=req.id,
            requester=req.requester,
            status=req.status,
            revision=req.revision,
            title=req.title,
            risk=RiskAssessment.from_json(req.risk),
            answers=dict(rev.answers) if rev else {},
            decisions=decisions,
            stage=stage,
            stage_name=stages[stage].name if stage is not None else None,
            approvers=approvers,
            stages=tuple(st.name for st in stages),
            version=req.version,
            escalated_stage=req.escalated_stage,
            created_at=req.created_at,
            updated_at=req.updated_at,
            channel=req.channel,
            message_ts=req.message_ts,
            shown_version=req.shown_version,
            dialog_id=req.dialog_id,
        )


def _naive(at: datetime) -> datetime:
    """UTC without tzinfo (SQLite hands back naive UTC, PostgreSQL aware datetimes)."""
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo is not None else at


def masked_answers(answers: SubcontractAnswers) -> dict[str, Any]:
    """The answers as stored in a revision: personal data in the free-text fields masked, the
    parties' names, address and the facts a decision needs kept."""
    return mask_free_text(SubcontractAnswers, answers.model_dump(mode="json"), Masker())


def open_approvals(
    settings: Any, db: Database | None = None, resolve: GroupResolver | None = None
) -> ApprovalService:
    """The service as configured: the database, the approval policy and the risk rules; an
    approved request's subcontractor joins the contractor ledger."""
    from bot.approvals.risk import default_rules_path
    from bot.contractors.service import on_request_approved
    from bot.store.db import open_database

    db = db or open_database(settings.resolved_database_url)
    if db.audit_seal is None:
        db.audit_seal = audit.seal_from_settings(settings)
    return ApprovalService(
        db,
        ApprovalPolicy.load(settings.approval_policy_path),
        RiskRules.load(default_rules_path(settings.knowledge_dir)),
        resolve,
        on_approved=on_request_approved,
    )
