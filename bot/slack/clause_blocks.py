"""Pure Block Kit builders for clauses and finished drafts."""

from __future__ import annotations

from typing import Any

from bot.drafting.clauses import ClauseTemplate, FilledClause
from bot.slack import ids
from bot.slack.blocks import escape

Block = dict[str, Any]


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def clause_blocks(filled: FilledClause) -> list[Block]:
    t = filled.template
    body = "\n".join(f"> {escape(line)}" if line else ">" for line in filled.text.splitlines())
    blocks = [
        _section(f"*{escape(t.topic)}*（{escape(t.title)}）"),
        _section(body),
        _section(f":information_source: {escape(t.explanation)}"),
    ]
    refs = "、".join(escape(r) for r in t.references[:3])
    blocks.append(_context(f"出典：`{escape(t.source)}`" + (f"（{refs}）" if refs else "")))
    if t.params:
        used = "、".join(
            f"{escape(p.name)}={escape(filled.values.get(p.name, p.default))}（{escape(p.label)}）"
            for p in t.params
        )
        blocks.append(
            _context(f"使った値：{used}。`/clause {escape(t.topic)} キー=値` で変えられます。")
        )
    return blocks


def topics_blocks(topics: list[ClauseTemplate]) -> list[Block]:
    lines = [f"• *{escape(t.topic)}*：{escape(t.explanation)}" for t in topics]
    blocks = [_section("*条項のトピック*（`/clause トピック キー=値 …` で条文を作ります）")]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(_section("\n".join(chunk)))
    return blocks[:50]


def error_blocks(message: str, topics: list[ClauseTemplate]) -> list[Block]:
    names = "、".join(escape(t.topic) for t in topics)
    return [_section(f":warning: {escape(message)}"), _context(f"トピック：{names}")]


def _edit_button(dialog_id: str) -> Block:
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "編集する"},
                "action_id": ids.DRAFT_EDIT,
                "value": dialog_id,
            }
        ],
    }


def draft_failed_blocks(dialog_id: str) -> list[Block]:
    return [
        _section(
            ":warning: ドラフトのファイルをSlackに送れませんでした。回答は保存されています。"
            "「編集する」から内容を確認して、もう一度「作成する」を押してください。"
        ),
        _edit_button(dialog_id),
    ]


def draft_summary_blocks(
    title: str, summary: tuple[tuple[str, str], ...], notice: str, dialog_id: str
) -> list[Block]:
    lines = [f"*{escape(label)}*：{escape(value)}" for label, value in summary]
    blocks: list[Block] = [_section(f"*{escape(title)}*：選んだ内容")]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(_section("\n".join(chunk)))
    blocks.append(_context(f":warning: {escape(notice)}"))
    blocks.append(_edit_button(dialog_id))
    return blocks[:50]
