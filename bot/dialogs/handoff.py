"""What a finished dialog becomes, the same on every platform: an NDA draft rendered to files, or
a subcontracting request filed (or, for one sent back for changes, its revision). The result is
platform-neutral; the adapter delivers it to the person who finished the dialog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from bot.approvals.service import ApprovalService, RequestView
from bot.approvals.subcontract_fields import SubcontractAnswers
from bot.drafting.clauses import ClauseLibrary
from bot.drafting.nda_fields import NdaAnswers
from bot.drafting.service import DraftFiles, nda_files

NO_APPROVALS = "承認申請はこの環境では使えません（承認ポリシーが読めません）。"


@dataclass(frozen=True)
class DraftReady:
    dialog_id: str  # its answers reopen for an edit
    files: DraftFiles


@dataclass(frozen=True)
class RequestFiled:
    request: RequestView
    resubmitted: bool  # the revision of a request sent back, rather than a new one


@dataclass(frozen=True)
class NotFiled:
    message: str  # why, for the user


Finished = DraftReady | RequestFiled | NotFiled
# after a request is filed: (request, resubmitted, by whom), e.g. RequestDesk.filed
OnFiled = Callable[[RequestView, bool, str], None]


class Handoff:
    def __init__(
        self,
        clauses: ClauseLibrary,
        approvals: ApprovalService | None,
        *,
        via: str,
        on_filed: OnFiled | None = None,
    ) -> None:
        self.clauses = clauses
        self.approvals = approvals
        self.via = via  # the platform, as the audit trail records it
        self.on_filed = on_filed

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
        raise TypeError(f"no hand-off for {type(answers).__name__}")
