"""Pure Block Kit builders for clauses and finished drafts."""

from __future__ import annotations

from typing import Any

from bot.drafting.clauses import ClauseTemplate, FilledClause
from bot.slack import ids
from bot.slack.blocks import button, context, escape, section, sections

Block = dict[str, Any]


def clause_blocks(filled: FilledClause) -> list[Block]:
    t = filled.template
    body = "\n".join(f"> {escape(line)}" if line else ">" for line in filled.text.splitlines())
    blocks = [
        section(f"*{escape(t.topic)}*（{escape(t.title)}）"),
        section(body),
        section(f":information_source: {escape(t.explanation)}"),
    ]
    refs = "、".join(escape(r) for r in t.references[:3])
    blocks.append(context(f"出典：`{escape(t.source)}`" + (f"（{refs}）" if refs else "")))
    if t.params:
        used = "、".join(
            f"{escape(p.name)}={escape(filled.values.get(p.name, p.default))}（{escape(p.label)}）"
            for p in t.params
        )
        blocks.append(
            context(f"使った値：{used}。`/clause {escape(t.topic)} キー=値` で変えられます。")
        )
    return blocks


def topics_blocks(topics: list[ClauseTemplate]) -> list[Block]:
    lines = [f"• *{escape(t.topic)}*：{escape(t.explanation)}" for t in topics]
    blocks = [section("*条項のトピック*（`/clause トピック キー=値 …` で条文を作ります）")]
    blocks += sections("\n".join(lines))
    return blocks[:50]


def error_blocks(message: str, topics: list[ClauseTemplate]) -> list[Block]:
    names = "、".join(escape(t.topic) for t in topics)
    return [section(f":warning: {escape(message)}"), context(f"トピック：{names}")]


def _edit_button(dialog_id: str) -> Block:
    return {"type": "actions", "elements": [button("編集する", ids.DRAFT_EDIT, dialog_id)]}


def draft_failed_blocks(dialog_id: str) -> list[Block]:
    return [
        section(
            ":warning: ドラフトのファイルをSlackに送れませんでした。回答は保存されています。"
            "「編集する」から内容を確認して、もう一度「作成する」を押してください。"
        ),
        _edit_button(dialog_id),
    ]


def draft_summary_blocks(
    title: str, summary: tuple[tuple[str, str], ...], notice: str, dialog_id: str
) -> list[Block]:
    lines = [f"*{escape(label)}*：{escape(value)}" for label, value in summary]
    blocks: list[Block] = [section(f"*{escape(title)}*：選んだ内容")]
    blocks += sections("\n".join(lines))
    blocks.append(context(f":warning: {escape(notice)}"))
    blocks.append(_edit_button(dialog_id))
    return blocks[:50]
