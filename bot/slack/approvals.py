"""Subcontracting requests in Slack: decided by button (a reason asked in a modal) or by a reply
in the request's thread; anyone else gets a private refusal. What is then posted, updated and
told, and when, is decided by bot/delivery/requests.py; bot/slack/notifier.py delivers it."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.approvals.service import OutcomeName
from bot.delivery.requests import Placement
from bot.dialogs.engine import DialogError
from bot.slack import approval_blocks as ab
from bot.slack import ids
from bot.slack.dialog_views import notice_view
from bot.slack.dialogs import view_for
from bot.slack.payloads import owner_of, team_user
from bot.slack.runtime import SlackRuntime
from bot.slack.view_tokens import ViewRef

log = logging.getLogger(__name__)
Ack = Callable[..., None]


def _refuse(rt: SlackRuntime, body: dict[str, Any], user: str, message: str) -> None:
    url = body.get("response_url")
    channel = (
        (body.get("channel") or {}).get("id") if isinstance(body.get("channel"), dict) else None
    )
    try:
        if url:
            from bot.slack.client import post_response

            post_response(
                str(url),
                {"response_type": "ephemeral", "replace_original": False, "text": message},
                rt.settings.slack_api_retries,
            )
        elif channel:
            rt.client.chat_postEphemeral(channel=str(channel), user=user, text=message)
    except (SlackApiError, OSError) as e:
        log.warning("could not tell a refusal: %s", type(e).__name__)


def _request_ref(value: object) -> tuple[str, int] | None:
    request_id, _, revision = str(value or "").partition(":")
    if not re.fullmatch(r"SR-\d{6}", request_id) or not revision.isdigit():
        return None
    return request_id, int(revision)


def register(app: App, rt: SlackRuntime) -> None:
    @app.action(ids.REQ_APPROVE)
    def on_approve(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        ref = _request_ref(action.get("value"))
        user = team_user(body)[1]
        if ref is None or not user:
            return
        ok, message = rt.requests.decide(ref[0], ref[1], user, "approved", None)
        if not ok:
            rt.runner.submit(_refuse, rt, body, user, message)

    def ask_reason(outcome: OutcomeName) -> Callable[..., None]:
        def on_click(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
            ack()
            ref = _request_ref(action.get("value"))
            user = team_user(body)[1]
            view = rt.approvals.get(ref[0]) if ref else None
            if ref is None or view is None or not user or not body.get("trigger_id"):
                return
            refusal = rt.requests.refusal(view, ref[1], user, outcome)
            if refusal is not None:
                rt.runner.submit(_refuse, rt, body, user, refusal)
                return
            token = rt.signer.sign(ViewRef(view.id, outcome, view.revision))
            try:
                rt.client.views_open(
                    trigger_id=str(body["trigger_id"]), view=ab.reason_modal(view, outcome, token)
                )
            except SlackApiError as e:
                log.warning("views.open failed: %s", e.response.get("error", "?"))

        return on_click

    app.action(ids.REQ_REJECT)(ask_reason("rejected"))
    app.action(ids.REQ_CHANGES)(ask_reason("changes_requested"))

    @app.view(ids.REQ_REASON_VIEW)
    def on_reason(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ref = rt.signer.verify(view.get("private_metadata"))
        user = team_user(body)[1]
        if ref is None or ref.step not in ("rejected", "changes_requested") or not user:
            ack(response_action="update", view=notice_view("この画面は無効です。"))
            return
        values = ((view.get("state") or {}).get("values") or {}).get(ids.REASON_BLOCK) or {}
        reason = str((values.get("reason") or {}).get("value") or "").strip()
        if not reason:
            ack(response_action="errors", errors={ids.REASON_BLOCK: "理由を入力してください。"})
            return
        if re.search(r"<[!@#]", reason):
            ack(
                response_action="errors",
                errors={ids.REASON_BLOCK: "メンションやチャンネル通知の記法は使えません。"},
            )
            return
        outcome: OutcomeName = "rejected" if ref.step == "rejected" else "changes_requested"
        ok, message = rt.requests.decide(ref.dialog_id, ref.version, user, outcome, reason)
        if ok:
            ack(response_action="clear")
        else:
            ack(response_action="update", view=notice_view(message))

    @app.action(ids.REQ_REVISE)
    def on_revise(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user = team_user(body)[1]
        view = rt.approvals.get(str(action.get("value") or ""))
        if (
            view is None
            or view.requester != user
            or view.dialog_id is None
            or not body.get("trigger_id")
        ):
            return
        team = team_user(body)[0]
        try:
            state = rt.dialogs.reopen(view.dialog_id, owner_of(team, user))
            modal = view_for(rt, state)
        except DialogError as e:
            modal = notice_view(str(e))
        try:
            rt.client.views_open(trigger_id=str(body["trigger_id"]), view=modal)
        except SlackApiError as e:
            log.warning("views.open failed: %s", e.response.get("error", "?"))


def thread_reply(rt: SlackRuntime, event: dict[str, Any]) -> bool:
    """A reply in a request's thread that decides it; True if it was one (handled)."""
    user = str(event.get("user") or "")
    at = Placement(str(event.get("channel")), str(event.get("thread_ts")))
    decided = rt.requests.decide_by_reply(at, user, str(event.get("text") or ""))
    if decided is None:
        return False
    ok, message = decided
    if not ok:
        rt.runner.submit(rt.ephemeral, at.channel, user, at.message, message)
    return True
