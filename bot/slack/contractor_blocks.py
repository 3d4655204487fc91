"""Pure Block Kit builders for the contractor ledger: the DM after a contractor is registered or a
review recorded, reminders (a review due, a corrective action due) with the button that acts on
them, the security channel's notices, the ledger on App Home, and the ledger contractors offered
in the subcontracting request's first step. No I/O."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.contractors.prefill import option_label
from bot.contractors.reviews import ActionView, ReviewView
from bot.contractors.service import ContractorView
from bot.delivery.contractors import LedgerHome
from bot.slack import ids
from bot.slack.approval_blocks import LEVEL_EMOJI
from bot.slack.blocks import button, context, escape, literal, section

Block = dict[str, Any]
OPTION_LIMIT = 75  # characters of an option's text
HOME_ROWS = 10  # contractors, reviews due and actions listed on App Home, each


def _who(user: str) -> str:
    return f"<@{user}>" if user[:1] in ("U", "W") and user[1:].isalnum() else escape(user)


def _name(view: ContractorView) -> str:
    return f"*{view.id}* {literal(view.name)}（{escape(view.tier_label)}）"


def _level(view: ContractorView) -> str:
    a = view.rating.assessment
    return f"{LEVEL_EMOJI.get(a.level, '')} リスク{escape(a.label)}（{a.score}点）"


def review_when(view: ContractorView, today: dt.date) -> str:
    """The next review in words: its date and how far it is (or how late)."""
    rating = view.rating
    if rating.next_review is None:
        return "未評価（いま点検が必要です）"
    days = (rating.next_review - today).days
    when = rating.next_review.isoformat()
    if days < 0:
        return f"{when}（{-days}日超過）"
    if days == 0:
        return f"{when}（本日）"
    return f"{when}（あと{days}日）"


def _actions_row(*elements: Block) -> Block:
    return {"type": "actions", "elements": list(elements)}


def review_button(contractor_id: str, style: str | None = "primary") -> Block:
    return button("点検を記録する", ids.REVIEW_OPEN, contractor_id, style)


def close_button(action: ActionView) -> Block:
    return button("完了にする", ids.ACTION_CLOSE, f"{action.id}:{action.version}", "primary")


# -- after a dialog -----------------------------------------------------------------------------


def registered(view: ContractorView) -> tuple[str, list[Block]]:
    """The DM after the registration dialog: what the ledger now holds and its risk."""
    text = f"委託先 {view.id} を台帳に登録しました。"
    risk = [_level(view)]
    risk += [f"• {escape(r.text)}（{escape(r.source)}）" for r in view.rating.assessment.reasons]
    next_review = view.rating.next_review
    when = next_review.isoformat() if next_review else "未評価のため、いま点検が必要です"
    blocks = [
        section(f":white_check_mark: *委託先を台帳に登録しました*\n{_name(view)}"),
        section("\n".join(risk)),
        section(
            f"次回の定期点検：{escape(when)}（{view.rating.review_months}か月ごと）\n"
            "担当者のあなたに、点検の時期が来たらお知らせします。"
        ),
        _actions_row(review_button(view.id, None)),
    ]
    return text, blocks


def review_recorded(review: ReviewView, after: ContractorView | None) -> tuple[str, list[Block]]:
    """The DM after the review dialog: the review as recorded, the corrective actions opened,
    the next review's date."""
    text = f"{review.contractor_id} の定期点検を記録しました（{review.id}）。"
    lines = [
        f":clipboard: *定期点検を記録しました（{review.id}）*",
        f"*{review.contractor_id}* {literal(review.contractor_name)}",
        f"点検日：{review.reviewed_on.isoformat()}　方法：{escape('、'.join(review.method_labels))}",
        f"結果：*{escape(review.outcome_label)}*",
    ]
    if review.report_received and review.report_date:
        lines.append(f"報告書：{review.report_date.isoformat()} に受領")
    blocks = [section("\n".join(lines))]
    if review.actions:
        rows = [
            f"• *{a.id}* {literal(a.description)}（期限 {a.due.isoformat()}）"
            for a in review.actions
        ]
        blocks.append(section("*是正措置*（期限が近づいたらお知らせします）\n" + "\n".join(rows)))
    if after is not None and after.rating.next_review is not None:
        blocks.append(
            section(
                f"次回の定期点検：*{after.rating.next_review.isoformat()}*"
                f"（{_level(after)}、{after.rating.review_months}か月ごと）"
            )
        )
    return text, blocks


# -- reminders --------------------------------------------------------------------------------------


def review_due(view: ContractorView, today: dt.date, overdue: bool) -> tuple[str, list[Block]]:
    """To the owner: the contractor's review is due, with the button that opens it."""
    head = "定期点検の期日を過ぎています" if overdue else "定期点検の時期です"
    text = f"{view.id} の{head}。"
    blocks = [
        section(f":spiral_calendar_pad: *{head}*\n{_name(view)}"),
        section(f"期日：{escape(review_when(view, today))}\n{_level(view)}"),
        context(
            "委託先の取扱状況を定期的に確かめ、結果を評価して記録します（個人情報保護委員会ガイドライン通則編3-4-4）。"
        ),
        _actions_row(review_button(view.id)),
    ]
    return text, blocks


def review_overdue(view: ContractorView, today: dt.date) -> tuple[str, list[Block]]:
    """In the security channel: a contractor's review is overdue."""
    text = f"{view.id} の定期点検が期日を過ぎています。"
    blocks = [
        section(
            f":warning: *定期点検が期日を過ぎています*\n{_name(view)}\n"
            f"期日：{escape(review_when(view, today))}　担当：{_who(view.owner)}\n{_level(view)}"
        ),
        _actions_row(review_button(view.id, None)),
    ]
    return text, blocks


def _action_when(action: ActionView, today: dt.date) -> str:
    days = action.days_left(today)
    due = action.due.isoformat()
    if days < 0:
        return f"{due}（{-days}日超過）"
    return f"{due}（本日）" if days == 0 else f"{due}（あと{days}日）"


def action_due(action: ActionView, today: dt.date) -> tuple[str, list[Block]]:
    """To the owner: a corrective action is due soon (or overdue), with the button that closes
    it once done."""
    head = (
        "是正措置の期限を過ぎています"
        if action.overdue(today)
        else "是正措置の期限が近づいています"
    )
    text = f"{action.id} の{head}。"
    blocks = [
        section(
            f":hammer_and_wrench: *{head}*\n*{action.id}* {literal(action.description)}\n"
            f"委託先：*{action.contractor_id}* {literal(action.contractor_name)}\n"
            f"期限：{escape(_action_when(action, today))}（点検 {action.review_id}）"
        ),
        context("是正されたかを報告書や立入調査で確かめてから、完了にしてください。"),
        _actions_row(close_button(action)),
    ]
    return text, blocks


def action_overdue(action: ActionView, today: dt.date) -> tuple[str, list[Block]]:
    """In the security channel: a corrective action is overdue."""
    text = f"{action.id} の是正措置が期限を過ぎています。"
    blocks = [
        section(
            f":warning: *是正措置が期限を過ぎています*\n*{action.id}* {literal(action.description)}\n"
            f"委託先：*{action.contractor_id}* {literal(action.contractor_name)}\n"
            f"期限：{escape(_action_when(action, today))}　担当：{_who(action.owner)}"
        ),
    ]
    return text, blocks


def action_closed(action: ActionView) -> tuple[str, list[Block]]:
    text = f"{action.id} を完了にしました。"
    return text, [section(f":white_check_mark: *{action.id}* を完了にしました。")]


# -- App Home -------------------------------------------------------------------------------------


def home_ledger(home: LedgerHome) -> list[Block]:
    """The user's contractors, the reviews due, their open corrective actions."""
    blocks: list[Block] = [
        {"type": "divider"},
        section("*あなたが担当する委託先*（`/contractor` で登録）"),
    ]
    if not home.contractors:
        blocks.append(context("まだ担当している委託先はありません。"))
    for view in home.contractors[:HOME_ROWS]:
        blocks.append(
            context(
                f"{_name(view)}　{_level(view)}　次回点検：{escape(review_when(view, home.today))}"
            )
        )
    if home.due:
        blocks.append(section("*点検が必要な委託先*"))
        for view in home.due[:HOME_ROWS]:
            blocks.append(
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": f"{_name(view)}\n期日：{escape(review_when(view, home.today))}",
                    },
                    "accessory": review_button(view.id),
                }
            )
    if home.actions:
        blocks.append(section("*対応中の是正措置*"))
        for action in home.actions[:HOME_ROWS]:
            blocks.append(
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": f"*{action.id}* {literal(action.description)}\n"
                        f"{action.contractor_id}　期限：{escape(_action_when(action, home.today))}",
                    },
                    "accessory": close_button(action),
                }
            )
    return blocks


# -- the subcontracting request -----------------------------------------------------------------------


def _option(value: str, label: str) -> Block:
    text = label if len(label) <= OPTION_LIMIT else label[: OPTION_LIMIT - 1] + "…"
    return {"text": {"type": "plain_text", "text": text, "emoji": True}, "value": value}


def ledger_picker(choices: list[ContractorView]) -> list[Block]:
    """A select of the user's ledger contractors; picking one fills in the request's fields."""
    if not choices:
        return []
    return [
        {
            "type": "section",
            "block_id": "ledger_pick",
            "text": {
                "type": "mrkdwn",
                "text": ":card_index: 台帳の委託先から選ぶと、委託先の名称などを入力済みにします。",
            },
            "accessory": {
                "type": "static_select",
                "action_id": ids.LEDGER_PICK,
                "placeholder": {"type": "plain_text", "text": "委託先を選ぶ"},
                "options": [_option(v.id, option_label(v)) for v in choices[:100]],
            },
        }
    ]


def with_ledger_picker(view: Block, choices: list[ContractorView]) -> Block:
    """The step's modal with the picker after its heading (unchanged without choices)."""
    picker = ledger_picker(choices)
    if not picker:
        return view
    blocks = list(view.get("blocks", []))
    return {**view, "blocks": (blocks[:1] + picker + blocks[1:])[:100]}
