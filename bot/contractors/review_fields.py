"""What a periodic review (定期点検) of a ledger contractor records: the single source the review
dialog (bot/dialogs/specs/review.py) and the review record (bot/contractors/reviews.py) read.
The steps follow the knowledge base's checklist (knowledge/checklists/contractor_review_checklist.md):
which contractor and when, how it was checked (on site, documents, online, interview), the report
received and what it covered, the findings and how serious, the corrective actions with their
due dates.

Cross-field rules are `after` validators that touch only fields their own step answers or that
have no default, so the dialog engine can run them on partial answers (as bot/contractors/models.py
explains). The first corrective action has no default on purpose: the corrective-actions step then
requires it, and a review without findings (that step skipped) fills it with None before the
model is validated (`_no_findings_no_actions`)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.contractors.service import is_contractor_id
from bot.dialogs.fields import EARLIEST, LongText, plausible, ui

Method = Literal["onsite", "document", "online", "interview"]
METHODS: dict[str, str] = {
    "onsite": "立入調査（現場での確認）",
    "document": "書面調査（報告書・チェックシート）",
    "online": "オンラインでの確認（画面共有・ログの提示）",
    "interview": "ヒアリング（口頭での確認）",
}
Checked = Literal["media", "handlers", "disposal", "server_admin", "subcontracting", "incidents"]
CHECKED: dict[str, str] = {
    "media": "記録媒体の保管",
    "handlers": "取扱者の範囲と守秘義務",
    "disposal": "廃棄・消去の方法と証明",
    "server_admin": "サーバーの管理者とアクセス権",
    "subcontracting": "再委託の報告と実態",
    "incidents": "事故・ヒヤリハットの有無",
}
Outcome = Literal["satisfactory", "minor", "major"]
OUTCOMES: dict[str, str] = {
    "satisfactory": "問題なし",
    "minor": "軽微な指摘あり",
    "major": "重大な指摘あり",
}
ACTION_SLOTS = 3  # corrective actions one review records


def _ordinal(n: int) -> str:
    return "１２３"[n - 1]


class ReviewAnswers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # which contractor, and when
    contractor_id: str = Field(
        max_length=20,
        json_schema_extra=ui("点検する委託先（台帳のID、例：CT-000001）", "Contractor (ledger id)"),
    )
    reviewed_on: dt.date = Field(
        json_schema_extra=ui("点検を実施した日（YYYY-MM-DD）", "Date of the review (YYYY-MM-DD)")
    )

    # how it was checked
    methods: list[Method] = Field(
        json_schema_extra=ui(
            "点検の方法（複数選べます）",
            "How it was checked (several may apply)",
            kind="multi",
            options=METHODS,
        )
    )

    # the report
    report_received: bool = Field(
        json_schema_extra=ui(
            "委託先から安全管理措置の実施状況の報告書を受け取った",
            "A report on their security measures was received",
        )
    )
    report_date: dt.date | None = Field(
        default=None,
        json_schema_extra=ui(
            "報告書を受け取った日（YYYY-MM-DD）", "Report received on (YYYY-MM-DD)"
        ),
    )
    checked: list[Checked] = Field(
        default_factory=list,
        json_schema_extra=ui(
            "報告書・調査で確かめた項目",
            "What the report or the review covered",
            kind="multi",
            options=CHECKED,
        ),
    )

    # the findings
    outcome: Outcome = Field(
        json_schema_extra=ui("点検の結果", "Result", options=OUTCOMES),
    )
    findings: LongText | None = Field(
        default=None,
        json_schema_extra=ui(
            "指摘事項の内容（個人情報は書かないでください）",
            "Findings (no personal data)",
            kind="textarea",
        ),
    )

    # the corrective actions, each with its due date
    action_1: LongText | None = Field(
        json_schema_extra=ui("是正措置１（何を直すか）", "Corrective action 1", kind="textarea"),
    )
    action_1_due: dt.date | None = Field(
        default=None, json_schema_extra=ui("是正措置１の期限（YYYY-MM-DD）", "Action 1 due")
    )
    action_2: LongText | None = Field(
        default=None,
        json_schema_extra=ui("是正措置２（あれば）", "Corrective action 2", kind="textarea"),
    )
    action_2_due: dt.date | None = Field(
        default=None, json_schema_extra=ui("是正措置２の期限（YYYY-MM-DD）", "Action 2 due")
    )
    action_3: LongText | None = Field(
        default=None,
        json_schema_extra=ui("是正措置３（あれば）", "Corrective action 3", kind="textarea"),
    )
    action_3_due: dt.date | None = Field(
        default=None, json_schema_extra=ui("是正措置３の期限（YYYY-MM-DD）", "Action 3 due")
    )

    @field_validator("contractor_id")
    @classmethod
    def _ledger_id(cls, value: str) -> str:
        value = value.strip().upper()
        if not is_contractor_id(value):
            raise ValueError("委託先台帳のID（CT-000001 の形）で入力してください。")
        return value

    @field_validator("reviewed_on", "report_date")
    @classmethod
    def _past_or_today(cls, value: dt.date | None) -> dt.date | None:
        if value is None:
            return None
        if value < EARLIEST:
            raise ValueError("2000年以降の日付にしてください。")
        if value > dt.date.today():
            raise ValueError("未来の日付は入れられません。")
        return value

    @field_validator("action_1_due", "action_2_due", "action_3_due")
    @classmethod
    def _plausible_due(cls, value: dt.date | None) -> dt.date | None:
        return None if value is None else plausible(value, "是正措置の期限")

    @field_validator("methods", "checked")
    @classmethod
    def _once_each(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @model_validator(mode="before")
    @classmethod
    def _no_findings_no_actions(cls, data: Any) -> Any:
        """Without findings there is nothing to correct: the actions step is skipped, and its
        required first action is None."""
        if isinstance(data, dict) and data.get("outcome") == "satisfactory":
            data = {k: v for k, v in data.items() if not k.startswith("action_")}
            data["action_1"] = None
        return data

    @model_validator(mode="after")
    def _report(self) -> ReviewAnswers:
        if self.report_received and self.report_date is None:
            raise ValueError("報告書を受け取った日を入れてください。")
        if not self.report_received:
            self.report_date = None
        return self

    @model_validator(mode="after")
    def _findings_described(self) -> ReviewAnswers:
        if self.outcome != "satisfactory" and not (self.findings or "").strip():
            raise ValueError("指摘がある場合は、指摘事項の内容を入れてください。")
        return self

    @model_validator(mode="after")
    def _actions_dated(self) -> ReviewAnswers:
        for n in range(1, ACTION_SLOTS + 1):
            text, due = getattr(self, f"action_{n}"), getattr(self, f"action_{n}_due")
            if text and due is None:
                raise ValueError(f"是正措置{_ordinal(n)}の期限を入れてください。")
            if due is not None and not text:
                raise ValueError(
                    f"期限だけが入っています。是正措置{_ordinal(n)}の内容を入れてください。"
                )
            if due is not None and due < self.reviewed_on:
                raise ValueError(f"是正措置{_ordinal(n)}の期限は、点検の日より後にしてください。")
        return self

    # -- derived ----------------------------------------------------------------------------------

    def actions(self) -> list[tuple[str, dt.date]]:
        """(what, due) of each corrective action given."""
        out = []
        for n in range(1, ACTION_SLOTS + 1):
            text, due = getattr(self, f"action_{n}"), getattr(self, f"action_{n}_due")
            if text and due is not None:
                out.append((str(text), due))
        return out
