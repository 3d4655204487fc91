"""A contractor as plain text (terminal, CLI): the fields in words, the risk with its reasons and
sources, the next review, and the chain 委託先 → 再委託先 → 再々委託先 it belongs to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from bot.contractors.models import CONTRACT_TYPE_SHORT, SHORT_LABELS, ContractorFields
from bot.contractors.reviews import ActionView, ReviewView
from bot.contractors.service import ChainLink, ContractorView

# the fields shown one per line, in the order of the registration dialog
_SHOWN = (
    "corporate_number",
    "services",
    "work",
    "contract_type",
    "contract_start",
    "contract_end",
    "personal_data",
    "personal_data_count",
    "sensitive_data",
    "my_number",
    "confidential_business_data",
    "processing_country",
    "last_assessed",
)


def _words(name: str, value: object) -> str:
    if value is None or value == "" or value == []:
        return "（なし）" if name != "contract_type" else "（未確認）"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if name == "contract_type":
        return CONTRACT_TYPE_SHORT.get(str(value), str(value))
    if name == "personal_data_count" and isinstance(value, int):
        return f"{value:,}人"
    return str(value)


def review_text(view: ContractorView, today: dt.date) -> str:
    rating = view.rating
    if rating.next_review is None:
        return "次回点検：未評価のため、いま点検が必要です"
    when = rating.next_review.isoformat()
    if rating.overdue:
        days = (today - rating.next_review).days
        return f"次回点検：{when}（{days}日超過）"
    if rating.due(today):
        return f"次回点検：{when}（本日）"
    return f"次回点検：{when}（{rating.review_months}か月ごと）"


def list_line(view: ContractorView, today: dt.date) -> str:
    rating = view.rating
    flags = []
    if rating.overdue or rating.next_review is None:
        flags.append("点検期限切れ" if rating.overdue else "未評価")
    elif rating.due(today, 30):
        flags.append(f"点検 {rating.next_review}")
    if rating.expired:
        flags.append("認証期限切れ")
    tail = f"　［{'・'.join(flags)}］" if flags else ""
    return (
        f"{view.id}  {view.tier_label}  リスク{rating.assessment.label}  {view.name}"
        f"  担当：{view.owner}{tail}"
    )


def certificate_lines(fields: ContractorFields, today: dt.date) -> list[str]:
    out = []
    for c in fields.certificates():
        if c.expires is None:
            state = "有効期限：未登録"
        elif c.expired(today):
            state = f"有効期限：{c.expires}（期限切れ）"
        else:
            state = f"有効期限：{c.expires}"
        out.append(f"  ・{c.name}（{state}）")
    return out or ["  （なし）"]


def chain_lines(links: Iterable[ChainLink], mark: str | None = None) -> list[str]:
    out = []
    for link in links:
        c = link.contractor
        indent = "  " * link.depth + ("└ " if link.depth else "")
        here = " ←" if c.id == mark else ""
        out.append(
            f"  {indent}{c.id} {c.name}（{c.tier_label}・リスク{c.rating.assessment.label}）{here}"
        )
    return out


def contractor_text(view: ContractorView, today: dt.date, chain: Iterable[ChainLink] = ()) -> str:
    fields = view.fields
    lines = [
        f"{view.id} {view.name}（{view.tier_label}）",
        f"担当：{view.owner}　第{view.version}版　登録：{view.created_by}",
    ]
    if view.parent_id:
        lines.append(f"委託元：{view.parent_id}")
    if view.source_request_id:
        lines.append(f"再委託の承認申請：{view.source_request_id}")
    rating = view.rating
    lines.append(f"リスク：{rating.assessment.label}（{rating.assessment.score}点）")
    lines += [f"  ・{r.text}（+{r.points}、{r.source}）" for r in rating.assessment.reasons]
    lines.append(review_text(view, today))
    lines.append("登録内容：")
    for name in _SHOWN:
        lines.append(f"  {SHORT_LABELS[name]}：{_words(name, getattr(fields, name))}")
    lines.append("認証：")
    lines += certificate_lines(fields, today)
    links = list(chain)
    if len(links) > 1:
        lines.append("委託の連鎖：")
        lines += chain_lines(links, mark=view.id)
    return "\n".join(lines)


# -- registration and periodic reviews ---------------------------------------------------------------


def registered_text(view: ContractorView, today: dt.date) -> str:
    """What the terminal says after the registration dialog."""
    rating = view.rating
    lines = [
        f"委託先 {view.id} {view.name} を台帳に登録しました（担当：{view.owner}）。",
        f"リスク：{rating.assessment.label}（{rating.assessment.score}点）",
    ]
    lines += [f"  ・{r.text}（{r.source}）" for r in rating.assessment.reasons]
    lines.append(review_text(view, today))
    return "\n".join(lines)


def action_line(action: ActionView, today: dt.date) -> str:
    """One corrective action on one line: id, state, due, contractor, what."""
    if not action.open:
        state = f"完了 {action.closed_at.date().isoformat() if action.closed_at else ''}".strip()
    elif action.overdue(today):
        state = f"期限切れ（{-action.days_left(today)}日超過）"
    else:
        state = "対応中"
    return (
        f"{action.id}  [{state}]  期限 {action.due.isoformat()}  "
        f"{action.contractor_id} {action.contractor_name}  担当：{action.owner}\n"
        f"    {action.description}"
    )


def review_recorded_text(review: ReviewView, after: ContractorView | None) -> str:
    """What the terminal says after the review dialog: the review as recorded, its corrective
    actions, the next review."""
    lines = [
        f"定期点検 {review.id} を記録しました：{review.contractor_id} {review.contractor_name}",
        f"  点検日：{review.reviewed_on.isoformat()}　方法：{'、'.join(review.method_labels)}",
        f"  報告書：{review.report_date.isoformat() + ' に受領' if review.report_date else '受領なし'}",
        f"  結果：{review.outcome_label}",
    ]
    if review.checked:
        lines.append(f"  確かめた項目：{'、'.join(review.checked_labels)}")
    if review.findings:
        lines.append(f"  指摘事項：{review.findings}")
    for a in review.actions:
        lines.append(f"  是正措置 {a.id}：{a.description}（期限 {a.due.isoformat()}）")
    if after is not None and after.rating.next_review is not None:
        lines.append(
            f"次回の定期点検：{after.rating.next_review.isoformat()}"
            f"（リスク{after.rating.assessment.label}、{after.rating.review_months}か月ごと）"
        )
    return "\n".join(lines)
