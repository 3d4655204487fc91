"""The contractor ledger in Slack: `/contractor` (and `/itaku contractor`) opens the registration
dialog, `/itaku review CT-000001` or the button on a reminder opens the review dialog, a ledger
contractor picked in the subcontracting request fills in its fields, "完了にする" closes a
corrective action; and the ContractorNotifier of bot/delivery/contractors.py (DMs to owners,
notices in the security channel)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.contractors import prefill as ledger_prefill
from bot.contractors.reviews import (
    ActionView,
    Closed,
    find_contractor,
    is_action_id,
    review_target,
    start_review,
)
from bot.contractors.service import ContractorView
from bot.dialogs.engine import DialogError, DialogState
from bot.slack import contractor_blocks as cb
from bot.slack import ids
from bot.slack.blocks import section
from bot.slack.dialog_views import notice_view
from bot.slack.dialogs import open_dialog, view_for
from bot.slack.notifier import direct
from bot.slack.payloads import owner_of, team_user
from bot.slack.runtime import SlackRuntime

log = logging.getLogger(__name__)

Ack = Callable[..., None]
REVIEW_USAGE = "使い方：`/itaku review CT-000001`（点検する委託先の台帳ID、法人番号または名称）"
NOT_FOUND = (
    "その委託先は台帳にありません（名称が同じ委託先が複数あるときは台帳IDで指定してください）。"
)
NO_LEDGER = "委託先台帳はこの環境では使えません（委託先リスクのルールが読めません）。"


class SlackContractorNotifier:
    """Reminders on Slack: DMs to a contractor's owner, notices in the security channel."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def review_due(self, view: ContractorView, today: dt.date, overdue: bool) -> None:
        direct(self.client, view.owner, *cb.review_due(view, today, overdue))

    def review_overdue(self, channel: str, view: ContractorView, today: dt.date) -> None:
        text, blocks = cb.review_overdue(view, today)
        self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)

    def action_due(self, action: ActionView, today: dt.date) -> None:
        direct(self.client, action.owner, *cb.action_due(action, today))

    def action_overdue(self, channel: str, action: ActionView, today: dt.date) -> None:
        text, blocks = cb.action_overdue(action, today)
        self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)


# -- opening dialogs --------------------------------------------------------------------------------


def open_contractor(rt: SlackRuntime, ack: Ack, command: dict[str, Any], args: str) -> None:
    """The registration dialog (resumed if unfinished; `new` starts over)."""
    open_dialog(rt, ack, command, args, "contractor")


def open_review(rt: SlackRuntime, ack: Ack, command: dict[str, Any], args: str) -> None:
    """`/itaku review CT-000001`: the review dialog for that contractor."""
    if rt.contractors is None:
        ack(response_type="ephemeral", text=NO_LEDGER)
        return
    if not args.strip():
        ack(response_type="ephemeral", text=REVIEW_USAGE)
        return
    trigger = command.get("trigger_id")
    if not trigger or not command.get("user_id"):
        ack(text="この操作は受け付けられませんでした。もう一度お試しください。")
        return
    contractor = find_contractor(rt.contractors.contractors, args)
    if contractor is None:
        ack(response_type="ephemeral", text=NOT_FOUND)
        return
    owner = owner_of(command.get("team_id"), command.get("user_id"))
    if _open_review(rt, str(trigger), owner, contractor.id):
        ack()
    else:
        ack(text="入力画面を開けませんでした。もう一度お試しください。")


def _open_review(rt: SlackRuntime, trigger: str, owner: str, contractor_id: str) -> bool:
    assert rt.contractors is not None
    state, resumed = start_review(rt.dialogs, owner, contractor_id, rt.contractors.reviews.today())
    try:
        rt.client.views_open(trigger_id=trigger, view=view_for(rt, state, resumed=resumed))
    except SlackApiError as e:
        log.warning("views.open failed: %s", e.response.get("error", "?"))
        return False
    log.info("review dialog %s opened resumed=%s", state.id, resumed)
    return True


# -- listeners ------------------------------------------------------------------------------------------


def register(app: App, rt: SlackRuntime) -> None:
    @app.command(ids.CONTRACTOR_COMMAND)
    def on_contractor(ack: Ack, command: dict[str, Any]) -> None:
        open_contractor(rt, ack, command, str(command.get("text") or ""))

    @app.action(ids.REVIEW_OPEN)
    def on_review_open(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A reminder's (or App Home's) button: the review dialog, opened before the ack (the
        trigger lives three seconds)."""
        team, user = team_user(body)
        trigger = body.get("trigger_id")
        contractor_id = review_target(str(action.get("value") or ""))
        ack()
        if rt.contractors is None or contractor_id is None or not trigger or not user:
            return
        if rt.contractors.contractors.get(contractor_id) is None:
            return
        _open_review(rt, str(trigger), owner_of(team, user), contractor_id)

    @app.action(ids.LEDGER_PICK)
    def on_ledger_pick(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A ledger contractor picked in the subcontracting request: its fields filled in."""
        ack()
        view = body.get("view") or {}
        ref = rt.signer.verify(view.get("private_metadata"))
        team, user = team_user(body)
        picked = str((action.get("selected_option") or {}).get("value") or "")
        if ref is None or not view.get("id") or rt.contractors is None or not user:
            return
        owner = owner_of(team, user)
        try:
            new_view = view_for(rt, _pick(rt, ref.dialog_id, ref.version, owner, user, picked))
        except DialogError as e:
            new_view = notice_view(str(e))
        try:
            rt.client.views_update(view_id=str(view["id"]), hash=view.get("hash"), view=new_view)
        except SlackApiError as e:  # hash_conflict: a newer view is already shown
            log.info("views.update refused: %s", e.response.get("error", "?"))

    @app.action(ids.ACTION_CLOSE)
    def on_action_close(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        _, user = team_user(body)
        action_id, _, version = str(action.get("value") or "").partition(":")
        if rt.contractors is None or not user or not is_action_id(action_id):
            return
        if not version.isdigit():
            return
        rt.runner.submit(_close, rt, user, action_id, int(version), body)


def _pick(
    rt: SlackRuntime, dialog_id: str, version: int, owner: str, user: str, picked: str
) -> DialogState:
    """The request started again with the picked contractor's values over what was answered."""
    assert rt.contractors is not None
    state = rt.dialogs.load(dialog_id, owner, version)
    contractor = rt.contractors.contractors.get(picked)
    if contractor is None or contractor.owner != user:
        return state  # not theirs to pick (a forged value): the step as it was
    values = ledger_prefill.subcontract_values(
        state.spec, contractor, rt.contractors.reviews.today()
    )
    fresh, _ = rt.dialogs.start(state.spec.id, owner, prefill={**state.answers, **values})
    return fresh


def _close(rt: SlackRuntime, user: str, action_id: str, version: int, body: dict[str, Any]) -> None:
    """Close a corrective action (the version on the button: a stale one is refused), and say
    so where the button was."""
    assert rt.contractors is not None
    done = rt.contractors.reviews.close(
        action_id, user, expected_version=version, note="Slackで完了を確認", via="slack"
    )
    if done.result is Closed.CLOSED and done.action is not None:
        text, blocks = cb.action_closed(done.action)
    else:
        text = done.message or "この是正措置は完了にできませんでした。"
        blocks = [section(text)]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    if channel and str(channel).startswith("D"):
        try:
            rt.client.chat_postMessage(channel=str(channel), text=text, blocks=blocks)
        except SlackApiError as e:
            log.warning("chat.postMessage failed: %s", e.response.get("error", "?"))
    else:
        direct(rt.client, user, text, blocks)
    if done.result is Closed.CLOSED:
        rt.runner.submit(rt.publish_home, user)
