"""Subcontracting requests in Slack: posted to the approvals channel with Approve / Reject /
Request changes; decided by button (a reason asked in a modal) or by a reply in the thread;
every decision posted in the thread, the parent message updated, the requester told by DM.
Anyone else gets a private refusal. Reminders and escalation are posted once, whatever the
number of replicas, and the messages catch up with the recorded state after a crash."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.approvals.service import OutcomeName, RequestView, Result
from bot.approvals.subcontract_fields import SubcontractAnswers
from bot.slack import approval_blocks as ab
from bot.slack import ids
from bot.slack.dialog_views import notice_view
from bot.slack.payloads import owner_of, team_user
from bot.slack.runtime import SlackRuntime
from bot.slack.view_tokens import ViewRef
from bot.store.events import ClaimResult

log = logging.getLogger(__name__)
Ack = Callable[..., None]

# a reply in a request's thread: 承認 / 却下 理由 / 差戻し 理由 (and English)
_REPLY = re.compile(
    r"^\s*(?P<word>承認|却下|差戻し|差し戻し|差戻|approve|approved|reject|rejected|changes|request changes)"
    r"(?:[\s、,:：]+(?P<reason>.*))?$",
    re.IGNORECASE | re.DOTALL,
)
_WORDS: dict[str, OutcomeName] = {
    "承認": "approved",
    "approve": "approved",
    "approved": "approved",
    "却下": "rejected",
    "reject": "rejected",
    "rejected": "rejected",
    "差戻し": "changes_requested",
    "差し戻し": "changes_requested",
    "差戻": "changes_requested",
    "changes": "changes_requested",
    "request changes": "changes_requested",
}


def parse_reply(text: str) -> tuple[OutcomeName, str | None] | None:
    m = _REPLY.match(text)
    if m is None:
        return None
    outcome = _WORDS[m.group("word").lower()]
    reason = (m.group("reason") or "").strip() or None
    return outcome, reason


class GroupMembers:
    """Slack user group members (usergroups.users.list), cached for a few minutes."""

    def __init__(self, rt: SlackRuntime, ttl_s: float = 300.0) -> None:
        self.rt = rt
        self.ttl = ttl_s
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def __call__(self, group: str) -> frozenset[str]:
        with self._lock:
            hit = self._cache.get(group)
            if hit is not None and time.monotonic() - hit[0] < self.ttl:
                return hit[1]
        try:
            users = frozenset(
                self.rt.client.usergroups_users_list(usergroup=group).get("users") or []
            )
        except SlackApiError as e:
            log.warning("usergroups.users.list failed: %s", e.response.get("error", "?"))
            users = frozenset()
        with self._lock:
            self._cache[group] = (time.monotonic(), users)
        return users


# -- filing -------------------------------------------------------------------------------------------


def file_request(rt: SlackRuntime, dialog_id: str, user: str, answers: SubcontractAnswers) -> None:
    """A finished request dialog: a new request, or the revision of one sent back for changes."""
    outcome = rt.approvals.submit(user, answers, dialog_id=dialog_id)
    if outcome.request is None:
        _dm(rt, user, outcome.message)
        return
    view = outcome.request
    if outcome.resubmitted:
        _thread(rt, view, f"<@{user}> さんが修正して再提出しました（第{view.revision}版）。")
    sync(rt, view)
    _dm_blocks(rt, user, ab.fallback(view), ab.filed_dm(view))


def sync(rt: SlackRuntime, view: RequestView) -> None:
    """Make the request's parent message show the recorded state (posting it if it never was)."""
    channel = view.channel or rt.approvals_channel
    if not channel:
        log.error("request %s: no approvals channel configured", view.id)
        return
    blocks = ab.request_blocks(view)
    if view.message_ts is None:
        if rt.ledger.claim(f"post:{view.id}", "post") is ClaimResult.DUPLICATE:
            return  # another replica is posting it
        posted = rt.client.chat_postMessage(channel=channel, text=ab.fallback(view), blocks=blocks)
        rt.approvals.set_message(view.id, str(posted["channel"]), str(posted["ts"]))
        rt.ledger.finish(f"post:{view.id}")
    else:
        rt.client.chat_update(
            channel=channel, ts=view.message_ts, text=ab.fallback(view), blocks=blocks
        )
    rt.approvals.mark_shown(view.id, view.version)


def _thread(rt: SlackRuntime, view: RequestView, text: str, key: str | None = None) -> None:
    fresh = rt.approvals.get(view.id) or view
    if fresh.message_ts is None or fresh.channel is None:
        return
    if key is not None and rt.ledger.claim(key, "notice") is ClaimResult.DUPLICATE:
        return
    rt.client.chat_postMessage(channel=fresh.channel, thread_ts=fresh.message_ts, text=text)
    if key is not None:
        rt.ledger.finish(key)


def _dm(rt: SlackRuntime, user: str, text: str) -> None:
    _dm_blocks(rt, user, text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}])


def _dm_blocks(rt: SlackRuntime, user: str, text: str, blocks: list[dict[str, Any]]) -> None:
    if not (user[:1] in ("U", "W") and user[1:].isalnum()):
        return  # a terminal user: nobody to DM
    dm = str(rt.client.conversations_open(users=user)["channel"]["id"])
    rt.client.chat_postMessage(channel=dm, text=text, blocks=blocks)


# -- deciding ---------------------------------------------------------------------------------------------


def announce(
    rt: SlackRuntime, view: RequestView, actor: str, outcome: OutcomeName, reason: str | None
) -> None:
    """After a recorded decision: parent message, thread notice, DM to the requester."""
    decision = view.current_decisions[-1]
    key = f"decision:{view.id}:{decision.revision}:{decision.stage}"
    sync(rt, view)
    _thread(rt, view, ab.decision_notice(view, actor, outcome, reason), key)
    if rt.ledger.claim(f"{key}:dm", "notice") is not ClaimResult.DUPLICATE:
        _dm_blocks(
            rt, view.requester, ab.fallback(view), ab.requester_dm(view, actor, outcome, reason)
        )
        rt.ledger.finish(f"{key}:dm")


def decide(
    rt: SlackRuntime,
    request_id: str,
    revision: int | None,
    actor: str,
    outcome: OutcomeName,
    reason: str | None,
) -> tuple[bool, str]:
    result = rt.approvals.decide(request_id, actor, outcome, reason, revision=revision)
    if result.result is Result.RECORDED and result.request is not None:
        rt.runner.submit(announce, rt, result.request, actor, outcome, reason)
        return True, ""
    log.info("decision refused request=%s why=%s", request_id, result.result.value)
    return False, result.message


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
        ok, message = decide(rt, ref[0], ref[1], user, "approved", None)
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
            verdict, message = rt.approvals.check(view, user)
            if verdict is not Result.RECORDED or view.revision != ref[1]:
                if verdict not in (
                    Result.RECORDED,
                    Result.ALREADY_DECIDED,
                ):  # the attempt is recorded
                    rt.approvals.note(
                        user,
                        "refused",
                        view.id,
                        {"via": "slack", "attempt": outcome, "why": verdict.value},
                    )
                rt.runner.submit(
                    _refuse, rt, body, user, message or "この申請は再提出されています。"
                )
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
        ok, message = decide(rt, ref.dialog_id, ref.version, user, outcome, reason)
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
        from bot.dialogs.engine import DialogError
        from bot.slack.dialogs import view_for  # dialogs imports this module

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
    parsed = parse_reply(str(event.get("text") or ""))
    if parsed is None:
        return False
    view = rt.approvals.by_message(str(event.get("channel")), str(event.get("thread_ts")))
    if view is None:
        return False
    user = str(event.get("user") or "")
    outcome, reason = parsed
    ok, message = decide(rt, view.id, None, user, outcome, reason)
    if not ok:
        rt.runner.submit(
            _ephemeral, rt, str(event["channel"]), user, str(event["thread_ts"]), message
        )
    return True


def _ephemeral(rt: SlackRuntime, channel: str, user: str, thread_ts: str, text: str) -> None:
    try:
        rt.client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, text=text)
    except SlackApiError as e:
        log.warning("postEphemeral failed: %s", e.response.get("error", "?"))


# -- reminders, escalation, catching up ----------------------------------------------------------------


def sweep(rt: SlackRuntime) -> None:
    """Once per interval on every replica: reminders and escalations (each sent once, claimed in
    the database), and parent messages behind the recorded state (after a crash)."""
    for view, kind in rt.approvals.due():
        key = f"{kind}:{view.id}:r{view.revision}:s{view.stage}"
        if rt.ledger.claim(key, kind) is ClaimResult.DUPLICATE:
            continue
        if kind == "escalate":
            escalated = rt.approvals.escalate(view.id, view.stage or 0)
            if escalated is not None:
                sync(rt, escalated)
                _thread(rt, escalated, ab.reminder_text(escalated, True))
        else:
            _thread(rt, view, ab.reminder_text(view, False))
            rt.approvals.note(
                "itaku", "reminded", view.id, {"revision": view.revision, "stage": view.stage}
            )
        rt.ledger.finish(key)
    for view in rt.approvals.out_of_date():
        sync(rt, view)
        if view.current_decisions:  # a decision whose notices may not have gone out
            d = view.current_decisions[-1]
            announce(rt, view, d.approver, d.outcome, d.reason)
