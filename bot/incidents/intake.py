"""The incident intake as a person fills it in (the `incident` dialog, bot/dialogs/specs/
incident.py): the contractor (the ledger's id or name, or a company not in the ledger), what
happened, the day our company learned of it (発覚日), the data concerned, how many people, and
the facts PPC Rule 7 turns on, each answerable "not known yet" (未確認) where the law counts a
possibility (おそれ) as much as a certainty.

`IncidentIntake.facts` turns the answers into IncidentFacts (bot/incidents/facts.py), which the
decision, the deadlines and the report are computed from. Cross-field rules are `after`
validators touching only the fields of one step (or fields with defaults), so the dialog engine
runs them at that step."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.dialogs.fields import LongText, ShortText, ui
from bot.incidents.deadlines import LearnedDateError, parse_learned_on, today_in_japan
from bot.incidents.facts import MAX_PEOPLE, ImproperCause, IncidentFacts

Known = Literal["yes", "no", "unknown"]
KNOWN_LABELS: dict[str, str] = {
    "yes": "含まれる（おそれを含む）",
    "no": "含まれない",
    "unknown": "未確認",
}
Cause = Literal["none", "unauthorized_access", "ransomware", "theft", "insider", "other", "unknown"]
CAUSE_OPTIONS: dict[str, str] = {
    "none": "なし（誤送付・紛失など、不正な目的によらない）",
    "unauthorized_access": "不正アクセス",
    "ransomware": "ランサムウェア",
    "theft": "盗難",
    "insider": "従業者による不正な持ち出し",
    "other": "その他の不正な目的による行為",
    "unknown": "未確認（調査中）",
}
DataKind = Literal[
    "name",
    "address",
    "phone",
    "email",
    "birth_date",
    "card",
    "bank_account",
    "credentials",
    "health",
    "my_number",
]
DATA_KIND_LABELS: dict[str, str] = {
    "name": "氏名",
    "address": "住所",
    "phone": "電話番号",
    "email": "メールアドレス",
    "birth_date": "生年月日",
    "card": "クレジットカード番号",
    "bank_account": "銀行口座の情報",
    "credentials": "決済・送金できるサービスのID・パスワード",
    "health": "病歴・健康診断の結果など（要配慮個人情報）",
    "my_number": "マイナンバー",
}
FINANCIAL_KINDS = ("card", "credentials")  # PPC Rule 7 item 2's own examples (通則編 3-5-3-1)
SENSITIVE_KINDS = ("health",)
_CONTRACTOR_ID = re.compile(r"CT-\d{6,}")


def _flag(answer: str) -> bool | None:
    return {"yes": True, "no": False}.get(answer)


class IncidentIntake(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # where and what
    contractor: ShortText = Field(
        json_schema_extra=ui(
            "発生した委託先（台帳のID（CT-000001）か名称。台帳にない委託先は名称）",
            "Contractor where it happened (ledger id CT-000001 or name)",
            reason="台帳の委託先なら、その委託先に結び付けて記録します。",
        )
    )
    what_happened: LongText = Field(
        json_schema_extra=ui(
            "何が起きたか（個人名・連絡先は書かないでください）",
            "What happened (no names or contact details)",
            kind="textarea",
        )
    )

    # when
    learned_on: dt.date = Field(
        json_schema_extra=ui(
            "発覚日（当社のいずれかの部署が最初に知った日、YYYY-MM-DD）",
            "Day our company first learned of it (any department)",
            reason="期限はこの日を1日目として数えます。委託先から知らされた場合は、遅くともその日です。",
        )
    )
    occurred_on: dt.date | None = Field(
        default=None,
        json_schema_extra=ui("発生日（分かれば、YYYY-MM-DD）", "Day it happened (if known)"),
    )

    # the data
    data_kinds: list[DataKind] = Field(
        default_factory=list,
        json_schema_extra=ui(
            "漏えい等した（おそれのある）個人データの項目",
            "Kinds of personal data concerned",
            options=DATA_KIND_LABELS,
        ),
    )
    data_kinds_other: str | None = Field(
        default=None,
        max_length=200,
        json_schema_extra=ui(
            "その他の項目（「、」で区切る）", "Other kinds (separated by 、 or commas)"
        ),
    )
    sensitive: Known = Field(
        json_schema_extra=ui(
            "要配慮個人情報（病歴、健康診断の結果など）",
            "Sensitive personal information (要配慮個人情報)",
            options=KNOWN_LABELS,
        )
    )
    financial_damage: Known = Field(
        json_schema_extra=ui(
            "悪用されると財産的被害が生じうるデータ（カード番号、決済サービスのID・パスワードなど）",
            "Data whose misuse could cause financial damage",
            options=KNOWN_LABELS,
        )
    )

    # how many people
    people: int | None = Field(
        default=None,
        ge=1,
        le=MAX_PEOPLE,
        json_schema_extra=ui(
            "本人の数（確定しなければ、ありうる最大の数。分からなければ空欄）",
            "Number of people (or the possible maximum; blank if unknown)",
        ),
    )
    people_is_maximum: bool = Field(
        default=False,
        json_schema_extra=ui(
            "本人の数は確定しておらず、最大の見込みである",
            "The number is the possible maximum, not a count",
            reason="人数が確定しないときは、漏えい等のおそれがある最大の人数で1,000人を超えるかを判断します。",
        ),
    )

    # the cause and the encryption
    cause: Cause = Field(
        json_schema_extra=ui(
            "不正な目的による行為（委託先が標的の場合を含む）",
            "An act with an improper purpose (also against the contractor)",
            options=CAUSE_OPTIONS,
        )
    )
    encrypted: bool = Field(
        default=False,
        json_schema_extra=ui(
            "対象の全データに高度な暗号化が施され、鍵は漏えいしていない",
            "All the data concerned had advanced encryption and the key is safe",
            reason="一部だけが暗号化されていた場合は「いいえ」としてください。",
        ),
    )

    @field_validator("contractor")
    @classmethod
    def _contractor_id_form(cls, value: str) -> str:
        normal = unicodedata.normalize("NFKC", value).strip()
        if normal.upper().startswith("CT-"):
            if not _CONTRACTOR_ID.fullmatch(normal.upper()):
                raise ValueError("台帳のIDは CT-000001 の形で入力してください。")
            return normal.upper()
        return value

    @field_validator("learned_on", mode="before")
    @classmethod
    def _learned(cls, value: Any) -> Any:
        """As typed: YYYY-MM-DD (full-width digits too), a day that exists, not after today
        (Japan time), not before the earliest date the dialogs accept."""
        if isinstance(value, dt.datetime):
            value = value.date()
        text = value.isoformat() if isinstance(value, dt.date) else value
        if not isinstance(text, str):
            return value
        try:
            return parse_learned_on(text, today_in_japan())
        except LearnedDateError as e:
            raise ValueError(f"{e.ja}。") from None

    @field_validator("occurred_on")
    @classmethod
    def _occurred(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and value > today_in_japan():
            raise ValueError("発生日に未来の日付は入れられません。")
        if value is not None and value.year < 2000:
            raise ValueError("発生日は2000年以降の日付にしてください。")
        return value

    @field_validator("data_kinds")
    @classmethod
    def _distinct(cls, kinds: list[str]) -> list[str]:
        return list(dict.fromkeys(kinds))

    @model_validator(mode="after")
    def _dates_in_order(self) -> IncidentIntake:
        if self.occurred_on is not None and self.occurred_on > self.learned_on:
            raise ValueError("発生日が発覚日より後になっています。")
        return self

    @model_validator(mode="after")
    def _kinds_agree(self) -> IncidentIntake:
        """A kind of data that is itself an example of item 1 or 2 cannot go with "no"."""
        if self.sensitive == "no" and any(k in SENSITIVE_KINDS for k in self.data_kinds):
            raise ValueError(
                "項目に病歴・健康診断の結果などがあるので、要配慮個人情報は「含まれる」です。"
            )
        if self.financial_damage == "no" and any(k in FINANCIAL_KINDS for k in self.data_kinds):
            raise ValueError(
                "項目にカード番号や決済サービスのID・パスワードがあるので、"
                "財産的被害が生じうるデータは「含まれる」です。"
            )
        return self

    # -- as facts ----------------------------------------------------------------------------

    def kind_labels(self) -> tuple[str, ...]:
        chosen = [DATA_KIND_LABELS[k] for k in self.data_kinds]
        other = re.split(r"[、,，;；\n]+", self.data_kinds_other or "")
        return tuple(dict.fromkeys([*chosen, *(o.strip()[:50] for o in other if o.strip())]))

    def facts(self, contractor_name: str) -> IncidentFacts:
        """The facts the decision is computed from, the contractor as the ledger names it."""
        cause = None if self.cause in ("none", "unknown") else ImproperCause(self.cause)
        improper = {"none": False, "unknown": None}.get(self.cause, True)
        return IncidentFacts(
            learned_on=self.learned_on,
            contractor=contractor_name,
            what_happened=self.what_happened,
            occurred_on=self.occurred_on,
            data_kinds=self.kind_labels()[:30],
            people=self.people,
            people_is_maximum=self.people_is_maximum,
            sensitive=_flag(self.sensitive),
            financial_damage=_flag(self.financial_damage),
            improper_purpose=improper,
            improper_cause=cause,
            encrypted=self.encrypted,
        )
