"""Registering a contractor in the ledger (委託先台帳): the fields of ContractorRegistration, in
the order a selection check (委託先の選定) goes: who, what work, which contract, what information,
where, how it is protected, when it was last assessed. Each step quotes the knowledge base.

Validation is the model's: the corporate number's check digit at the first step, the period's
order at the contract step, the data kinds at the data step, a certificate's expiry beside its
certification. The finished answers go to ContractorService.register (bot/contractors/service.py)
with the user who ran the dialog as the contractor's owner."""

from __future__ import annotations

from typing import Any

from bot.contractors.models import ContractorRegistration
from bot.dialogs.spec import DialogSpec, Guidance, StepSpec

BASICS = "knowledge/guidance/01_outsourcing_basics.md"
CHOOSING = "knowledge/guidance/03_choosing_contractors.md"
AUDITS = "knowledge/guidance/05_audits_and_reports.md"
SUPERVISION = "knowledge/law/appi_security_and_supervision.md"
BREACH = "knowledge/law/appi_breach_reporting.md"
CERTIFICATIONS = "knowledge/law/certifications_pmark_isms.md"


def _personal_data(answers: dict[str, Any]) -> bool:
    return bool(answers.get("personal_data"))


CONTRACTOR = DialogSpec(
    id="contractor",
    title="委託先の登録（委託先台帳）",
    title_en="Register a contractor",
    model=ContractorRegistration,
    steps=(
        StepSpec(
            "contractor",
            "委託先",
            "The contractor",
            ("name", "corporate_number"),
            Guidance(SUPERVISION, "適切な委託先の選定"),
        ),
        StepSpec(
            "work",
            "委託する業務",
            "Work entrusted",
            ("services", "work"),
            Guidance(BASICS, "個人情報保護法の「委託」は契約の形態を問わない"),
        ),
        StepSpec(
            "contract",
            "契約の形態と期間",
            "Contract type and period",
            ("contract_type", "contract_start", "contract_end"),
            Guidance(BASICS, "請負と準委任の違い"),
        ),
        StepSpec(
            "data",
            "委託先で取り扱う情報",
            "Information handled",
            ("personal_data", "sensitive_data", "my_number", "confidential_business_data"),
            Guidance(CHOOSING, "業務に必要のない情報は委託先に渡さない"),
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
            "Where it is processed",
            ("processing_country",),
            Guidance(CHOOSING, "海外の委託先や海外のクラウドを使う場合の確認事項"),
        ),
        StepSpec(
            "security",
            "委託先の認証",
            "Certifications",
            (
                "certifications",
                "isms_expires",
                "pmark_expires",
                "certification_other",
                "certification_other_expires",
            ),
            Guidance(CERTIFICATIONS, "委託先選定の基準としてのPマーク・ISMS認証"),
        ),
        StepSpec(
            "assessment",
            "委託先の評価",
            "Last assessment",
            ("last_assessed",),
            Guidance(AUDITS, "委託先における個人データ取扱状況の把握"),
        ),
    ),
)
