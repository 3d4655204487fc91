"""Pure Block Kit builders for approval requests: the parent message (summary, risk, state,
buttons), thread notices, the reason modal, DMs to the requester, App Home sections."""

from __future__ import annotations

from typing import Any

from bot.approvals.render import answer_lines
from bot.approvals.service import OUTCOME_LABELS, RequestView
from bot.slack import ids
from bot.slack.blocks import button, context, escape, literal, section

Block = dict[str, Any]
LEVEL_EMOJI = {
    "low": ":large_green_circle:",
    "medium": ":large_yellow_circle:",
    "high": ":red_circle:",
}
STATUS_EMOJI = {
    "pending": ":hourglass_flowing_sand:",
    "approved": ":white_check_mark:",
    "rejected": ":no_entry:",
    "changes_requested": ":leftwards_arrow_with_hook:",
}


def _who(actor: str) -> str:
    return f"<@{actor}>" if actor[:1] in ("U", "W") and actor[1:].isalnum() else escape(actor)


def _approvers(entries: tuple[str, ...]) -> str:
    out = []
    for e in entries:
        if e.startswith("S") and e[1:].isalnum():
            out.append(f"<!subteam^{e}>")
        else:
            out.append(_who(e))
    return "、".join(out)


def request_blocks(view: RequestView) -> list[Block]:
    state = (
        f"{STATUS_EMOJI.get(view.status, '')} *{escape(view.status_label)}*（第{view.revision}版）"
    )
    if view.stage is not None:
        state += f"　判断待ち：{escape(view.stage_name or '')}（{_approvers(view.approvers)}）"
    blocks: list[Block] = [
        section(
            f"*再委託の承認申請 {view.id}*\n{literal(view.title)}\n申請者：{_who(view.requester)}"
        ),
        section(state),
    ]
    risk = [
        f"{LEVEL_EMOJI.get(view.risk.level, '')} *リスク：{escape(view.level_label)}*（{view.risk.score}点）"
    ]
    risk += [f"• {escape(r.text)}（{escape(r.source)}）" for r in view.risk.reasons]
    blocks.append(section("\n".join(risk)))
    lines = [f"*{escape(label)}*：{literal(value)}" for label, value in answer_lines(view)]
    blocks.append(section("\n".join(lines)))
    for d in view.current_decisions:
        reason = f"：{literal(d.reason)}" if d.reason else ""
        blocks.append(
            context(
                f"{escape(d.stage_name)}　{OUTCOME_LABELS[d.outcome]}　{_who(d.approver)}{reason}"
            )
        )
    if view.status == "pending":
        value = f"{view.id}:{view.revision}"
        blocks.append(
            {
                "type": "actions",
                "block_id": f"req_{view.id}_{view.revision}",
                "elements": [
                    button("承認", ids.REQ_APPROVE, value, "primary"),
                    button("却下", ids.REQ_REJECT, value, "danger"),
                    button("差戻し", ids.REQ_CHANGES, value),
                ],
            }
        )
        blocks.append(
            context("スレッドに「承認」「却下 理由」「差戻し 理由」と返信しても判断できます。")
        )
    return blocks[:50]


def fallback(view: RequestView) -> str:
    return f"再委託の承認申請 {view.id}（{view.status_label}）：{view.title}"[:300]


def decision_notice(view: RequestView, actor: str, outcome: str, reason: str | None) -> str:
    text = f"{_who(actor)} さんが{OUTCOME_LABELS[outcome]}しました"
    if reason:
        text += f"：{literal(reason)}"
    if view.stage is not None:
        text += (
            f"\n次は {escape(view.stage_name or '')} の判断です（{_approvers(view.approvers)}）。"
        )
    elif view.status == "approved":
        text += "\nすべての段階で承認され、申請は承認済みになりました。"
    return text


def resubmitted_notice(view: RequestView, by: str) -> str:
    return f"<@{by}> さんが修正して再提出しました（第{view.revision}版）。"


def requester_dm(view: RequestView, actor: str, outcome: str, reason: str | None) -> list[Block]:
    head = f"あなたの再委託の承認申請 *{view.id}* を {_who(actor)} さんが{OUTCOME_LABELS[outcome]}しました。"
    if reason:
        head += f"\n理由：{literal(reason)}"
    if view.status == "approved":
        head += "\n申請は承認済みです。"
    elif view.stage is not None:
        head += f"\n次は {escape(view.stage_name or '')} の判断待ちです。"
    blocks = [section(head)]
    if view.status == "changes_requested":
        blocks.append(
            {
                "type": "actions",
                "elements": [button("修正して再提出する", ids.REQ_REVISE, view.id, "primary")],
            }
        )
    return blocks


def filed_dm(view: RequestView) -> list[Block]:
    return [
        section(
            f"再委託の承認申請 *{view.id}* を提出しました（リスク：{escape(view.level_label)}）。"
            f"\n{escape(view.stage_name or '')} の判断を待っています。判断が出たらお知らせします。"
        )
    ]


def reason_modal(view: RequestView, outcome: str, token: str) -> Block:
    label = OUTCOME_LABELS[outcome]
    return {
        "type": "modal",
        "callback_id": ids.REQ_REASON_VIEW,
        "private_metadata": token,
        "title": {"type": "plain_text", "text": f"{label}の理由"},
        "submit": {"type": "plain_text", "text": label},
        "close": {"type": "plain_text", "text": "やめる"},
        "blocks": [
            section(f"*{view.id}* {literal(view.title)}"),
            {
                "type": "input",
                "block_id": ids.REASON_BLOCK,
                "label": {"type": "plain_text", "text": f"{label}の理由（申請者に伝わります）"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "reason",
                    "multiline": True,
                    "max_length": 1000,
                },
            },
        ],
    }


def reminder_text(view: RequestView, escalated: bool) -> str:
    if escalated:
        return (
            f":rotating_light: 申請 {view.id} は長く判断を待っているため、エスカレーションしました。"
            f"{_approvers(view.approvers)} が判断できます。"
        )
    return f":alarm_clock: 申請 {view.id} が {escape(view.stage_name or '')} の判断を待っています（{_approvers(view.approvers)}）。"


def home_requests(mine: list[RequestView], waiting: list[RequestView]) -> list[Block]:
    blocks: list[Block] = [
        {"type": "divider"},
        section("*あなたの再委託申請*（`/subcontract` で申請）"),
    ]
    if not mine:
        blocks.append(context("まだ申請はありません。"))
    for v in mine[:10]:
        blocks.append(
            section(
                f"{STATUS_EMOJI.get(v.status, '')} *{v.id}* {literal(v.title)}\n{escape(v.status_label)}（リスク{escape(v.level_label)}）"
            )
        )
    if waiting:
        blocks.append(section("*あなたの判断を待っている申請*"))
        for v in waiting[:10]:
            link = ""
            blocks.append(
                section(
                    f":hourglass_flowing_sand: *{v.id}* {literal(v.title)}（{escape(v.stage_name or '')}）{link}"
                )
            )
    return blocks
