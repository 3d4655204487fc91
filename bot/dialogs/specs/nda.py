"""The NDA dialog: the fields of NdaAnswers, grouped in the order a legal team reads an NDA."""

from __future__ import annotations

from bot.dialogs.spec import DialogSpec, Guidance, StepSpec
from bot.drafting.nda_fields import NdaAnswers

GUIDE = "knowledge/guidance/08_nda.md"
TEMPLATE = "knowledge/templates/nda_template.md"

NDA = DialogSpec(
    id="nda",
    title="秘密保持契約（NDA）の作成",
    title_en="Draft an NDA",
    model=NdaAnswers,
    steps=(
        StepSpec(
            "parties",
            "当事者と開示の方向",
            "Parties",
            ("disclosing_party", "receiving_party", "direction"),
            Guidance(TEMPLATE, "前文"),
        ),
        StepSpec("purpose", "開示の目的", "Purpose", ("purpose",), Guidance(GUIDE, "目的条項")),
        StepSpec(
            "scope",
            "秘密情報の範囲",
            "What is confidential",
            ("definition", "exclusions"),
            Guidance(GUIDE, "秘密情報の定義"),
        ),
        StepSpec(
            "handlers",
            "取り扱える者",
            "Who may receive it",
            ("handlers_scope", "max_handlers", "handler_names"),
            Guidance(GUIDE, "開示できる範囲"),
        ),
        StepSpec(
            "storage",
            "保管と複製",
            "Storage and copying",
            ("storage", "copying"),
            Guidance(TEMPLATE, "第7条"),
        ),
        StepSpec(
            "disposal",
            "終了時の返還・廃棄",
            "Return and destruction",
            ("disposal", "disposal_certificate"),
            Guidance(GUIDE, "複製の制限と返還・廃棄"),
        ),
        StepSpec(
            "personal",
            "個人情報",
            "Personal data",
            ("personal_data",),
            Guidance(TEMPLATE, "第11条"),
        ),
        StepSpec(
            "personal_detail",
            "個人情報の内容",
            "Personal data: details",
            ("personal_data_items", "personal_data_count", "my_number"),
            Guidance("knowledge/law/my_number_act.md", "番号法"),
            when=lambda a: bool(a.get("personal_data")),
        ),
        StepSpec(
            "third_party",
            "第三者への開示と監査",
            "Third parties and audits",
            ("third_party", "audit"),
            Guidance(TEMPLATE, "第10条"),
        ),
        StepSpec(
            "breach",
            "事故の報告と責任",
            "Breaches and remedies",
            ("breach_report_hours", "breach_contact", "damages", "injunction"),
            Guidance(TEMPLATE, "第13条"),
        ),
        StepSpec(
            "term",
            "期間と管轄",
            "Term and court",
            ("effective_date", "term_years", "survival_years", "court"),
            Guidance(GUIDE, "有効期間"),
        ),
    ),
)
