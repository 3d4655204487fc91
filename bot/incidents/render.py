"""An incident in words, the same on every platform: the timeline (発覚日, the 速報 target window,
the 確報 deadline), the checklist, the reasoning item by item with its sources, reminders, and
the whole incident as plain text for the terminal. Adapters wrap these lines in their markup."""

from __future__ import annotations

import datetime as dt

from bot.incidents.deadlines import Deadline, Kind
from bot.incidents.report import STATUS_JA, jdate
from bot.incidents.rules import Citation, Verdict
from bot.incidents.service import IncidentView, Reminder, StepState

JST = dt.timezone(dt.timedelta(hours=9), "JST")


def sources(citations: tuple[Citation, ...]) -> str:
    return "、".join(dict.fromkeys(c.ja for c in citations))


def _scope(d: Deadline) -> str:
    if d.applies is True:
        return ""
    if d.applies is None:
        return f"（{d.why_not_ja}。報告が必要な場合）"
    return f"（{d.why_not_ja}）"


def timeline(view: IncidentView) -> list[tuple[str, str]]:
    """(label, text) for the day of learning and each deadline to plan for."""
    pre = view.deadlines.get(Kind.PRELIMINARY)
    final = view.deadlines.final
    assert pre.window_start is not None
    moved = (
        f"、{final.days}日目の{jdate(final.nominal)}が{final.moved_over[0].reason_ja}のため翌開庁日"
        if final.moved_over
        else ""
    )
    out = [
        ("発覚日", f"{jdate(view.learned_on)}（1日目）"),
        (
            "速報",
            f"速やかに。目安は{jdate(pre.window_start)}～{jdate(pre.due)}（3～5日目）{_scope(pre)}",
        ),
        ("確報", f"{jdate(final.due)}まで（{final.days}日以内{moved}）{_scope(final)}"),
    ]
    other = view.deadlines.get(Kind.FINAL_IMPROPER if final.kind is Kind.FINAL else Kind.FINAL)
    if other.applies is None:
        out.append(("確報（第3号の場合）", f"{jdate(other.due)}まで（{other.days}日以内）"))
    return out


def step_line(step: StepState) -> str:
    if not step.applies:
        return f"－ {step.label}（報告義務がないため不要）"
    if not step.done:
        return f"□ {step.label}"
    when = step.at.astimezone(JST).strftime("%Y-%m-%d %H:%M") if step.at else ""
    return f"☑ {step.label}（{step.by or '?'}、{when}）"


def reasoning(view: IncidentView) -> list[str]:
    """The decision item by item, each with its reason and sources, then the duties."""
    d = view.decision
    lines = [d.summary_ja]
    for a in d.items:
        lines.append(
            f"第{a.item}号（{a.title_ja}）：{STATUS_JA[a.status]}。{a.reason_ja}"
            f"（出典：{sources(a.sources)}）"
        )
    note = d.notify_individuals
    lines.append(f"本人への通知：{note.text_ja}（出典：{sources(note.sources)}）")
    if d.contractor is not None:
        lines.append(
            f"委託先での発生：{d.contractor.text_ja}（出典：{sources(d.contractor.sources)}）"
        )
    for deadline in (view.deadlines.get(Kind.PRELIMINARY), view.deadlines.final):
        lines.append(
            f"{deadline.label_ja}：{deadline.reasoning_ja}（出典：{sources(deadline.sources)}）"
        )
    return lines


def verdict_mark(view: IncidentView) -> str:
    return {
        Verdict.REQUIRED: "要報告",
        Verdict.NOT_REQUIRED: "報告義務なし",
        Verdict.UNDETERMINED: "要否未確定",
    }[view.decision.verdict]


def reminder_text(view: IncidentView, reminder: Reminder) -> str:
    """What a reminder says (no personal data: the incident's id, contractor and dates)."""
    what = "速報の目安" if reminder.deadline is Kind.PRELIMINARY else "確報の期限"
    step = "ppc_preliminary" if reminder.deadline is Kind.PRELIMINARY else "ppc_final"
    head = f"{view.id}（{view.contractor_name}）"
    maybe = "" if view.decision.verdict is Verdict.REQUIRED else "報告が必要な場合、"
    if reminder.stage == "overdue":
        late = -reminder.days_left
        return (
            f"{head}：{maybe}{what}（{jdate(reminder.due)}）を{late}日過ぎています。"
            f"まだであれば直ちに提出し、済んでいればチェックリストの「{view.step(step).label}」を完了にしてください。"
        )
    left = "本日が最終日です" if reminder.days_left == 0 else f"あと{reminder.days_left}日です"
    return (
        f"{head}：{maybe}{what}は{jdate(reminder.due)}です（{left}）。"
        f"提出したら、チェックリストの「{view.step(step).label}」を完了にしてください。"
    )


def summary_line(view: IncidentView) -> str:
    """One line for a list."""
    final = view.deadlines.final
    open_steps = len(view.open_steps)
    return (
        f"{view.id}  {view.status_label}  {verdict_mark(view)}  発覚日 {view.learned_on}  "
        f"確報 {final.due}  {view.contractor_name}  未完了 {open_steps}"
    )


def incident_text(view: IncidentView) -> str:
    """The whole incident as plain text (the terminal's `itaku incidents show`)."""
    facts = view.facts
    where = (
        f"{view.contractor_name}（{view.contractor_id}）"
        if view.contractor_id
        else (f"{view.contractor_name}（台帳になし）")
    )
    lines = [
        f"{view.id} {view.title}",
        f"状態：{view.status_label}（第{view.version}版）　報告：{view.verdict_label}　報告者：{view.reporter}",
        f"委託先：{where}",
        f"何が起きたか：{facts.what_happened or '（未入力）'}",
    ]
    if facts.data_kinds:
        lines.append(f"データの項目：{'、'.join(facts.data_kinds)}")
    if facts.people is not None:
        maximum = "（最大の見込み）" if facts.people_is_maximum else ""
        lines.append(f"本人の数：{facts.people:,}人{maximum}")
    lines += ["", "― 期限 ―"]
    lines += [f"  {label}：{text}" for label, text in timeline(view)]
    lines += ["", "― チェックリスト ―"]
    lines += [f"  {step_line(s)}" for s in view.checklist]
    lines += ["", "― 判断の理由と出典 ―"]
    lines += [f"  ・{line}" for line in reasoning(view)]
    return "\n".join(lines)
