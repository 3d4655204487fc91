"""What a subcontracting (再委託) approval request asks, with types, limits and recommended
defaults: the single source that the dialog (bot/dialogs/specs/subcontract.py) and the risk
rules (bot/approvals/risk.py) read.

UI hints live in each field's json_schema_extra, as in bot/drafting/nda_fields.py: `label` (ja),
`label_en`, `options` ({value: label}) for choices, `reason` for a recommended default, `kind`
where the type alone does not say how to ask (textarea, multi).

Cross-field rules are separate `after` validators, each touching only fields that have a default
or that its own step answers, so the dialog engine can run them on partial answers."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.dialogs.fields import EARLIEST, Address, Country, LongText, ShortText, plausible, ui

Certification = Literal["isms", "pmark", "other"]
Supervision = Literal["reports", "audit", "onsite"]
ReportFrequency = Literal["monthly", "quarterly", "yearly"]

CERTIFICATIONS: dict[str, str] = {
    "isms": "ISMS認証（ISO/IEC 27001）",
    "pmark": "プライバシーマーク（Pマーク）",
    "other": "その他の認証",
}
SUPERVISION: dict[str, str] = {
    "reports": "再委託先から定期的に報告を受ける",
    "audit": "再委託先を監査する（書面・ヒアリングを含む）",
    "onsite": "再委託先に立ち入って調査する（実地確認）",
}
REPORT_FREQUENCY: dict[str, str] = {
    "monthly": "毎月",
    "quarterly": "四半期ごと",
    "yearly": "年に1回",
}

# how the domestic case may be written (compared after normalize_name)
_JAPAN = frozenset({"日本", "日本国", "japan", "nippon", "nihon"})


def normalize_name(text: str) -> str:
    """A name as compared: NFKC (full-width letters become ASCII), case-folded, without spaces
    and punctuation, so "Ｕ.Ｋ." and "uk", or "ドイツ " and "ドイツ", are the same name."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in folded if unicodedata.category(c)[0] not in ("P", "Z", "C"))


def is_japan(country: str | None) -> bool:
    return country is not None and normalize_name(country) in _JAPAN


def _default_supervision() -> list[Supervision]:
    return ["reports", "audit"]


class SubcontractAnswers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # the contract under which the contractor asks
    our_contract: ShortText = Field(
        json_schema_extra=ui(
            "対象となる委託契約（契約名）", "Our contract with the contractor (its name)"
        )
    )
    contractor_name: ShortText = Field(
        json_schema_extra=ui("委託先（申請者）の名称", "Contractor (the applicant)")
    )

    # who the subcontractor is
    subcontractor_name: ShortText = Field(json_schema_extra=ui("再委託先の名称", "Subcontractor"))
    subcontractor_address: Address = Field(
        json_schema_extra=ui("再委託先の所在地", "Subcontractor's address")
    )
    subcontractor_country: Country = Field(
        default="日本", json_schema_extra=ui("再委託先の所在国", "Subcontractor's country")
    )

    # what is subcontracted and why
    work_description: LongText = Field(
        json_schema_extra=ui(
            "再委託する業務の内容と範囲", "Work to be subcontracted", kind="textarea"
        )
    )
    reason: LongText = Field(
        json_schema_extra=ui("再委託が必要な理由", "Why it must be subcontracted", kind="textarea")
    )

    # what data the subcontractor handles
    personal_data: bool = Field(
        default=False,
        json_schema_extra=ui(
            "再委託先が個人データを取り扱う", "The subcontractor handles personal data"
        ),
    )
    personal_data_count: int | None = Field(
        default=None,
        ge=1,
        le=100_000_000,
        json_schema_extra=ui(
            "個人データの本人の数（おおよその人数）", "About how many people's data"
        ),
    )
    sensitive_data: bool = Field(
        default=False,
        json_schema_extra=ui("要配慮個人情報を含む", "Includes sensitive personal information"),
    )
    my_number: bool = Field(
        default=False,
        json_schema_extra=ui(
            "マイナンバー（個人番号）を含む", "Includes My Number (individual numbers)"
        ),
    )
    confidential_business_data: bool = Field(
        default=False,
        json_schema_extra=ui(
            "個人データ以外の機密情報（技術情報・営業情報など）を渡す",
            "Confidential business information is handed over",
        ),
    )

    # where the data is handled
    overseas_processing: bool = Field(
        default=False,
        json_schema_extra=ui(
            "海外で取り扱う（海外のサーバー・クラウドへの保存を含む）",
            "Handled abroad (including foreign servers or clouds)",
        ),
    )
    processing_country: str | None = Field(
        default=None,
        max_length=50,
        json_schema_extra=ui("取り扱う国（海外の場合）", "Country where it is handled"),
    )

    # the subcontractor's security
    certifications: list[Certification] = Field(
        default_factory=list,
        json_schema_extra=ui(
            "再委託先が取得している認証",
            "Subcontractor's certifications",
            kind="multi",
            options=CERTIFICATIONS,
        ),
    )
    certification_other: str | None = Field(
        default=None,
        max_length=100,
        json_schema_extra=ui("その他の認証の名称", "Other certification"),
    )
    last_assessed: dt.date | None = Field(
        default=None,
        json_schema_extra=ui(
            "再委託先のセキュリティ対策を最後に評価した日（YYYY-MM-DD）",
            "When the subcontractor's security was last assessed (YYYY-MM-DD)",
        ),
    )

    # further tiers, supervision, period
    further_subcontracting: bool = Field(
        default=False,
        json_schema_extra=ui(
            "再々委託を認める",
            "Allow further subcontracting",
            reason="再々委託先での事故（尼崎市2022年、大日本印刷2007年）があるため、原則として認めません。",
        ),
    )
    supervision: list[Supervision] = Field(
        default_factory=_default_supervision,
        json_schema_extra=ui(
            "再委託先の監督方法",
            "How the subcontractor is supervised",
            kind="multi",
            options=SUPERVISION,
            reason="通則編3-4-4は、再委託先を直接または委託先を通じて監査することを求めています。",
        ),
    )
    report_frequency: ReportFrequency = Field(
        default="quarterly",
        json_schema_extra=ui(
            "再委託先からの報告の頻度",
            "How often the subcontractor reports",
            options=REPORT_FREQUENCY,
            reason="契約で求めた報告を確認しないことは監督不備の例です（通則編3-4-4）。四半期ごとなら確認の手間と頻度のつり合いがとれます。",
        ),
    )
    period_start: dt.date = Field(
        json_schema_extra=ui("再委託の開始日（YYYY-MM-DD）", "Start (YYYY-MM-DD)")
    )
    period_end: dt.date = Field(
        json_schema_extra=ui("再委託の終了日（YYYY-MM-DD）", "End (YYYY-MM-DD)")
    )

    @field_validator("period_start", "period_end")
    @classmethod
    def _plausible_period(cls, value: dt.date) -> dt.date:
        return plausible(value, "再委託の期間")

    @field_validator("last_assessed")
    @classmethod
    def _plausible_assessment(cls, value: dt.date | None) -> dt.date | None:
        if value is None:
            return None
        if value < EARLIEST:
            raise ValueError("評価日は2000年以降の日付にしてください。")
        if value > dt.date.today():
            raise ValueError("評価日に未来の日付は入れられません。")
        return value

    @model_validator(mode="after")
    def _data_kinds(self) -> SubcontractAnswers:
        if (self.sensitive_data or self.my_number) and not self.personal_data:
            raise ValueError(
                "要配慮個人情報やマイナンバーは個人データです。「再委託先が個人データを取り扱う」も選んでください。"
            )
        if not self.personal_data:
            self.personal_data_count = None  # only meaningful with personal data
        return self

    @model_validator(mode="after")
    def _location(self) -> SubcontractAnswers:
        if not self.overseas_processing:
            self.processing_country = None
            return self
        if not (self.processing_country or "").strip():
            raise ValueError("海外で取り扱う場合は、取り扱う国を入れてください。")
        if is_japan(self.processing_country):
            raise ValueError("海外で取り扱う場合は、日本以外の国名を入れてください。")
        return self

    @model_validator(mode="after")
    def _other_certification(self) -> SubcontractAnswers:
        if "other" not in self.certifications:
            self.certification_other = None
        elif not (self.certification_other or "").strip():
            raise ValueError("「その他の認証」を選んだ場合は、認証の名称を入れてください。")
        return self

    @model_validator(mode="after")
    def _period_order(self) -> SubcontractAnswers:
        if self.period_end <= self.period_start:
            raise ValueError("再委託の終了日は開始日より後の日付にしてください。")
        return self
