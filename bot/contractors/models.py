"""What the contractor ledger (委託先台帳) records about a contractor: the single source that the
registration dialog (bot/dialogs/specs/contractor.py), the CSV import and export
(bot/contractors/csv_io.py), the store (bot/contractors/service.py) and the risk rating
(bot/contractors/risk.py) read.

`ContractorFields` is what the ledger holds and accepts from any source (a dialog, a CSV row,
an approved subcontracting request); it may leave unknown what a request does not say (the
contract type, a certificate's expiry). `ContractorRegistration` is the stricter form a person
fills in: it asks for the contract type and every selected certificate's expiry.

Who owns the contractor on our side, its parent in the chain (委託先 → 再委託先 → 再々委託先)
and the request it came from are relations the ledger keeps beside these fields
(`ContractorView`), not answers.

UI hints live in each field's json_schema_extra, as in bot/approvals/subcontract_fields.py.
Cross-field rules are separate `after` validators, each touching only fields that have a default
or that its own step answers, so the dialog engine can run them on partial answers."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from bot.approvals.subcontract_fields import CERTIFICATIONS, Certification, normalize_name
from bot.dialogs.fields import EARLIEST, Country, LongText, ShortText, plausible, ui

ContractType = Literal["ukeoi", "jun_inin", "other"]
CONTRACT_TYPES: dict[str, str] = {
    "ukeoi": "請負（仕事の完成を約束する契約）",
    "jun_inin": "準委任（事務の処理を任せる契約）",
    "other": "その他",
}
CONTRACT_TYPE_SHORT: dict[str, str] = {"ukeoi": "請負", "jun_inin": "準委任", "other": "その他"}
CERTIFICATION_SHORT: dict[str, str] = {"isms": "ISMS", "pmark": "Pマーク", "other": "その他"}
# each field's name in a table, a list or a CSV header (the dialog's labels are questions)
SHORT_LABELS: dict[str, str] = {
    "name": "名称",
    "corporate_number": "法人番号",
    "services": "サービス",
    "work": "委託業務",
    "contract_type": "契約形態",
    "contract_start": "契約開始日",
    "contract_end": "契約終了日",
    "personal_data": "個人データ",
    "personal_data_count": "本人の数",
    "sensitive_data": "要配慮個人情報",
    "my_number": "マイナンバー",
    "confidential_business_data": "機密情報",
    "processing_country": "取扱国",
    "certifications": "認証",
    "isms_expires": "ISMS有効期限",
    "pmark_expires": "Pマーク有効期限",
    "certification_other": "その他の認証",
    "certification_other_expires": "その他の認証の有効期限",
    "last_assessed": "最終評価日",
}
# where each certificate's expiry is kept
EXPIRY_FIELDS: dict[str, str] = {
    "isms": "isms_expires",
    "pmark": "pmark_expires",
    "other": "certification_other_expires",
}


# -- the corporate number (法人番号) ------------------------------------------------------------

CORPORATE_NUMBER_LENGTH = 13
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―ー−]")


def corporate_check_digit(base: str) -> int:
    """The check digit of a corporate number's 12-digit base (the digits after the first):
    9 − (Σ Pn × Qn mod 9), where Pn is the base's n-th digit counted from the right (n = 1 is the
    last digit) and Qn is 1 for odd n, 2 for even n (法人番号の指定等に関する省令 第2条)."""
    if len(base) != CORPORATE_NUMBER_LENGTH - 1 or not base.isascii() or not base.isdigit():
        raise ValueError("the base of a corporate number is 12 digits")
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(base), start=1))
    return 9 - total % 9


def normalize_corporate_number(text: str) -> str:
    """Full-width digits made ASCII; spaces and hyphens (1234-5678-9012-3) dropped."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))


def is_corporate_number(text: str) -> bool:
    number = normalize_corporate_number(text)
    return (
        len(number) == CORPORATE_NUMBER_LENGTH
        and number.isascii()
        and number.isdigit()
        and int(number[0]) == corporate_check_digit(number[1:])
    )


def check_corporate_number(text: str) -> str:
    """The number as stored (13 ASCII digits), or ValueError with a message for the user."""
    number = normalize_corporate_number(text)
    if len(number) != CORPORATE_NUMBER_LENGTH or not (number.isascii() and number.isdigit()):
        raise ValueError("法人番号は13桁の数字で入力してください（例：1234567890123）。")
    if int(number[0]) != corporate_check_digit(number[1:]):
        raise ValueError(
            "法人番号の検査用数字（先頭の1桁）が合いません。国税庁法人番号公表サイトで番号を確かめてください。"
        )
    return number


# -- the fields ---------------------------------------------------------------------------------


def _past_or_today(value: dt.date | None, what: str) -> dt.date | None:
    if value is None:
        return None
    if value < EARLIEST:
        raise ValueError(f"{what}は2000年以降の日付にしてください。")
    if value > dt.date.today():
        raise ValueError(f"{what}に未来の日付は入れられません。")
    return value


# the work description as the ledger keeps it: a person types up to 500 characters (the dialog's
# LongText); masking the personal data typed into it ([NAME_1]) may lengthen it
LedgerText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
WORK_MAX = 2000
_WORK_UI = ui(
    "委託する業務の内容と範囲", "Work entrusted to them (what and how far)", kind="textarea"
)


class ContractorFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # who the contractor is
    name: ShortText = Field(json_schema_extra=ui("委託先の名称", "Contractor's name"))
    corporate_number: str | None = Field(
        default=None,
        max_length=20,
        json_schema_extra=ui(
            "法人番号（13桁、分かれば）", "Corporate number (13 digits, if known)"
        ),
    )

    # what they do for us
    services: str | None = Field(
        default=None,
        max_length=100,
        json_schema_extra=ui(
            "提供を受けるサービス（例：給与計算、コールセンター）",
            "Services they provide (e.g. payroll, call centre)",
        ),
    )
    work: LedgerText = Field(json_schema_extra=_WORK_UI)

    # the contract
    contract_type: ContractType | None = Field(
        default=None,
        json_schema_extra=ui("契約の形態", "Type of contract", options=CONTRACT_TYPES),
    )
    contract_start: dt.date = Field(
        json_schema_extra=ui("契約の開始日（YYYY-MM-DD）", "Contract start (YYYY-MM-DD)")
    )
    contract_end: dt.date = Field(
        json_schema_extra=ui("契約の終了日（YYYY-MM-DD）", "Contract end (YYYY-MM-DD)")
    )

    # the information they handle
    personal_data: bool = Field(
        default=False,
        json_schema_extra=ui("委託先が個人データを取り扱う", "They handle personal data"),
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

    # where it is processed
    processing_country: Country = Field(
        default="日本",
        json_schema_extra=ui(
            "情報を取り扱う国（サーバー・クラウドの所在国を含む）",
            "Country where the information is processed (servers and clouds included)",
        ),
    )

    # certifications and assessment
    certifications: list[Certification] = Field(
        default_factory=list,
        json_schema_extra=ui(
            "委託先が取得している認証",
            "Certifications the contractor holds",
            kind="multi",
            options=CERTIFICATIONS,
        ),
    )
    isms_expires: dt.date | None = Field(
        default=None,
        json_schema_extra=ui(
            "ISMS認証の有効期限（YYYY-MM-DD）", "ISMS certificate valid until (YYYY-MM-DD)"
        ),
    )
    pmark_expires: dt.date | None = Field(
        default=None,
        json_schema_extra=ui(
            "Pマークの有効期限（YYYY-MM-DD）", "Privacy Mark valid until (YYYY-MM-DD)"
        ),
    )
    certification_other: str | None = Field(
        default=None,
        max_length=100,
        json_schema_extra=ui("その他の認証の名称", "Other certification"),
    )
    certification_other_expires: dt.date | None = Field(
        default=None,
        json_schema_extra=ui(
            "その他の認証の有効期限（YYYY-MM-DD）", "Other certificate valid until (YYYY-MM-DD)"
        ),
    )
    last_assessed: dt.date | None = Field(
        default=None,
        json_schema_extra=ui(
            "委託先のセキュリティ対策を最後に評価した日（YYYY-MM-DD）",
            "When their security was last assessed (YYYY-MM-DD)",
        ),
    )

    @field_validator("corporate_number")
    @classmethod
    def _corporate_number(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return check_corporate_number(value)

    @field_validator("services", "certification_other")
    @classmethod
    def _optional_text(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @field_validator("contract_start", "contract_end")
    @classmethod
    def _plausible_period(cls, value: dt.date) -> dt.date:
        return plausible(value, "契約の期間")

    @field_validator("isms_expires", "pmark_expires", "certification_other_expires")
    @classmethod
    def _plausible_expiry(cls, value: dt.date | None) -> dt.date | None:
        return None if value is None else plausible(value, "認証の有効期限")

    @field_validator("last_assessed")
    @classmethod
    def _plausible_assessment(cls, value: dt.date | None) -> dt.date | None:
        return _past_or_today(value, "評価日")

    @field_validator("certifications")
    @classmethod
    def _once_each(cls, value: list[Certification]) -> list[Certification]:
        return sorted(set(value), key=list(CERTIFICATIONS).index)

    @model_validator(mode="after")
    def _data_kinds(self) -> ContractorFields:
        if (self.sensitive_data or self.my_number) and not self.personal_data:
            raise ValueError(
                "要配慮個人情報やマイナンバーは個人データです。「委託先が個人データを取り扱う」も選んでください。"
            )
        if not self.personal_data:
            self.personal_data_count = None  # only meaningful with personal data
        return self

    @model_validator(mode="after")
    def _certificates(self) -> ContractorFields:
        """An expiry belongs to a certification that was selected; the other one is named."""
        for kind, expiry_field in EXPIRY_FIELDS.items():
            if kind not in self.certifications:
                setattr(self, expiry_field, None)
        if "other" not in self.certifications:
            self.certification_other = None
        elif not (self.certification_other or "").strip():
            raise ValueError("「その他の認証」を選んだ場合は、認証の名称を入れてください。")
        return self

    @model_validator(mode="after")
    def _period_order(self) -> ContractorFields:
        if self.contract_end <= self.contract_start:
            raise ValueError("契約の終了日は開始日より後の日付にしてください。")
        return self

    # -- derived ----------------------------------------------------------------------------------

    def certificates(self) -> list[Certificate]:
        """Each selected certification with its name and expiry (None: not known)."""
        out = []
        for kind in self.certifications:
            name = (
                self.certification_other or "その他の認証"
                if kind == "other"
                else CERTIFICATION_SHORT[kind]
            )
            out.append(Certificate(kind, name, getattr(self, EXPIRY_FIELDS[kind])))
        return out

    def expired_certificates(self, today: dt.date) -> list[Certificate]:
        return [c for c in self.certificates() if c.expires is not None and c.expires < today]


class ContractorRegistration(ContractorFields):
    """What a person registering a contractor answers: the contract type, and the expiry of
    every certification they select (a certificate's date is on it; Pマーク is valid 2 years)."""

    contract_type: ContractType = Field(
        json_schema_extra=ui("契約の形態", "Type of contract", options=CONTRACT_TYPES),
    )
    work: LongText = Field(json_schema_extra=_WORK_UI)

    @model_validator(mode="after")
    def _expiries_given(self) -> ContractorRegistration:
        missing = [
            CERTIFICATION_SHORT[kind]
            for kind in self.certifications
            if getattr(self, EXPIRY_FIELDS[kind]) is None
        ]
        if missing:
            raise ValueError(
                f"選んだ認証の有効期限を入れてください（{'、'.join(missing)}）。登録証・認定証に書かれています。"
            )
        return self


@dataclass(frozen=True)
class Certificate:
    kind: Certification
    name: str
    expires: dt.date | None  # None: not known

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and self.expires < today


def identity_key(name: str, corporate_number: str | None) -> str:
    """How a contractor is recognised (an import's key): its corporate number, else its name
    compared after normalisation (full-width, case, spaces and punctuation ignored)."""
    return f"n:{corporate_number}" if corporate_number else f"k:{normalize_name(name)}"
