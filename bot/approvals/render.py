"""A request as plain text (terminal, CLI, exports): the answers in words, the risk and its
reasons with sources, the decisions so far and what it waits for."""

from __future__ import annotations

from bot.approvals.service import OUTCOME_LABELS, RequestView
from bot.dialogs.engine import words
from bot.dialogs.specs import DIALOGS


def answer_lines(view: RequestView) -> list[tuple[str, str]]:
    spec = DIALOGS["subcontract"]
    out: list[tuple[str, str]] = []
    for step in spec.visible(view.answers):
        for name in step.fields:
            out.append((spec.fields[name].label, words(spec, name, view.answers.get(name))))
    return out


def risk_lines(view: RequestView) -> list[str]:
    lines = [f"リスク：{view.level_label}（{view.risk.score}点）"]
    lines += [f"  ・{r.text}（+{r.points}、{r.source}）" for r in view.risk.reasons]
    return lines


def decision_lines(view: RequestView) -> list[str]:
    out = []
    for d in view.decisions:
        at = d.decided_at.strftime("%Y-%m-%d %H:%M")
        reason = f"：{d.reason}" if d.reason else ""
        out.append(
            f"  第{d.revision}版 {d.stage_name} {OUTCOME_LABELS[d.outcome]} {d.approver} {at}{reason}"
        )
    return out


def request_text(view: RequestView) -> str:
    lines = [
        f"{view.id} {view.title}",
        f"状態：{view.status_label}（第{view.revision}版）　申請者：{view.requester}",
    ]
    if view.stage is not None:
        lines.append(f"判断待ち：{view.stage_name}（{'、'.join(view.approvers)}）")
    lines += risk_lines(view)
    lines.append("申請内容：")
    lines += [f"  {label}：{value}" for label, value in answer_lines(view)]
    decided = decision_lines(view)
    if decided:
        lines.append("判断の記録：")
        lines += decided
    return "\n".join(lines)
