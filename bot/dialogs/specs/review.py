"""The periodic review of a ledger contractor (定期点検): the fields of ReviewAnswers, in the order
of the knowledge base's checklist (knowledge/checklists/contractor_review_checklist.md), each step
quoting its section: which contractor and when, how it was checked, the report and what it
covered, the findings, the corrective actions with their due dates (only when there are
findings). The finished answers go to ReviewService.record (bot/contractors/reviews.py)."""

from __future__ import annotations

from typing import Any

from bot.contractors.review_fields import ReviewAnswers
from bot.dialogs.spec import DialogSpec, Guidance, StepSpec

CHECKLIST = "knowledge/checklists/contractor_review_checklist.md"


def _findings(answers: dict[str, Any]) -> bool:
    return answers.get("outcome") not in (None, "satisfactory")


REVIEW = DialogSpec(
    id="review",
    title="委託先の定期点検",
    title_en="Periodic contractor review",
    model=ReviewAnswers,
    steps=(
        StepSpec(
            "target",
            "点検する委託先と日付",
            "Contractor and date",
            ("contractor_id", "reviewed_on"),
            Guidance(CHECKLIST, "定期点検で委託先の取扱状況を把握する"),
        ),
        StepSpec(
            "method",
            "点検の方法",
            "How it was checked",
            ("methods",),
            Guidance(CHECKLIST, "点検の方法"),
        ),
        StepSpec(
            "report",
            "報告書と確かめた項目",
            "Report and what was checked",
            ("report_received", "report_date", "checked"),
            Guidance(CHECKLIST, "点検（立入調査・報告書）で確かめる項目"),
        ),
        StepSpec(
            "findings",
            "点検の結果と指摘事項",
            "Result and findings",
            ("outcome", "findings"),
            Guidance(CHECKLIST, "指摘事項の評価と記録"),
        ),
        StepSpec(
            "actions",
            "是正措置と期限",
            "Corrective actions and due dates",
            (
                "action_1",
                "action_1_due",
                "action_2",
                "action_2_due",
                "action_3",
                "action_3_due",
            ),
            Guidance(CHECKLIST, "是正措置と期限の管理"),
            when=_findings,
        ),
    ),
)
