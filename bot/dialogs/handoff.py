"""What a finished dialog becomes, the same on every platform: an NDA draft rendered to files, a
subcontracting request filed (or, for one sent back for changes, its revision), a contractor
registered in the ledger (委託先台帳) with its owner the person who finished, or a periodic review
(定期点検) of one recorded with its corrective actions, or an incident at a contractor filed with
its decision, deadlines and draft report (or, from the dialog that filed it, its facts updated).
The result is platform-neutral; the adapter delivers it to the person who finished the
dialog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from bot.approvals.service import ApprovalService, RequestView
from bot.approvals.subcontract_fields import SubcontractAnswers
from bot.contractors.models import ContractorRegistration
from bot.contractors.review_fields import ReviewAnswers
from bot.contractors.reviews import ReviewService, ReviewView
from bot.contractors.service import ContractorService, ContractorView
from bot.drafting.clauses import ClauseLibrary
from bot.drafting.nda_fields import NdaAnswers
from bot.drafting.service import DraftFiles, nda_files
from bot.incidents.intake import IncidentIntake
from bot.incidents.report import report_files
from bot.incidents.service import IncidentService, IncidentView
from bot.incidents.service import Result as IncidentResult

NO_APPROVALS = "承認申請はこの環境では使えません（承認ポリシーが読めません）。"
NO_LEDGER = "委託先台帳はこの環境では使えません（委託先リスクのルールが読めません）。"
NO_INCIDENTS = "インシデントの記録はこの環境では使えません。"


@dataclass(frozen=True)
class DraftReady:
    dialog_id: str  # its answers reopen for an edit
    files: DraftFiles


@dataclass(frozen=True)
class RequestFiled:
    request: RequestView
    resubmitted: bool  # the revision of a request sent back, rather than a new one


@dataclass(frozen=True)
class ContractorRegistered:
    contractor: ContractorView  # registered in the ledger, owned by the user who finished


@dataclass(frozen=True)
class ReviewRecorded:
    review: ReviewView  # with its corrective actions
    contractor: ContractorView | None  # after the review: its next review's date and level


@dataclass(frozen=True)
class IncidentFiled:
    incident: IncidentView  # with its decision (PPC Rule 7), deadlines (Rule 8) and checklist
    files: DraftFiles  # the draft report to the PPC (nine items), .docx and Markdown
    resubmitted: bool  # the facts of an incident this dialog filed before, updated


@dataclass(frozen=True)
class NotFiled:
    message: str  # why, for the user


Finished = (
    DraftReady | RequestFiled | ContractorRegistered | ReviewRecorded | IncidentFiled | NotFiled
)
# after a request is filed: (request, resubmitted, by whom), e.g. RequestDesk.filed
OnFiled = Callable[[RequestView, bool, str], None]
# after an incident is filed or updated: (incident, resubmitted, by whom), IncidentDesk.filed
OnIncident = Callable[[IncidentView, bool, str], None]


class Handoff:
    def __init__(
        self,
        clauses: ClauseLibrary,
        approvals: ApprovalService | None,
        *,
        via: str,
        on_filed: OnFiled | None = None,
        contractors: ContractorService | None = None,
        reviews: ReviewService | None = None,
        incidents: IncidentService | None = None,
        on_incident: OnIncident | None = None,
    ) -> None:
        self.clauses = clauses
        self.approvals = approvals
        self.contractors = contractors  # the ledger a registration dialog writes to
        self.reviews = reviews  # where a review dialog is recorded
        self.via = via  # the platform, as the audit trail records it
        self.on_filed = on_filed
        self.incidents = incidents  # where an incident dialog is filed
        self.on_incident = on_incident

    def finish(self, dialog_id: str, user: str, answers: BaseModel) -> Finished:
        """Hand a finished dialog's answers (DialogEngine.finish) to what they are for."""
        if isinstance(answers, NdaAnswers):
            return DraftReady(dialog_id, nda_files(answers, self.clauses))
        if isinstance(answers, SubcontractAnswers):
            if self.approvals is None:
                return NotFiled(NO_APPROVALS)
            outcome = self.approvals.submit(user, answers, dialog_id=dialog_id, via=self.via)
            if outcome.request is None:
                return NotFiled(outcome.message)
            if self.on_filed is not None:
                self.on_filed(outcome.request, outcome.resubmitted, user)
            return RequestFiled(outcome.request, outcome.resubmitted)
        if isinstance(answers, ContractorRegistration):
            if self.contractors is None:
                return NotFiled(NO_LEDGER)
            done = self.contractors.register(user, answers, owner=user, via=self.via)
            if done.contractor is None:
                return NotFiled(done.message)
            return ContractorRegistered(done.contractor)
        if isinstance(answers, ReviewAnswers):
            if self.reviews is None:
                return NotFiled(NO_LEDGER)
            recorded = self.reviews.record(user, answers, dialog_id=dialog_id, via=self.via)
            if recorded.review is None:
                return NotFiled(recorded.message)
            return ReviewRecorded(recorded.review, recorded.contractor)
        if isinstance(answers, IncidentIntake):
            if self.incidents is None:
                return NotFiled(NO_INCIDENTS)
            filed = self.incidents.submit(user, answers, dialog_id=dialog_id, via=self.via)
            kept = (IncidentResult.RECORDED, IncidentResult.UNCHANGED)
            if filed.incident is None or filed.result not in kept:
                return NotFiled(filed.message)
            if self.on_incident is not None:
                self.on_incident(filed.incident, filed.resubmitted, user)
            files = report_files(filed.incident.facts)
            return IncidentFiled(filed.incident, files, filed.resubmitted)
        raise TypeError(f"no hand-off for {type(answers).__name__}")
