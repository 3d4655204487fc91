"""Guided dialogs in Teams: `nda` and `subcontract` (in a 1:1 chat or a channel) answer with a
card whose button opens the dialog in a task module (Start, or Continue for an unfinished one);
each step is a card (task/fetch opens it, task/submit moves: next, back, goto from the review,
finish), driven by the same DialogEngine as Slack and the terminal, with the step's guidance and
its source. `clause NAME` answers with the filled clause.

What a finished dialog becomes is the core's (bot/dialogs/handoff.py):
- an NDA draft goes to the user's 1:1 chat with Itaku (opened with create_conversation when the
  dialog was started in a channel): the summary with Edit, then a file consent card for the .docx
  and one for the .md. On accept (fileConsent/invoke) the bytes are PUT to the user's OneDrive
  upload session and a file info card shows the file; on decline a short message says so.
  The Markdown comes as a file of its own rather than as message text: it is the source a legal
  team edits and compares, which a chat message would render (headings, lists) instead of keeping,
  and a long NDA would not fit a Teams message (about 28 KB).
- a subcontracting request is filed (RequestFiled): the task module closes with its id, and the
  1:1 chat gets the same news; the approvers' card is posted by Handoff's `on_filed`.

Nothing is lost or done twice:
- every move names the version it was made from; a stale one, a double submit, an expired dialog
  or someone else's dialog id is refused by the engine, and the task module closes with a message
  (what was saved stays saved; the chat card's Continue reopens it);
- commands, the delivery of a finished dialog and each accepted file are claimed in the event
  ledger (EventWork): a retry of the Bot Framework, a double accept or a second replica does
  nothing more; a delivery the Connector cannot take now is tried again, and a replica that died
  half-way is resumed by the sweeper (progress is kept in the event's reply_ref, so no card is
  sent twice);
- the finished files are not kept anywhere: they are rendered again from the dialog's answers
  (kept in the dialog store, shared by replicas, until the retention period) when a consent is
  accepted. The consent's context carries a digest of the answers, so an accept delivers exactly
  what the card offered, or says the answers have changed since.

The card data needs no signature (Slack signs its modal's metadata): the invoke's token vouches
for who acts, the engine refuses a dialog that is not theirs, and every move is checked against
the stored version. Logs carry ids, never answers or message text."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from bot.approvals.service import RequestView
from bot.dialogs.engine import MESSAGES, DialogEngine, DialogError, DialogState
from bot.dialogs.guidance import GuidanceLibrary
from bot.dialogs.handoff import DraftReady, Handoff, NotFiled, OnFiled, RequestFiled
from bot.dialogs.spec import DialogSpec, validate_all
from bot.drafting.clauses import ClauseError, ClauseLibrary, parse_clause_args
from bot.drafting.nda_fields import NdaAnswers
from bot.drafting.service import DraftFiles, nda_files
from bot.store.events import ClaimResult, PendingEvent
from bot.teams.cards import (
    attachment,
    clause_card,
    clause_error_card,
    clause_topics_card,
    dialog_open_card,
    dialog_step_card,
    dialog_values,
    draft_summary_card,
    file_consent_card,
    task_continue,
    task_message,
)
from bot.teams.cards.dialog_cards import (
    DIALOG,
    MOVE_BACK,
    MOVE_EDIT,
    MOVE_FINISH,
    MOVE_GOTO,
    MOVE_NEXT,
    MOVE_START,
)
from bot.teams.cards.texts import LEVEL, label
from bot.teams.connector import ConnectorError
from bot.teams.files import file_info_card, upload
from bot.teams.messages import text
from bot.teams.runtime import (
    Invoke,
    InvokeReply,
    TeamsRuntime,
    event_key,
    is_personal,
    message_text,
    user_of,
)
from bot.teams.schema import Activity, ActivityBase, FileConsent, Message, TaskFetch, TaskSubmit

log = logging.getLogger(__name__)

SPECS = {"nda": "nda", "subcontract": "subcontract"}  # command -> dialog spec
FRESH = frozenset({"new", "最初から"})
DRAFT = "draft"  # acceptContext["itaku"] of a finished draft's file consent cards
FILE_KINDS = ("docx", "md")
# event kinds in the ledger (their work survives a restart: see the sweeper)
COMMAND_EVENT = "teams-command"
DRAFT_EVENT = "teams-draft"
REQUEST_EVENT = "teams-request"
FILE_EVENT = "teams-file"
_ERROR_KEYS = {message: key for key, message in MESSAGES.items()}
_MAX_ID = 64


def lang_of(activity: ActivityBase) -> str:
    """The interface language: English for an English Teams client, else Japanese."""
    return "en" if (activity.locale or "").lower().startswith("en") else "ja"


def owner_of(activity: Activity) -> str:
    """Whose a dialog is: the person (Entra object id, else Teams id) within their tenant."""
    return f"teams:{activity.tenant_id or '-'}:{user_of(activity)}"


def answers_digest(answers: dict[str, Any]) -> str:
    """What a finished draft was made from, as a short digest (a file consent's context)."""
    canonical = json.dumps(answers, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def error_text(e: DialogError, lang: str) -> str:
    """The engine's refusal for the user: stale gets how to reopen the dialog in Teams."""
    key = _ERROR_KEYS.get(str(e))
    if key is None:
        return str(e)
    return text(f"dialog_{key}", lang)


def _short_id(value: object) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= _MAX_ID:
        return value
    return None


def _version(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 10:
        return int(value)
    return None


@dataclass(frozen=True)
class Move:
    """A task/submit of a dialog card, read from its data."""

    dialog_id: str
    version: int
    step: str
    move: str
    goto: str | None


def read_move(data: dict[str, Any]) -> Move | None:
    dialog_id, step = _short_id(data.get("dialog_id")), _short_id(data.get("step"))
    version, move = _version(data.get("version")), data.get("move")
    if dialog_id is None or step is None or version is None:
        return None
    if move not in (MOVE_NEXT, MOVE_BACK, MOVE_GOTO, MOVE_FINISH):
        return None
    return Move(dialog_id, version, step, str(move), _short_id(data.get("goto")))


class TeamsDialogs:
    def __init__(
        self,
        rt: TeamsRuntime,
        engine: DialogEngine,
        guidance: GuidanceLibrary,
        clauses: ClauseLibrary,
        handoff: Handoff,
    ) -> None:
        self.rt = rt
        self.engine = engine
        self.guidance = guidance
        self.clauses = clauses
        self.handoff = handoff
        self.connector = rt.connector
        self.ledger = rt.ledger
        self._next_fetch: Invoke | None = None
        self._next_submit: Invoke | None = None

    def register(self) -> None:
        rt = self.rt
        for command in (*SPECS, "clause"):
            rt.commands[command] = self.on_command
        # a task module that is not a dialog's goes to whoever registered before
        self._next_fetch = rt.invokes.get("task/fetch")
        self._next_submit = rt.invokes.get("task/submit")
        rt.invokes["task/fetch"] = self.on_fetch
        rt.invokes["task/submit"] = self.on_submit
        rt.invokes["fileConsent/invoke"] = self.on_file_consent
        rt.events.work[COMMAND_EVENT] = self.run_command
        rt.events.work[DRAFT_EVENT] = self.deliver_draft
        rt.events.work[REQUEST_EVENT] = self.deliver_request
        rt.events.work[FILE_EVENT] = self.deliver_file

    # -- commands (nda, subcontract, clause) ------------------------------------------------------

    def on_command(self, msg: Message, rest: str) -> InvokeReply | None:
        """Claimed by the activity's id (a retry answers nothing more), answered by a worker."""
        command = message_text(msg).partition(" ")[0].lower().lstrip("/")
        payload: dict[str, object] = {
            "service_url": msg.service_url,
            "conversation_id": msg.conversation.id,
            "command": command,
            "args": rest,
            "owner": owner_of(msg),
            "lang": lang_of(msg),
        }
        self.rt.events.take(event_key(msg), COMMAND_EVENT, payload)
        return None

    def run_command(self, pending: PendingEvent) -> None:
        p = pending.payload
        if pending.reply_ref is not None:
            return  # sent by an earlier attempt
        command, args, lang = str(p["command"]), str(p.get("args") or ""), str(p["lang"])
        if command == "clause":
            content = self.clause_card(args)
        else:
            content = self.open_card(SPECS[command], command, str(p["owner"]), args, lang)
        sent = self.connector.send(
            p["service_url"],
            p["conversation_id"],
            {"type": "message", "text": "", "attachments": [attachment(content)]},
        )
        self.ledger.set_reply_ref(pending.key, sent or "sent")
        log.info("teams: %s command answered (event %s)", command, pending.key)

    def open_card(self, spec_id: str, command: str, owner: str, args: str, lang: str) -> Any:
        """The chat card that opens the dialog: Continue for an unfinished one; `new` starts
        again (the unfinished one is cancelled); with an LLM, words after the command pre-fill
        a new one."""
        spec = self.engine.specs[spec_id]
        words = args.strip()
        if words.lower() in FRESH:
            self.engine.start(spec_id, owner, fresh=True)
            return dialog_open_card(spec, lang, message=text("dialog_lead", lang))
        prefill = self.prefill(spec, words) if words else {}
        if prefill:
            self.engine.start(spec_id, owner, prefill=prefill)
            return dialog_open_card(spec, lang, message=text("dialog_lead", lang))
        resumed = self.engine.store.latest_active(owner, spec_id) is not None
        message = (
            text("dialog_lead_resume", lang, command=command)
            if resumed
            else text("dialog_lead", lang)
        )
        return dialog_open_card(spec, lang, message=message, resumed=resumed)

    def prefill(self, spec: DialogSpec, words: str) -> dict[str, Any]:
        """Dialog fields read from the user's own words (LLM mode only; {} offline)."""
        writer = self.rt.desk.assistant.writer
        if writer is None:
            return {}
        from bot.dialogs.prefill import Prefiller

        return Prefiller(writer.client, writer.model, writer.policy, timeout_s=10.0).values(
            spec, words
        )

    def clause_card(self, args: str) -> Any:
        try:
            topic, values = parse_clause_args(args)
            if not topic:
                return clause_topics_card(self.clauses.topics())
            filled = self.clauses.fill(topic, values)
        except ClauseError as e:
            return clause_error_card(str(e), self.clauses.topics())
        return clause_card(filled)

    # -- the task module ---------------------------------------------------------------------------

    def step_reply(
        self,
        state: DialogState,
        lang: str,
        *,
        resumed: bool = False,
        submitted: dict[str, Any] | None = None,
    ) -> InvokeReply:
        """The task module showing the dialog's current step (or its review)."""
        guidance = None
        if not state.at_review:
            guidance = self.guidance.for_step(state.spec.step(state.step).guidance)
        content = dialog_step_card(
            state, guidance=guidance, lang=lang, submitted=submitted, resumed=resumed
        )
        title = state.spec.title_en if lang == "en" else state.spec.title
        return InvokeReply(200, task_continue(content, title))

    def on_fetch(self, activity: TaskFetch) -> InvokeReply:
        data = activity.value.data or {}
        if data.get("itaku") != DIALOG:
            if self._next_fetch is not None:
                return self._next_fetch(activity)
            return InvokeReply(200, task_message(text("expired", lang_of(activity))))
        lang, owner = lang_of(activity), owner_of(activity)
        try:
            if data.get("move") == MOVE_START and data.get("spec") in SPECS.values():
                state, resumed = self.engine.start(str(data["spec"]), owner)
                log.info("teams: dialog %s opened resumed=%s", state.id, resumed)
                return self.step_reply(state, lang, resumed=resumed)
            dialog_id = _short_id(data.get("dialog_id"))
            if data.get("move") == MOVE_EDIT and dialog_id is not None:
                state = self.engine.reopen(dialog_id, owner)
                log.info("teams: dialog %s reopened", state.id)
                return self.step_reply(state, lang)
        except DialogError as e:
            return InvokeReply(200, task_message(error_text(e, lang)))
        return InvokeReply(200, task_message(text("expired", lang)))

    def on_submit(self, activity: TaskSubmit) -> InvokeReply:
        data = activity.value.data or {}
        if data.get("itaku") != DIALOG:
            if self._next_submit is not None:
                return self._next_submit(activity)
            return InvokeReply(200, task_message(text("expired", lang_of(activity))))
        lang, owner = lang_of(activity), owner_of(activity)
        move = read_move(data)
        if move is None:
            return InvokeReply(200, task_message(text("expired", lang)))
        try:
            if move.move == MOVE_FINISH:
                return self.finish(activity, move, owner, lang)
            if move.move == MOVE_BACK:
                state = self.engine.back(move.dialog_id, owner, move.version)
            elif move.move == MOVE_GOTO:
                if move.goto is None:
                    return InvokeReply(200, task_message(text("expired", lang)))
                state = self.engine.goto(move.dialog_id, owner, move.version, move.goto)
            else:
                spec = self._spec_of(move.dialog_id)
                values = dialog_values(spec, data) if spec is not None else {}
                state = self.engine.submit(move.dialog_id, owner, move.version, move.step, values)
                if state.errors:
                    log.info("teams: dialog %s step %s has errors", state.id, state.step)
                    return self.step_reply(state, lang, submitted=values)
        except (DialogError, KeyError) as e:
            # KeyError: a step id that the spec does not have (a forged or outdated card)
            message = error_text(e, lang) if isinstance(e, DialogError) else text("expired", lang)
            return InvokeReply(200, task_message(message))
        log.info("teams: dialog %s %s -> %s", state.id, move.move, state.step)
        return self.step_reply(state, lang)

    def _spec_of(self, dialog_id: str) -> DialogSpec | None:
        row = self.engine.store.get(dialog_id)
        return self.engine.specs.get(row.spec) if row is not None else None

    # -- finishing ---------------------------------------------------------------------------------

    def finish(self, activity: TaskSubmit, move: Move, owner: str, lang: str) -> InvokeReply:
        """The review's Create. Its delivery is claimed before the dialog is closed, so a replica
        that dies in between leaves it to the sweeper; the engine's version check lets only one
        of two clicks finish."""
        key = f"teams-finish:{move.dialog_id}:{move.version}:{activity.id or '-'}"
        payload = {
            "dialog_id": move.dialog_id,
            "version": move.version + 1,  # the finished dialog's version
            "by": user_of(activity),
            "owner": owner,
            "teams_user": activity.from_.id,
            "tenant": activity.tenant_id,
            "service_url": activity.service_url,
            "conversation_id": activity.conversation.id,
            "personal": is_personal(activity),
            "lang": lang,
        }
        spec = self._spec_of(move.dialog_id)
        if spec is None or spec.id not in SPECS.values():
            return InvokeReply(200, task_message(text("dialog_missing", lang)))
        kind = REQUEST_EVENT if spec.id == "subcontract" else DRAFT_EVENT
        if self.ledger.claim(key, kind, payload) is ClaimResult.DUPLICATE:
            return InvokeReply(200, task_message(text("dialog_stale", lang)))  # a retry
        try:
            state, model = self.engine.finish(move.dialog_id, owner, move.version)
        except DialogError as e:
            self.ledger.finish(key, "refused")
            return InvokeReply(200, task_message(error_text(e, lang)))
        if model is None:  # a problem found only when everything is checked together
            self.ledger.finish(key, "refused")
            return self.step_reply(state, lang)
        log.info("teams: dialog %s finished", state.id)
        if kind == DRAFT_EVENT:
            self.rt.runner.submit(self.rt.events.attempt, key)
            return InvokeReply(200, task_message(text("draft_ready", lang)))
        pending = self.ledger.resolve(key)
        outcome = self.file_request(pending) if pending is not None else None
        self.rt.runner.submit(self.rt.events.attempt, key)  # the news in the 1:1 chat
        if isinstance(outcome, RequestView):
            return InvokeReply(200, task_message(self.filed_text(outcome, lang)))
        if isinstance(outcome, NotFiled):
            return InvokeReply(
                200, task_message(text("request_not_filed", lang, message=outcome.message))
            )
        return InvokeReply(200, task_message(text("dialog_closed", lang)))

    def finished_answers(self, p: dict[str, Any]) -> tuple[DialogState, BaseModel] | None:
        """The dialog an event is about, still as it was finished, and its answers as a model."""
        row = self.engine.store.get(str(p["dialog_id"]))
        if row is None or row.status != "finished" or row.version != p["version"]:
            return None  # never finished (a replica died first), or reopened since
        spec = self.engine.specs.get(row.spec)
        if spec is None:
            return None
        model, _ = validate_all(spec, row.answers)
        return (DialogState(row, spec), model) if model is not None else None

    # -- a subcontracting request ------------------------------------------------------------------

    def file_request(self, pending: PendingEvent) -> RequestView | NotFiled | None:
        """File the request once (the event's reply_ref records it): its view, why it was not
        filed, or None when the dialog is no longer as it was finished."""
        p = pending.payload
        approvals = self.handoff.approvals
        ref = pending.reply_ref or ""
        if ref.startswith("filed:") and approvals is not None:
            return approvals.get(ref.removeprefix("filed:"))
        if ref.startswith("notfiled"):
            return NotFiled(ref.partition(":")[2])
        found = self.finished_answers(p)
        if found is None:
            return None
        state, model = found
        if pending.attempts > 1 and approvals is not None:
            # an earlier attempt may have filed it and died before recording so
            earlier = approvals.by_dialog(state.id)
            if earlier is not None and earlier.status != "changes_requested":
                self.ledger.set_reply_ref(pending.key, f"filed:{earlier.id}")
                return earlier
        result = self.handoff.finish(state.id, str(p["by"]), model)
        if isinstance(result, RequestFiled):
            self.ledger.set_reply_ref(pending.key, f"filed:{result.request.id}")
            log.info("teams: dialog %s filed request %s", state.id, result.request.id)
            return result.request
        message = result.message if isinstance(result, NotFiled) else ""
        # nothing filed: the answers go back to the review, for another try
        self.engine.reopen(state.id, str(p["owner"]))
        self.ledger.set_reply_ref(pending.key, f"notfiled:{message[:500]}")
        log.info("teams: dialog %s not filed", state.id)
        return NotFiled(message)

    def filed_text(self, view: RequestView, lang: str) -> str:
        level = label(LEVEL, view.risk.level, lang)
        stage = view.stage_name or "-"
        if view.revision > 1:
            return text(
                "request_resubmitted", lang, id=view.id, n=view.revision, level=level, stage=stage
            )
        return text("request_filed", lang, id=view.id, level=level, stage=stage)

    def deliver_request(self, pending: PendingEvent) -> None:
        """The event's work: the request filed (if the invoke did not get that far), then the
        news in the user's 1:1 chat."""
        outcome = self.file_request(pending)
        p = pending.payload
        lang = str(p["lang"])
        if isinstance(outcome, RequestView):
            body = self.filed_text(outcome, lang)
        elif isinstance(outcome, NotFiled):
            body = text("request_not_filed", lang, message=outcome.message)
        else:
            return
        conversation = self.personal_chat(p)
        if conversation is None:
            return
        self.connector.send(
            p["service_url"], conversation, {"type": "message", "text": body, "textFormat": "plain"}
        )

    def personal_chat(self, p: dict[str, Any]) -> str | None:
        """The user's 1:1 chat with Itaku: where they finished the dialog, or (from a channel)
        the one create_conversation gives. None when Teams refuses it for good (the user is told
        where they started)."""
        if p.get("personal"):
            return str(p["conversation_id"])
        tenant = p.get("tenant")
        try:
            if not tenant:
                raise ConnectorError("no tenant", retry=False)
            conversation, _ = self.connector.create_conversation(
                p["service_url"], str(tenant), str(p["teams_user"])
            )
            return conversation
        except ConnectorError as e:
            if e.retry:
                raise
            log.warning("teams: no 1:1 chat for dialog %s (%s)", p.get("dialog_id"), e.why)
            self.connector.send(
                p["service_url"],
                p["conversation_id"],
                {
                    "type": "message",
                    "text": text("no_personal_chat", str(p["lang"])),
                    "textFormat": "plain",
                },
            )
            return None

    # -- an NDA draft ------------------------------------------------------------------------------

    def deliver_draft(self, pending: PendingEvent) -> None:
        """The event's work: the summary (with Edit), then a consent card for the .docx and one
        for the .md, in the 1:1 chat. reply_ref counts what was sent, so a later attempt goes
        on from there."""
        p = pending.payload
        found = self.finished_answers(p)
        if found is None:
            log.info("teams: dialog %s no longer finished; nothing delivered", p["dialog_id"])
            return
        state, model = found
        result = self.handoff.finish(state.id, str(p["by"]), model)
        if not isinstance(result, DraftReady):
            return
        conversation = self.personal_chat(p)
        if conversation is None:
            return
        lang = str(p["lang"])
        activities = self.draft_activities(result.files, state, lang)
        ref = pending.reply_ref or ""
        done = int(ref) if ref.isdigit() else 0
        for n in range(done, len(activities)):
            self.connector.send(p["service_url"], conversation, activities[n])
            self.ledger.set_reply_ref(pending.key, str(n + 1))
        log.info("teams: dialog %s draft offered bytes=%d", state.id, len(result.files.docx))

    def draft_activities(
        self, files: DraftFiles, state: DialogState, lang: str
    ) -> list[dict[str, Any]]:
        summary = draft_summary_card(files.title, files.summary, files.notice, state.id, lang)
        context = {"itaku": DRAFT, "dialog_id": state.id, "digest": answers_digest(state.answers)}
        markdown = files.markdown.encode("utf-8")
        return [
            {
                "type": "message",
                "text": text("draft_files", lang, title=files.title),
                "textFormat": "plain",
                "attachments": [attachment(summary)],
            },
            {
                "type": "message",
                "attachments": [
                    file_consent_card(
                        f"{files.basename}.docx",
                        len(files.docx),
                        {**context, "file": "docx"},
                        lang=lang,
                    )
                ],
            },
            {
                "type": "message",
                "attachments": [
                    file_consent_card(
                        f"{files.basename}.md",
                        len(markdown),
                        {**context, "file": "md"},
                        description=text("markdown_description", lang),
                        lang=lang,
                    )
                ],
            },
        ]

    # -- file consent ------------------------------------------------------------------------------

    def on_file_consent(self, activity: FileConsent) -> InvokeReply:
        """Accept: the file is uploaded (once, however often the accept arrives) and shown;
        decline: a short message. Either way the invoke is answered 200."""
        value = activity.value
        context = value.context or {}
        lang = lang_of(activity)
        dialog_id, digest = _short_id(context.get("dialog_id")), _short_id(context.get("digest"))
        kind = context.get("file")
        if context.get("itaku") != DRAFT or dialog_id is None or digest is None:
            return InvokeReply(200, None)
        if kind not in FILE_KINDS:
            return InvokeReply(200, None)
        row = self.engine.store.get(dialog_id)
        if row is not None and row.owner != owner_of(activity):
            log.warning("teams: file consent for dialog %s by someone else refused", dialog_id)
            return InvokeReply(200, None)
        key = f"{FILE_EVENT}:{dialog_id}:{digest}:{kind}"
        info = value.upload_info
        payload: dict[str, Any] = {
            "dialog_id": dialog_id,
            "digest": digest,
            "file": kind,
            "service_url": activity.service_url,
            "conversation_id": activity.conversation.id,
            "lang": lang,
            "action": value.action,
        }
        if value.action == "accept" and info is not None:
            payload.update(
                upload_url=info.upload_url,
                content_url=info.content_url,
                name=info.name,
                unique_id=info.unique_id,
                file_type=info.file_type,
            )
        if self.ledger.claim(key, FILE_EVENT, payload) is ClaimResult.DUPLICATE:
            log.info("teams: file consent %s again; already handled", key)
            return InvokeReply(200, None)
        self.rt.events.attempt(key)  # a delivery Teams cannot take now is tried again later
        return InvokeReply(200, None)

    def deliver_file(self, pending: PendingEvent) -> None:
        p = pending.payload
        service_url, conversation, lang = p["service_url"], p["conversation_id"], str(p["lang"])

        def say(body: str) -> None:
            activity = {"type": "message", "text": body, "textFormat": "plain"}
            self.connector.send(service_url, conversation, activity)

        if p.get("action") != "accept":
            say(text("file_declined", lang, name=self._file_name(p)))
            log.info("teams: dialog %s %s declined", p["dialog_id"], p["file"])
            return
        data = self.file_bytes(p)
        if data is None:
            row = self.engine.store.get(str(p["dialog_id"]))
            say(text("file_gone" if row is None else "file_changed", lang))
            return
        if pending.reply_ref is None:
            try:
                upload(str(p["upload_url"]), data)
            except ConnectorError as e:
                if e.retry:
                    raise
                log.warning("teams: upload for dialog %s refused (%s)", p["dialog_id"], e.why)
                say(text("upload_failed", lang, name=self._file_name(p)))
                return
            self.ledger.set_reply_ref(pending.key, "uploaded")
        card = file_info_card(
            str(p["name"]), str(p["content_url"]), p.get("unique_id"), p.get("file_type")
        )
        self.connector.send(service_url, conversation, {"type": "message", "attachments": [card]})
        log.info("teams: dialog %s %s uploaded bytes=%d", p["dialog_id"], p["file"], len(data))

    def file_bytes(self, p: dict[str, Any]) -> bytes | None:
        """The file an accepted consent offered, rendered again from the dialog's answers; None
        when the dialog is gone or its answers changed since."""
        row = self.engine.store.get(str(p["dialog_id"]))
        if row is None or answers_digest(row.answers) != p["digest"]:
            return None
        spec = self.engine.specs.get(row.spec)
        model = validate_all(spec, row.answers)[0] if spec is not None else None
        if model is None:
            return None
        if not isinstance(model, NdaAnswers):
            return None
        files = nda_files(model, self.clauses)
        return files.docx if p["file"] == "docx" else files.markdown.encode("utf-8")

    @staticmethod
    def _file_name(p: dict[str, Any]) -> str:
        return str(p.get("name") or ("Word" if p.get("file") == "docx" else "Markdown"))


def in_worker(rt: TeamsRuntime, on_filed: OnFiled) -> OnFiled:
    """Handoff's `on_filed` run by a worker, so that the task module is answered first."""

    def later(view: RequestView, resubmitted: bool, by: str) -> None:
        rt.runner.submit(on_filed, view, resubmitted, by)

    return later


def register(rt: TeamsRuntime) -> TeamsDialogs | None:
    """Add the dialog commands and invokes to the runtime (build_runtime calls this); None when
    the runtime has no dialog engine."""
    if rt.dialogs is None or rt.guidance is None or rt.clauses is None or rt.handoff is None:
        return None
    dialogs = TeamsDialogs(rt, rt.dialogs, rt.guidance, rt.clauses, rt.handoff)
    dialogs.register()
    return dialogs
