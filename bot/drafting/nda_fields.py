"""What the NDA dialog asks, with types, limits and recommended defaults: the single source that
both the dialog (bot/dialogs/) and the renderer (bot/drafting/nda.py) read.

UI hints live in each field's json_schema_extra: `label` (ja), `label_en`, `options`
({value: label}) for choices, `reason` for the recommended default, `kind` where the type alone
does not say how to ask (textarea, multi)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.dialogs.fields import LongText, ShortText, plausible, ui

EXCLUSIONS = {
    "public_before": "開示の時点で既に公知であった情報",
    "public_after": "開示後に受領者の責めによらず公知となった情報",
    "possessed": "開示の時点で受領者が既に正当に保有していた情報",
    "third_party": "正当な権限を有する第三者から秘密保持義務を負わずに取得した情報",
    "independent": "開示された情報によらずに受領者が独自に開発した情報",
}
DISPOSAL = {
    "return": "返還",
    "shred": "紙媒体の裁断（シュレッダー）",
    "destroy_media": "記録媒体の物理的破壊",
    "erase": "電子データの復元不可能な消去",
}


Exclusion = Literal["public_before", "public_after", "possessed", "third_party", "independent"]
Disposal = Literal["return", "shred", "destroy_media", "erase"]


def _all_exclusions() -> list[Exclusion]:
    return ["public_before", "public_after", "possessed", "third_party", "independent"]


def _all_disposal() -> list[Disposal]:
    return ["return", "shred", "destroy_media", "erase"]


class NdaAnswers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # parties and direction
    disclosing_party: ShortText = Field(
        json_schema_extra=ui("開示者（甲）の名称", "Disclosing party (Party A)")
    )
    receiving_party: ShortText = Field(
        json_schema_extra=ui("受領者（乙）の名称", "Receiving party (Party B)")
    )
    direction: Literal["one_way", "mutual"] = Field(
        default="one_way",
        json_schema_extra=ui(
            "開示の方向",
            "Who discloses",
            options={"one_way": "片務（甲だけが開示する）", "mutual": "双務（双方が開示する）"},
            reason="委託では通常、委託元だけが秘密情報を開示するため片務で足ります。",
        ),
    )
    purpose: LongText = Field(json_schema_extra=ui("開示の目的", "Purpose", kind="textarea"))

    # what is confidential
    definition: Literal["marked", "all"] = Field(
        default="all",
        json_schema_extra=ui(
            "秘密情報の範囲",
            "What is confidential",
            options={
                "marked": "秘密と表示した情報に限る（案A）",
                "all": "開示した一切の情報（案B）",
            },
            reason="表示漏れの情報も保護されるため、委託元には案Bが有利です。",
        ),
    )
    exclusions: list[Exclusion] = Field(
        default_factory=_all_exclusions,
        json_schema_extra=ui(
            "秘密情報から除く情報",
            "Standard exclusions",
            kind="multi",
            options=EXCLUSIONS,
            reason="典型的な除外事由の5項目です。通常はすべて入れます。",
        ),
    )

    # who may receive it, storage, copying
    handlers_scope: Literal["need_to_know", "named"] = Field(
        default="need_to_know",
        json_schema_extra=ui(
            "秘密情報を取り扱える者",
            "Who may receive it",
            options={
                "need_to_know": "本目的のために知る必要のある役員・従業員に限る",
                "named": "甲が事前に承認した取扱者に限る（名簿を提出）",
            },
            reason="取扱者を名簿で特定すると、漏えい時に経路を追いやすくなります。",
        ),
    )
    max_handlers: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        json_schema_extra=ui("取扱者の上限人数（任意）", "Maximum number of handlers (optional)"),
    )
    handler_names: str | None = Field(
        default=None,
        max_length=500,
        json_schema_extra=ui(
            "取扱者の氏名・役職（任意）", "Handlers' names (optional)", kind="textarea"
        ),
    )
    storage: Literal["locked_with_admin", "locked", "unspecified"] = Field(
        default="locked_with_admin",
        json_schema_extra=ui(
            "記録媒体の保管",
            "Storage of media",
            options={
                "locked_with_admin": "施錠できる場所に保管し、管理責任者を置く",
                "locked": "施錠できる場所に保管する",
                "unspecified": "定めない",
            },
            reason="記録媒体の紛失は委託先事故の典型です（尼崎市USBメモリ事案）。",
        ),
    )
    copying: Literal["prohibited", "prior_consent", "purpose_only"] = Field(
        default="prior_consent",
        json_schema_extra=ui(
            "複製",
            "Copying",
            options={
                "prohibited": "禁止する",
                "prior_consent": "甲の事前の書面承諾がある場合に限る",
                "purpose_only": "本目的に必要な範囲に限る",
            },
            reason="複製の数が増えるほど管理が難しくなるため、事前承諾制が基本です。",
        ),
    )

    # end of use
    disposal: list[Disposal] = Field(
        default_factory=_all_disposal,
        json_schema_extra=ui(
            "終了時の返還・廃棄の方法",
            "Return or destruction at the end",
            kind="multi",
            options=DISPOSAL,
            reason="媒体ごとに確実な方法を指定します。",
        ),
    )
    disposal_certificate: bool = Field(
        default=True,
        json_schema_extra=ui(
            "廃棄証明書を求める",
            "Require a certificate of destruction",
            reason="廃棄を確認できる記録になります。",
        ),
    )

    # personal data
    personal_data: bool = Field(
        default=False, json_schema_extra=ui("個人情報を開示する", "Personal data is disclosed")
    )
    personal_data_items: str | None = Field(
        default=None,
        max_length=300,
        json_schema_extra=ui(
            "個人情報の項目（例：氏名、住所、電話番号）", "Items of personal data", kind="textarea"
        ),
    )
    personal_data_count: int | None = Field(
        default=None,
        ge=1,
        le=100_000_000,
        json_schema_extra=ui("おおよその人数", "About how many people"),
    )
    my_number: bool = Field(
        default=False, json_schema_extra=ui("マイナンバー（個人番号）を含む", "Includes My Number")
    )

    # third parties, audits, breaches
    third_party: Literal["prohibited", "prior_written_consent"] = Field(
        default="prior_written_consent",
        json_schema_extra=ui(
            "第三者・再委託先への開示",
            "Disclosure to third parties and subcontractors",
            options={
                "prohibited": "一切禁止する",
                "prior_written_consent": "甲の事前の書面承諾がある場合に限り、同等の義務を課して認める",
            },
            reason="再委託には委託元の事前承諾が必要です（民法第644条の2、個人情報保護委員会ガイドライン3-4-4）。",
        ),
    )
    audit: bool = Field(
        default=True,
        json_schema_extra=ui(
            "甲による監査・報告要求の権利",
            "Right to audit and to ask for reports",
            reason="委託先の監督（個人情報保護法第25条）の手段になります。",
        ),
    )
    breach_report_hours: int = Field(
        default=24,
        ge=1,
        le=720,
        json_schema_extra=ui(
            "漏えい等を甲に報告する期限（時間）",
            "Hours to report a breach",
            reason="委託元が個人情報保護委員会への速報（概ね3〜5日以内）に間に合うよう、短く定めます。",
        ),
    )
    breach_contact: ShortText = Field(
        default="甲の情報セキュリティ担当部門",
        json_schema_extra=ui("報告先", "Whom to report to"),
    )
    damages: bool = Field(
        default=True, json_schema_extra=ui("損害賠償の条項を入れる", "Damages clause")
    )
    injunction: bool = Field(
        default=True, json_schema_extra=ui("差止請求の条項を入れる", "Injunction clause")
    )

    # term, law, court
    effective_date: dt.date = Field(
        json_schema_extra=ui("契約の開始日（YYYY-MM-DD）", "Effective date (YYYY-MM-DD)")
    )
    term_years: int = Field(
        default=3, ge=1, le=10, json_schema_extra=ui("有効期間（年）", "Term (years)")
    )
    survival_years: int = Field(
        default=3,
        ge=0,
        le=10,
        json_schema_extra=ui(
            "終了後も秘密保持義務が続く期間（年）",
            "Obligations survive for (years)",
            reason="終了後すぐに義務が消えると、返還前の情報が守られません。",
        ),
    )
    court: ShortText = Field(
        default="東京地方裁判所", json_schema_extra=ui("専属的合意管轄裁判所", "Court")
    )

    @field_validator("effective_date")
    @classmethod
    def _plausible_date(cls, value: dt.date) -> dt.date:
        return plausible(value, "開始日")

    @model_validator(mode="after")
    def _consistent(self) -> NdaAnswers:
        if self.handlers_scope == "named" and not (self.handler_names or self.max_handlers):
            raise ValueError("取扱者を限る場合は、氏名か上限人数を入れてください。")
        if not self.disposal:
            raise ValueError("返還・廃棄の方法を一つ以上選んでください。")
        return self
