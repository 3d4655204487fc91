"""The subcontracting (再委託) approval request: the fields of SubcontractAnswers, in the order
of the request form (knowledge/templates/subcontract_request_form.md). Guidance is quoted from
explanatory sections, never from the form's fill-in lines."""

from __future__ import annotations

from typing import Any

from bot.approvals.subcontract_fields import SubcontractAnswers
from bot.dialogs.spec import DialogSpec, Guidance, StepSpec

FORM = "knowledge/templates/subcontract_request_form.md"
GUIDE = "knowledge/guidance/07_subcontracting.md"
BREACH = "knowledge/law/appi_breach_reporting.md"
CROSS_BORDER = "knowledge/law/appi_cross_border.md"
CERTIFICATIONS = "knowledge/law/certifications_pmark_isms.md"
CONTRACT_TERMS = "knowledge/guidance/04_contract_security_terms.md"


def _personal_data(answers: dict[str, Any]) -> bool:
    return bool(answers.get("personal_data"))


SUBCONTRACT = DialogSpec(
    id="subcontract",
    title="再委託の承認申請",
    title_en="Subcontracting approval request",
    model=SubcontractAnswers,
    steps=(
        StepSpec(
            "contract",
            "対象となる委託契約",
            "The contract",
            ("our_contract", "contractor_name"),
            Guidance(GUIDE, "委託契約であらかじめ決めておく再委託のルール"),
        ),
        StepSpec(
            "subcontractor",
            "再委託先",
            "The subcontractor",
            ("subcontractor_name", "subcontractor_address", "subcontractor_country"),
            Guidance(GUIDE, "再委託承認申請に記載すべき事項"),
        ),
        StepSpec(
            "work",
            "再委託する業務と理由",
            "Work and reason",
            ("work_description", "reason"),
            Guidance(GUIDE, "民法第644条の2"),
        ),
        StepSpec(
            "data",
            "再委託先で取り扱う情報",
            "Data handled",
            ("personal_data", "sensitive_data", "my_number", "confidential_business_data"),
            Guidance(FORM, "再委託先で取り扱う情報"),
        ),
        StepSpec(
            "data_detail",
            "個人データの規模",
            "Personal data: how many people",
            ("personal_data_count",),
            Guidance(BREACH, "報告が必要な4つの事態"),
            when=_personal_data,
        ),
        StepSpec(
            "location",
            "取り扱う場所",
            "Where it is handled",
            ("overseas_processing", "processing_country"),
            Guidance(CROSS_BORDER, "同意が不要になる例外1"),
        ),
        StepSpec(
            "security",
            "再委託先のセキュリティ対策",
            "Subcontractor's security",
            ("certifications", "certification_other", "last_assessed"),
            Guidance(CERTIFICATIONS, "委託先選定の基準としてのPマーク・ISMS認証"),
        ),
        StepSpec(
            "further",
            "再々委託",
            "Further subcontracting",
            ("further_subcontracting",),
            Guidance(GUIDE, "尼崎市USBメモリ紛失事案"),
        ),
        StepSpec(
            "supervision",
            "監督と報告",
            "Supervision and reports",
            ("supervision", "report_frequency"),
            Guidance(GUIDE, "個人情報保護委員会ガイドラインが求める再委託の監督"),
        ),
        StepSpec(
            "period",
            "再委託の期間",
            "Period",
            ("period_start", "period_end"),
            Guidance(CONTRACT_TERMS, "JIS Q 15001"),
        ),
    ),
)
