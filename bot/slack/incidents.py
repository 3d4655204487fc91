"""Incidents in Slack: the card in the incident channel (timeline, checklist as buttons; a click
is a compare-and-set in the core, then the card is updated), the reasoning with its sources and
the reminders in the card's thread, and the reporter's DM with the draft report (.docx and
Markdown). The IncidentNotifier of bot/delivery/incidents.py; what goes out, and when, is the
core's. `/incident` (and `/itaku incident`) open the dialog: see bot/slack/dialogs.py."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.delivery.requests import Placement
from bot.dialogs.handoff import IncidentFiled
from bot.incidents.render import JST, reasoning, reminder_text, timeline
from bot.incidents.rules import Verdict
from bot.incidents.service import IncidentView, Reminder, StepState
from bot.slack import ids
from bot.slack.blocks import button, context, escape, literal, section, sections
from bot.slack.client import post_response
from bot.slack.notifier import direct
from bot.slack.payloads import team_user
from bot.slack.runtime import SlackRuntime

log = logging.getLogger(__name__)

Block = dict[str, Any]
Ack = Callable[..., None]

VERDICT_EMOJI = {
    Verdict.REQUIRED: ":red_circle:",
    Verdict.UNDETERMINED: ":large_yellow_circle:",
    Verdict.NOT_REQUIRED: ":large_green_circle:",
}
_STEP_VALUE = re.compile(r"^(IN-\d{6,9}):([a-z_]{1,40}):(\d{1,9}):(done|undo)$")


def _who(user: str) -> str:
    return f"<@{user}>" if user[:1] in ("U", "W") and user[1:].isalnum() else escape(user)


# -- Block Kit builders (pure) --------------------------------------------------------------------


def fallback(view: IncidentView) -> str:
    return f"委託先での漏えい等 {view.id}（{view.contractor_name}）：{view.verdict_label}"[:300]


def _step_block(view: IncidentView, step: StepState) -> Block:
    if step.done:
        when = step.at.astimezone(JST).strftime("%Y-%m-%d %H:%M") if step.at else ""
        by = _who(step.by) if step.by else "?"
        text = f":white_check_mark: {escape(step.label)}　{by} {escape(when)}"
    elif not step.applies:
        text = f":heavy_minus_sign: ~{escape(step.label)}~（報告義務がないため不要）"
    else:
        text = f":white_large_square: *{escape(step.label)}*"
    block = section(text)
    block["block_id"] = f"inc_{view.id}_{step.key}"
    if step.applies:
        value = f"{view.id}:{step.key}:{view.version}:{'undo' if step.done else 'done'}"
        block["accessory"] = (
            button("未完了に戻す", ids.INCIDENT_STEP, value)
            if step.done
            else button("完了にする", ids.INCIDENT_STEP, value, "primary")
        )
    return block


def incident_blocks(view: IncidentView) -> list[Block]:
    """The card: who and what, whether a report is required, the timeline, the checklist."""
    where = f"（台帳 {view.contractor_id}）" if view.contractor_id else "（台帳になし）"
    emoji = VERDICT_EMOJI[view.decision.verdict]
    lines = [f"*{escape(label)}*：{escape(text)}" for label, text in timeline(view)]
    blocks: list[Block] = [
        section(
            f":rotating_light: *委託先での漏えい等 {view.id}*\n"
            f"委託先：{literal(view.contractor_name)}{where}　報告者：{_who(view.reporter)}"
        ),
        section(
            f"{emoji} *{escape(view.verdict_label)}*　状態：{escape(view.status_label)}"
            f"（第{view.version}版）\n{escape(view.decision.summary_ja)}"
        ),
        section("\n".join(lines)),
    ]
    if view.facts.what_happened:
        blocks.append(context(f"何が起きたか：{literal(view.facts.what_happened)[:500]}"))
    blocks += [{"type": "divider"}, section("*対応のチェックリスト*")]
    blocks += [_step_block(view, s) for s in view.checklist]
    blocks.append(
        context("判断の理由と出典はスレッドにあります。完了にした人と日時は監査ログに残ります。")
    )
    return blocks


def reasoning_blocks(view: IncidentView) -> list[Block]:
    body = "\n".join(f"• {escape(line)}" for line in reasoning(view)[1:])
    return [
        section(f"*報告の要否と期限の判断（{view.id}・第{view.version}版）*"),
        section(escape(view.decision.summary_ja)),
        *sections(body),
    ][:50]


def filed_blocks(view: IncidentView, resubmitted: bool, channel: str | None) -> list[Block]:
    """The reporter's DM: what was recorded, the deadlines, the reasoning, an Edit button."""
    did = "の事実を更新しました" if resubmitted else "を記録しました"
    where = f"<#{channel}> に投稿しました。" if channel else ""
    lines = [f"*{escape(label)}*：{escape(text)}" for label, text in timeline(view)]
    blocks: list[Block] = [
        section(f"*{view.id}*{did}（{literal(view.contractor_name)}）。{where}"),
        section(f"{VERDICT_EMOJI[view.decision.verdict]} {escape(view.decision.summary_ja)}"),
        section("\n".join(lines)),
        *reasoning_blocks(view)[2:],
    ]
    if view.dialog_id:
        blocks.append(
            {
                "type": "actions",
                "elements": [button("事実を更新する", ids.DRAFT_EDIT, view.dialog_id)],
            }
        )
    return blocks[:50]


# -- delivering (the IncidentNotifier) ---------------------------------------------------------------


class SlackIncidentNotifier:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post_incident(self, channel: str, view: IncidentView) -> Placement:
        posted = self.client.chat_postMessage(
            channel=channel, text=fallback(view), blocks=incident_blocks(view)
        )
        return Placement(str(posted["channel"]), str(posted["ts"]))

    def update_incident(self, at: Placement, view: IncidentView) -> None:
        self.client.chat_update(
            channel=at.channel, ts=at.message, text=fallback(view), blocks=incident_blocks(view)
        )

    def thread_reasoning(self, at: Placement, view: IncidentView) -> None:
        self.client.chat_postMessage(
            channel=at.channel,
            thread_ts=at.message,
            text=f"{view.id}：報告の要否と期限の判断",
            blocks=reasoning_blocks(view),
        )

    def thread_reminder(self, at: Placement, view: IncidentView, reminder: Reminder) -> None:
        self.client.chat_postMessage(
            channel=at.channel,
            thread_ts=at.message,
            text=f":alarm_clock: {_who(view.reporter)} {escape(reminder_text(view, reminder))}",
        )

    def direct_reminder(self, view: IncidentView, reminder: Reminder) -> None:
        text = f":alarm_clock: {escape(reminder_text(view, reminder))}"
        direct(self.client, view.reporter, text, [section(text)])


def send_filed(rt: SlackRuntime, user: str, filed: IncidentFiled) -> None:
    """A filed incident to its reporter's DM: the draft report as .docx and Markdown, then what
    was recorded with the deadlines and the reasoning. Files Slack will not take are told."""
    view, files = filed.incident, filed.files
    channel = rt.incidents.channel if rt.incidents is not None else None
    dm = str(rt.client.conversations_open(users=user)["channel"]["id"])
    try:
        rt.client.files_upload_v2(
            channel=dm,
            file_uploads=[
                {
                    "content": files.docx,
                    "filename": f"{files.basename}.docx",
                    "title": f"{files.title}（Word）",
                },
                {
                    "content": files.markdown.encode("utf-8"),
                    "filename": f"{files.basename}.md",
                    "title": f"{files.title}（Markdown）",
                },
            ],
            initial_comment=f"{view.id}：{files.title}を作成しました。{files.notice}",
        )
    except (SlackApiError, OSError) as e:
        log.error("incident %s: upload failed: %s", view.id, type(e).__name__)
        rt.client.chat_postMessage(
            channel=dm,
            text="報告書の下書きのファイルを送れませんでした。",
            blocks=[
                section(
                    ":warning: 報告書の下書きのファイルを送れませんでした。"
                    "記録は保存されています。`itaku incidents show` でも確認できます。"
                )
            ],
        )
    rt.client.chat_postMessage(
        channel=dm, text=fallback(view), blocks=filed_blocks(view, filed.resubmitted, channel)
    )
    log.info("incident %s delivered to its reporter", view.id)


# -- listeners ------------------------------------------------------------------------------------


def _tell(rt: SlackRuntime, body: dict[str, Any], user: str, message: str) -> None:
    """Why a click changed nothing, to the one who clicked."""
    url = body.get("response_url")
    channel = body.get("channel")
    channel_id = channel.get("id") if isinstance(channel, dict) else None
    try:
        if url:
            post_response(
                str(url),
                {"response_type": "ephemeral", "replace_original": False, "text": message},
                rt.settings.slack_api_retries,
            )
        elif channel_id:
            rt.client.chat_postEphemeral(channel=str(channel_id), user=user, text=message)
    except (SlackApiError, OSError) as e:
        log.warning("could not tell a refused click: %s", type(e).__name__)


def parse_step_value(value: object) -> tuple[str, str, int, bool] | None:
    m = _STEP_VALUE.match(str(value or ""))
    if m is None:
        return None
    return m.group(1), m.group(2), int(m.group(3)), m.group(4) == "done"


def register(app: App, rt: SlackRuntime) -> None:
    @app.action(ids.INCIDENT_STEP)
    def on_step(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        parsed = parse_step_value(action.get("value"))
        user = team_user(body)[1]
        if parsed is None or not user or rt.incidents is None:
            log.info("malformed incident click ignored")
            return
        incident_id, step, version, done = parsed
        ok, message = rt.incidents.mark(incident_id, step, done, user, version)
        if not ok:
            rt.runner.submit(_tell, rt, body, user, message)
