"""Guided dialogs in Slack: `/nda` (or `/itaku nda`) opens a modal per step, validated on
submit with errors beside the fields; the finished draft arrives in a DM as .docx and Markdown,
with an Edit button. `/clause` (or `/itaku clause`) fills a clause template."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.contractors import prefill as ledger_prefill
from bot.dialogs.engine import DialogError, DialogState
from bot.dialogs.handoff import (
    ContractorRegistered,
    DraftReady,
    IncidentFiled,
    RequestFiled,
    ReviewRecorded,
)
from bot.dialogs.spec import GENERAL
from bot.drafting.clauses import ClauseError, parse_clause_args
from bot.slack import approval_blocks, clause_blocks, contractor_blocks, ids, incidents
from bot.slack.blocks import escape
from bot.slack.dialog_views import notice_view, review_view, step_view, values_of
from bot.slack.notifier import direct, direct_text
from bot.slack.payloads import owner_of, team_user, user_of
from bot.slack.runtime import SlackRuntime
from bot.slack.view_tokens import ViewRef

log = logging.getLogger(__name__)

Ack = Callable[..., None]


def view_for(
    rt: SlackRuntime, state: DialogState, *, resumed: bool = False, problem: str | None = None
) -> dict[str, Any]:
    token = rt.signer.sign(ViewRef(state.id, state.step, state.version))
    if state.at_review:
        return review_view(state, token, problem or state.errors.get(GENERAL))
    guidance = rt.guidance.for_step(state.spec.step(state.step).guidance)
    view = step_view(state, guidance, token, resumed=resumed)
    if rt.contractors is not None:  # the subcontracting request offers the user's contractors
        mine = ledger_prefill.offered(rt.contractors.contractors, state, user_of(state.row.owner))
        view = contractor_blocks.with_ledger_picker(view, mine)
    return view


# -- starting ------------------------------------------------------------------------------------


def open_dialog(
    rt: SlackRuntime, ack: Ack, command: dict[str, Any], args: str, spec_id: str
) -> None:
    """Open a dialog's modal (resuming an unfinished one unless `new`). The trigger id lives
    three seconds: the modal is opened before the acknowledgement."""
    owner = owner_of(command.get("team_id"), command.get("user_id"))
    trigger = command.get("trigger_id")
    if not trigger or not command.get("user_id"):
        ack(text="この操作は受け付けられませんでした。もう一度お試しください。")
        return
    fresh = args.strip().lower() in ("new", "最初から")
    prefill = rt.prefill(spec_id, args) if args.strip() and not fresh else {}
    state, resumed = rt.dialogs.start(spec_id, owner, fresh=fresh, prefill=prefill)
    try:
        rt.client.views_open(trigger_id=str(trigger), view=view_for(rt, state, resumed=resumed))
    except SlackApiError as e:
        log.warning("views.open failed: %s", e.response.get("error", "?"))
        ack(text="入力画面を開けませんでした。もう一度お試しください。")
        return
    ack()
    log.info("dialog %s opened resumed=%s", state.id, resumed)


def clause_reply(rt: SlackRuntime, args: str) -> dict[str, Any]:
    try:
        topic, values = parse_clause_args(args)
        if not topic:
            return {
                "text": "条項のトピック一覧",
                "blocks": clause_blocks.topics_blocks(rt.clauses.topics()),
            }
        filled = rt.clauses.fill(topic, values)
    except ClauseError as e:
        return {
            "text": escape(str(e)),
            "blocks": clause_blocks.error_blocks(str(e), rt.clauses.topics()),
        }
    return {"text": filled.template.topic, "blocks": clause_blocks.clause_blocks(filled)}


# -- listeners -------------------------------------------------------------------------------------


def register(app: App, rt: SlackRuntime) -> None:
    @app.command(ids.NDA_COMMAND)
    def on_nda(ack: Ack, command: dict[str, Any]) -> None:
        open_dialog(rt, ack, command, str(command.get("text") or ""), "nda")

    @app.command(ids.SUBCONTRACT_COMMAND)
    def on_subcontract(ack: Ack, command: dict[str, Any]) -> None:
        open_dialog(rt, ack, command, str(command.get("text") or ""), "subcontract")

    @app.command(ids.INCIDENT_COMMAND)
    def on_incident(ack: Ack, command: dict[str, Any]) -> None:
        open_dialog(rt, ack, command, str(command.get("text") or ""), "incident")

    @app.command(ids.CLAUSE_COMMAND)
    def on_clause(ack: Ack, command: dict[str, Any]) -> None:
        ack(response_type="ephemeral", **clause_reply(rt, str(command.get("text") or "")))

    @app.view(ids.DIALOG_VIEW)
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        team, user = team_user(body)
        ref = rt.signer.verify(view.get("private_metadata"))
        if ref is None:
            log.warning("refused a dialog submission with a bad token")
            ack(
                response_action="update",
                view=notice_view("この画面は無効です。`/nda` で開き直してください。"),
            )
            return
        owner = owner_of(team, user)
        try:
            if ref.step == "review":
                state, model = rt.dialogs.finish(ref.dialog_id, owner, ref.version)
                if model is None:
                    ack(response_action="update", view=view_for(rt, state))
                    return
                ack(response_action="clear")
                rt.runner.submit(deliver_finished, rt, state.id, user, model)
                return
            state = rt.dialogs.submit(ref.dialog_id, owner, ref.version, ref.step, values_of(view))
        except DialogError as e:
            ack(response_action="update", view=notice_view(str(e)))
            return
        if state.errors:
            ack(response_action="errors", errors=_errors_for(state))
            return
        ack(response_action="update", view=view_for(rt, state))

    def _move(body: dict[str, Any], move: Callable[[ViewRef, str], DialogState]) -> None:
        view = body.get("view") or {}
        ref = rt.signer.verify(view.get("private_metadata"))
        team, user = team_user(body)
        if ref is None or not view.get("id"):
            return
        try:
            state = move(ref, owner_of(team, user))
            new_view = view_for(rt, state)
        except DialogError as e:
            new_view = notice_view(str(e))
        try:
            rt.client.views_update(view_id=str(view["id"]), hash=view.get("hash"), view=new_view)
        except SlackApiError as e:  # hash_conflict: a newer view is already shown
            log.info("views.update refused: %s", e.response.get("error", "?"))

    @app.action(ids.DIALOG_BACK)
    def on_back(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        _move(body, lambda ref, owner: rt.dialogs.back(ref.dialog_id, owner, ref.version))

    @app.action(ids.DIALOG_GOTO)
    def on_goto(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        step = str((action.get("selected_option") or {}).get("value") or "")
        _move(body, lambda ref, owner: rt.dialogs.goto(ref.dialog_id, owner, ref.version, step))

    @app.action(ids.DRAFT_EDIT)
    def on_edit(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        team, user = team_user(body)
        trigger = body.get("trigger_id")
        if not trigger:
            return
        try:
            state = rt.dialogs.reopen(str(action.get("value") or ""), owner_of(team, user))
            view = view_for(rt, state)
        except DialogError as e:
            view = notice_view(str(e))
        try:
            rt.client.views_open(trigger_id=str(trigger), view=view)
        except SlackApiError as e:
            log.warning("views.open failed: %s", e.response.get("error", "?"))


def _errors_for(state: DialogState) -> dict[str, str]:
    step = state.spec.step(state.step)
    out: dict[str, str] = {}
    for name, message in state.errors.items():
        target = step.fields[0] if name == GENERAL or name not in step.fields else name
        out[f"{ids.FIELD_BLOCK}{target}"] = message[:150]
    return out


def deliver_finished(rt: SlackRuntime, dialog_id: str, user: str, answers: BaseModel) -> None:
    """A finished dialog handed to the core (bot/dialogs/handoff.py), and the result to the
    user's DM: the draft's files, the request filed, or why it was not."""
    result = rt.handoff.finish(dialog_id, user, answers)
    if isinstance(result, DraftReady):
        send_draft(rt, user, result)
    elif isinstance(result, RequestFiled):
        view = result.request
        direct(rt.client, user, approval_blocks.fallback(view), approval_blocks.filed_dm(view))
    elif isinstance(result, ContractorRegistered):
        direct(rt.client, user, *contractor_blocks.registered(result.contractor))
    elif isinstance(result, ReviewRecorded):
        direct(
            rt.client, user, *contractor_blocks.review_recorded(result.review, result.contractor)
        )
    elif isinstance(result, IncidentFiled):
        incidents.send_filed(rt, user, result)
    else:
        direct_text(rt.client, user, result.message)


def send_draft(rt: SlackRuntime, user: str, draft: DraftReady) -> None:
    """The finished draft to the user's DM: .docx and Markdown, a summary, an Edit button. If
    Slack will not take the files, the user is told, and Edit reopens the answers."""
    files, dialog_id = draft.files, draft.dialog_id
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
            initial_comment=f"{files.title}を作成しました。{files.notice}",
        )
    except (SlackApiError, OSError) as e:
        log.error("dialog %s: upload failed: %s", dialog_id, type(e).__name__)
        rt.client.chat_postMessage(
            channel=dm,
            text="ドラフトのファイルを送れませんでした。",
            blocks=clause_blocks.draft_failed_blocks(dialog_id),
        )
        return
    rt.client.chat_postMessage(
        channel=dm,
        text=f"{files.title}：選んだ内容",
        blocks=clause_blocks.draft_summary_blocks(
            files.title, files.summary, files.notice, dialog_id
        ),
    )
    log.info("dialog %s delivered bytes=%d", dialog_id, len(files.docx))
