"""What is known about one incident, as the intake dialog will ask it.

Yes/no facts are three-valued: True when it happened *or may have happened* (PPC Rule 7 counts
the possibility, おそれ), False when ruled out, None while nobody knows yet. Itaku decides what it
can from what is known and names what is still open (bot/incidents/rules.py)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.dialogs.fields import LongText, ShortText, plausible, ui

MAX_PEOPLE = 10**10  # more than anyone's customer list; guards against typos of extra digits


class ImproperCause(StrEnum):
    """Acts with an improper purpose that PPC Rule 7 item 3 has in mind (通則編 3-5-3-1)."""

    UNAUTHORIZED_ACCESS = "unauthorized_access"
    RANSOMWARE = "ransomware"
    THEFT = "theft"
    INSIDER = "insider"
    OTHER = "other"


CAUSE_LABELS: dict[ImproperCause, tuple[str, str]] = {
    ImproperCause.UNAUTHORIZED_ACCESS: ("不正アクセス", "unauthorised access"),
    ImproperCause.RANSOMWARE: ("ランサムウェア", "ransomware"),
    ImproperCause.THEFT: ("盗難", "theft"),
    ImproperCause.INSIDER: ("従業者による不正な持ち出し", "an insider taking data out"),
    ImproperCause.OTHER: ("その他の不正な目的による行為", "another act with an improper purpose"),
}

DataKind = Annotated[str, Field(min_length=1, max_length=50)]


class IncidentFacts(BaseModel):
    """One incident's facts. Only `learned_on` is required: a report is drafted from what is
    known on the day, and the rest is marked to be filled in."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    learned_on: dt.date = Field(
        json_schema_extra=ui(
            "発覚日（当社のいずれかの部署が知った日）",
            "Day our company first learned of it (any department)",
            reason="期限はこの日を1日目として数えます。委託先から知らされた場合は、遅くともその日です。",
        )
    )
    contractor: ShortText | None = Field(
        default=None,
        json_schema_extra=ui(
            "発生した委託先（当社内での発生なら空欄）",
            "Contractor where it happened (empty: in-house)",
        ),
    )
    what_happened: LongText | None = Field(
        default=None,
        json_schema_extra=ui("何が起きたか", "What happened", kind="textarea"),
    )
    occurred_on: dt.date | None = Field(
        default=None, json_schema_extra=ui("発生日（分かれば）", "Day it happened (if known)")
    )
    data_kinds: tuple[DataKind, ...] = Field(
        default=(),
        max_length=30,
        json_schema_extra=ui(
            "漏えい等した（おそれのある）個人データの項目",
            "Kinds of personal data concerned",
            kind="multi",
        ),
    )
    people: int | None = Field(
        default=None,
        ge=0,
        le=MAX_PEOPLE,
        json_schema_extra=ui(
            "本人の数（確定しなければ、ありうる最大の数）",
            "Number of people (or the possible maximum)",
        ),
    )
    people_is_maximum: bool = Field(
        default=False,
        json_schema_extra=ui(
            "本人の数は最大値の見込みである", "The number is the possible maximum, not a count"
        ),
    )
    sensitive: bool | None = Field(
        default=None,
        json_schema_extra=ui(
            "要配慮個人情報（病歴、健康診断結果など）が含まれる（おそれを含む）",
            "Sensitive personal information (要配慮個人情報) is or may be included",
        ),
    )
    financial_damage: bool | None = Field(
        default=None,
        json_schema_extra=ui(
            "悪用されると財産的被害が生じうるデータ（カード番号、決済サービスのID・パスワード等）が含まれる",
            "Data whose misuse could cause financial damage (card numbers, payment logins)",
        ),
    )
    improper_purpose: bool | None = Field(
        default=None,
        json_schema_extra=ui(
            "不正な目的による行為が原因である（おそれを含む。委託先が標的の場合も含む）",
            "An act with an improper purpose is or may be the cause (also against our contractor)",
        ),
    )
    improper_cause: ImproperCause | None = Field(
        default=None,
        json_schema_extra=ui(
            "不正な行為の種類",
            "Kind of improper act",
            options={k.value: ja for k, (ja, _en) in CAUSE_LABELS.items()},
        ),
    )
    encrypted: bool = Field(
        default=False,
        json_schema_extra=ui(
            "対象の全データに高度な暗号化が施され、鍵は漏えいしていない",
            "All the data concerned had advanced encryption and the key is safe",
            reason="一部だけが暗号化されていた場合は「いいえ」とし、暗号化されていない部分について答えてください。",
        ),
    )

    @field_validator("learned_on", "occurred_on")
    @classmethod
    def _plausible(cls, value: dt.date | None) -> dt.date | None:
        return None if value is None else plausible(value, "日付")

    @field_validator("data_kinds")
    @classmethod
    def _distinct(cls, kinds: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(k.strip() for k in kinds if k.strip()))

    @model_validator(mode="before")
    @classmethod
    def _cause_answers_purpose(cls, data: Any) -> Any:
        """Naming the improper act answers whether there was one."""
        named = isinstance(data, dict) and data.get("improper_cause") is not None
        if named and data.get("improper_purpose") is None:
            return {**data, "improper_purpose": True}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> IncidentFacts:
        if self.occurred_on is not None and self.occurred_on > self.learned_on:
            raise ValueError("発生日が発覚日より後になっています。")
        if self.improper_cause is not None and self.improper_purpose is False:
            raise ValueError(
                "不正な行為の種類があるのに、不正な目的による行為ではないとされています。"
            )
        return self
